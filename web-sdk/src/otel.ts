/**
 * @socketscope/web-sdk/otel: exports the scope's metrics (DELTA temporality,
 * summed across browsers by the collector) and spans over OTLP/HTTP JSON.
 *
 *   initSocketScope({ plugins: [otlpExport({ endpoint: 'https://otel.example.com', serviceName: 'shop-web' })] })
 *
 * Providers are private to the SDK (nothing is registered globally), so an
 * app's own OTel setup is left alone.
 */
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, BatchSpanProcessor, ParentBasedSampler, TraceIdRatioBasedSampler } from '@opentelemetry/sdk-trace-base';
import { type BackoffOptions, DEFAULT_BACKOFF } from './backoff.ts';
import { createInstruments } from './metrics/instruments.ts';
import { OtlpJsonMetricExporter } from './metrics/otlp-json.ts';
import { MetricsRecorder } from './metrics/recorder.ts';
import type { SocketScope } from './scope.ts';
import type { MonitorSink } from './sink.ts';
import { createSocketTracer } from './traces/otel-tracer.ts';
import type { SocketTracer } from './traces/socket-tracer.ts';
import { OtlpJsonSpanExporter } from './traces/otlp-json.ts';
import { otlpTransport } from './transport/otlp-json.ts';
import type { TransportStats } from './transport/transport.ts';
import { SDK_NAME, SDK_VERSION } from './version.ts';

export interface OtlpExportOptions {
  /** Base URL of the collector's OTLP/HTTP receiver; /v1/metrics and /v1/traces are appended. */
  endpoint: string;
  /** service.name of the browser app, e.g. 'shop-web'. */
  serviceName: string;
  serviceVersion?: string;
  serviceNamespace?: string;
  /** deployment.environment.name, e.g. 'production'. */
  environment?: string;
  headers?: Record<string, string>;
  /** Metric export interval. Default 30 000 ms. */
  metricsIntervalMs?: number;
  /** Traces: the fraction of new traces sampled (parent-based). Default { sampleRatio: 1 }; false: no traces. */
  traces?: false | { sampleRatio?: number };
  /** Backoff between retries while the collector is unreachable. Default 1 s doubling to 60 s. */
  retry?: Partial<BackoffOptions>;
  /** Export payloads kept per signal while the collector is unreachable (the oldest go first). Default 30. */
  maxPending?: number;
}

export interface OtlpExportSink extends MonitorSink {
  /** Delivery statistics per signal (pending, delivered, dropped, failures). */
  readonly stats: { metrics: TransportStats; traces: TransportStats };
  readonly tracer: SocketTracer | undefined;
}

export function otlpExport(options: OtlpExportOptions): (scope: SocketScope) => OtlpExportSink {
  return (scope) => {
    const resource = resourceFromAttributes({
      'service.name': options.serviceName,
      'service.version': options.serviceVersion,
      'service.namespace': options.serviceNamespace,
      'deployment.environment.name': options.environment,
      // The collector routes on this: browser deltas are re-stamped and summed across sessions.
      'telemetry.sdk.language': 'webjs',
      'telemetry.sdk.name': SDK_NAME,
      'telemetry.sdk.version': SDK_VERSION,
    });
    const base = options.endpoint.replace(/\/+$/, '');
    const transportOptions = {
      headers: options.headers,
      maxPending: options.maxPending ?? 30,
      backoff: { ...DEFAULT_BACKOFF, initialDelayMs: 1000, maxDelayMs: 60_000, ...options.retry },
    };
    const metrics = otlpTransport('resourceMetrics', { url: `${base}/v1/metrics`, ...transportOptions });
    const traces = otlpTransport('resourceSpans', { url: `${base}/v1/traces`, ...transportOptions });

    const meterProvider = new MeterProvider({
      resource,
      readers: [
        new PeriodicExportingMetricReader({
          exporter: new OtlpJsonMetricExporter(metrics),
          exportIntervalMillis: options.metricsIntervalMs ?? 30_000,
        }),
      ],
    });
    const recorder = new MetricsRecorder(createInstruments(meterProvider.getMeter(SDK_NAME, SDK_VERSION)), scope);

    const tracerProvider =
      options.traces === false
        ? undefined
        : new BasicTracerProvider({
            resource,
            sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(options.traces?.sampleRatio ?? 1) }),
            spanProcessors: [new BatchSpanProcessor(new OtlpJsonSpanExporter(traces), { maxQueueSize: 512, maxExportBatchSize: 64, scheduledDelayMillis: 2000 })],
          });

    const flush = async (final: boolean): Promise<void> => {
      // The metric reader does not flush on page hide by itself: collect now, then send. The
      // exporters' own (non-final) flush may send a first batch before flush(final): every body is
      // split to the keepalive budget, so that one goes with keepalive too while the budget lasts.
      await Promise.all([meterProvider.forceFlush(), tracerProvider?.forceFlush()]);
      metrics.flush(final);
      traces.flush(final);
    };

    const sink: OtlpExportSink = Object.assign(recorder, {
      stats: { metrics: metrics.stats, traces: traces.stats },
      tracer: tracerProvider && createSocketTracer(tracerProvider.getTracer(SDK_NAME, SDK_VERSION)),
      flush,
      async shutdown() {
        // The providers collect and export what is left, and their exporters stop the transports;
        // the final flush then sends it, once: a request that fails is not retried after stop().
        await Promise.all([meterProvider.shutdown(), tracerProvider?.shutdown()]);
        metrics.flush(true);
        traces.flush(true);
      },
    });
    return sink;
  };
}

export { CLIENT_METRICS, CLIENT_METRIC, ATTR, type MetricDefinition } from './catalogue.ts';
