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

/*
 * Plausibility bounds of one report, which the analytics API checks
 * (src/api/schemas/client-report.ts imports them from here) and the SDK
 * clamps to (report/session-window.ts): ingestion is public, and one report
 * with attempts 2147483647 and opens 0 would take the fleet's success rate to
 * about 0. With these a report weighs at most what a busy page could really
 * send in its window.
 */
/** Longest report window (window_end − window_start). */
export const MAX_WINDOW_MS = 15 * 60_000;
/** Sockets one report may sum connected and outage time over (the web SDK adds up a page's sockets). */
export const MAX_SOCKETS_PER_REPORT = 10;
/** What connected_ms and outage_ms may exceed MAX_SOCKETS_PER_REPORT × the window by (rounding, clock steps). */
export const DURATION_SLACK_MS = 1_000;
/** Most events of a kind per report: `burst` plus `perSecond` for each second of the window. */
export const WINDOW_COUNT_LIMITS = {
  /** attempts, opens, drops, reconnect_attempts, reconnect_successes, each close code's count */
  connection: { burst: 60, perSecond: 10 },
  /** latency_ms.count (heartbeat round trips) */
  latency: { burst: 60, perSecond: 10 },
  /** messages: sent, received, queued, dropped, errors */
  messages: { burst: 100_000, perSecond: 10_000 },
  /** ux.interactions (pointer and key presses) */
  interactions: { burst: 200, perSecond: 20 },
  /** ux.errors (uncaught page errors) */
  page_errors: { burst: 1_000, perSecond: 100 },
} as const;
export type WindowCountKind = keyof typeof WINDOW_COUNT_LIMITS;

/** The window's length as the bounds take it: within [0, MAX_WINDOW_MS]. */
const boundedWindow = (windowMs: number): number => Math.min(Math.max(windowMs, 0), MAX_WINDOW_MS);

/** The most events of `kind` a report whose window lasts `windowMs` may count (the window capped at MAX_WINDOW_MS). */
export function maxCountInWindow(kind: WindowCountKind, windowMs: number): number {
  const limit = WINDOW_COUNT_LIMITS[kind];
  return Math.floor(limit.burst + (limit.perSecond * boundedWindow(windowMs)) / 1000);
}

/** The most connected_ms or outage_ms a report whose window lasts `windowMs` may carry. */
export function maxDurationInWindow(windowMs: number): number {
  return MAX_SOCKETS_PER_REPORT * boundedWindow(windowMs) + DURATION_SLACK_MS;
}

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
  /**
   * errors: WebSocket errors of every type the monitor reports (failed connects, socket errors,
   * heartbeat timeouts, failed sends), as `websocket.client.errors` counts them by `error.type`.
   */
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
