/**
 * The analytics service's own metrics (GET /metrics on its API port, scraped
 * as job `socketscope`): what its alerts in prometheus/rules/analytics.yml and
 * docs/metrics.md read.
 */
import type { MetricDefinition } from '../instrumentation/catalogue.ts';

/** Duration buckets for an HTTP API, in seconds (the SDK default is shaped for milliseconds). */
const HTTP_DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const;
/** Scheduled work: a partition check in milliseconds up to a detection pass over many streams. */
const TASK_DURATION_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300] as const;

export const SERVICE_METRICS = [
  {
    name: 'http.server.request.duration',
    instrument: 'histogram',
    unit: 's',
    description: 'Duration of the analytics service HTTP requests, by route pattern (never the raw URL).',
    attributes: ['http.request.method', 'http.route', 'http.response.status_code'],
    buckets: HTTP_DURATION_BUCKETS,
  },
  {
    name: 'socketscope.client_reports.accepted',
    instrument: 'counter',
    unit: '{report}',
    description: 'Client reports committed by POST /api/ws/client-metrics.',
    attributes: [],
  },
  {
    name: 'socketscope.client_reports.rejected',
    instrument: 'counter',
    unit: '{request}',
    description: 'Client report requests rejected, by error.type (the HTTP status).',
    attributes: ['error.type'],
  },
  {
    name: 'socketscope.task.duration',
    instrument: 'histogram',
    unit: 's',
    description:
      'Duration of each scheduled task run (anomaly-detection, rollup, partition-maintenance), by outcome `ok` or `error`; its _count counts the runs.',
    attributes: ['socketscope.task', 'socketscope.task.outcome'],
    buckets: TASK_DURATION_BUCKETS,
  },
] as const satisfies readonly MetricDefinition[];

export type ServiceMetricName = (typeof SERVICE_METRICS)[number]['name'];

export function serviceMetric(name: ServiceMetricName): MetricDefinition {
  return SERVICE_METRICS.find((m) => m.name === name)!;
}
