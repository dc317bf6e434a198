/**
 * The native demo's OTLP/gRPC sink (src/demo/otlp-sink.ts), with real clients:
 * - OpenTelemetry's own OTLP/gRPC trace exporter, gzip on, through a byte
 *   counting TCP relay (so the request is known to be compressed on the wire):
 *   every span of two resources × two scopes is counted, exactly;
 * - metrics and logs exports are answered OK and count no span;
 * - an unknown method gets UNIMPLEMENTED (from grpc-js; nothing counted) and
 *   a request that does not decode INVALID_ARGUMENT, counted as an error;
 * - close() ends promptly while a client holds its connection and a call open.
 * The collector end to end (its otlp_grpc/tempo exporter to this sink) is
 * test/e2e/collector.test.ts.
 */
import { connect as http2Connect } from 'node:http2';
import { setTimeout as delay } from 'node:timers/promises';
import { type AddressInfo, type Server as NetServer, type Socket, connect as netConnect, createServer as createNetServer } from 'node:net';
import { Client, type ServiceError, credentials, status } from '@grpc/grpc-js';
import { ExportResultCode } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, InMemorySpanExporter, type ReadableSpan, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterEach, describe, expect, it } from 'vitest';
import { type OtlpSink, countSpans, startOtlpSink } from '../../../src/demo/otlp-sink.ts';

const TRACE_EXPORT = '/opentelemetry.proto.collector.trace.v1.TraceService/Export';
const METRICS_EXPORT = '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export';
const LOGS_EXPORT = '/opentelemetry.proto.collector.logs.v1.LogsService/Export';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function sinkForTest(): Promise<OtlpSink> {
  const sink = await startOtlpSink();
  cleanups.push(() => sink.close());
  return sink;
}

/** A TCP relay to `target` that counts the bytes clients send through it. */
async function byteCountingRelay(target: number): Promise<{ port: number; sent: () => number }> {
  let sent = 0;
  const sockets = new Set<Socket>();
  const server: NetServer = createNetServer((client) => {
    const upstream = netConnect(target, '127.0.0.1');
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('error', () => undefined);
      socket.once('close', () => sockets.delete(socket));
    }
    client.on('data', (chunk: Buffer) => (sent += chunk.length));
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  );
  return { port: (server.address() as AddressInfo).port, sent: () => sent };
}

/** Finished spans: per resource, per tracer (scope), the given number of spans. */
function makeSpans(layout: Record<string, Record<string, number>>, attribute: string): ReadableSpan[] {
  const finished: ReadableSpan[] = [];
  for (const [service, scopes] of Object.entries(layout)) {
    const memory = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({ resource: resourceFromAttributes({ 'service.name': service }), spanProcessors: [new SimpleSpanProcessor(memory)] });
    for (const [scope, count] of Object.entries(scopes)) {
      const tracer = provider.getTracer(scope);
      for (let i = 0; i < count; i++) tracer.startSpan(`${scope} span ${i}`, { attributes: { 'test.payload': attribute } }).end();
    }
    finished.push(...memory.getFinishedSpans());
  }
  return finished;
}

function unary(client: Client, method: string, request: Buffer): Promise<{ error: ServiceError | null; response?: Buffer }> {
  const bytes = (buffer: Buffer) => buffer;
  return new Promise((resolve) => client.makeUnaryRequest(method, bytes, bytes, request, (error, response) => resolve({ error, response })));
}

function grpcClient(sink: OtlpSink): Client {
  const client = new Client(sink.endpoint, credentials.createInsecure());
  cleanups.push(() => client.close());
  return client;
}

describe('the OTLP/gRPC sink', () => {
  it('counts exactly the spans of a gzip-compressed export from the OpenTelemetry OTLP/gRPC exporter', async () => {
    const sink = await sinkForTest();
    const relay = await byteCountingRelay(sink.port);
    // 2 resources × 2 scopes: 3 + 4 + 5 + 2 = 14 spans, each with 20 kB of one repeated letter.
    const payload = 'x'.repeat(20_000);
    const spans = makeSpans({ 'service-a': { 'scope-1': 3, 'scope-2': 4 }, 'service-b': { 'scope-1': 5, 'scope-3': 2 } }, payload);
    expect(spans).toHaveLength(14);
    type ExporterConfig = NonNullable<ConstructorParameters<typeof OTLPTraceExporter>[0]>;
    const exporter = new OTLPTraceExporter({ url: `http://127.0.0.1:${relay.port}`, compression: 'gzip' as ExporterConfig['compression'] });
    cleanups.push(() => exporter.shutdown());

    const result = await new Promise<{ code: ExportResultCode; error?: Error }>((resolve) => exporter.export(spans, resolve));
    expect(result.error).toBeUndefined();
    expect(result.code).toBe(ExportResultCode.SUCCESS);
    expect(sink.stats).toEqual({ requests: 1, spans: 14, errors: 0 });
    // Uncompressed, the request is over 14 × 20 kB; what crossed the wire is gzip.
    expect(relay.sent()).toBeGreaterThan(0);
    expect(relay.sent()).toBeLessThan((14 * payload.length) / 10);
  });

  it('answers metrics and logs exports OK without counting spans', async () => {
    const sink = await sinkForTest();
    const client = grpcClient(sink);
    for (const method of [METRICS_EXPORT, LOGS_EXPORT]) {
      const { error, response } = await unary(client, method, Buffer.alloc(0));
      expect(error).toBeNull();
      expect(response).toEqual(Buffer.alloc(0)); // an empty Export*ServiceResponse
    }
    expect(sink.stats).toEqual({ requests: 2, spans: 0, errors: 0 });
  });

  it('refuses an unknown method with UNIMPLEMENTED', async () => {
    const sink = await sinkForTest();
    const client = grpcClient(sink);
    const { error } = await unary(client, '/opentelemetry.proto.collector.profiles.v1development.ProfilesService/Export', Buffer.alloc(0));
    expect(error?.code).toBe(status.UNIMPLEMENTED);
    expect(sink.stats).toEqual({ requests: 0, spans: 0, errors: 0 });
  });

  it('refuses a trace export that does not decode with INVALID_ARGUMENT and counts it as an error', async () => {
    const sink = await sinkForTest();
    const client = grpcClient(sink);
    // resource_spans (field 1, length-delimited) announcing 5 bytes, carrying 1.
    const { error } = await unary(client, TRACE_EXPORT, Buffer.from([0x0a, 0x05, 0x00]));
    expect(error?.code).toBe(status.INVALID_ARGUMENT);
    expect(sink.stats).toEqual({ requests: 0, spans: 0, errors: 1 });
    // An empty request is a valid one with no spans.
    expect((await unary(client, TRACE_EXPORT, Buffer.alloc(0))).error).toBeNull();
    expect(sink.stats).toEqual({ requests: 1, spans: 0, errors: 1 });
  });

  it('countSpans walks resource_spans → scope_spans → spans and skips other fields', () => {
    // ExportTraceServiceRequest { resource_spans { resource {} scope_spans { scope {} spans {} spans {} } scope_spans { spans {} } } }
    const scopeSpansA = Buffer.from([0x0a, 0x00, 0x12, 0x00, 0x12, 0x00]);
    const scopeSpansB = Buffer.from([0x12, 0x00]);
    const resourceSpans = Buffer.concat([Buffer.from([0x0a, 0x00, 0x12, scopeSpansA.length]), scopeSpansA, Buffer.from([0x12, scopeSpansB.length]), scopeSpansB, Buffer.from([0x1a, 0x00])]);
    expect(countSpans(Buffer.concat([Buffer.from([0x0a, resourceSpans.length]), resourceSpans]))).toBe(3);
    expect(() => countSpans(Buffer.from([0x0a, 0x05, 0x00]))).toThrow();
  });

  it('close() ends promptly while a client holds a connection and a call open', async () => {
    const sink = await startOtlpSink();
    // An idle gRPC connection, as the collector's exporter keeps between exports…
    const client = new Client(sink.endpoint, credentials.createInsecure());
    expect((await unary(client, METRICS_EXPORT, Buffer.alloc(0))).error).toBeNull();
    // …and a trace export whose request never ends.
    const session = http2Connect(`http://${sink.endpoint}`);
    session.on('error', () => undefined);
    const stream = session.request({ ':method': 'POST', ':path': TRACE_EXPORT, 'content-type': 'application/grpc', te: 'trailers' });
    stream.on('error', () => undefined);
    // A message header announcing 10 bytes, none of which follow.
    await new Promise<void>((resolve, reject) => stream.write(Buffer.from([0, 0, 0, 0, 10]), (error) => (error ? reject(error) : resolve())));
    await delay(200); // for the server to take the call
    try {
      const started = Date.now();
      await sink.close();
      const took = Date.now() - started;
      // The graceful shutdown waits for the call, then the connections are cut.
      expect(took).toBeGreaterThanOrEqual(900);
      expect(took).toBeLessThan(3_000);
      // The stats stay readable after close().
      expect(sink.stats.requests).toBe(1);
      await sink.close(); // idempotent
    } finally {
      client.close();
      session.destroy();
    }
  });
});
