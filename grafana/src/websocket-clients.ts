import { SESSION_MEANS_SQL, SESSION_PARTS_SQL } from '../../src/analytics/correlation.ts';
import { OTHER } from '../../src/analytics/geography.ts';
import { GLOBAL, GROUP_SUMS_SQL, clientsSql, groupHistogramsSql, histogramQuantilesSql, overSpanCte, spanCteSql } from '../../src/analytics/rollups.ts';
import { CONFIG_VARIABLES } from '../../src/config.ts';
import { type DashboardSpec, JOB, anomalyAnnotation, choiceVariable, datasourceVariable, firingAlertsAnnotation, labelVariable, quantile, rate } from './panels.ts';

/*
 * The client-report panels read what the analytics API reads, with the same SQL: whole rolled-up
 * hours and days from the rollups, raw rows only at the edges of the range and in the hours not
 * rolled up yet (src/analytics/rollups.ts), so a 30-day dashboard does not scan millions of rows.
 * Grafana sends one statement, so the rolled-up span is computed in it (spanCteSql).
 */
const SPAN = spanCteSql('$__timeFrom()', '$__timeTo()');

/** One row per session: mean latency and vitals, as the UX-correlation API pairs them. */
const SESSIONS = overSpanCte(`SELECT session_id, ${SESSION_MEANS_SQL} FROM ${SESSION_PARTS_SQL} AS parts GROUP BY session_id`);

/** The `min_clients` variable: countries with fewer distinct clients fold into `other`, by default as in the API (GEO_MIN_CLIENTS). */
const MIN_CLIENTS_DEFAULT = CONFIG_VARIABLES.find((v) => v.env === 'GEO_MIN_CLIENTS')!.default!;
const minClientsVariable = choiceVariable('min_clients', 'Fold countries under (clients)', [...new Set(['1', '5', MIN_CLIENTS_DEFAULT, '20', '50', '100'])], MIN_CLIENTS_DEFAULT);

/** opens / attempts to four decimals, capped at 0.9999 while any attempt failed (never a perfect score that is not). */
const successRateSql = (opens: string, attempts: string) =>
  `CASE WHEN ${opens} < ${attempts} THEN least(round((${opens}::float8 / ${attempts})::numeric, 4), 0.9999) ELSE round((least(${opens}, ${attempts})::float8 / nullif(${attempts}, 0))::numeric, 4) END`;

/** Ratio columns shown as percentages with two decimals (0.9996 reads 99.96%). */
const percentColumns = (names: readonly string[]) => ({
  overrides: names.map((name) => ({ matcher: { id: 'byName', options: name }, properties: [{ id: 'unit', value: 'percentunit' }, { id: 'decimals', value: 2 }] })),
});

/** The range at a glance as /api/ws/client-metrics/summary computes it (percentiles from the histograms). */
const SUMMARY = overSpanCte(`WITH ${SPAN},
sums AS (SELECT sum(reports) AS reports, count(DISTINCT country) FILTER (WHERE reports > 0) AS countries, sum(attempts) AS attempts, sum(opens) AS opens,
                sum(drops) AS drops, sum(connected_ms) AS connected_ms, sum(message_errors) AS errors, sum(messages_sent) + sum(messages_received) AS messages,
                sum(latency_sum) AS latency_sum, sum(latency_count) AS latency_count, max(latency_max) AS latency_max
           FROM (${GROUP_SUMS_SQL}) AS g),
clients AS (SELECT sum(clients) AS clients FROM (${clientsSql(true)}) AS c),
quantiles AS (${histogramQuantilesSql(groupHistogramsSql(['latency_p50', 'latency_p95'], true), 'country', [
  { metric: 'latency_p50', q: 0.5, as: 'p50' },
  { metric: 'latency_p95', q: 0.95, as: 'p95' },
])})
SELECT coalesce(s.reports, 0) AS reports, coalesce(c.clients, 0) AS clients, s.countries, ${successRateSql('s.opens', 's.attempts')} AS success_rate,
  round((s.drops / nullif(s.connected_ms / 3600000, 0))::numeric, 2) AS drops_per_connected_hour,
  round((s.errors::float8 / nullif(s.messages, 0))::numeric, 4) AS errors_per_message,
  round((s.latency_sum / nullif(s.latency_count, 0))::numeric, 1) AS avg_latency_ms,
  round(least(q.p50, s.latency_max)::numeric, 1) AS p50_latency_ms, round(least(q.p95, s.latency_max)::numeric, 1) AS p95_latency_ms
FROM sums s CROSS JOIN clients c LEFT JOIN quantiles q ON true`);

/**
 * Per country: clients, latency and connection success as /api/ws/client-metrics/geographic computes
 * them over rolled-up hours, countries with fewer than $min_clients clients folded into `other` (its clients: the
 * sum of theirs, as the API's rollup path counts them; its raw path counts a session that moved between two once).
 */
const COUNTRIES = overSpanCte(`WITH ${SPAN},
clients AS (SELECT country, clients, CASE WHEN clients >= $min_clients THEN country ELSE '${OTHER}' END AS label
              FROM (${clientsSql(false)}) AS c WHERE region = '${GLOBAL}'),
sums AS (SELECT label, sum(latency_sum) AS latency_sum, sum(latency_count) AS latency_count, max(latency_max) AS latency_max, sum(opens) AS opens, sum(attempts) AS attempts
           FROM (${GROUP_SUMS_SQL}) AS g JOIN clients USING (country) GROUP BY label),
quantiles AS (${histogramQuantilesSql(`SELECT label, metric, bin, count FROM (${groupHistogramsSql(['latency_p50', 'latency_p95'], false)}) AS h JOIN clients USING (country)`, 'label', [
  { metric: 'latency_p50', q: 0.5, as: 'p50' },
  { metric: 'latency_p95', q: 0.95, as: 'p95' },
])})
SELECT s.label AS country, c.clients,
  round((s.latency_sum / nullif(s.latency_count, 0))::numeric, 1) AS avg_latency_ms,
  round(least(q.p50, s.latency_max)::numeric, 1) AS p50_latency_ms, round(least(q.p95, s.latency_max)::numeric, 1) AS p95_latency_ms,
  ${successRateSql('s.opens', 's.attempts')} AS success_rate
FROM sums s JOIN (SELECT label, sum(clients) AS clients FROM clients GROUP BY label) AS c USING (label) LEFT JOIN quantiles q USING (label)
ORDER BY s.label = '${OTHER}', c.clients DESC, s.label`);

/** Browser metrics from the web SDK (DELTA, folded by the collector) and client reports in PostgreSQL. */
export const websocketClients: DashboardSpec = {
  uid: 'socketscope-websocket-clients',
  title: 'WebSocket clients',
  description: 'What browsers experience: drops, reconnects, RTT by network type, Web Vitals, and geography and UX from client reports.',
  tags: ['socketscope', 'websocket', 'browser'],
  variables: [datasourceVariable, labelVariable('job', 'Web app', 'websocket_client_connection_attempts_total'), minClientsVariable],
  links: [{ title: 'WebSocket server', type: 'link', url: '/d/socketscope-websocket-server', keepTime: true }],
  annotations: [firingAlertsAnnotation(['websocket-client']), anomalyAnnotation('client_reports')],
  // The client-report panels read hourly rollups, which change once an hour; the Prometheus panels poll Prometheus.
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
          title: 'Client reports at a glance',
          type: 'table',
          width: 24,
          height: 4,
          datasource: 'postgres',
          targets: [{ rawSql: SUMMARY }],
          fieldConfig: percentColumns(['success_rate', 'errors_per_message']),
          description:
            'As the analytics API (/api/ws/client-metrics/summary) computes them: clients are distinct sessions; success rate = opens / attempts; drops per connected hour; errors per message = WebSocket errors of every type (failed connects, socket errors, heartbeat timeouts, failed sends) over messages sent and received; latency is the heartbeat RTT (mean pooled over reports, p50/p95 of the reports\' p50/p95 from the histograms, within 5%).',
        },
        {
          title: 'Page load and LCP by WebSocket latency band (client reports)',
          type: 'table',
          width: 12,
          datasource: 'postgres',
          targets: [
            {
              rawSql: `WITH ${SPAN}
SELECT CASE WHEN latency_ms < 50 THEN '< 50 ms' WHEN latency_ms < 100 THEN '50-100 ms'
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
              rawSql: COUNTRIES,
            },
          ],
          fieldConfig: percentColumns(['success_rate']),
          description: 'Clients are distinct sessions; latency is the mean RTT pooled over reports, p50/p95 the percentiles of the reports\' p50/p95 RTT (always from the 10%-wide histograms: within 5%, where the API is exact over ranges with no rolled-up hour); success rate = opens / attempts. Countries with fewer clients than the "Fold countries under" choice (default 10, GEO_MIN_CLIENTS\'s default, not your service\'s setting) are summed into other. As the analytics API (/api/ws/client-metrics/geographic) computes them, which also gives regions and Wilson intervals.',
        },
      ],
    },
  ],
};
