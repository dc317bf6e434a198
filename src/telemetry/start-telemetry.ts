/**
 * OpenTelemetry SDK bootstrap for socketscope's own services and the demo:
 * a MeterProvider and a NodeTracerProvider exporting OTLP to the collector,
 * an optional Prometheus `/metrics` on 127.0.0.1, the standard `OTEL_*`
 * variables, and one `shutdown()` that flushes everything.
 *
 * Honoured variables: OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES,
 * OTEL_EXPORTER_OTLP_ENDPOINT and OTEL_EXPORTER_OTLP_PROTOCOL (`http/protobuf`,
 * the spec's default, `http/json` or `grpc`; both with _METRICS_/_TRACES_
 * variants), OTEL_EXPORTER_OTLP_HEADERS, OTEL_METRICS_EXPORTER /
 * OTEL_TRACES_EXPORTER (`otlp`, `prometheus`, `none`),
 * OTEL_METRIC_EXPORT_INTERVAL / _TIMEOUT, OTEL_TRACES_SAMPLER / _ARG,
 * OTEL_EXPORTER_PROMETHEUS_HOST / _PORT, OTEL_SDK_DISABLED. As the spec asks,
 * an empty value is unset and an invalid one is reported (diag) and replaced
 * by its default.
 *
 * Every process gets its own `service.instance.id` (a random UUID unless
 * OTEL_RESOURCE_ATTRIBUTES or the `serviceInstanceId` option names one): the
 * collector's Prometheus exporter builds the `instance` label from it, so
 * without it the replicas of one service write the same series and overwrite
 * each other (docs/operations.md, "Instance identity").
 */
import { randomUUID } from 'node:crypto';
import { context, diag, metrics, propagation, trace } from '@opentelemetry/api';
import { OTLPMetricExporter as GrpcMetricExporter } from '@opentelemetry/exporter-metrics-otlp-grpc';
import { OTLPMetricExporter as JsonMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPMetricExporter as ProtobufMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { OTLPTraceExporter as GrpcTraceExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { OTLPTraceExporter as JsonTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as ProtobufTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { type Resource, type ResourceDetector, detectResources, hostDetector, processDetector, resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider, type IMetricReader, PeriodicExportingMetricReader, type PushMetricExporter, type ViewOptions } from '@opentelemetry/sdk-metrics';
import { BatchSpanProcessor, NodeTracerProvider, type SpanExporter, type SpanProcessor } from '@opentelemetry/sdk-trace-node';
import { type PrometheusEndpoint, startPrometheusEndpoint } from './prometheus-endpoint.ts';

export interface TelemetryOptions {
  /** Used when OTEL_SERVICE_NAME is not set. */
  serviceName: string;
  serviceVersion?: string;
  /**
   * `service.instance.id` when OTEL_RESOURCE_ATTRIBUTES does not set it.
   * Default: a random UUID per call, so every process (and every replica) is
   * its own series in Prometheus. Give a stable id (e.g. the pod name) only if
   * no two live processes can share it.
   */
  serviceInstanceId?: string;
  /** Overrides the environment; `undefined` fields fall back to it. */
  env?: NodeJS.ProcessEnv;
  /** Serve /metrics for scraping (also turned on by OTEL_METRICS_EXPORTER containing `prometheus`). */
  prometheus?: boolean | { host?: string; port?: number };
  /** Extra views, e.g. seconds buckets for third-party histograms without bucket advice. */
  views?: ViewOptions[];
  /** Extra span processors (tests add an in-memory exporter here). */
  spanProcessors?: SpanProcessor[];
  /** Extra metric readers. */
  metricReaders?: IMetricReader[];
  /** Register as the global providers, propagator and context manager. Default true. */
  global?: boolean;
}

export interface Telemetry {
  /** The resource both providers report: service.name, service.instance.id, host and process attributes. */
  resource: Resource;
  meterProvider: MeterProvider;
  tracerProvider: NodeTracerProvider;
  /** Present when the Prometheus endpoint is on. */
  prometheus: PrometheusEndpoint | undefined;
  /** Flushes and stops every exporter and the /metrics server. Idempotent. */
  shutdown(): Promise<void>;
}

const KNOWN_EXPORTERS = new Set(['otlp', 'prometheus', 'none']);

/** OTEL_*_EXPORTER: an empty value is unset (the spec), names we do not support are reported and skipped. */
function exporters(name: string, value: string | undefined, fallback: string): Set<string> {
  const names = (value?.trim() ? value : fallback).split(',').map((s) => s.trim().toLowerCase()).filter(Boolean);
  for (const unknown of names.filter((n) => !KNOWN_EXPORTERS.has(n))) diag.warn(`${name}: exporter ${JSON.stringify(unknown)} is not supported here (otlp, prometheus, none); ignored`);
  return new Set(names);
}

/** As the spec asks of SDKs: an invalid value is reported and the default used, not a failed start. */
function positiveInt(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined || value.trim() === '') return fallback;
  const parsed = Number(value);
  if (Number.isInteger(parsed) && parsed > 0) return parsed;
  diag.warn(`${name} must be a positive integer, got ${JSON.stringify(value)}; using ${fallback}`);
  return fallback;
}

function sdkDisabled(env: NodeJS.ProcessEnv): boolean {
  return env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true';
}

type Signal = 'metrics' | 'traces';

const OTLP_PROTOCOLS = ['http/protobuf', 'http/json', 'grpc'] as const;
type OtlpProtocol = (typeof OTLP_PROTOCOLS)[number];
/** The specification's default, which the collector's OTLP/HTTP receiver takes as it takes JSON. */
const DEFAULT_OTLP_PROTOCOL: OtlpProtocol = 'http/protobuf';

function protocol(name: string, value: string | undefined, fallback: OtlpProtocol): OtlpProtocol {
  if (value === undefined || value.trim() === '') return fallback;
  const known = OTLP_PROTOCOLS.find((p) => p === value.trim());
  if (known) return known;
  diag.warn(`${name} must be one of ${OTLP_PROTOCOLS.join(', ')}, got ${JSON.stringify(value)}; using ${fallback}`);
  return fallback;
}

/** OTEL_EXPORTER_OTLP_<SIGNAL>_PROTOCOL, else the general one (read once by the caller, so it warns once). */
function signalProtocol(env: NodeJS.ProcessEnv, signal: Signal, general: OtlpProtocol): OtlpProtocol {
  const name = `OTEL_EXPORTER_OTLP_${signal.toUpperCase()}_PROTOCOL`;
  return protocol(name, env[name], general);
}

/**
 * The OTLP URL of one signal from `env` (the exporters themselves read only
 * process.env, so overrides in `options.env` must be passed explicitly): the
 * signal-specific variable as is, else the base endpoint, plus /v1/<signal>
 * over HTTP (gRPC takes it as is, as the spec says).
 */
function otlpUrl(env: NodeJS.ProcessEnv, signal: Signal, over: OtlpProtocol = DEFAULT_OTLP_PROTOCOL): string | undefined {
  const specific = env[`OTEL_EXPORTER_OTLP_${signal.toUpperCase()}_ENDPOINT`];
  if (specific) return specific;
  const base = env.OTEL_EXPORTER_OTLP_ENDPOINT;
  if (!base) return undefined;
  return over === 'grpc' ? base : `${base.replace(/\/+$/, '')}/v1/${signal}`;
}

function metricExporter(over: OtlpProtocol, url: string | undefined): PushMetricExporter {
  if (over === 'grpc') return new GrpcMetricExporter({ url });
  if (over === 'http/json') return new JsonMetricExporter({ url });
  return new ProtobufMetricExporter({ url });
}

function traceExporter(over: OtlpProtocol, url: string | undefined): SpanExporter {
  if (over === 'grpc') return new GrpcTraceExporter({ url });
  if (over === 'http/json') return new JsonTraceExporter({ url });
  return new ProtobufTraceExporter({ url });
}

/** A TCP port; 0 asks the kernel for a free one. Invalid: reported, and the default used. */
function port(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined || value.trim() === '') return fallback;
  const parsed = Number(value);
  if (Number.isInteger(parsed) && parsed >= 0 && parsed <= 65_535) return parsed;
  diag.warn(`${name} must be a port number, got ${JSON.stringify(value)}; using ${fallback}`);
  return fallback;
}

/** True when the environment asks for OTLP traces: an endpoint is set, and neither the SDK nor the trace exporter is turned off. */
export function otlpTracesConfigured(env: NodeJS.ProcessEnv = process.env): boolean {
  if (sdkDisabled(env)) return false;
  if (!exporters('OTEL_TRACES_EXPORTER', env.OTEL_TRACES_EXPORTER, 'otlp').has('otlp')) return false;
  return Boolean(otlpUrl(env, 'traces'));
}

export async function startTelemetry(options: TelemetryOptions): Promise<Telemetry> {
  const env = { ...process.env, ...options.env };
  // OTEL_SDK_DISABLED: no exporter, no /metrics endpoint; only what the caller passes in (tests' readers) still runs.
  const disabled = sdkDisabled(env);
  const metricExporters = disabled ? new Set<string>() : exporters('OTEL_METRICS_EXPORTER', env.OTEL_METRICS_EXPORTER, 'otlp');
  const traceExporters = disabled ? new Set<string>() : exporters('OTEL_TRACES_EXPORTER', env.OTEL_TRACES_EXPORTER, 'otlp');
  const interval = positiveInt('OTEL_METRIC_EXPORT_INTERVAL', env.OTEL_METRIC_EXPORT_INTERVAL, 15_000);
  // The SDK's reader refuses a timeout longer than the interval (it throws): at most the interval, said when asked for more.
  const timeout = positiveInt('OTEL_METRIC_EXPORT_TIMEOUT', env.OTEL_METRIC_EXPORT_TIMEOUT, 30_000);
  if (timeout > interval && Number(env.OTEL_METRIC_EXPORT_TIMEOUT) === timeout) {
    diag.warn(`OTEL_METRIC_EXPORT_TIMEOUT ${timeout} is longer than the export interval; using ${interval}`);
  }
  const exportTimeout = Math.min(timeout, interval);
  const generalProtocol =
    metricExporters.has('otlp') || traceExporters.has('otlp') ? protocol('OTEL_EXPORTER_OTLP_PROTOCOL', env.OTEL_EXPORTER_OTLP_PROTOCOL, DEFAULT_OTLP_PROTOCOL) : DEFAULT_OTLP_PROTOCOL;

  const resource = telemetryResource(options, env);
  // Settled before anyone reads it (host.id is detected asynchronously; reading it early logs a diag error).
  await resource.waitForAsyncAttributes?.();

  const readers: IMetricReader[] = [...(options.metricReaders ?? [])];
  if (metricExporters.has('otlp')) {
    const over = signalProtocol(env, 'metrics', generalProtocol);
    readers.push(new PeriodicExportingMetricReader({ exporter: metricExporter(over, otlpUrl(env, 'metrics', over)), exportIntervalMillis: interval, exportTimeoutMillis: exportTimeout }));
  }
  let prometheus: PrometheusEndpoint | undefined;
  const prometheusWanted = !disabled && (options.prometheus ?? metricExporters.has('prometheus'));
  if (prometheusWanted) {
    const config = typeof prometheusWanted === 'object' ? prometheusWanted : {};
    prometheus = await startPrometheusEndpoint({
      // `||`: an empty value (compose's ${VAR:-}) would make listen() take every interface.
      host: config.host || env.OTEL_EXPORTER_PROMETHEUS_HOST || '127.0.0.1',
      port: config.port ?? port('OTEL_EXPORTER_PROMETHEUS_PORT', env.OTEL_EXPORTER_PROMETHEUS_PORT, 9464),
    });
    readers.push(prometheus.reader);
  }
  const meterProvider = new MeterProvider({ resource, readers, views: options.views ?? [] });

  const spanProcessors: SpanProcessor[] = [...(options.spanProcessors ?? [])];
  if (traceExporters.has('otlp')) {
    const over = signalProtocol(env, 'traces', generalProtocol);
    spanProcessors.push(new BatchSpanProcessor(traceExporter(over, otlpUrl(env, 'traces', over))));
  }
  // The sampler comes from OTEL_TRACES_SAMPLER / OTEL_TRACES_SAMPLER_ARG (read by the SDK; default parentbased_always_on).
  const tracerProvider = new NodeTracerProvider({ resource, spanProcessors });

  // The API keeps the first global registration and ignores later ones: say so rather than
  // leave this process's meters and tracers with the earlier providers.
  let registered = false;
  if (options.global ?? true) {
    registered = metrics.setGlobalMeterProvider(meterProvider);
    if (registered) tracerProvider.register();
    else diag.warn('startTelemetry: global OpenTelemetry providers are already registered (shut the earlier telemetry down first, or pass { global: false }); these providers are not global');
  }

  let stopped: Promise<void> | undefined;
  const shutdown = (): Promise<void> => {
    stopped ??= (async () => {
      // Unregistered first: global meters and tracers must not go on feeding shut-down providers.
      if (registered) {
        metrics.disable();
        trace.disable();
        propagation.disable();
        context.disable();
      }
      const results = await Promise.allSettled([meterProvider.shutdown(), tracerProvider.shutdown(), prometheus?.close()]);
      const failures = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failures.length > 0) throw new AggregateError(failures.map((f) => f.reason as Error), 'telemetry shutdown failed');
    })();
    return stopped;
  };
  return { resource, meterProvider, tracerProvider, prometheus, shutdown };
}

/**
 * OTEL_RESOURCE_ATTRIBUTES as the spec reads it: comma-separated `key=value`,
 * percent-decoded; any malformed entry discards the whole variable (with a
 * diagnostic), as the SDK's own envDetector does. Read from `env` rather than
 * process.env so `options.env` overrides apply.
 */
export function parseResourceAttributes(raw: string | undefined): Record<string, string> {
  if (!raw?.trim()) return {};
  const out: Record<string, string> = {};
  try {
    for (const entry of raw.split(',')) {
      if (entry.trim() === '') continue;
      const parts = entry.split('=');
      if (parts.length !== 2) throw new Error(`expected key=value, got ${JSON.stringify(entry)}`);
      const key = decodeURIComponent((parts[0] ?? '').trim());
      if (key === '') throw new Error(`empty key in ${JSON.stringify(entry)}`);
      out[key] = decodeURIComponent((parts[1] ?? '').trim());
    }
  } catch (error) {
    diag.warn(`OTEL_RESOURCE_ATTRIBUTES ignored: ${(error as Error).message}`);
    return {};
  }
  return out;
}

/**
 * The process detector without the command line: arguments carry secrets
 * (`serve --database-url postgres://user:password@…`), and the resource goes
 * on every span and into `target_info`.
 */
const processWithoutCommandLine: ResourceDetector = {
  detect(config) {
    const { attributes = {} } = processDetector.detect(config);
    const { 'process.command_args': _args, 'process.command_line': _line, 'process.command': _command, ...rest } = attributes;
    return { attributes: rest };
  },
};

/**
 * Precedence, lowest first: host and process attributes, the options
 * (serviceVersion, serviceInstanceId or a random UUID), OTEL_RESOURCE_ATTRIBUTES,
 * and for service.name: OTEL_SERVICE_NAME, then OTEL_RESOURCE_ATTRIBUTES, then
 * options.serviceName.
 */
function telemetryResource(options: TelemetryOptions, env: NodeJS.ProcessEnv): Resource {
  const fromEnv = parseResourceAttributes(env.OTEL_RESOURCE_ATTRIBUTES);
  const serviceName = env.OTEL_SERVICE_NAME || fromEnv['service.name'] || options.serviceName;
  return detectResources({ detectors: [hostDetector, processWithoutCommandLine] })
    .merge(
      resourceFromAttributes({
        'service.instance.id': options.serviceInstanceId ?? randomUUID(),
        ...(options.serviceVersion ? { 'service.version': options.serviceVersion } : {}),
      }),
    )
    .merge(resourceFromAttributes(fromEnv))
    .merge(resourceFromAttributes({ 'service.name': serviceName }));
}
