import { type DashboardSpec, JOB, datasourceVariable, labelVariable, quantile, rate } from './panels.ts';


/** Per-session rows from client reports, for geography and UX panels (PostgreSQL). */
const SESSIONS = `SELECT session_id, max(country) AS country,
    sum(latency_avg_ms * latency_count) / nullif(sum(latency_count), 0) AS latency_ms,
    sum(latency_avg_ms * latency_count) AS latency_sum_ms, sum(latency_count) FILTER (WHERE latency_avg_ms IS NOT NULL) AS latency_count,
    sum(opens) AS opens, sum(attempts) AS attempts,
    max(page_load_ms) AS page_load_ms, max(lcp_ms) AS lcp_ms, max(inp_ms) AS inp_ms,
    sum(opens)::float8 / nullif(sum(attempts), 0) AS success_rate
  FROM client_reports WHERE $__timeFilter(received_at) GROUP BY session_id`;

/** Browser metrics from the web SDK (DELTA, folded by the collector) and client reports in PostgreSQL. */
export const websocketClients: DashboardSpec = {
  uid: 'socketscope-websocket-clients',
  title: 'WebSocket clients',
  description: 'What browsers experience: drops, reconnects, RTT by network type, Web Vitals, and geography and UX from client reports.',
  tags: ['socketscope', 'websocket', 'browser'],
  variables: [datasourceVariable, labelVariable('job', 'Web app', 'websocket_client_connection_attempts_total')],
  links: [{ title: 'WebSocket server', type: 'link', url: '/d/socketscope-websocket-server', keepTime: true }],
  // The client-report tables scan PostgreSQL over the whole time range: do not poll them every 30 s.
  refresh: '5m',
  rows: [
    {
      title: 'Connection stability',
      panels: [
        {
          title: 'Unclean drops per second by close code',
          type: 'timeseries',
          unit: 'ops',
          targets: [{ expr: rate('websocket_client_connection_drops_total', 'websocket_close_code_class'), legendFormat: '{{websocket_close_code_class}}' }],
        },
        {
          title: 'Drop ratio (drops / opened)',
          type: 'timeseries',
          unit: 'percentunit',
          // The alert's recorded ratio (5-minute window), so panel and WebSocketClientDropRateHigh agree.
          targets: [{ expr: `job:websocket_client_connection_drops:ratio5m${JOB}`, legendFormat: '{{job}}' }],
          thresholds: [{ value: null, color: 'green' }, { value: 0.2, color: 'orange' }],
          description: 'Over 5 minutes; no value without opened connections. Warning above 20% (WebSocketClientDropRateHigh, at 3 or more opens a minute).',
        },
        {
          title: 'Reconnect attempts vs successes',
          type: 'timeseries',
          unit: 'ops',
          targets: [
            { expr: rate('websocket_client_reconnect_attempts_total'), legendFormat: 'attempts {{job}}' },
            { expr: rate('websocket_client_reconnect_successes_total'), legendFormat: 'successes {{job}}' },
          ],
        },
        {
          title: 'Reconnect failure ratio',
          type: 'timeseries',
          width: 6,
          unit: 'percentunit',
          // The alert's recorded ratio (10-minute window; a missing successes series counts as no successes).
          targets: [{ expr: `job:websocket_client_reconnect_failures:ratio10m${JOB}`, legendFormat: '{{job}}' }],
          thresholds: [{ value: null, color: 'green' }, { value: 0.5, color: 'orange' }, { value: 0.9, color: 'red' }],
          description: 'Share of reconnect attempts that failed, over 10 minutes. Warning above 50%, critical above 90% (WebSocketClientReconnectFailing, at 10 or more attempts).',
        },
        {
          title: 'Outage duration p50 / p95',
          type: 'timeseries',
          width: 6,
          unit: 's',
          targets: [
            { expr: quantile(0.5, 'websocket_client_outage_duration_seconds'), legendFormat: 'p50 {{job}}' },
            { expr: quantile(0.95, 'websocket_client_outage_duration_seconds'), legendFormat: 'p95 {{job}}' },
          ],
        },
        {
          title: 'Connect time p95 by network',
          type: 'timeseries',
          width: 6,
          unit: 's',
          targets: [{ expr: quantile(0.95, 'websocket_client_connect_duration_seconds', 'network_connection_effective_type'), legendFormat: '{{network_connection_effective_type}}' }],
        },
        {
          title: 'Connection duration p50',
          type: 'timeseries',
          width: 6,
          unit: 's',
          targets: [{ expr: quantile(0.5, 'websocket_client_connection_duration_seconds'), legendFormat: '{{job}}' }],
        },
      ],
    },
    {
      title: 'Latency and messages',
      panels: [
        {
          title: 'RTT p95 by effective network type',
          type: 'timeseries',
          width: 12,
          unit: 's',
          targets: [{ expr: quantile(0.95, 'websocket_client_rtt_seconds', 'network_connection_effective_type'), legendFormat: '{{network_connection_effective_type}}' }],
        },
        {
          title: 'Request / response latency p95 by outcome',
          type: 'timeseries',
          width: 12,
          unit: 's',
          targets: [{ expr: quantile(0.95, 'websocket_client_request_duration_seconds', 'websocket_request_outcome'), legendFormat: '{{websocket_request_outcome}}' }],
        },
        {
          title: 'Messages sent / received per second',
          type: 'timeseries',
          unit: 'ops',
          targets: [
            { expr: rate('websocket_client_sent_messages_total'), legendFormat: 'sent {{job}}' },
            { expr: rate('websocket_client_received_messages_total'), legendFormat: 'received {{job}}' },
          ],
        },
        {
          title: 'Queued and dropped messages',
          type: 'timeseries',
          unit: 'ops',
          targets: [
            { expr: rate('websocket_client_queued_messages_total'), legendFormat: 'queued {{job}}' },
            { expr: rate('websocket_client_dropped_messages_total', 'websocket_drop_reason'), legendFormat: 'dropped {{websocket_drop_reason}}' },
          ],
        },
        {
          title: 'Client errors by type',
          type: 'timeseries',
          unit: 'ops',
          targets: [{ expr: rate('websocket_client_errors_total', 'error_type'), legendFormat: '{{error_type}}' }],
        },
      ],
    },
    {
      title: 'User experience',
      panels: [
        {
          title: 'LCP / INP / page load p75',
          type: 'timeseries',
          width: 12,
          unit: 's',
          targets: [
            { expr: quantile(0.75, 'browser_web_vital_lcp_seconds'), legendFormat: 'LCP {{job}}' },
            { expr: quantile(0.75, 'browser_web_vital_inp_seconds'), legendFormat: 'INP {{job}}' },
            { expr: quantile(0.75, 'browser_page_load_duration_seconds'), legendFormat: 'page load {{job}}' },
          ],
          description: 'p75, as Core Web Vitals are assessed.',
        },
        {
          title: 'CLS p75',
          type: 'timeseries',
          width: 6,
          targets: [{ expr: quantile(0.75, 'browser_web_vital_cls'), legendFormat: '{{job}}' }],
        },
        {
          title: 'Interactions and JS errors per second',
          type: 'timeseries',
          width: 6,
          unit: 'ops',
          targets: [
            { expr: rate('browser_interactions_total'), legendFormat: 'interactions {{job}}' },
            { expr: rate('browser_errors_total'), legendFormat: 'errors {{job}}' },
          ],
        },
        {
          title: 'Page load and LCP by WebSocket latency band (client reports)',
          type: 'table',
          width: 12,
          datasource: 'postgres',
          targets: [
            {
              rawSql: `SELECT CASE WHEN latency_ms < 50 THEN '< 50 ms' WHEN latency_ms < 100 THEN '50-100 ms'
    WHEN latency_ms < 250 THEN '100-250 ms' ELSE '>= 250 ms' END AS latency_band,
  count(*) AS sessions, round(avg(page_load_ms)::numeric, 0) AS avg_page_load_ms,
  round(avg(lcp_ms)::numeric, 0) AS avg_lcp_ms, round(avg(inp_ms)::numeric, 0) AS avg_inp_ms
FROM (${SESSIONS}) s WHERE latency_ms IS NOT NULL
GROUP BY 1 ORDER BY min(latency_ms)`,
            },
          ],
          description: 'Per-session pairs; the analytics API (/api/ws/client-metrics/ux-correlation) gives r, n and confidence intervals.',
        },
        {
          title: 'Geography: clients, latency and connection success by country (client reports)',
          type: 'table',
          width: 12,
          datasource: 'postgres',
          targets: [
            {
              // Pooled over the country's reports, weighted as the geography API computes them (not a mean of per-session values).
              rawSql: `SELECT country, count(*) AS clients,
  round((sum(latency_sum_ms) / nullif(sum(latency_count), 0))::numeric, 1) AS avg_latency_ms,
  round((percentile_cont(0.95) WITHIN GROUP (ORDER BY latency_ms))::numeric, 1) AS p95_session_latency_ms,
  round((sum(opens)::float8 / nullif(sum(attempts), 0))::numeric, 3) AS success_rate
FROM (${SESSIONS}) s GROUP BY country ORDER BY clients DESC LIMIT 50`,
            },
          ],
        },
      ],
    },
  ],
};
