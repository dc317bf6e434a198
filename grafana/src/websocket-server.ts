import { type DashboardSpec, JOB, anomalyAnnotation, datasourceVariable, firingAlertsAnnotation, labelVariable, quantile, rate } from './panels.ts';

const LOAD = 'socketscope_load';

/** Quantiles of a load generator histogram per target (not filtered by the service variable). */
const loadQuantiles = (histogram: string, qs: number[]) =>
  qs.map((q) => ({
    expr: `histogram_quantile(${q}, sum by (server_address, server_port, le) (rate(${histogram}_bucket[$__rate_interval])))`,
    legendFormat: `p${Math.round(q * 100)} {{server_address}}:{{server_port}}`,
  }));

/** The guide's panels: connection health, performance, heartbeat, subscriptions, errors, resources. */
export const websocketServer: DashboardSpec = {
  uid: 'socketscope-websocket-server',
  title: 'WebSocket server',
  description: 'Server SDK metrics (src/instrumentation) through the collector: connections, messages, heartbeats, rooms, errors.',
  tags: ['socketscope', 'websocket'],
  variables: [datasourceVariable, labelVariable('job', 'Service', 'websocket_server_connection_count')],
  links: [{ title: 'WebSocket clients', type: 'link', url: '/d/socketscope-websocket-clients', keepTime: true }],
  annotations: [firingAlertsAnnotation(['websocket-server']), anomalyAnnotation('prometheus')],
  rows: [
    {
      title: 'Connection health',
      panels: [
        {
          title: 'Active connections (busiest instance)',
          type: 'stat',
          width: 4,
          // The thresholds are per process (the alert's instance:websocket_server_connection_count:sum), so show the
          // busiest instance of the selected services, not a sum over them.
          targets: [{ expr: `max(instance:websocket_server_connection_count:sum${JOB})` }],
          thresholds: [{ value: null, color: 'green' }, { value: 500, color: 'orange' }, { value: 1000, color: 'red' }],
          description:
            'Open connections of the busiest instance (process) of the selected services; totals by service are in the next panel. Warning above 500, critical above 1000 per instance (WebSocketConnectionsHigh): adding instances brings it down.',
        },
        {
          title: 'Active connections by service',
          type: 'timeseries',
          width: 8,
          targets: [{ expr: `job:websocket_server_connection_count:sum${JOB}`, legendFormat: '{{job}}' }],
        },
        {
          title: 'Connections opened / closed per second',
          type: 'timeseries',
          width: 12,
          unit: 'ops',
          targets: [
            { expr: rate('websocket_server_connection_opened_total'), legendFormat: 'opened {{job}}' },
            { expr: rate('websocket_server_connection_closed_total'), legendFormat: 'closed {{job}}' },
            { expr: rate('websocket_server_connection_rejected_total'), legendFormat: 'rejected {{job}}' },
          ],
        },
        {
          title: 'Connection duration p50 / p95',
          type: 'timeseries',
          width: 6,
          unit: 's',
          // The p50 is the alert's recorded series (10-minute window), so panel and WebSocketShortConnections agree.
          targets: [
            { expr: `job:websocket_server_connection_duration_seconds:p50_10m${JOB}`, legendFormat: 'p50 (10 min) {{job}}' },
            { expr: quantile(0.95, 'websocket_server_connection_duration_seconds'), legendFormat: 'p95 {{job}}' },
          ],
          thresholds: [{ value: null, color: 'red' }, { value: 30, color: 'orange' }, { value: 60, color: 'green' }],
          description: 'Of connections that closed. Warning when the 10-minute median is under 1 minute, critical under 30 s (WebSocketShortConnections, at 0.05 or more closes a second).',
        },
        {
          title: 'Closes by close-code class',
          type: 'timeseries',
          width: 6,
          unit: 'ops',
          targets: [{ expr: rate('websocket_server_connection_closed_total', 'websocket_close_code_class'), legendFormat: '{{websocket_close_code_class}}' }],
        },
        {
          title: 'Rejected upgrades by reason',
          type: 'timeseries',
          width: 6,
          unit: 'ops',
          targets: [{ expr: rate('websocket_server_connection_rejected_total', 'error_type'), legendFormat: '{{error_type}}' }],
        },
        {
          title: 'Connection turnover (opened per open connection per minute)',
          type: 'timeseries',
          width: 6,
          unit: 'short',
          // The alert's recorded ratio (5-minute rate, denominator clamped to 1), scaled to a minute as the alert does.
          targets: [{ expr: `job:websocket_server_connection_turnover:ratio5m${JOB} * 60`, legendFormat: '{{job}}' }],
          thresholds: [{ value: null, color: 'green' }, { value: 2, color: 'orange' }],
          description:
            'Connections opened per minute for each open connection, over 5 minutes. Warning above 2 (WebSocketConnectionChurn, at 6 or more opens a minute): clients reconnect in a loop.',
        },
      ],
    },
    {
      title: 'Performance',
      panels: [
        {
          title: 'End-to-end message latency p50 / p95 / p99',
          type: 'timeseries',
          width: 8,
          unit: 's',
          targets: [
            { expr: quantile(0.5, 'websocket_server_message_latency_seconds'), legendFormat: 'p50 {{job}} (sample-weighted)' },
            { expr: quantile(0.95, 'websocket_server_message_latency_seconds'), legendFormat: 'p95 {{job}} (sample-weighted)' },
            { expr: quantile(0.99, 'websocket_server_message_latency_seconds'), legendFormat: 'p99 {{job}} (sample-weighted)' },
          ],
          description:
            "From the send timestamp clients put in the message envelope, over every instance's timed samples. Sample-weighted: each process times at most messageTimingPerSecond messages (100 by default), so a busy instance counts no more than a quiet one and its slow messages can hide here. The alert reads each process (next panel).",
        },
        {
          title: 'End-to-end message latency p95 by instance',
          type: 'timeseries',
          width: 8,
          unit: 's',
          // The recorded series WebSocketMessageLatencyHigh reads (with its volume guard of 0.1 timed messages a second per process).
          targets: [{ expr: `instance:websocket_server_message_latency_seconds:p95_5m${JOB}`, legendFormat: '{{job}} {{instance}}' }],
          thresholds: [{ value: null, color: 'green' }, { value: 0.1, color: 'orange' }, { value: 0.5, color: 'red' }],
          description:
            'p95 end-to-end latency of each process over 5 minutes. Warning above 100 ms, critical above 500 ms for the slowest process of a service with at least 0.1 timed messages a second (WebSocketMessageLatencyHigh).',
        },
        {
          title: 'Message processing time p95 by type',
          type: 'timeseries',
          width: 8,
          unit: 's',
          targets: [{ expr: quantile(0.95, 'websocket_server_process_duration_seconds', 'websocket_message_type'), legendFormat: '{{websocket_message_type}} (sample-weighted)' }],
          description: "Over every instance's timed samples (at most messageTimingPerSecond per process), so each instance weighs by its samples, not its messages.",
        },
        {
          title: 'Messages per second',
          type: 'timeseries',
          unit: 'ops',
          targets: [
            { expr: rate('websocket_server_received_messages_total'), legendFormat: 'received {{job}}' },
            { expr: rate('websocket_server_sent_messages_total'), legendFormat: 'sent {{job}}' },
          ],
        },
        {
          title: 'Received messages by type',
          type: 'timeseries',
          unit: 'ops',
          targets: [{ expr: rate('websocket_server_received_messages_total', 'websocket_message_type'), legendFormat: '{{websocket_message_type}}' }],
        },
        {
          title: 'Bytes per second',
          type: 'timeseries',
          unit: 'Bps',
          targets: [{ expr: rate('websocket_server_io_bytes_total', 'network_io_direction'), legendFormat: '{{network_io_direction}}' }],
        },
        {
          title: 'Event-loop delay p99',
          type: 'timeseries',
          width: 12,
          unit: 's',
          targets: [{ expr: `max by (job, instance) (nodejs_eventloop_delay_p99_seconds${JOB})`, legendFormat: '{{job}} {{instance}}' }],
        },
        {
          title: 'Broadcast fan-out time p95',
          type: 'timeseries',
          width: 12,
          unit: 's',
          targets: [{ expr: quantile(0.95, 'websocket_server_broadcast_duration_seconds'), legendFormat: '{{job}}' }],
        },
        {
          title: 'Span duration p95 (with exemplars)',
          type: 'timeseries',
          width: 24,
          unit: 's',
          description:
            "From the collector's span_metrics connector. Exemplar dots carry the trace id of a sampled span in the bucket: click one to open the trace in Tempo (the datasource's exemplarTraceIdDestinations).",
          // exemplar: true asks Prometheus for the exemplars stored with the buckets, so a slow bucket links to its trace.
          targets: [{ expr: quantile(0.95, 'traces_span_metrics_duration_seconds'), legendFormat: 'p95 {{job}}', exemplar: true }],
        },
      ],
    },
    {
      title: 'Heartbeat',
      panels: [
        {
          title: 'Ping round trip p50 / p95',
          type: 'timeseries',
          unit: 's',
          targets: [
            { expr: quantile(0.5, 'websocket_server_ping_duration_seconds'), legendFormat: 'p50 {{job}}' },
            { expr: quantile(0.95, 'websocket_server_ping_duration_seconds'), legendFormat: 'p95 {{job}}' },
          ],
        },
        {
          title: 'Heartbeat timeouts (share of pings)',
          type: 'timeseries',
          unit: 'percentunit',
          // The alert's recorded ratio (5-minute window), so panel and WebSocketHeartbeatTimeouts agree.
          targets: [{ expr: `job:websocket_server_ping_timeouts:ratio5m${JOB}`, legendFormat: '{{job}}' }],
          thresholds: [{ value: null, color: 'green' }, { value: 0.01, color: 'orange' }, { value: 0.05, color: 'red' }],
          description: 'Over 5 minutes; no value without pings. Warning above 1%, critical above 5% (WebSocketHeartbeatTimeouts).',
        },
        {
          title: 'Pings sent / timeouts per second',
          type: 'timeseries',
          unit: 'ops',
          targets: [
            { expr: rate('websocket_server_ping_sent_total'), legendFormat: 'pings {{job}}' },
            { expr: rate('websocket_server_ping_timeouts_total'), legendFormat: 'timeouts {{job}}' },
          ],
        },
      ],
    },
    {
      title: 'Subscriptions and rooms',
      panels: [
        {
          title: 'Active subscriptions by channel',
          type: 'timeseries',
          width: 12,
          targets: [{ expr: `sum by (websocket_channel) (websocket_server_subscription_count${JOB})`, legendFormat: '{{websocket_channel}}' }],
          description: 'Per-channel series only for allow-listed or top-N channels; the rest are _OTHER. Per channel this is the members per room.',
        },
        {
          title: 'Active rooms',
          type: 'timeseries',
          width: 6,
          targets: [{ expr: `sum by (job) (websocket_server_room_count${JOB})`, legendFormat: '{{job}}' }],
        },
        {
          title: 'Subscriptions per connection p50 / p95',
          type: 'timeseries',
          width: 6,
          targets: [
            { expr: quantile(0.5, 'websocket_server_connection_subscriptions'), legendFormat: 'p50 {{job}}' },
            { expr: quantile(0.95, 'websocket_server_connection_subscriptions'), legendFormat: 'p95 {{job}}' },
          ],
        },
      ],
    },
    {
      title: 'Errors',
      panels: [
        {
          title: 'Authentication failures by reason',
          type: 'timeseries',
          width: 6,
          unit: 'ops',
          targets: [{ expr: rate('websocket_server_auth_failures_total', 'websocket_auth_failure_reason'), legendFormat: '{{websocket_auth_failure_reason}}' }],
        },
        {
          title: 'Authentication failure ratio',
          type: 'timeseries',
          width: 6,
          unit: 'percentunit',
          // The alert's recorded ratio (5-minute window), so panel and WebSocketAuthFailureRatioHigh agree.
          targets: [{ expr: `job:websocket_server_auth_failures:ratio5m${JOB}`, legendFormat: '{{job}}' }],
          thresholds: [{ value: null, color: 'green' }, { value: 0.05, color: 'orange' }, { value: 0.1, color: 'red' }],
          description: 'Over 5 minutes; no value without attempts. Warning above 5%, critical above 10% (WebSocketAuthFailureRatioHigh, at 10 or more attempts).',
        },
        {
          title: 'Message errors by type',
          type: 'timeseries',
          width: 6,
          unit: 'ops',
          targets: [{ expr: rate('websocket_server_message_errors_total', 'error_type'), legendFormat: '{{error_type}}' }],
        },
        {
          title: 'Message error ratio',
          type: 'timeseries',
          width: 6,
          unit: 'percentunit',
          // The alert's recorded ratio (parse, validation and processing errors / received messages, 5-minute window).
          targets: [{ expr: `job:websocket_server_message_errors:ratio5m${JOB}`, legendFormat: '{{job}}' }],
          thresholds: [{ value: null, color: 'green' }, { value: 0.05, color: 'orange' }],
          description:
            'Share of received messages that ended in a parse, validation or processing error, over 5 minutes (send errors are in the send failure ratio). Warning above 5% (WebSocketMessageErrorRatioHigh, at 12 or more messages a minute).',
        },
        {
          title: 'Send failure ratio',
          type: 'timeseries',
          width: 6,
          unit: 'percentunit',
          // The alert's recorded ratio (send errors / (sent + send errors), 5-minute window).
          targets: [{ expr: `job:websocket_server_send_errors:ratio5m${JOB}`, legendFormat: '{{job}}' }],
          thresholds: [{ value: null, color: 'green' }, { value: 0.05, color: 'orange' }],
          description:
            'Share of attempted sends that failed because the socket was no longer open, over 5 minutes. Warning above 5% (WebSocketSendFailureRatioHigh, at 12 or more attempted sends a minute).',
        },
      ],
    },
    {
      title: 'Resources',
      panels: [
        {
          title: 'Estimated memory per connection',
          type: 'timeseries',
          width: 8,
          unit: 'bytes',
          targets: [
            {
              // The alert's recorded mean over open connections (weighted by each instance's count).
              expr: `job:websocket_server_connection_memory_bytes:avg${JOB}`,
              legendFormat: '{{job}}',
            },
          ],
          thresholds: [{ value: null, color: 'green' }, { value: 5120, color: 'orange' }, { value: 10240, color: 'red' }],
        },
        {
          title: 'Latency samples clamped or dropped (clock skew)',
          type: 'timeseries',
          width: 8,
          unit: 'ops',
          targets: [{ expr: rate('websocket_server_message_latency_anomalies_total', 'error_type'), legendFormat: '{{error_type}}' }],
        },
        {
          // Clients flagging more sampled messages than tracing.maxClientSampledMessageSpansPerSecond allows.
          title: 'Client-sampled message spans refused (span budget)',
          type: 'timeseries',
          width: 8,
          unit: 'ops',
          targets: [{ expr: rate('websocket_server_message_trace_context_refused_total'), legendFormat: '{{job}}' }],
        },
      ],
    },
    {
      // Exported by `socketscope load --otlp` (job socketscope-load), so not filtered by the service variable.
      title: 'Load tests (socketscope load --otlp)',
      panels: [
        {
          title: 'Load generator: connections held / planned',
          type: 'timeseries',
          width: 6,
          targets: [
            { expr: `sum by (server_address, server_port) (${LOAD}_connection_count)`, legendFormat: 'held {{server_address}}:{{server_port}}' },
            { expr: `sum by (server_address, server_port) (${LOAD}_connection_target)`, legendFormat: 'planned {{server_address}}:{{server_port}}' },
          ],
        },
        {
          title: 'Load generator: messages per second',
          type: 'timeseries',
          width: 6,
          unit: 'ops',
          targets: [
            { expr: `sum by (server_address, server_port) (rate(${LOAD}_sent_total[$__rate_interval]))`, legendFormat: 'sent {{server_address}}:{{server_port}}' },
            { expr: `sum by (server_address, server_port) (rate(${LOAD}_received_total[$__rate_interval]))`, legendFormat: 'received {{server_address}}:{{server_port}}' },
            { expr: `sum by (server_address, server_port) (rate(${LOAD}_errors_total[$__rate_interval]))`, legendFormat: 'errors {{server_address}}:{{server_port}}' },
          ],
        },
        {
          title: 'Load generator: echo latency',
          type: 'timeseries',
          width: 6,
          unit: 's',
          description: "From each message's intended send time, so a stalled server cannot hide latency; measured messages only, as in the load report.",
          targets: loadQuantiles(`${LOAD}_latency_seconds`, [0.5, 0.95, 0.99]),
        },
        {
          title: 'Load generator: connect time',
          type: 'timeseries',
          width: 6,
          unit: 's',
          description: 'TCP connect and WebSocket handshake of each connection the load generator opened.',
          targets: loadQuantiles(`${LOAD}_handshake_duration_seconds`, [0.5, 0.95]),
        },
      ],
    },
  ],
};
