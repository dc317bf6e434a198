/**
 * The latency histograms the pages show as p50/p95/p99, shared by the
 * server (PromQL in performance-queries.ts) and the page code. Ids follow
 * src/analytics/server-queries.ts (`message_latency_p95_seconds`).
 */
import type { ServerMetricName } from '../instrumentation/catalogue.ts';

export const QUANTILES = [0.5, 0.95, 0.99] as const;

export const LATENCY_FAMILIES = [
  { id: 'message_latency', metric: 'websocket.server.message.latency', label: 'Message latency (end to end)' },
  { id: 'ping_duration', metric: 'websocket.server.ping.duration', label: 'Heartbeat round trip' },
  { id: 'process_duration', metric: 'websocket.server.process.duration', label: 'Handler time' },
] as const satisfies ReadonlyArray<{ id: string; metric: ServerMetricName; label: string }>;

export type LatencyFamilyId = (typeof LATENCY_FAMILIES)[number]['id'];

export function quantileId(family: LatencyFamilyId, q: number): string {
  return `${family}_p${Math.round(q * 100)}_seconds`;
}
