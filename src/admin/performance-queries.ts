/**
 * PromQL for the pages' performance view: p50/p95/p99 of the server SDK's
 * latency histograms (the JSON API serves p95 only). Names come from the
 * metric catalogue, as they arrive in Prometheus; ids follow
 * src/analytics/server-queries.ts (`message_latency_p95_seconds`), so the
 * p95 queries there and here are one series to the pages.
 */
import { prometheusName } from '../catalogue.ts';
import { SERVER_QUERIES, type ServerQuery } from '../analytics/server-queries.ts';
import { serverMetric } from '../instrumentation/catalogue.ts';
import { LATENCY_FAMILIES, QUANTILES, quantileId } from './latency-families.ts';

export const QUANTILE_QUERIES: readonly ServerQuery[] = LATENCY_FAMILIES.flatMap((family) =>
  QUANTILES.map((q) => ({
    id: quantileId(family.id, q),
    description: `${family.label}, ${Math.round(q * 100)}th percentile`,
    unit: 's',
    expr: `histogram_quantile(${q}, sum by (le) (rate(${prometheusName(serverMetric(family.metric))}_bucket[5m])))`,
    anomalyStream: false,
  })),
);

/** Everything the live view shows: the API's server queries and the quantiles, each id once. */
export const LIVE_QUERIES: readonly ServerQuery[] = [...SERVER_QUERIES, ...QUANTILE_QUERIES.filter((q) => !SERVER_QUERIES.some((s) => s.id === q.id))];
