/** Response bodies of the read endpoints, for the OpenAPI document and type checks of the handlers. */
import { z } from 'zod';
import { intervalSchema } from './common.ts';

const num = z.number().nullable();

export const summarySchema = z
  .object({
    from: z.string(),
    to: z.string(),
    reports: z.int(),
    clients: z.int().meta({ description: 'Distinct sessions' }),
    countries: z.int(),
    connection: z.object({
      attempts: z.number(),
      opens: z.number(),
      drops: z.number(),
      reconnect_attempts: z.number(),
      reconnect_successes: z.number(),
      success_rate: num.meta({ description: 'opens / attempts' }),
      success_rate_ci: intervalSchema.nullable(),
      drops_per_hour: num.meta({ description: 'Drops per hour of connected time' }),
      outage_ms: z.number(),
      connected_ms: z.number(),
    }),
    messages: z.object({ sent: z.number(), received: z.number(), queued: z.number(), dropped: z.number(), errors: z.number(), error_rate: num }),
    latency_ms: z.object({ samples: z.number(), avg: num, p50: num, p95: num, max: num }),
    vitals_p75: z.object({ lcp_ms: num, inp_ms: num, cls: num, fcp_ms: num, ttfb_ms: num, page_load_ms: num }),
    ux: z.object({ interactions: z.number(), errors: z.number() }),
  })
  .meta({ id: 'ClientMetricsSummary' });

const geoStats = {
  clients: z.int(),
  reports: z.int(),
  latency_ms: z.object({ avg: num, p50: num, p95: num }),
  connection: z.object({ attempts: z.number(), opens: z.number(), drops: z.number(), success_rate: num, success_rate_ci: intervalSchema.nullable() }),
};

export const geographySchema = z
  .object({
    from: z.string(),
    to: z.string(),
    min_clients: z.int(),
    countries: z.array(
      z.object({
        country: z.string().meta({ description: 'ISO 3166-1 alpha-2; ZZ unknown; other = folded small countries' }),
        ...geoStats,
        regions: z.array(z.object({ region: z.string().nullable(), ...geoStats })),
      }),
    ),
  })
  .meta({ id: 'Geography' });

const correlationSide = z.object({ r: z.number(), ci95: intervalSchema.nullable(), p_value: num }).nullable();

export const uxCorrelationSchema = z
  .object({
    from: z.string(),
    to: z.string(),
    min_n: z.int(),
    sessions: z.int().meta({ description: 'Sessions correlated: the most recent of the range (by their last report), at most 50 000' }),
    sessions_in_range: z.int().meta({ description: 'Sessions with a report in the range' }),
    truncated: z.boolean().meta({ description: 'True when the range holds more sessions than were correlated (only the 50 000 most recent were)' }),
    pairs: z.array(
      z.object({
        id: z.string(),
        description: z.string(),
        n: z.int(),
        status: z.enum(['ok', 'insufficient_data']),
        pearson: correlationSide,
        spearman: correlationSide,
        strength: z.enum(['strong', 'moderate', 'weak', 'negligible']).nullable(),
      }),
    ),
  })
  .meta({ id: 'UxCorrelation' });

export const severitySchema = z.enum(['low', 'medium', 'high']);

export const anomalySchema = z
  .object({
    id: z.number(),
    stream: z.string(),
    source: z.enum(['prometheus', 'client_reports']),
    observed_at: z.string(),
    value: z.number(),
    expected: z.number(),
    lower: z.number(),
    upper: z.number(),
    score: z.number(),
    deviation: z.number(),
    severity: severitySchema,
    detected_at: z.string(),
    alert_posted_at: z.string().nullable().meta({ description: 'When Alertmanager first took its alert (null: not posted: no Alertmanager, a post still failing, or history found by a first run)' }),
    alert_ends_at: z.string().nullable().meta({ description: 'The endsAt of its alert: every detection run re-sends the alert until then' }),
  })
  .meta({ id: 'Anomaly' });

/** A scheduled task's state (src/analytics/scheduler.ts, TaskStatus). */
export const taskStatusSchema = z
  .object({
    name: z.string().meta({ description: 'partition-maintenance, rollup or anomaly-detection' }),
    interval_ms: z.int().meta({ description: 'Time between runs (0: ran once, at start)' }),
    running: z.boolean(),
    runs: z.int().meta({ description: 'Runs finished since the service started' }),
    last_started_at: z.string().nullable(),
    last_duration_ms: z.number().nullable(),
    last_error: z.string().nullable().meta({ description: 'Null when the last run succeeded; without the admin token only that it failed' }),
    last_result: z.record(z.string(), z.unknown()).nullable().meta({ description: "What the last successful run returned (its counts); null without the admin token" }),
  })
  .meta({ id: 'TaskStatus' });

export const anomaliesSchema = z
  .object({
    from: z.string(),
    to: z.string(),
    total: z.int().meta({ description: 'Anomalies in the range (with the filters), however many `anomalies` lists' }),
    truncated: z.boolean().meta({ description: 'True when `limit` cut the listing short of `total`' }),
    by_severity: z.object({ low: z.int(), medium: z.int(), high: z.int() }),
    by_stream: z.record(z.string(), z.int()),
    anomalies: z.array(anomalySchema),
    detection: z.object({
      interval_s: z.int(),
      last_run: taskStatusSchema.nullable().meta({ description: 'The anomaly-detection task (null when it is off: ANOMALY_INTERVAL_SECONDS=0)' }),
      prometheus_configured: z.boolean(),
    }),
  })
  .meta({ id: 'Anomalies' });

export const serverMetricsSchema = z
  .object({
    at: z.string(),
    metrics: z.array(z.object({ id: z.string(), description: z.string(), unit: z.string(), expr: z.string(), value: num })),
  })
  .meta({ id: 'ServerMetrics' });

export const historicalMetricsSchema = z
  .object({
    from: z.string(),
    to: z.string(),
    step_s: z.number(),
    window_s: z.number().meta({ description: 'Seconds each point’s rate or quantile covers, ending at the point' }),
    series: z.array(
      z.object({
        id: z.string(),
        unit: z.string(),
        points: z.array(z.tuple([z.string(), z.number()])).meta({ description: '[ISO time, value]' }),
      }),
    ),
  })
  .meta({ id: 'HistoricalMetrics' });

const acknowledgementSchema = z
  .object({ acknowledged_by: z.string(), comment: z.string().nullable(), acknowledged_at: z.string(), silence_id: z.string(), silence_ends_at: z.string() })
  .meta({ id: 'Acknowledgement' });

export const alertSchema = z
  .object({
    id: z.string().meta({ description: "Alertmanager's fingerprint; use it to acknowledge" }),
    alertname: z.string(),
    severity: z.string().nullable(),
    status: z.string().meta({
      description:
        "Alertmanager's state (active, suppressed: silenced or inhibited, unprocessed) for an alert it has; for a recorded one active, resolved, or stale (no Alertmanager to check with, and not delivered again for ALERT_STALE_AFTER_SECONDS: it may have resolved while silenced or inhibited)",
    }),
    labels: z.record(z.string(), z.string()),
    annotations: z.record(z.string(), z.string()),
    starts_at: z.string(),
    ends_at: z.string().nullable().meta({ description: 'With resolved_by `reconciliation`: when the service found Alertmanager no longer had it (it ended then or earlier)' }),
    resolved_by: z.enum(['webhook', 'reconciliation']).nullable().meta({
      description: 'How a recorded alert was resolved: Alertmanager notified it (webhook), or a read found Alertmanager no longer had it (reconciliation); null while firing and for Alertmanager’s own list',
    }),
    last_delivered_at: z.string().nullable().meta({ description: 'When the webhook last delivered this instance (null for Alertmanager’s own list)' }),
    acknowledgement: acknowledgementSchema.nullable(),
  })
  .meta({ id: 'Alert' });

export const alertsSchema = z
  .object({
    from: z.string(),
    to: z.string(),
    active_source: z.enum(['alertmanager', 'database']),
    active: z.array(alertSchema),
    recent: z.array(alertSchema).meta({ description: 'Recorded alerts that fired within the range or were delivered in it: still firing first, then the latest activity first; at most `limit`' }),
    truncated: z.boolean().meta({ description: 'True when more alerts than `limit` matched and `recent` was cut short' }),
    reconciliation: z
      .object({
        method: z.enum(['alertmanager', 'staleness']),
        resolved: z.int().meta({ description: 'Recorded firing alerts this read found gone from Alertmanager and marked resolved' }),
        stale_after_s: z.int().nullable().meta({ description: 'Without Alertmanager: a firing alert not delivered again for this long is `stale` (ALERT_STALE_AFTER_SECONDS)' }),
      })
      .meta({ description: 'How the recorded firing alerts were checked: against Alertmanager (ALERTMANAGER_URL), or by how long ago they were last delivered' }),
  })
  .meta({ id: 'Alerts' });

export const acknowledgeResponseSchema = z.object({ alert: alertSchema, acknowledgement: acknowledgementSchema }).meta({ id: 'AcknowledgeResult' });

const check = z.object({ configured: z.boolean(), ok: z.boolean(), detail: z.string(), latency_ms: z.number().nullable() });

export const healthSchema = z
  .object({
    status: z.enum(['ok', 'degraded', 'down']).meta({ description: 'down: the database does not answer (HTTP 503); degraded: a configured check failed (HTTP 200); `reasons` says which' }),
    reasons: z.array(z.string()).meta({ description: 'Why the status is not ok, one sentence per failed check (empty when ok)' }),
    checks: z.object({
      postgres: check,
      prometheus: check,
      alertmanager: check,
      collector: check,
      watchdog: check.meta({
        description:
          'Whether the always-firing Watchdog alert keeps arriving (configured with ALERTMANAGER_URL): not ok when it last reached the webhook more than 5 minutes ago, or never while the service has been up longer than that',
      }),
    }),
    service: z.object({
      version: z.string(),
      started_at: z.string(),
      uptime_s: z.number(),
      database: z.enum(['server', 'embedded']),
      tasks: z.array(taskStatusSchema),
      needs_prometheus: z.array(z.string()).meta({ description: 'Endpoints and features that answer 503 until PROMETHEUS_URL is set' }),
      watchdog_last_seen_at: z.string().nullable().meta({
        description:
          'When the Watchdog alert last reached the webhook (ISO 8601), null if never. Alertmanager repeats it every minute: older than a few minutes means rule evaluation, Prometheus → Alertmanager or Alertmanager → webhook is broken (docs/runbooks.md#watchdog).',
      }),
    }),
  })
  .meta({ id: 'Health' });

export const websocketHealthSchema = z
  .object({ status: z.enum(['healthy', 'unhealthy']), activeConnections: z.number().nullable(), timestamp: z.string() })
  .meta({ id: 'WebSocketHealth' });
