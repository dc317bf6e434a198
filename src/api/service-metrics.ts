/**
 * The service's own metrics (GET /metrics on the API port, where the shipped
 * prometheus.yml scrapes `app:8080`): OpenTelemetry instruments collected by
 * a Prometheus reader and named as the collector names them (src/telemetry's
 * renameForPrometheus), so the service and the pipeline agree on every name.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Counter, Histogram, Meter } from '@opentelemetry/api';
import { PrometheusExporter, PrometheusSerializer } from '@opentelemetry/exporter-prometheus';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { renameForPrometheus } from '../telemetry/index.ts';
import { instrumentOptions } from '../instrumentation/catalogue.ts';
import { type ServiceMetricName, serviceMetric } from './catalogue.ts';

export interface ServiceMetrics {
  meter: Meter;
  handle(req: IncomingMessage, res: ServerResponse): void;
  shutdown(): Promise<void>;
}

export function createServiceMetrics(serviceName = 'socketscope-analytics', serviceVersion?: string): ServiceMetrics {
  const reader = new PrometheusExporter({ preventServerStart: true });
  const serializer = new PrometheusSerializer();
  const resource = resourceFromAttributes({ 'service.name': serviceName, ...(serviceVersion ? { 'service.version': serviceVersion } : {}) });
  const provider = new MeterProvider({ resource, readers: [reader] });
  return {
    meter: provider.getMeter(serviceName),
    handle(_req, res) {
      reader.collect().then(
        ({ resourceMetrics }) => {
          res.setHeader('content-type', 'text/plain; version=0.0.4; charset=utf-8');
          res.end(serializer.serialize(renameForPrometheus(resourceMetrics)));
        },
        (error: unknown) => {
          res.statusCode = 500;
          res.end(`collection failed: ${(error as Error).message}\n`);
        },
      );
    },
    shutdown: () => provider.shutdown(),
  };
}

export interface ApiInstruments {
  recordRequest(method: string, route: string, status: number, seconds: number): void;
  reportsAccepted(count: number): void;
  reportsRejected(errorType: string): void;
  recordTask(task: string, ok: boolean, seconds: number): void;
}

function histogram(meter: Meter, name: ServiceMetricName): Histogram {
  const def = serviceMetric(name);
  return meter.createHistogram(def.name, instrumentOptions(def));
}

function counter(meter: Meter, name: ServiceMetricName): Counter {
  const def = serviceMetric(name);
  return meter.createCounter(def.name, instrumentOptions(def));
}

export function apiInstruments(meter: Meter): ApiInstruments {
  const duration = histogram(meter, 'http.server.request.duration');
  const accepted = counter(meter, 'socketscope.client_reports.accepted');
  const rejected = counter(meter, 'socketscope.client_reports.rejected');
  const tasks = histogram(meter, 'socketscope.task.duration');
  return {
    recordRequest: (method, route, status, seconds) =>
      duration.record(seconds, { 'http.request.method': method, 'http.route': route, 'http.response.status_code': status }),
    reportsAccepted: (count) => accepted.add(count),
    reportsRejected: (errorType) => rejected.add(1, { 'error.type': errorType }),
    recordTask: (task, ok, seconds) => tasks.record(seconds, { 'socketscope.task': task, 'socketscope.task.outcome': ok ? 'ok' : 'error' }),
  };
}
