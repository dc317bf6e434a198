/**
 * Scheduled anomaly detection: each stream (server metrics from Prometheus,
 * aggregates of client reports from PostgreSQL) is read over a look-back
 * window and run through the same detector as `socketscope anomalies`. New
 * incident starts are stored and posted to Alertmanager as alerts, so they
 * route like every other alert; active ones are re-sent by every run, as
 * Alertmanager expects of its clients (it keeps alerts in memory only).
 */
import type pg from 'pg';
import type { AlertmanagerClient, PostableAlert } from './alertmanager.ts';
import { type DetectorOptions, detectAnomalies } from './detectors/seasonal-baseline.ts';
import type { PrometheusClient } from './prometheus.ts';
import { SERVER_QUERIES } from './server-queries.ts';
import { type AnomalyRecord, type AnomalySource, type StoredAnomaly, activeAnomalyAlerts, judgedUntil, markAlertPosted, storeJudged, unpostedAnomalies } from './storage/anomalies.ts';

export const ANOMALY_ALERTNAME = 'WebSocketMetricAnomaly';
/** Routes a critical anomaly to on-call like the WebSocket alerts (alertmanager/alertmanager.yml). */
export const ANOMALY_COMPONENT = 'anomaly';
export const ANOMALY_RUNBOOK_URL = 'https://github.com/socketscope/socketscope/blob/main/docs/runbooks.md#websocketmetricanomaly';
const SEVERITY_LABEL = { low: 'info', medium: 'warning', high: 'critical' } as const;

export interface SeriesPoint {
  timestamp: number;
  value: number;
}

export interface AnomalyStream {
  name: string;
  source: AnomalySource;
  description: string;
  /** How far back this stream is read (default: the job's lookback). */
  lookbackMs?: number;
  /** Samples from `start` to `end`, in time order. */
  read(start: Date, end: Date): Promise<SeriesPoint[]>;
}

export interface AnomalyJobOptions {
  pool: pg.Pool;
  prometheus?: PrometheusClient;
  alertmanager?: AlertmanagerClient;
  /** Step of the series, seconds. */
  stepSeconds?: number;
  /** How far back the detector reads (enough for a weekly cycle plus warm-up). */
  lookbackMs?: number;
  detector?: DetectorOptions;
  /** How long a posted anomaly alert stays firing (its endsAt; re-sent with the same endsAt until then). Default 30 min. */
  alertTtlMs?: number;
  /** How often the job runs (ANOMALY_INTERVAL_SECONDS): a failed post is retried by the next three runs at least. Default: the step. */
  intervalMs?: number;
  now?: () => Date;
  /** Public URL of the service, for the alerts' generatorURL. */
  publicUrl?: string;
}

export interface AnomalyRunResult {
  streams: number;
  points: number;
  stored: number;
  /** Alerts Alertmanager took for the first time (new incidents, and retries of posts that failed). */
  posted: number;
  /** Active alerts sent again (same labels, startsAt and endsAt), so an Alertmanager that restarted has them. */
  reposted: number;
  errors: Array<{ stream: string; error: string }>;
}

/**
 * Client-report aggregates per step bucket; empty buckets are 0 for counts and
 * missing for averages. Three days back: two daily cycles plus the current
 * one, without scanning a week of raw rows every run.
 *
 * Counts are 0 only from the first report on: before any report there is no
 * history, not a quiet one (zeros there give a near-zero band and a fresh
 * database's first reports a +10,000,000,000σ anomaly).
 */
export function clientReportStreams(pool: pg.Pool, stepSeconds: number): AnomalyStream[] {
  const bucketed = (select: string, fillZero: boolean) => async (start: Date, end: Date) => {
    const { rows } = await pool.query<{ bucket: number; value: number | null }>(
      `SELECT floor(extract(epoch FROM received_at) / $3) * $3 AS bucket, ${select} AS value
         FROM client_reports WHERE received_at >= $1 AND received_at < $2
        GROUP BY 1 ORDER BY 1`,
      [start, end, stepSeconds],
    );
    const byBucket = new Map(rows.map((r) => [Number(r.bucket) * 1000, r.value === null ? Number.NaN : Number(r.value)]));
    const points: SeriesPoint[] = [];
    const step = stepSeconds * 1000;
    let from = Math.ceil(start.getTime() / step) * step;
    if (fillZero) {
      // Reports before the window: its empty buckets are real zeros. Else the first report's bucket starts the series.
      // (Partition pruning and the first match keep this cheap.)
      const earlier = await pool.query<{ any: boolean }>('SELECT EXISTS (SELECT 1 FROM client_reports WHERE received_at < $1) AS any', [start]);
      if (!earlier.rows[0]?.any) from = Math.max(from, rows.length > 0 ? Number(rows[0]?.bucket) * 1000 : end.getTime());
    }
    for (let t = from; t < end.getTime(); t += step) {
      const value = byBucket.get(t);
      if (value !== undefined) points.push({ timestamp: t, value });
      else if (fillZero) points.push({ timestamp: t, value: 0 });
    }
    return points;
  };
  const lookbackMs = 3 * 86_400_000;
  return [
    { name: 'client_reports_per_bucket', lookbackMs, source: 'client_reports', description: 'Client reports received per step (traffic)', read: bucketed('count(*)', true) },
    {
      name: 'client_latency_avg_ms',
      source: 'client_reports',
      lookbackMs,
      description: 'Mean WebSocket round trip reported by browsers',
      read: bucketed('sum(latency_avg_ms * latency_count) / nullif(sum(latency_count) FILTER (WHERE latency_avg_ms IS NOT NULL), 0)', false),
    },
    { name: 'client_drops_per_open', source: 'client_reports', lookbackMs, description: 'Connection drops per opened connection in browsers', read: bucketed('sum(drops)::float8 / nullif(sum(opens), 0)', false) },
  ];
}

export function prometheusStreams(prometheus: PrometheusClient, stepSeconds: number): AnomalyStream[] {
  return SERVER_QUERIES.filter((q) => q.anomalyStream).map((q) => ({
    name: q.id,
    source: 'prometheus' as const,
    description: q.description,
    async read(start: Date, end: Date) {
      const series = await prometheus.queryRange(q.expr, start, end, stepSeconds);
      // Aggregated expressions return one series; no data yields none.
      return (series[0]?.points ?? []).filter((p) => Number.isFinite(p.value));
    },
  }));
}

/** A point inside its band is an incident as the latest of a run of moderate deviations the same way. */
function where(anomaly: StoredAnomaly): string {
  const inside = anomaly.value >= anomaly.lower_bound && anomaly.value <= anomaly.upper_bound;
  return inside ? `after a run of samples ${anomaly.deviation >= 0 ? 'above' : 'below'} what was expected, inside` : 'outside';
}

function toAlert(anomaly: StoredAnomaly, stream: AnomalyStream, endsAt: Date, publicUrl?: string): PostableAlert {
  const fmt = (v: number) => Number(v.toPrecision(6)).toString();
  return {
    labels: {
      alertname: ANOMALY_ALERTNAME,
      severity: SEVERITY_LABEL[anomaly.severity],
      component: ANOMALY_COMPONENT,
      stream: anomaly.stream,
      source: anomaly.source,
    },
    annotations: {
      summary: `Anomaly in ${anomaly.stream}: ${fmt(anomaly.value)} where ${fmt(anomaly.expected)} was expected`,
      description: `${stream.description} was ${fmt(anomaly.value)} at ${anomaly.observed_at.toISOString()}, ${where(anomaly)} the expected band [${fmt(anomaly.lower_bound)}, ${fmt(anomaly.upper_bound)}] (robust z ${fmt(anomaly.deviation)}, ${anomaly.severity}).`,
      runbook_url: ANOMALY_RUNBOOK_URL,
      anomaly_id: String(anomaly.id),
    },
    startsAt: anomaly.observed_at.toISOString(),
    endsAt: endsAt.toISOString(),
    ...(publicUrl ? { generatorURL: `${publicUrl.replace(/\/$/, '')}/api/ws/client-metrics/anomalies` } : {}),
  };
}

/** Runs detection over every stream once; errors of one stream do not stop the others. */
export async function runAnomalyDetection(options: AnomalyJobOptions, streams: AnomalyStream[]): Promise<AnomalyRunResult> {
  const now = options.now?.() ?? new Date();
  const step = (options.stepSeconds ?? 300) * 1000;
  // The current, incomplete bucket is left for the next run.
  const end = new Date(Math.floor(now.getTime() / step) * step);
  const lookback = options.lookbackMs ?? 8 * 86_400_000;
  const alertTtl = options.alertTtlMs ?? 30 * 60_000;
  // A stream's first run judges its whole look-back window: of what it finds, only incidents this recent page someone.
  const historyBefore = now.getTime() - Math.max(3 * step, alertTtl);
  // A post that failed is retried while its incident is this fresh: the alert's lifetime, and three runs at least.
  const retrySince = new Date(now.getTime() - Math.max(alertTtl, 3 * (options.intervalMs ?? step)));
  const result: AnomalyRunResult = { streams: streams.length, points: 0, stored: 0, posted: 0, reposted: 0, errors: [] };
  for (const stream of streams) {
    try {
      const start = new Date(end.getTime() - (stream.lookbackMs ?? lookback));
      // Each run re-reads the window from a later start, and a different warm-up can flag points near an
      // earlier incident as new ones: only points no earlier run judged are taken (all on a first run).
      const judgedTime = await judgedUntil(options.pool, stream.name);
      const firstRun = judgedTime === null;
      const judged = judgedTime?.getTime() ?? Number.NEGATIVE_INFINITY;
      const points = await stream.read(start, end);
      result.points += points.length;
      const records: AnomalyRecord[] = [];
      detectAnomalies(points, options.detector).forEach((p) => {
        if (p.timestamp <= judged) return;
        if (!p.isAnomaly || p.expected === null || p.lower === null || p.upper === null || p.deviation === null || p.severity === null) return;
        records.push({
          stream: stream.name,
          source: stream.source,
          observed_at: new Date(p.timestamp),
          value: p.value,
          expected: p.expected,
          lower_bound: p.lower,
          upper_bound: p.upper,
          score: p.score,
          deviation: p.deviation,
          severity: p.severity,
          detected_at: now,
          // Every incident a later run finds is new (after what earlier runs judged), however long ago its point was.
          alert_wanted: !firstRun || p.timestamp >= historyBefore,
        });
      });
      // Judged up to the last point read (a point that comes late, after it, is judged by the next run).
      const last = points.at(-1);
      const stored = last ? await storeJudged(options.pool, stream.name, records, new Date(last.timestamp)) : [];
      result.stored += stored.length;
      if (!options.alertmanager) continue;
      // The table is the outbox: what this run stored, and what earlier runs could not post.
      const due = new Map<number, StoredAnomaly>();
      for (const a of stored) if (a.alert_wanted) due.set(a.id, a);
      for (const a of await unpostedAnomalies(options.pool, stream.name, retrySince)) due.set(a.id, a);
      const active = await activeAnomalyAlerts(options.pool, stream.name, now);
      if (due.size === 0 && active.length === 0) continue;
      const endsAt = new Date(now.getTime() + alertTtl);
      await options.alertmanager.postAlerts([
        ...[...due.values()].map((a) => toAlert(a, stream, endsAt, options.publicUrl)),
        ...active.map((a) => toAlert(a, stream, a.alert_ends_at, options.publicUrl)),
      ]);
      await markAlertPosted(options.pool, [...due.keys()], now, endsAt);
      result.posted += due.size;
      result.reposted += active.length;
    } catch (error) {
      result.errors.push({ stream: stream.name, error: (error as Error).message });
    }
  }
  return result;
}
