/**
 * PromQL for the pages' performance view: p50/p95/p99 of the server SDK's
 * latency histograms (the JSON API serves p95 only). Names come from the
 * metric catalogue, as they arrive in Prometheus; ids follow
 * src/analytics/server-queries.ts (`message_latency_p95_seconds`), so the
 * p95 queries there and here are one series to the pages.
 *
 * The live view asks for the last 5 minutes; a range query asks with the
 * window of its step (src/analytics/range-window.ts), so each point covers
 * the time since the one before it.
 */
import { SERVER_QUERIES, type ServerQuery, quantileExpr } from '../analytics/server-queries.ts';
import { LATENCY_FAMILIES, QUANTILES, quantileId } from './latency-families.ts';

/** p50/p95/p99 of each latency family, each over the `window` before the point it is evaluated at (a PromQL duration). */
export function quantileQueries(window: string): ServerQuery[] {
  return LATENCY_FAMILIES.flatMap((family) =>
    QUANTILES.map((q) => ({
      id: quantileId(family.id, q),
      description: `${family.label}, ${Math.round(q * 100)}th percentile`,
      unit: 's',
      expr: quantileExpr(q, family.metric, window),
      anomalyStream: false,
    })),
  );
}

/** The quantiles over the last 5 minutes, as the live view shows them. */
export const QUANTILE_QUERIES: readonly ServerQuery[] = quantileQueries('5m');

/** Everything the live view shows: the API's server queries and the quantiles, each id once. */
export const LIVE_QUERIES: readonly ServerQuery[] = [...SERVER_QUERIES, ...QUANTILE_QUERIES.filter((q) => !SERVER_QUERIES.some((s) => s.id === q.id))];
