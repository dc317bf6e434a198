/**
 * An app's own `/metrics`, with the names the collector path gives.
 * `@opentelemetry/exporter-prometheus` 0.223 appends `_total` but no unit
 * suffix; we collect through its reader, rename each metric with
 * prometheusName() (unit words included, `_total` left to the serializer) and
 * serialize, so scraping the app or the collector yields the same series.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PrometheusExporter, PrometheusSerializer } from '@opentelemetry/exporter-prometheus';
import { DataPointType, type MetricData, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { type MetricDefinition, prometheusName } from '../catalogue.ts';

/** The catalogue's instrument kind for collected data (what decides the Prometheus suffixes). */
export function instrumentOf(metric: MetricData): MetricDefinition['instrument'] {
  switch (metric.dataPointType) {
    case DataPointType.SUM:
      return metric.isMonotonic ? 'counter' : 'updowncounter';
    case DataPointType.GAUGE:
      return 'gauge';
    default:
      return 'histogram';
  }
}

/** The name the serializer should see: the collector's name minus the `_total` it adds itself. */
export function serializerName(metric: MetricData): string {
  const instrument = instrumentOf(metric);
  const name = prometheusName({ name: metric.descriptor.name, unit: metric.descriptor.unit, instrument });
  return instrument === 'counter' ? name.replace(/_total$/, '') : name;
}

export function renameForPrometheus(resourceMetrics: ResourceMetrics): ResourceMetrics {
  return {
    ...resourceMetrics,
    scopeMetrics: resourceMetrics.scopeMetrics.map((scope) => ({
      ...scope,
      metrics: scope.metrics.map((metric) => ({ ...metric, descriptor: { ...metric.descriptor, name: serializerName(metric) } }) as MetricData),
    })),
  };
}

export interface PrometheusEndpoint {
  /** The MetricReader to add to the MeterProvider. */
  reader: PrometheusExporter;
  /** http://host:port/metrics */
  url: string;
  close(): Promise<void>;
}

/** Serves `/metrics` on host:port (127.0.0.1 unless told otherwise; never all interfaces by default). */
export async function startPrometheusEndpoint(options: { host?: string; port?: number } = {}): Promise<PrometheusEndpoint> {
  const reader = new PrometheusExporter({ preventServerStart: true });
  const serializer = new PrometheusSerializer();
  const server: Server = createServer((request, response) => {
    if (request.method !== 'GET' || request.url?.split('?')[0] !== '/metrics') {
      response.statusCode = 404;
      response.end('not found\n');
      return;
    }
    reader.collect().then(
      ({ resourceMetrics, errors }) => {
        for (const error of errors) console.error('socketscope telemetry: metric collection error', error);
        response.setHeader('content-type', 'text/plain; version=0.0.4; charset=utf-8');
        response.end(serializer.serialize(renameForPrometheus(resourceMetrics)));
      },
      (error: unknown) => {
        response.statusCode = 500;
        response.end(`collection failed: ${(error as Error).message}\n`);
      },
    );
  });
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 9464, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    reader,
    url: `http://${host}:${port}/metrics`,
    close: () =>
      new Promise((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
