/**
 * The points behind the UX correlation tab's scatter plots: one per browser
 * session, the same per-session aggregates src/analytics/correlation.ts
 * correlates (the JSON API returns only the coefficients). The most recent
 * sessions first, capped so a page never draws more than it can show.
 */
import type pg from 'pg';
import { CORRELATION_PAIRS } from '../analytics/correlation.ts';
import type { TimeRange } from '../analytics/time-range.ts';

export const MAX_POINTS = 2_000;

type Column = (typeof CORRELATION_PAIRS)[number]['x'] | (typeof CORRELATION_PAIRS)[number]['y'];

/** Keep these expressions equal to correlation.ts's per-session query. */
const COLUMN_SQL: Record<Column, string> = {
  latency_ms: 'sum(latency_avg_ms * latency_count) / nullif(sum(latency_count) FILTER (WHERE latency_avg_ms IS NOT NULL), 0)',
  page_load_ms: 'avg(page_load_ms)',
  lcp_ms: 'avg(lcp_ms)',
  inp_ms: 'avg(inp_ms)',
  ws_error_rate: 'sum(message_errors)::float8 / nullif(sum(messages_sent::bigint + messages_received), 0)',
  ux_errors_per_window: 'avg(ux_errors)::float8',
  drops_per_window: 'avg(drops)::float8',
  interactions_per_window: 'avg(ux_interactions)::float8',
};

export interface UxPoints {
  from: string;
  to: string;
  /** Sessions looked at (at most MAX_POINTS). */
  sessions: number;
  truncated: boolean;
  pairs: Array<{ id: string; x: string; y: string; points: Array<[number, number]> }>;
}

export async function uxPoints(pool: pg.Pool, range: TimeRange): Promise<UxPoints> {
  const columns = Object.entries(COLUMN_SQL).map(([name, sql]) => `${sql} AS ${name}`);
  const { rows } = await pool.query<Record<Column, number | null>>(
    `SELECT ${columns.join(', ')} FROM client_reports
      WHERE received_at >= $1 AND received_at < $2
      GROUP BY session_id ORDER BY max(received_at) DESC LIMIT ${MAX_POINTS + 1}`,
    [range.from, range.to],
  );
  const truncated = rows.length > MAX_POINTS;
  const sessions = rows.slice(0, MAX_POINTS);
  return {
    from: range.from.toISOString(),
    to: range.to.toISOString(),
    sessions: sessions.length,
    truncated,
    pairs: CORRELATION_PAIRS.map((pair) => ({
      id: pair.id,
      x: pair.x,
      y: pair.y,
      points: sessions.flatMap((row): Array<[number, number]> => {
        const x = row[pair.x];
        const y = row[pair.y];
        return x !== null && y !== null && Number.isFinite(Number(x)) && Number.isFinite(Number(y)) ? [[Number(x), Number(y)]] : [];
      }),
    })),
  };
}
