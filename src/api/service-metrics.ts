/**
 * The service's own metrics (GET /metrics on the API port, where the shipped
 * prometheus.yml scrapes `app:8080`): OpenTelemetry instruments collected by
 * a Prometheus reader and named as the collector names them (src/telemetry's
 * renameForPrometheus), so the service and the pipeline agree on every name.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Meter } from '@opentelemetry/api';
import { PrometheusExporter, PrometheusSerializer } from '@opentelemetry/exporter-prometheus';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { renameForPrometheus } from '../telemetry/index.ts';

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

/** Duration buckets for an HTTP API, in seconds (the SDK default is shaped for milliseconds). */
export const HTTP_DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export interface ApiInstruments {
  recordRequest(method: string, route: string, status: number, seconds: number): void;
  reportsAccepted(count: number): void;
  reportsRejected(errorType: string): void;
}

export function apiInstruments(meter: Meter): ApiInstruments {
  const duration = meter.createHistogram('http.server.request.duration', {
    unit: 's',
    description: 'Duration of HTTP server requests.',
    advice: { explicitBucketBoundaries: HTTP_DURATION_BUCKETS },
  });
  const accepted = meter.createCounter('socketscope.client_reports.accepted', { unit: '{report}', description: 'Client reports committed.' });
  const rejected = meter.createCounter('socketscope.client_reports.rejected', { unit: '{request}', description: 'Client report requests rejected, by error.type.' });
  return {
    recordRequest: (method, route, status, seconds) =>
      duration.record(seconds, { 'http.request.method': method, 'http.route': route, 'http.response.status_code': status }),
    reportsAccepted: (count) => accepted.add(count),
    reportsRejected: (errorType) => rejected.add(1, { 'error.type': errorType }),
  };
}
