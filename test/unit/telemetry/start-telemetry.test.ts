/**
 * The bootstrap's handling of the standard OTEL_* variables and of the global
 * providers, without a collector: what it starts, what it registers, what it
 * puts on the resource.
 */
import { type DiagLogger, DiagLogLevel, diag, metrics, trace } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Telemetry, startTelemetry } from '../../../src/telemetry/index.ts';

const started: Telemetry[] = [];
let warnings: string[] = [];

beforeEach(() => {
  warnings = [];
  const record = (message: string) => void warnings.push(message);
  const logger: DiagLogger = { error: record, warn: record, info: () => {}, debug: () => {}, verbose: () => {} };
  diag.setLogger(logger, { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true });
});

afterEach(async () => {
  for (const telemetry of started.splice(0).reverse()) await telemetry.shutdown();
  diag.disable();
  metrics.disable();
  trace.disable();
});

async function start(env: Record<string, string>, global = false): Promise<Telemetry> {
  // No OTLP endpoint reachable is needed: nothing here waits for an export.
  const telemetry = await startTelemetry({ serviceName: 'unit', global, env: { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9', ...env } as NodeJS.ProcessEnv });
  started.push(telemetry);
  return telemetry;
}

describe('startTelemetry and the OTEL_* variables', () => {
  it('OTEL_SDK_DISABLED=true starts no exporter and no /metrics endpoint, even when one is asked for', async () => {
    const telemetry = await start({ OTEL_SDK_DISABLED: 'true', OTEL_METRICS_EXPORTER: 'otlp,prometheus', OTEL_EXPORTER_PROMETHEUS_PORT: '0' });
    expect(telemetry.prometheus).toBeUndefined();
  });

  it('an empty OTEL_EXPORTER_PROMETHEUS_HOST is unset: /metrics stays on 127.0.0.1', async () => {
    const telemetry = await start({ OTEL_METRICS_EXPORTER: 'prometheus', OTEL_EXPORTER_PROMETHEUS_HOST: '', OTEL_EXPORTER_PROMETHEUS_PORT: '0' });
    expect(new URL(telemetry.prometheus?.url ?? '').hostname).toBe('127.0.0.1');
  });

  it('an invalid interval or port is reported and replaced by its default, not a failed start', async () => {
    const telemetry = await start({ OTEL_METRIC_EXPORT_INTERVAL: 'soon', OTEL_METRICS_EXPORTER: 'otlp,prometheus,console', OTEL_EXPORTER_PROMETHEUS_PORT: 'x' });
    expect(new URL(telemetry.prometheus?.url ?? '').port).toBe('9464');
    expect(warnings).toEqual([
      'OTEL_METRICS_EXPORTER: exporter "console" is not supported here (otlp, prometheus, none); ignored',
      'OTEL_METRIC_EXPORT_INTERVAL must be a positive integer, got "soon"; using 15000',
      'OTEL_EXPORTER_PROMETHEUS_PORT must be a port number, got "x"; using 9464',
    ]);
  });

  it('keeps the command line off the resource (arguments carry secrets such as --database-url)', async () => {
    const telemetry = await start({});
    const attributes = telemetry.resource.attributes;
    expect(attributes['process.pid']).toBe(process.pid);
    expect(Object.keys(attributes).filter((key) => key.startsWith('process.command'))).toEqual([]);
    // Settled when returned: reading it logged no "accessing resource attributes before async attributes settled".
    expect(warnings).toEqual([]);
  });
});

describe('startTelemetry and the global providers', () => {
  it('warns when globals are already registered, and shutdown() unregisters its own so the next start can register', async () => {
    const first = await start({}, true);
    expect(metrics.getMeterProvider()).toBe(first.meterProvider);
    const second = await start({}, true);
    // (The API logs its own "duplicate registration" error as well.)
    expect(warnings.filter((w) => w.startsWith('startTelemetry'))).toEqual([
      'startTelemetry: global OpenTelemetry providers are already registered (shut the earlier telemetry down first, or pass { global: false }); these providers are not global',
    ]);
    expect(metrics.getMeterProvider()).toBe(first.meterProvider);
    await second.shutdown();
    // The second never registered, so its shutdown leaves the first's globals alone.
    expect(metrics.getMeterProvider()).toBe(first.meterProvider);

    await first.shutdown();
    expect(metrics.getMeterProvider()).not.toBe(first.meterProvider);
    const spans = new InMemorySpanExporter();
    const third = await startTelemetry({ serviceName: 'unit', env: { OTEL_TRACES_EXPORTER: 'none', OTEL_METRICS_EXPORTER: 'none' } as NodeJS.ProcessEnv, spanProcessors: [new SimpleSpanProcessor(spans)] });
    started.push(third);
    expect(metrics.getMeterProvider()).toBe(third.meterProvider);
    trace.getTracer('unit').startSpan('after a restart').end();
    await third.tracerProvider.forceFlush();
    expect(spans.getFinishedSpans().map((s) => s.name)).toEqual(['after a restart']);
  });
});
