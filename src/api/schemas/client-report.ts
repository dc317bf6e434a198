/**
 * The client report the web SDK POSTs (schema version 1). The TypeScript type
 * is owned by the web SDK (web-sdk/src/report/schema.ts); this is the
 * server's runtime check of the same contract, strict so that typos surface.
 */
import { z } from 'zod';
import {
  type ClientReport,
  DURATION_SLACK_MS,
  MAX_APP_FIELD,
  MAX_CLOSE_CODES,
  MAX_PAGE_PATH,
  MAX_REPORTS_PER_BATCH,
  MAX_SOCKETS_PER_REPORT,
  MAX_WINDOW_MS,
  REPORT_SCHEMA_VERSION,
  SESSION_ID_PATTERN,
  WINDOW_COUNT_LIMITS,
  type WindowCountKind,
  maxCountInWindow,
  maxDurationInWindow,
} from '../../../web-sdk/src/report/schema.ts';
import { inTimestampRange, storable, storedTimestamp } from './common.ts';

export const SUPPORTED_SCHEMA_VERSION = REPORT_SCHEMA_VERSION;
export const MAX_BATCH_REPORTS = MAX_REPORTS_PER_BATCH;

const INT4_MAX = 2_147_483_647;

/*
 * Plausibility bounds of one report (MAX_WINDOW_MS, WINDOW_COUNT_LIMITS, maxCountInWindow, …):
 * defined with the contract in web-sdk/src/report/schema.ts, so the web SDK clamps its reports to
 * exactly what this schema accepts; re-exported here for the API's users.
 */
export { DURATION_SLACK_MS, MAX_SOCKETS_PER_REPORT, MAX_WINDOW_MS, WINDOW_COUNT_LIMITS, type WindowCountKind, maxCountInWindow, maxDurationInWindow };

const COUNT_FIELDS: ReadonlyArray<[WindowCountKind, readonly [string, string]]> = [
  ['connection', ['connection', 'attempts']],
  ['connection', ['connection', 'opens']],
  ['connection', ['connection', 'drops']],
  ['connection', ['connection', 'reconnect_attempts']],
  ['connection', ['connection', 'reconnect_successes']],
  ['latency', ['latency_ms', 'count']],
  ['messages', ['messages', 'sent']],
  ['messages', ['messages', 'received']],
  ['messages', ['messages', 'queued']],
  ['messages', ['messages', 'dropped']],
  ['messages', ['messages', 'errors']],
  ['interactions', ['ux', 'interactions']],
  ['page_errors', ['ux', 'errors']],
];
const seconds = (ms: number) => `${Number((ms / 1000).toFixed(3))} s`;
const count = z.int().min(0).max(INT4_MAX);
const duration = z.number().min(0).max(1e12);
const timestamp = storedTimestamp();
const shortText = (max: number) => storable(z.string().min(1).max(max));

/**
 * Close code → count. Checked in place rather than with z.record: a record
 * copies into a fresh object, and an object keyed 1000–4999 gets an array
 * backing store of that length in V8 (kilobytes per report on the hot path).
 */
const closeCodes = z
  .custom<Record<string, number>>((value) => {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
    let keys = 0;
    for (const key in value) {
      keys++;
      const n = (value as Record<string, unknown>)[key];
      if (keys > MAX_CLOSE_CODES || !/^\d{4}$/.test(key) || typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > INT4_MAX) return false;
    }
    return true;
  }, `an object of at most ${MAX_CLOSE_CODES} 4-digit close codes to non-negative integer counts`)
  .meta({
    type: 'object',
    maxProperties: MAX_CLOSE_CODES,
    propertyNames: { pattern: '^\\d{4}$' },
    additionalProperties: { type: 'integer', minimum: 0, maximum: INT4_MAX },
    example: { '1006': 1 },
  });

export const clientReportSchema = z
  .strictObject({
    schema_version: z.literal(SUPPORTED_SCHEMA_VERSION),
    session_id: z.string().regex(SESSION_ID_PATTERN, 'must be 16–64 characters of [A-Za-z0-9_-]'),
    sent_at: timestamp,
    window_start: timestamp,
    window_end: timestamp,
    page_path: storable(
      z
        .string()
        .max(MAX_PAGE_PATH)
        .regex(/^\/[^?#]*$/, 'must be a path starting with / and without query or fragment'),
    ),
    app: z.strictObject({ name: shortText(MAX_APP_FIELD).optional(), version: shortText(MAX_APP_FIELD).optional() }).optional(),
    connection: z.strictObject({
      attempts: count,
      opens: count,
      drops: count,
      reconnect_attempts: count,
      reconnect_successes: count,
      outage_ms: duration,
      connected_ms: duration,
      close_codes: closeCodes,
    }),
    messages: z.strictObject({ sent: count, received: count, queued: count, dropped: count, errors: count }),
    latency_ms: z.strictObject({
      count,
      avg: duration.nullable(),
      p50: duration.nullable(),
      p95: duration.nullable(),
      max: duration.nullable(),
    }),
    network: z
      .strictObject({
        type: shortText(32).optional(),
        effective_type: shortText(16).optional(),
        rtt_ms: duration.optional(),
        downlink_mbps: z.number().min(0).max(1e6).optional(),
      })
      .optional(),
    vitals: z
      .strictObject({
        lcp_ms: duration.optional(),
        inp_ms: duration.optional(),
        cls: z.number().min(0).max(1e6).optional(),
        fcp_ms: duration.optional(),
        ttfb_ms: duration.optional(),
        page_load_ms: duration.optional(),
      })
      .optional(),
    ux: z.strictObject({ interactions: count, errors: count }),
  })
  .superRefine((report, ctx) => {
    const windowMs = Date.parse(report.window_end) - Date.parse(report.window_start);
    // A time outside the stored range has its own issue; the window's length is not judged then.
    const judgeable = inTimestampRange(report.window_start) && inTimestampRange(report.window_end);
    if (windowMs < 0) {
      ctx.addIssue({ code: 'custom', path: ['window_start'], message: 'window_start must not be after window_end' });
    } else if (windowMs > MAX_WINDOW_MS && judgeable) {
      ctx.addIssue({ code: 'custom', path: ['window_end'], message: `the window (window_end − window_start) must be at most ${MAX_WINDOW_MS / 60_000} minutes, not ${seconds(windowMs)}` });
    }
    // Bounds for the window as given (capped at its maximum): a wrong window is one issue, not one per count.
    const fields = report as unknown as Record<string, Record<string, number>>;
    for (const [kind, [group, key]] of COUNT_FIELDS) {
      const limit = maxCountInWindow(kind, windowMs);
      const value = fields[group]![key]!;
      if (value > limit) {
        const { burst, perSecond } = WINDOW_COUNT_LIMITS[kind];
        ctx.addIssue({ code: 'custom', path: [group, key], message: `at most ${limit} in a window of ${seconds(Math.max(windowMs, 0))} (${burst} + ${perSecond} per second), not ${value}` });
      }
    }
    const { connection } = report;
    const closeLimit = maxCountInWindow('connection', windowMs);
    for (const [code, n] of Object.entries(connection.close_codes)) {
      if (n > closeLimit) ctx.addIssue({ code: 'custom', path: ['connection', 'close_codes', code], message: `at most ${closeLimit} closes in a window of ${seconds(Math.max(windowMs, 0))}, not ${n}` });
    }
    const durationLimit = maxDurationInWindow(windowMs);
    for (const key of ['connected_ms', 'outage_ms'] as const) {
      if (connection[key] > durationLimit) {
        ctx.addIssue({
          code: 'custom',
          path: ['connection', key],
          message: `at most ${durationLimit} (${MAX_SOCKETS_PER_REPORT} sockets × the window of ${seconds(Math.max(windowMs, 0))} + ${DURATION_SLACK_MS} ms), not ${connection[key]}`,
        });
      }
    }
    // Counted with them: a reconnect attempt is an attempt, a reconnect success an open.
    if (connection.reconnect_attempts > connection.attempts) {
      ctx.addIssue({ code: 'custom', path: ['connection', 'reconnect_attempts'], message: 'must not exceed attempts (a reconnect attempt is counted as an attempt too)' });
    }
    if (connection.reconnect_successes > connection.opens) {
      ctx.addIssue({ code: 'custom', path: ['connection', 'reconnect_successes'], message: 'must not exceed opens (a reconnect success is counted as an open too)' });
    }
    const { latency_ms: latency } = report;
    if (latency.count > 0) {
      for (const key of ['avg', 'p50', 'p95', 'max'] as const) {
        if (latency[key] === null) ctx.addIssue({ code: 'custom', path: ['latency_ms', key], message: 'required when count > 0' });
      }
    }
    // Percentiles of the window's round trips, so within its maximum: the rollups' histogram estimates are held to the exact maximum.
    const { p50, p95, max } = latency;
    if (p50 !== null && p95 !== null && p50 > p95) ctx.addIssue({ code: 'custom', path: ['latency_ms', 'p50'], message: `must not exceed p95 (${p95}), not ${p50}` });
    if (p95 !== null && max !== null && p95 > max) ctx.addIssue({ code: 'custom', path: ['latency_ms', 'p95'], message: `must not exceed max (${max}), not ${p95}` });
    if (p50 !== null && max !== null && p50 > max) ctx.addIssue({ code: 'custom', path: ['latency_ms', 'p50'], message: `must not exceed max (${max}), not ${p50}` });
  });

export type ClientReportInput = z.infer<typeof clientReportSchema>;

// Compile-time proof that this schema and the web SDK's ClientReport describe the same JSON.
type Same<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
export const SCHEMA_MATCHES_WEB_SDK: Same<ClientReportInput, ClientReport> = true;

export const clientReportBatchSchema = z.strictObject({
  reports: z.array(clientReportSchema).min(1).max(MAX_BATCH_REPORTS),
});

/**
 * The ingest hot path's parsers: the same schemas compiled by zod ahead of
 * time (generated straight-line checks, 2–3× the runtime's speed). A compiled
 * parser only answers the happy path; any input it does not accept is parsed
 * again by the runtime, which gives the verdict and the error details, so
 * strictness and messages are the runtime's. A schema zod cannot compile stays
 * on the runtime (test/unit/analytics/client-report-compiled.test.ts refuses that).
 */
export const compiledClientReportSchema = z.compile(clientReportSchema);
export const compiledClientReportBatchSchema = z.compile(clientReportBatchSchema);

/** A single report or `{ reports: [...] }`. */
export const clientMetricsBodySchema = z.union([clientReportBatchSchema, clientReportSchema]);

export const ingestAcceptedSchema = z.object({ accepted: z.int().min(1) });
