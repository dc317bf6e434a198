/**
 * The client report (POST /api/ws/client-metrics), schema version 1: the
 * contract with the analytics service, which validates it with a zod schema
 * typed against this interface. Counters are deltas for [window_start,
 * window_end]; keys are snake_case; unknown keys are rejected by the server.
 */
export const REPORT_SCHEMA_VERSION = 1;

/** At most this many close codes per report. */
export const MAX_CLOSE_CODES = 20;
/** At most this many reports per POST body `{ "reports": [...] }`. */
export const MAX_REPORTS_PER_BATCH = 100;
export const MAX_PAGE_PATH = 256;
export const MAX_APP_FIELD = 64;
export const SESSION_ID_PATTERN = /^[A-Za-z0-9_-]{16,64}$/;

export interface ClientReport {
  schema_version: typeof REPORT_SCHEMA_VERSION;
  /** Random, generated in the browser; 16–64 chars of [A-Za-z0-9_-]; not PII. */
  session_id: string;
  /** Client clock, ISO 8601. */
  sent_at: string;
  window_start: string;
  window_end: string;
  /** Path only, no query or fragment; at most 256 chars. */
  page_path: string;
  app?: { name?: string; version?: string };
  connection: {
    attempts: number;
    opens: number;
    /** Established connections lost without the app closing them. */
    drops: number;
    reconnect_attempts: number;
    reconnect_successes: number;
    outage_ms: number;
    connected_ms: number;
    /** Close code → count; at most 20 keys. */
    close_codes: Record<string, number>;
  };
  messages: { sent: number; received: number; queued: number; dropped: number; errors: number };
  /** Heartbeat round-trip times in the window; statistics are null when count = 0. */
  latency_ms: { count: number; avg: number | null; p50: number | null; p95: number | null; max: number | null };
  network?: { type?: string; effective_type?: string; rtt_ms?: number; downlink_mbps?: number };
  /**
   * Vitals recorded in this window. A page view's vital is in one report only
   * (CLS and INP in the one sent on pagehide), so rows can be aggregated as samples.
   */
  vitals?: { lcp_ms?: number; inp_ms?: number; cls?: number; fcp_ms?: number; ttfb_ms?: number; page_load_ms?: number };
  /** Deltas for the window; errors are uncaught page errors. */
  ux: { interactions: number; errors: number };
}

export interface ClientReportBatch {
  reports: ClientReport[];
}
