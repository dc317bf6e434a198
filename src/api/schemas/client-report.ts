/**
 * The client report the web SDK POSTs (schema version 1). The TypeScript type
 * is owned by the web SDK (web-sdk/src/report/schema.ts); this is the
 * server's runtime check of the same contract, strict so that typos surface.
 */
import { z } from 'zod';
import {
  type ClientReport,
  MAX_APP_FIELD,
  MAX_CLOSE_CODES,
  MAX_PAGE_PATH,
  MAX_REPORTS_PER_BATCH,
  REPORT_SCHEMA_VERSION,
  SESSION_ID_PATTERN,
} from '../../../web-sdk/src/report/schema.ts';
import { storable, storedTimestamp } from './common.ts';

export const SUPPORTED_SCHEMA_VERSION = REPORT_SCHEMA_VERSION;
export const MAX_BATCH_REPORTS = MAX_REPORTS_PER_BATCH;

const INT4_MAX = 2_147_483_647;
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
    if (Date.parse(report.window_start) > Date.parse(report.window_end)) {
      ctx.addIssue({ code: 'custom', path: ['window_start'], message: 'window_start must not be after window_end' });
    }
    const { latency_ms: latency } = report;
    if (latency.count > 0) {
      for (const key of ['avg', 'p50', 'p95', 'max'] as const) {
        if (latency[key] === null) ctx.addIssue({ code: 'custom', path: ['latency_ms', key], message: 'required when count > 0' });
      }
    }
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
