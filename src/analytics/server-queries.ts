/**
 * The PromQL behind /api/ws/metrics, /api/ws/metrics/historical and the
 * anomaly streams. Metric names come from the catalogue (src/catalogue.ts),
 * as the collector's Prometheus exporter names them.
 */
import { metricByName, prometheusLabel, prometheusName } from '../catalogue.ts';
import type { ServerMetricName } from '../instrumentation/catalogue.ts';

function metric(name: ServerMetricName): string {
  return prometheusName(metricByName(name));
}

export interface ServerQuery {
  id: string;
  description: string;
  unit: string;
  expr: string;
  /** Also watched by the anomaly detector. */
  anomalyStream: boolean;
}

const direction = (value: 'receive' | 'transmit') => `{${prometheusLabel('network.io.direction')}="${value}"}`;
/** Send errors (a message the server failed to send) or the rest: errors of received messages (parse, validation, processing). */
const errorType = (op: '=' | '!=') => `{${prometheusLabel('error.type')}${op}"send_error"}`;

/**
 * Histograms the server SDK times for a sample of messages per process (`messageTimingPerSecond`):
 * summed over processes each weighs by the messages it timed, not those it handled, so their
 * quantile is the slowest process's, as WebSocketMessageLatencyHigh reads it.
 */
const SAMPLED_PER_PROCESS: readonly ServerMetricName[] = ['websocket.server.message.latency', 'websocket.server.process.duration'];
/**
 * Fewest timed messages a second for a process's quantile to count, as WebSocketMessageLatencyHigh's
 * guard (prometheus/rules/websocket-server.yml): below it an idle process's handful of samples would
 * set the figure.
 */
export const MIN_TIMED_PER_SECOND = 0.1;

/** The q-quantile of a server histogram over `window` (a PromQL duration). */
export function quantileExpr(q: number, name: ServerMetricName, window: string): string {
  const rate = (series: string) => `rate(${metric(name)}_${series}[${window}])`;
  if (!SAMPLED_PER_PROCESS.includes(name)) return `histogram_quantile(${q}, sum by (le) (${rate('bucket')}))`;
  return `max(histogram_quantile(${q}, sum by (job, instance, le) (${rate('bucket')})) and on (job, instance) (sum by (job, instance) (${rate('count')}) >= ${MIN_TIMED_PER_SECOND}))`;
}

/**
 * The queries with rates and quantiles over `window` (a PromQL duration): the last 5 minutes for
 * instant values and the anomaly streams, the window of the step for a range query
 * (src/analytics/range-window.ts), so each point covers the time since the one before it.
 */
export function serverQueries(window = '5m'): ServerQuery[] {
  const rate = (name: ServerMetricName, selector = '') => `sum(rate(${metric(name)}${selector}[${window}]))`;
  // No error series yet (none of that type ever happened) is 0 errors, not no ratio.
  const receiveErrors = `(${rate('websocket.server.message.errors', errorType('!='))} or vector(0))`;
  const sendErrors = `(${rate('websocket.server.message.errors', errorType('='))} or vector(0))`;
  const quantile = (q: number, name: ServerMetricName) => quantileExpr(q, name, window);
  return [
    { id: 'active_connections', description: 'Open WebSocket connections', unit: '{connection}', expr: `sum(${metric('websocket.server.connection.count')})`, anomalyStream: true },
    { id: 'connections_opened_per_second', description: 'Handshakes completed per second', unit: '{connection}/s', expr: rate('websocket.server.connection.opened'), anomalyStream: true },
    { id: 'connections_closed_per_second', description: 'Connections closed per second', unit: '{connection}/s', expr: rate('websocket.server.connection.closed'), anomalyStream: false },
    { id: 'connections_rejected_per_second', description: 'Upgrade requests rejected per second', unit: '{connection}/s', expr: rate('websocket.server.connection.rejected'), anomalyStream: true },
    { id: 'messages_received_per_second', description: 'Messages received per second', unit: '{message}/s', expr: rate('websocket.server.received.messages'), anomalyStream: true },
    { id: 'messages_sent_per_second', description: 'Messages sent per second', unit: '{message}/s', expr: rate('websocket.server.sent.messages'), anomalyStream: false },
    { id: 'message_errors_per_second', description: 'Message errors per second, every error.type (send errors included)', unit: '{error}/s', expr: rate('websocket.server.message.errors'), anomalyStream: true },
    // The two ratios of the alert rules and the Grafana panels (prometheus/rules/websocket-server.yml:
    // job:websocket_server_message_errors:ratio5m, job:websocket_server_send_errors:ratio5m), over every job.
    {
      id: 'message_error_ratio',
      description: 'Received messages that ended in a parse, validation or processing error, over the messages received (send errors have their own ratio), as WebSocketMessageErrorRatioHigh reads it',
      unit: '1',
      expr: `${receiveErrors} / ${rate('websocket.server.received.messages')}`,
      anomalyStream: false,
    },
    {
      id: 'send_failure_ratio',
      description: 'Sends that failed (the socket no longer open), over the sends attempted: sent plus failed (a failed send is not counted as sent), as WebSocketSendFailureRatioHigh reads it',
      unit: '1',
      // The sent counter has no series until a send succeeds: a server whose every send fails reads 1, not nothing.
      expr: `${sendErrors} / ((${rate('websocket.server.sent.messages')} or vector(0)) + ${sendErrors})`,
      anomalyStream: false,
    },
    { id: 'bytes_received_per_second', description: 'Bytes received per second', unit: 'By/s', expr: rate('websocket.server.io', direction('receive')), anomalyStream: false },
    { id: 'bytes_sent_per_second', description: 'Bytes sent per second', unit: 'By/s', expr: rate('websocket.server.io', direction('transmit')), anomalyStream: false },
    { id: 'message_latency_p95_seconds', description: '95th percentile message latency of the slowest server process timing at least 0.1 messages/s (none: no value)', unit: 's', expr: quantile(0.95, 'websocket.server.message.latency'), anomalyStream: true },
    { id: 'process_duration_p95_seconds', description: '95th percentile handler time of the slowest server process timing at least 0.1 messages/s (none: no value)', unit: 's', expr: quantile(0.95, 'websocket.server.process.duration'), anomalyStream: false },
    { id: 'ping_duration_p95_seconds', description: '95th percentile heartbeat round trip', unit: 's', expr: quantile(0.95, 'websocket.server.ping.duration'), anomalyStream: true },
    { id: 'ping_timeouts_per_second', description: 'Heartbeat timeouts per second', unit: '{timeout}/s', expr: rate('websocket.server.ping.timeouts'), anomalyStream: false },
  ];
}

export const SERVER_QUERIES: readonly ServerQuery[] = serverQueries();


export const SERVER_QUERY_IDS = SERVER_QUERIES.map((q) => q.id) as [string, ...string[]];

export function serverQuery(id: string): ServerQuery | undefined {
  return SERVER_QUERIES.find((q) => q.id === id);
}
