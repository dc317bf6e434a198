/**
 * The bootstrap's handling of the standard OTEL_* variables and of the global
 * providers, without a collector: what it starts, what it registers, what it
 * puts on the resource.
 */
import { type DiagLogger, DiagLogLevel, diag, metrics, trace } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { createServer } from 'node:http';
import { createServer as createHttp2Server } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { waitFor } from '../../../src/stack/ports.ts';
import { type Telemetry, startTelemetry } from '../../../src/telemetry/index.ts';

const started: Telemetry[] = [];
let warnings: string[] = [];

beforeEach(() => {
  warnings = [];
  const record = (message: string) => void warnings.push(message);
  const logger: DiagLogger = { error: record, warn: record, info: () => {}, debug: () => {}, verbose: () => {} };
  diag.setLogger(logger, { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true });
});

const receivers: Receiver[] = [];

afterEach(async () => {
  for (const telemetry of started.splice(0).reverse()) await telemetry.shutdown();
  for (const receiver of receivers.splice(0)) await receiver.close();
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

/** One export request as a receiver saw it. */
interface Export {
  path: string;
  contentType: string | undefined;
}

interface Receiver {
  /** http://127.0.0.1:<port> */
  url: string;
  exports: Export[];
  close(): Promise<void>;
}

/**
 * An OTLP/HTTP receiver on 127.0.0.1 that accepts every export (an empty response of the
 * request's content type), or with `hold: true` keeps every answer back until release().
 */
async function httpReceiver({ hold = false } = {}): Promise<Receiver & { release(): void }> {
  const exports: Export[] = [];
  const held: Array<() => void> = [];
  let holding = hold;
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      exports.push({ path: req.url ?? '', contentType: req.headers['content-type'] });
      const json = req.headers['content-type'] === 'application/json';
      const answer = (): void => {
        res.writeHead(200, { 'content-type': json ? 'application/json' : 'application/x-protobuf' });
        res.end(json ? '{}' : '');
      };
      if (holding) held.push(answer);
      else answer();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const receiver = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    exports,
    release(): void {
      holding = false;
      for (const answer of held.splice(0)) answer();
    },
    close: async () => {
      receiver.release();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
  receivers.push(receiver);
  return receiver;
}

/** An OTLP/gRPC receiver (HTTP/2 without TLS) that answers every call with an empty message and grpc-status 0. */
async function grpcReceiver(): Promise<Receiver> {
  const exports: Export[] = [];
  const server = createHttp2Server();
  server.on('stream', (stream, headers) => {
    stream.resume();
    stream.on('end', () => {
      exports.push({ path: String(headers[':path']), contentType: headers['content-type'] });
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
      stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
      // One length-prefixed message: not compressed, 0 bytes (an empty Export…ServiceResponse).
      stream.end(Buffer.from([0, 0, 0, 0, 0]));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const receiver: Receiver = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    exports,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
  receivers.push(receiver);
  return receiver;
}

/** Records a counter and a span and flushes both providers. */
async function exportOnce(telemetry: Telemetry): Promise<void> {
  telemetry.meterProvider.getMeter('unit').createCounter('unit.exports').add(1);
  telemetry.tracerProvider.getTracer('unit').startSpan('unit export').end();
  await telemetry.meterProvider.forceFlush();
  await telemetry.tracerProvider.forceFlush();
}

const sorted = (exports: Export[]): Export[] => [...exports].sort((a, b) => (a.path < b.path ? -1 : 1));

describe('startTelemetry and OTEL_EXPORTER_OTLP_PROTOCOL', () => {
  it('exports http/protobuf by default, as the specification says', async () => {
    const receiver = await httpReceiver();
    await exportOnce(await start({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url }));
    expect(sorted(receiver.exports)).toEqual([
      { path: '/v1/metrics', contentType: 'application/x-protobuf' },
      { path: '/v1/traces', contentType: 'application/x-protobuf' },
    ]);
    expect(warnings).toEqual([]);
  });

  it('takes http/json, and a signal-specific protocol over the general one', async () => {
    const receiver = await httpReceiver();
    await exportOnce(await start({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/protobuf' }));
    expect(sorted(receiver.exports)).toEqual([
      { path: '/v1/metrics', contentType: 'application/json' },
      { path: '/v1/traces', contentType: 'application/x-protobuf' },
    ]);
  });

  it('exports over gRPC to the endpoint as given (no /v1/<signal> path)', async () => {
    const receiver = await grpcReceiver();
    await exportOnce(await start({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' }));
    expect(sorted(receiver.exports)).toEqual([
      { path: '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export', contentType: 'application/grpc' },
      { path: '/opentelemetry.proto.collector.trace.v1.TraceService/Export', contentType: 'application/grpc' },
    ]);
  });

  it('reports an invalid protocol and falls back: a signal one to the general one, the general one to http/protobuf', async () => {
    const receiver = await httpReceiver();
    await exportOnce(
      await start({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_EXPORTER_OTLP_PROTOCOL: 'udp', OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: 'HTTP/JSON', OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/json' }),
    );
    expect(sorted(receiver.exports)).toEqual([
      { path: '/v1/metrics', contentType: 'application/x-protobuf' },
      { path: '/v1/traces', contentType: 'application/json' },
    ]);
    expect(warnings).toEqual([
      'OTEL_EXPORTER_OTLP_PROTOCOL must be one of http/protobuf, http/json, grpc, got "udp"; using http/protobuf',
      'OTEL_EXPORTER_OTLP_METRICS_PROTOCOL must be one of http/protobuf, http/json, grpc, got "HTTP/JSON"; using http/protobuf',
    ]);
  });
});

describe('startTelemetry and OTEL_METRIC_EXPORT_TIMEOUT', () => {
  /** Flushes metrics to a receiver that holds its answer until the reader has given up on it (its export timeout). */
  async function flushUntilTimedOut(telemetry: Telemetry, receiver: { release(): void }): Promise<void> {
    telemetry.meterProvider.getMeter('unit').createCounter('unit.exports').add(1);
    const flushed = telemetry.meterProvider.forceFlush();
    // Released at once: an export the interval starts meanwhile must not time out too.
    await waitFor('the reader to give up', async () => warnings.some((w) => w.includes('timed out')), { intervalMs: 5 });
    receiver.release();
    await flushed;
  }

  it('gives up a metric export after OTEL_METRIC_EXPORT_TIMEOUT', async () => {
    const receiver = await httpReceiver({ hold: true });
    const telemetry = await start({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_TRACES_EXPORTER: 'none', OTEL_METRIC_EXPORT_TIMEOUT: '250' });
    await flushUntilTimedOut(telemetry, receiver);
    expect(warnings).toEqual(['PeriodicExportingMetricReader: metrics export timed out after 250ms']);
  });

  it('reports an invalid timeout and uses the default', async () => {
    await start({ OTEL_METRIC_EXPORT_TIMEOUT: 'soon', OTEL_METRICS_EXPORTER: 'none', OTEL_TRACES_EXPORTER: 'none' });
    expect(warnings).toEqual(['OTEL_METRIC_EXPORT_TIMEOUT must be a positive integer, got "soon"; using 30000']);
  });

  it('reports a timeout longer than the interval and uses the interval (the SDK refuses it)', async () => {
    const receiver = await httpReceiver({ hold: true });
    const telemetry = await start({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_TRACES_EXPORTER: 'none', OTEL_METRIC_EXPORT_INTERVAL: '1000', OTEL_METRIC_EXPORT_TIMEOUT: '60000' });
    await flushUntilTimedOut(telemetry, receiver);
    expect(warnings).toEqual([
      'OTEL_METRIC_EXPORT_TIMEOUT 60000 is longer than the export interval; using 1000',
      'PeriodicExportingMetricReader: metrics export timed out after 1000ms',
    ]);
  });
});
