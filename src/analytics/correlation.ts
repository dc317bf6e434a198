/**
 * How WebSocket performance goes with user experience, per session (one
 * point per browser session, so a chatty session does not outweigh others):
 * Pearson and Spearman r, n, 95% Fisher-z intervals and two-sided p-values.
 * "strong" when |r| >= 0.7; "insufficient data" below a minimum n. The
 * most recent 50 000 sessions of the range, from per-session hourly rollups
 * where the range has rolled-up hours (rollups.ts) and raw rows elsewhere.
 */
import type pg from 'pg';
import { RAW_EDGES, SESSION_SUMS_SQL, rolledSpan } from './rollups.ts';
import { type Interval, correlationPValue, fisherInterval, pearson, spearman } from './statistics.ts';
import { readOnly } from './storage/transaction.ts';
import type { TimeRange } from './time-range.ts';

export const CORRELATION_PAIRS = [
  { id: 'latency_vs_page_load', x: 'latency_ms', y: 'page_load_ms', description: 'WebSocket latency (mean RTT) vs page load time' },
  { id: 'latency_vs_lcp', x: 'latency_ms', y: 'lcp_ms', description: 'WebSocket latency vs Largest Contentful Paint' },
  { id: 'latency_vs_inp', x: 'latency_ms', y: 'inp_ms', description: 'WebSocket latency vs Interaction to Next Paint' },
  { id: 'error_rate_vs_ux_errors', x: 'ws_error_rate', y: 'ux_errors_per_window', description: 'WebSocket errors (failed connects, socket errors, heartbeat timeouts, failed sends) per message vs uncaught page errors per report window' },
  { id: 'drops_vs_interactions', x: 'drops_per_window', y: 'interactions_per_window', description: 'Connection drops vs user interactions per report window' },
] as const;

type SessionColumn = (typeof CORRELATION_PAIRS)[number]['x'] | (typeof CORRELATION_PAIRS)[number]['y'];
type SessionRow = Record<SessionColumn, number | null>;

export type Strength = 'strong' | 'moderate' | 'weak' | 'negligible';

export interface CorrelationResult {
  id: string;
  description: string;
  n: number;
  status: 'ok' | 'insufficient_data';
  pearson: { r: number; ci95: Interval | null; p_value: number | null } | null;
  spearman: { r: number; ci95: Interval | null; p_value: number | null } | null;
  /** From |Pearson r|: strong >= 0.7, moderate >= 0.4, weak >= 0.2. */
  strength: Strength | null;
}

export interface UxCorrelation {
  from: string;
  to: string;
  min_n: number;
  /** Sessions correlated: the most recent ones, at most MAX_SESSIONS. */
  sessions: number;
  /** Sessions with a report in the range. */
  sessions_in_range: number;
  /** More sessions than MAX_SESSIONS in the range: only the most recent were correlated. */
  truncated: boolean;
  pairs: CorrelationResult[];
}

/** Most sessions looked at: enough for tight intervals, bounded work. */
export const MAX_SESSIONS = 50_000;

/**
 * Per-session sums over the range, several rows per session: whole rolled-up hours ($3..$4) from the
 * per-session hourly sums (client_report_session_rollups: one row per session and hour instead of each
 * report), the rest of the range ($1..$2) from the raw rows summed the same way; every sum is additive,
 * so grouped by session they give the raw rows' figures. The Grafana dashboard reads these too.
 */
export const SESSION_PARTS_SQL = `(SELECT session_id, last_at, reports, latency_sum, latency_count, page_load_sum, page_load_count, lcp_sum, lcp_count, inp_sum, inp_count,
               message_errors, messages, ux_errors, drops, ux_interactions
          FROM client_report_session_rollups WHERE hour >= $3 AND hour < $4
        UNION ALL
        SELECT session_id, ${SESSION_SUMS_SQL} FROM ${RAW_EDGES} AS edge GROUP BY session_id)`;

/** A session's means of the latency and the vitals from SESSION_PARTS_SQL's sums, grouped by session. */
export const SESSION_MEANS_SQL = `sum(latency_sum) / nullif(sum(latency_count::float8), 0) AS latency_ms,
       sum(page_load_sum) / nullif(sum(page_load_count::float8), 0) AS page_load_ms,
       sum(lcp_sum) / nullif(sum(lcp_count::float8), 0) AS lcp_ms,
       sum(inp_sum) / nullif(sum(inp_count::float8), 0) AS inp_ms`;

/**
 * One row per session of the range, the most recent (by last report) first, at most $5 (MAX_SESSIONS),
 * with the number of sessions in the range. Counts are summed as float8 (exact below 2^53): a sum of
 * bigints would accumulate in numeric, several times slower.
 */
const SESSIONS_SQL = `
SELECT ${SESSION_MEANS_SQL},
       sum(message_errors::float8) / nullif(sum(messages::float8), 0) AS ws_error_rate,
       sum(ux_errors::float8) / sum(reports::float8) AS ux_errors_per_window,
       sum(drops::float8) / sum(reports::float8) AS drops_per_window,
       sum(ux_interactions::float8) / sum(reports::float8) AS interactions_per_window,
       count(*) OVER () AS sessions_in_range
  FROM ${SESSION_PARTS_SQL} AS parts
 GROUP BY session_id
 ORDER BY max(last_at) DESC, session_id DESC
 LIMIT $5`;

export function strengthOf(r: number): Strength {
  const a = Math.abs(r);
  if (a >= 0.7) return 'strong';
  if (a >= 0.4) return 'moderate';
  if (a >= 0.2) return 'weak';
  return 'negligible';
}

/** Correlation of paired samples (pairs with a missing side are dropped). */
export function correlate(xs: ReadonlyArray<number | null>, ys: ReadonlyArray<number | null>, minN: number): Omit<CorrelationResult, 'id' | 'description'> {
  const x: number[] = [];
  const y: number[] = [];
  xs.forEach((xv, i) => {
    const yv = ys[i];
    if (xv !== null && yv !== null && yv !== undefined && Number.isFinite(xv) && Number.isFinite(yv)) {
      x.push(xv);
      y.push(yv);
    }
  });
  const n = x.length;
  const r = n >= minN ? pearson(x, y) : null;
  const rho = n >= minN ? spearman(x, y) : null;
  if (r === null || rho === null) return { n, status: 'insufficient_data', pearson: null, spearman: null, strength: null };
  return {
    n,
    status: 'ok',
    pearson: { r, ci95: fisherInterval(r, n), p_value: correlationPValue(r, n) },
    spearman: { r: rho, ci95: fisherInterval(rho, n, { method: 'spearman' }), p_value: correlationPValue(rho, n) },
    strength: strengthOf(r),
  };
}

export async function uxCorrelation(pool: pg.Pool, range: TimeRange, minN: number, { maxSessions = MAX_SESSIONS }: { maxSessions?: number } = {}): Promise<UxCorrelation> {
  // Without a rolled-up hour in the range, all of it is read raw ($3 = $4 = to: the edges are [from, to)).
  const span = await rolledSpan(pool, range);
  const params = [range.from, range.to, span?.start ?? range.to, span?.end ?? range.to, maxSessions];
  // Parallel workers only for a scan of raw rows over the whole range; the rollups and edges take milliseconds.
  const { rows } = await readOnly<SessionRow & { sessions_in_range: string | number }>(pool, SESSIONS_SQL, params, { parallel: span === null });
  const inRange = Number(rows[0]?.sessions_in_range ?? 0);
  return {
    from: range.from.toISOString(),
    to: range.to.toISOString(),
    min_n: minN,
    sessions: rows.length,
    sessions_in_range: inRange,
    truncated: inRange > rows.length,
    pairs: CORRELATION_PAIRS.map((pair) => ({
      id: pair.id,
      description: pair.description,
      ...correlate(
        rows.map((row) => row[pair.x]),
        rows.map((row) => row[pair.y]),
        minN,
      ),
    })),
  };
}
