/**
 * How WebSocket performance goes with user experience, per session (one
 * point per browser session, so a chatty session does not outweigh others):
 * Pearson and Spearman r, n, 95% Fisher-z intervals and two-sided p-values.
 * "strong" when |r| >= 0.7; "insufficient data" below a minimum n.
 */
import type pg from 'pg';
import { type Interval, correlationPValue, fisherInterval, pearson, spearman } from './statistics.ts';
import { readOnly } from './storage/transaction.ts';
import type { TimeRange } from './time-range.ts';

export const CORRELATION_PAIRS = [
  { id: 'latency_vs_page_load', x: 'latency_ms', y: 'page_load_ms', description: 'WebSocket latency (mean RTT) vs page load time' },
  { id: 'latency_vs_lcp', x: 'latency_ms', y: 'lcp_ms', description: 'WebSocket latency vs Largest Contentful Paint' },
  { id: 'latency_vs_inp', x: 'latency_ms', y: 'inp_ms', description: 'WebSocket latency vs Interaction to Next Paint' },
  { id: 'error_rate_vs_ux_errors', x: 'ws_error_rate', y: 'ux_errors_per_window', description: 'WebSocket message error rate vs uncaught page errors per report window' },
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
  sessions: number;
  pairs: CorrelationResult[];
}

/** Most sessions looked at: enough for tight intervals, bounded work. */
export const MAX_SESSIONS = 50_000;

const SESSIONS_SQL = `
SELECT sum(latency_avg_ms * latency_count) / nullif(sum(latency_count) FILTER (WHERE latency_avg_ms IS NOT NULL), 0) AS latency_ms,
       avg(page_load_ms) AS page_load_ms,
       avg(lcp_ms) AS lcp_ms,
       avg(inp_ms) AS inp_ms,
       sum(message_errors)::float8 / nullif(sum(messages_sent::bigint + messages_received), 0) AS ws_error_rate,
       avg(ux_errors)::float8 AS ux_errors_per_window,
       avg(drops)::float8 AS drops_per_window,
       avg(ux_interactions)::float8 AS interactions_per_window
  FROM client_reports
 WHERE received_at >= $1 AND received_at < $2
 GROUP BY session_id
 ORDER BY max(received_at) DESC
 LIMIT ${MAX_SESSIONS}`;

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

export async function uxCorrelation(pool: pg.Pool, range: TimeRange, minN: number): Promise<UxCorrelation> {
  const { rows } = await readOnly<SessionRow>(pool, SESSIONS_SQL, [range.from, range.to]);
  return {
    from: range.from.toISOString(),
    to: range.to.toISOString(),
    min_n: minN,
    sessions: rows.length,
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
