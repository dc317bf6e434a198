import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { type DashboardSpec, datasourceVariable, firingAlertsAnnotation } from './panels.ts';

/**
 * The otel-collector scrape's sample_limit, read from prometheus/prometheus.yml
 * (the one place it is set): past it Prometheus drops the whole scrape.
 */
export function collectorSampleLimit(file = fileURLToPath(new URL('../../prometheus/prometheus.yml', import.meta.url))): number {
  const config = parse(readFileSync(file, 'utf8')) as { scrape_configs: Array<{ job_name: string; sample_limit?: number }> };
  const limit = config.scrape_configs.find((job) => job.job_name === 'otel-collector')?.sample_limit;
  if (typeof limit !== 'number') throw new Error(`${file}: the otel-collector job has no sample_limit`);
  return limit;
}
const SAMPLE_LIMIT = collectorSampleLimit();

/** Requests of the analytics service (scraped as job "socketscope"), per second. */
const REQUESTS = 'http_server_request_duration_seconds_count{job="socketscope"}';

/** The pipeline itself: is the collector taking and delivering data, is the analytics service healthy. */
export const socketscopePipeline: DashboardSpec = {
  uid: 'socketscope-pipeline',
  title: 'socketscope pipeline',
  description: 'The collector (accepted, refused, filtered, dropped and failed data, queue, memory) and the analytics service (requests, errors, latency, ingestion, scheduled tasks).',
  tags: ['socketscope', 'pipeline'],
  variables: [datasourceVariable],
  // The pipeline's own alerts (absent data among them); not the Watchdog (component meta), which always fires.
  annotations: [firingAlertsAnnotation(['pipeline'], { byJob: false })],
  links: [
    { title: 'WebSocket server', type: 'link', url: '/d/socketscope-websocket-server', keepTime: true },
    { title: 'WebSocket clients', type: 'link', url: '/d/socketscope-websocket-clients', keepTime: true },
  ],
  rows: [
    {
      title: 'OpenTelemetry Collector',
      panels: [
        {
          title: 'Accepted per second',
          type: 'timeseries',
          unit: 'ops',
          targets: [
            { expr: 'sum by (receiver) (rate(otelcol_receiver_accepted_metric_points[$__rate_interval]))', legendFormat: 'metric points {{receiver}}' },
            { expr: 'sum by (receiver) (rate(otelcol_receiver_accepted_spans[$__rate_interval]))', legendFormat: 'spans {{receiver}}' },
          ],
        },
        {
          title: 'Refused and failed per second',
          type: 'timeseries',
          unit: 'ops',
          description: 'Refused: memory_limiter back-pressure at the receiver (OtelCollectorRefusingData). Failed: an exporter cannot deliver (OtelCollectorExportFailing).',
          targets: [
            { expr: 'sum by (receiver) (rate(otelcol_receiver_refused_metric_points[$__rate_interval]))', legendFormat: 'refused metric points {{receiver}}' },
            { expr: 'sum by (receiver) (rate(otelcol_receiver_refused_spans[$__rate_interval]))', legendFormat: 'refused spans {{receiver}}' },
            { expr: 'sum by (exporter) (rate(otelcol_exporter_send_failed_metric_points[$__rate_interval]))', legendFormat: 'failed metric points {{exporter}}' },
            { expr: 'sum by (exporter) (rate(otelcol_exporter_send_failed_spans[$__rate_interval]))', legendFormat: 'failed spans {{exporter}}' },
          ],
        },
        {
          title: 'Exporter queue size / capacity',
          type: 'timeseries',
          width: 4,
          description: 'A queue filling up means its backend is slow or down; at capacity the exporter drops data.',
          targets: [
            { expr: 'sum by (exporter) (otelcol_exporter_queue_size)', legendFormat: 'queue {{exporter}}' },
            { expr: 'sum by (exporter) (otelcol_exporter_queue_capacity)', legendFormat: 'capacity {{exporter}}' },
          ],
        },
        {
          title: 'Collector memory (RSS)',
          type: 'timeseries',
          width: 4,
          unit: 'bytes',
          description: 'memory_limiter refuses data (OtelCollectorRefusingData) as this nears its limit.',
          targets: [{ expr: 'max by (instance) (otelcol_process_memory_rss)', legendFormat: '{{instance}}' }],
        },
        {
          title: 'Browser data points dropped by filter/browser',
          type: 'timeseries',
          unit: 'ops',
          description:
            "Points posted to the public browser receiver that the web SDK never sends and the filter dropped: a metric name outside the web SDK's catalogue, a catalogue name with another instrument type or unit than the catalogue's, non-delta data, a histogram point with other bucket boundaries than the catalogue's. A steady rate after a deploy: a page exporting to the wrong receiver or an SDK version mismatch; a burst: someone posting junk to the public port.",
          targets: [{ expr: 'sum by (filter) (rate(otelcol_processor_filter_datapoints_filtered[$__rate_interval]))', legendFormat: '{{filter}}' }],
        },
        {
          title: 'Browser data points dropped by delta_to_cumulative',
          type: 'timeseries',
          unit: 'ops',
          description:
            'Browser points the receiver accepted (the page got 200, nothing counts as refused) and delta_to_cumulative then dropped, by error: `limit` while max_streams streams are tracked (points of new series are dropped until old streams go stale), other values for points out of order. Any of it fires OtelCollectorDroppingBrowserPoints.',
          targets: [{ expr: 'sum by (error) (rate(otelcol_deltatocumulative_datapoints{error!=""}[$__rate_interval]))', legendFormat: '{{error}}' }],
        },
        {
          title: 'delta_to_cumulative streams tracked / limit',
          type: 'timeseries',
          unit: 'short',
          description: 'Browser streams (metric, attribute set, service) delta_to_cumulative folds into cumulative series, against max_streams: at the limit, points of new streams are dropped.',
          targets: [
            { expr: 'sum by (instance) (otelcol_deltatocumulative_streams_tracked)', legendFormat: 'tracked {{instance}}' },
            { expr: 'max by (instance) (otelcol_deltatocumulative_streams_limit)', legendFormat: 'limit {{instance}}' },
          ],
        },
        {
          title: 'Samples per scrape of the collector / sample_limit',
          type: 'timeseries',
          unit: 'short',
          description: `Samples Prometheus takes from the collector's exporter per scrape, against the otel-collector job's sample_limit (${SAMPLE_LIMIT}, prometheus/prometheus.yml): past it Prometheus drops the whole scrape (every SDK metric) and OtelCollectorDown fires. Above 80 % for 15 minutes OtelCollectorScrapeNearSampleLimit warns.`,
          thresholds: [
            { value: null, color: 'green' },
            { value: 0.8 * SAMPLE_LIMIT, color: 'orange' },
            { value: SAMPLE_LIMIT, color: 'red' },
          ],
          targets: [{ expr: 'max by (instance) (scrape_samples_scraped{job="otel-collector"})', legendFormat: 'samples {{instance}}' }],
        },
      ],
    },
    {
      title: 'Analytics service',
      panels: [
        {
          title: 'Requests per second by route',
          type: 'timeseries',
          unit: 'reqps',
          targets: [{ expr: `sum by (http_route) (rate(${REQUESTS}[$__rate_interval]))`, legendFormat: '{{http_route}}' }],
        },
        {
          title: 'Server error ratio',
          type: 'timeseries',
          unit: 'percentunit',
          description: 'Share of requests answered 5xx (SocketscopeAnalyticsServerErrors above 5%).',
          thresholds: [{ value: null, color: 'green' }, { value: 0.05, color: 'orange' }],
          targets: [
            {
              // 0 rather than no value while nothing failed (no 5xx series yet) or nothing was asked.
              expr: `(sum(rate(http_server_request_duration_seconds_count{job="socketscope", http_response_status_code=~"5.."}[$__rate_interval])) or vector(0)) / clamp_min(sum(rate(${REQUESTS}[$__rate_interval])), 1e-9)`,
              legendFormat: '5xx',
            },
          ],
        },
        {
          title: 'Request duration p95 by route',
          type: 'timeseries',
          unit: 's',
          targets: [
            {
              expr: 'histogram_quantile(0.95, sum by (http_route, le) (rate(http_server_request_duration_seconds_bucket{job="socketscope"}[$__rate_interval])))',
              legendFormat: '{{http_route}}',
            },
          ],
        },
        {
          title: 'Client reports accepted, ingest requests rejected per second',
          type: 'timeseries',
          unit: 'ops',
          // Different units: accepted counts reports, rejected counts requests ({request}), each of which may have held a batch.
          description: 'Accepted: reports committed. Rejected: requests refused, by error type; a rejected request may have carried a whole batch of reports.',
          targets: [
            { expr: 'sum(rate(socketscope_client_reports_accepted_total{job="socketscope"}[$__rate_interval]))', legendFormat: 'reports accepted' },
            { expr: 'sum by (error_type) (rate(socketscope_client_reports_rejected_total{job="socketscope"}[$__rate_interval]))', legendFormat: 'requests rejected {{error_type}}' },
          ],
        },
        {
          title: 'Scheduled task runs per hour',
          type: 'timeseries',
          description:
            'Runs in the trailing hour by task and outcome (recorded job_socketscope_task:socketscope_task_runs:increase1h, which counts a first run too); a task with only errors for an hour fires SocketscopeTaskFailing.',
          targets: [
            {
              // The recorded hourly count, not rate()*3600: hourly tasks make a per-second rate spiky and zoom-dependent.
              expr: 'sum by (socketscope_task, socketscope_task_outcome) (job_socketscope_task:socketscope_task_runs:increase1h{job="socketscope"})',
              legendFormat: '{{socketscope_task}} {{socketscope_task_outcome}}',
            },
          ],
        },
        {
          title: 'Scheduled task duration p95',
          type: 'timeseries',
          unit: 's',
          targets: [
            {
              expr: 'histogram_quantile(0.95, sum by (socketscope_task, le) (rate(socketscope_task_duration_seconds_bucket{job="socketscope"}[$__rate_interval])))',
              legendFormat: '{{socketscope_task}}',
            },
          ],
        },
      ],
    },
  ],
};
