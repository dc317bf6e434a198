/**
 * The service's own metrics (GET /metrics): OpenTelemetry instruments read by
 * a Prometheus exporter that serves through our Express app (no second
 * port). When src/telemetry's SDK bootstrap is wired in, pass its meter and
 * exporter handler instead (StartServiceOptions.metrics / .meter).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Meter } from '@opentelemetry/api';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { MeterProvider } from '@opentelemetry/sdk-metrics';

export interface ServiceMetrics {
  meter: Meter;
  handle(req: IncomingMessage, res: ServerResponse): void;
  shutdown(): Promise<void>;
}

export function createServiceMetrics(serviceName = 'socketscope-analytics'): ServiceMetrics {
  const exporter = new PrometheusExporter({ preventServerStart: true });
  const provider = new MeterProvider({ readers: [exporter] });
  return {
    meter: provider.getMeter(serviceName),
    handle: (req, res) => exporter.getMetricsRequestHandler(req, res),
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
