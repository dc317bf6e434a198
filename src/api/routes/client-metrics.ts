/** POST /api/ws/client-metrics (public, validated, rate-limited) and the client analytics reads (admin). */
import type { Request } from 'express';
import { z } from 'zod';
import { uxCorrelation } from '../../analytics/correlation.ts';
import { geographicDistribution } from '../../analytics/geography.ts';
import type { ClientReportRow } from '../../analytics/storage/client-reports.ts';
import { WriterOverloadedError } from '../../analytics/storage/report-writer.ts';
import { countAnomalies, listAnomalies } from '../../analytics/storage/anomalies.ts';
import { clientMetricsSummary } from '../../analytics/summary.ts';
import type { ApiContext } from '../context.ts';
import { ApiError, zodDetails } from '../errors.ts';
import { type Route, defineRoute } from '../route-spec.ts';
import { type ClientReportInput, SUPPORTED_SCHEMA_VERSION, clientMetricsBodySchema, clientReportBatchSchema, clientReportSchema, compiledClientReportBatchSchema, compiledClientReportSchema, ingestAcceptedSchema } from '../schemas/client-report.ts';
import { resolveRange, timeRangeQuery } from '../schemas/common.ts';
import { anomaliesSchema, geographySchema, severitySchema, summarySchema, uxCorrelationSchema } from '../schemas/responses.ts';

function reportsOf(body: unknown): unknown[] {
  if (body !== null && typeof body === 'object' && !Array.isArray(body) && 'reports' in body) {
    const reports = (body as { reports: unknown }).reports;
    return Array.isArray(reports) ? reports : [];
  }
  return [body];
}

/** A version mismatch is its own error, before field validation: a newer SDK should be told plainly. */
function checkSchemaVersion(body: unknown): void {
  const versions = reportsOf(body).map((r) => (r !== null && typeof r === 'object' ? (r as { schema_version?: unknown }).schema_version : undefined));
  const wrong = versions.find((v) => v !== undefined && v !== SUPPORTED_SCHEMA_VERSION);
  if (wrong !== undefined) {
    throw new ApiError(400, 'unsupported_schema_version', `schema_version ${JSON.stringify(wrong)} is not supported`, { supported: [SUPPORTED_SCHEMA_VERSION] });
  }
}

/**
 * The body as the schema's type, checked in place by the compiled schema (no
 * copy: the schema has no transforms, so its output would equal its input);
 * a body it rejects is parsed by the runtime schema for the verdict and details.
 */
function validBody<T>(compiled: z.ZodType<T, T>, runtime: z.ZodType<T, T>, body: unknown): T {
  if (compiled.validate(body)) return body;
  const parsed = runtime.safeParse(body);
  if (!parsed.success) throw new ApiError(400, 'validation_failed', 'the client report is invalid', zodDetails(parsed.error));
  return parsed.data;
}

function toRow(report: ClientReportInput, receivedAt: Date, country: string, region: string | null): ClientReportRow {
  const { connection: c, messages: m, latency_ms: l, network, vitals, ux } = report;
  const hasLatency = l.count > 0;
  return {
    received_at: receivedAt,
    schema_version: report.schema_version,
    session_id: report.session_id,
    sent_at: report.sent_at,
    window_start: report.window_start,
    window_end: report.window_end,
    page_path: report.page_path,
    app_name: report.app?.name ?? null,
    app_version: report.app?.version ?? null,
    country,
    region,
    attempts: c.attempts,
    opens: c.opens,
    drops: c.drops,
    reconnect_attempts: c.reconnect_attempts,
    reconnect_successes: c.reconnect_successes,
    outage_ms: c.outage_ms,
    connected_ms: c.connected_ms,
    close_codes: c.close_codes,
    messages_sent: m.sent,
    messages_received: m.received,
    messages_queued: m.queued,
    messages_dropped: m.dropped,
    message_errors: m.errors,
    latency_count: l.count,
    latency_avg_ms: hasLatency ? l.avg : null,
    latency_p50_ms: hasLatency ? l.p50 : null,
    latency_p95_ms: hasLatency ? l.p95 : null,
    latency_max_ms: hasLatency ? l.max : null,
    network_type: network?.type ?? null,
    effective_type: network?.effective_type ?? null,
    network_rtt_ms: network?.rtt_ms ?? null,
    downlink_mbps: network?.downlink_mbps ?? null,
    lcp_ms: vitals?.lcp_ms ?? null,
    inp_ms: vitals?.inp_ms ?? null,
    cls: vitals?.cls ?? null,
    fcp_ms: vitals?.fcp_ms ?? null,
    ttfb_ms: vitals?.ttfb_ms ?? null,
    page_load_ms: vitals?.page_load_ms ?? null,
    ux_interactions: ux.interactions,
    ux_errors: ux.errors,
  };
}

/** Validates the body (all of it before anything is written) and queues its rows; resolves once they are committed. */
function writeReports(ctx: ApiContext, req: Request): Promise<number> {
  checkSchemaVersion(req.body);
  // Pick the shape first so the details point at the field, not at "no union member matched".
  const isBatch = req.body !== null && typeof req.body === 'object' && 'reports' in req.body;
  const reports: ClientReportInput[] = isBatch
    ? validBody(compiledClientReportBatchSchema, clientReportBatchSchema, req.body).reports
    : [validBody(compiledClientReportSchema, clientReportSchema, req.body)];
  const { country, region } = ctx.geo(req.ip, req.headers);
  const receivedAt = new Date();
  return ctx.reports.write(reports.map((r) => toRow(r, receivedAt, country, region)));
}

export function clientMetricsRoutes(ctx: ApiContext): Route[] {
  return [
    defineRoute({
      method: 'post',
      path: '/api/ws/client-metrics',
      tag: 'client metrics',
      summary: 'Submit client reports from the web SDK',
      description:
        'One report, or `{ "reports": [...] }` with up to 100. Answered 202 only after every row is committed; a rejected batch writes nothing. Geography is derived from the client address, which is not stored.',
      access: 'ingest',
      body: clientMetricsBodySchema,
      rawBody: true,
      status: 202,
      response: ingestAcceptedSchema,
      errors: [413, 503],
      async handler(_input, req, res) {
        const written = writeReports(ctx, req);
        // The parsed body is encoded by now: released, so that the young-generation GC frees it
        // instead of copying it again and again while the request waits for its commit.
        req.body = undefined;
        const accepted = await written.catch((error: unknown) => {
          if (error instanceof WriterOverloadedError) {
            res.setHeader('Retry-After', '5');
            throw new ApiError(503, 'ingest_overloaded', 'the database is not keeping up with client reports; retry later', { queued_rows: error.queuedRows, retry_after_s: 5 });
          }
          throw error;
        });
        ctx.instruments.reportsAccepted(accepted);
        return { accepted };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/ws/client-metrics/summary',
      tag: 'client metrics',
      summary: 'Totals of client reports: connection health, messages, latency, web vitals, UX',
      access: 'admin',
      query: timeRangeQuery,
      status: 200,
      response: summarySchema,
      errors: [503],
      handler: ({ query }) => clientMetricsSummary(ctx.database.pool, resolveRange(query)),
    }),
    defineRoute({
      method: 'get',
      path: '/api/ws/client-metrics/geographic',
      tag: 'client metrics',
      summary: 'Clients, latency and connection success (95% Wilson interval, client reports as clusters) by country and region',
      access: 'admin',
      query: timeRangeQuery.extend({ min_clients: z.coerce.number().int().min(1).max(1_000_000).optional().meta({ description: 'Fold smaller groups into `other`' }) }),
      status: 200,
      response: geographySchema,
      errors: [503],
      handler: ({ query }) => geographicDistribution(ctx.database.pool, resolveRange(query), query.min_clients ?? ctx.config.geoMinClients),
    }),
    defineRoute({
      method: 'get',
      path: '/api/ws/client-metrics/anomalies',
      tag: 'client metrics',
      summary: 'Anomalies found by the scheduled detector (server metric streams and client-report aggregates)',
      access: 'admin',
      query: timeRangeQuery.extend({
        severity: severitySchema.optional(),
        stream: z.string().max(128).optional(),
        limit: z.coerce.number().int().min(1).max(5000).optional(),
      }),
      status: 200,
      response: anomaliesSchema,
      async handler({ query }) {
        const range = resolveRange(query);
        const filter = { severity: query.severity, stream: query.stream };
        const [rows, counts] = await Promise.all([
          listAnomalies(ctx.database.pool, range, { ...filter, limit: query.limit }),
          countAnomalies(ctx.database.pool, range, filter),
        ]);
        const bySeverity = { low: 0, medium: 0, high: 0 };
        const byStream: Record<string, number> = {};
        let total = 0;
        for (const { severity, stream, count } of counts) {
          bySeverity[severity] += count;
          byStream[stream] = (byStream[stream] ?? 0) + count;
          total += count;
        }
        const task = ctx.scheduler?.status().find((t) => t.name === 'anomaly-detection');
        return {
          from: range.from.toISOString(),
          to: range.to.toISOString(),
          total,
          truncated: rows.length < total,
          by_severity: bySeverity,
          by_stream: byStream,
          anomalies: rows.map((a) => ({
            id: a.id,
            stream: a.stream,
            source: a.source,
            observed_at: a.observed_at.toISOString(),
            value: a.value,
            expected: a.expected,
            lower: a.lower_bound,
            upper: a.upper_bound,
            score: a.score,
            deviation: a.deviation,
            severity: a.severity,
            detected_at: a.detected_at.toISOString(),
            alert_posted_at: a.alert_posted_at?.toISOString() ?? null,
            alert_ends_at: a.alert_ends_at?.toISOString() ?? null,
          })),
          detection: { interval_s: ctx.config.anomalyIntervalSeconds, last_run: task ?? null, prometheus_configured: ctx.prometheus !== undefined },
        };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/ws/client-metrics/ux-correlation',
      tag: 'client metrics',
      summary: 'Per-session correlation of WebSocket performance with UX (Pearson, Spearman, 95% CI, p-value)',
      access: 'admin',
      query: timeRangeQuery.extend({ min_n: z.coerce.number().int().min(3).max(1_000_000).optional().meta({ description: 'Below this many sessions a pair is `insufficient_data`' }) }),
      status: 200,
      response: uxCorrelationSchema,
      errors: [503],
      handler: ({ query }) => uxCorrelation(ctx.database.pool, resolveRange(query), query.min_n ?? ctx.config.correlationMinN),
    }),
  ];
}
