/**
 * In-memory OpenTelemetry SDK for the server SDK's tests: a MetricReader we
 * collect from on demand and an InMemorySpanExporter, plus real `ws`
 * servers and clients on 127.0.0.1.
 */
import { context, propagation, type Attributes } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { AggregationTemporality, type DataPoint, DataPointType, type Histogram, MeterProvider, MetricReader, type MetricData } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { type Socket, createConnection } from 'node:net';
import type { ClientOptions } from 'ws';
import { WebSocket, WebSocketServer, type ServerOptions } from 'ws';
import { instrumentWebSocketServer, type InstrumentWebSocketServerOptions, type WebSocketServerInstrumentation } from '../../../src/instrumentation/index.ts';
import { waitFor } from '../../../src/stack/ports.ts';

class TestReader extends MetricReader {
  constructor() {
    super({ aggregationTemporalitySelector: () => AggregationTemporality.CUMULATIVE });
  }
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

// Trace continuation goes through the global propagator, as in an app.
propagation.setGlobalPropagator(new W3CTraceContextPropagator());
void context;

export class Telemetry {
  readonly reader = new TestReader();
  readonly meterProvider = new MeterProvider({ readers: [this.reader] });
  readonly spans = new InMemorySpanExporter();
  readonly tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(this.spans)] });

  async metrics(): Promise<Map<string, MetricData>> {
    const { resourceMetrics, errors } = await this.reader.collect();
    if (errors.length > 0) throw new Error(`collection errors: ${errors.join(', ')}`);
    const byName = new Map<string, MetricData>();
    for (const scope of resourceMetrics.scopeMetrics) for (const metric of scope.metrics) byName.set(metric.descriptor.name, metric);
    return byName;
  }

  /** Data points of one metric as [attributes, value] (histograms: the Histogram value). */
  async points(name: string): Promise<Array<{ attributes: Attributes; value: number | Histogram }>> {
    const metric = (await this.metrics()).get(name);
    if (!metric) return [];
    return (metric.dataPoints as DataPoint<number | Histogram>[]).map((p) => ({ attributes: p.attributes, value: p.value }));
  }

  /** The value of the point whose attributes equal `attributes` exactly (undefined when absent). */
  async value(name: string, attributes: Attributes = {}): Promise<number | undefined> {
    const point = (await this.points(name)).find((p) => sameAttributes(p.attributes, attributes));
    return point === undefined ? undefined : (point.value as number);
  }

  async histogram(name: string, attributes: Attributes = {}): Promise<Histogram | undefined> {
    const point = (await this.points(name)).find((p) => sameAttributes(p.attributes, attributes));
    return point?.value as Histogram | undefined;
  }

  /**
   * Every series of a metric as `attrs=value` strings, sorted (compact exact
   * assertions). Counters leave out their zero series (failure counters start
   * every reason at 0; a test of those reads points()).
   */
  async series(name: string): Promise<string[]> {
    const metric = (await this.metrics()).get(name);
    const counter = metric?.dataPointType === DataPointType.SUM && metric.isMonotonic;
    return (await this.points(name))
      .filter((p) => !(counter && p.value === 0))
      .map((p) => {
        const attrs = Object.entries(p.attributes)
          .sort(([a], [b]) => (a < b ? -1 : 1))
          .map(([k, v]) => `${k}=${String(v)}`)
          .join(',');
        const value = typeof p.value === 'number' ? p.value : (p.value as Histogram).count;
        return `{${attrs}} ${value}`;
      })
      .sort();
  }

  async shutdown(): Promise<void> {
    await this.meterProvider.shutdown();
    await this.tracerProvider.shutdown();
  }
}

export function sameAttributes(a: Attributes, b: Attributes): boolean {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => a[k] === b[k]);
}

export interface TestServer {
  wss: WebSocketServer;
  url: string;
  handle: WebSocketServerInstrumentation;
  telemetry: Telemetry;
  close(): Promise<void>;
}

/**
 * A standalone ws server on 127.0.0.1 with the instrumentation and an
 * in-memory SDK (its own, or `shared`, which close() then leaves running).
 */
export async function startServer(
  options: InstrumentWebSocketServerOptions = {},
  serverOptions: ServerOptions = {},
  shared?: Telemetry,
): Promise<TestServer> {
  const telemetry = shared ?? new Telemetry();
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, ...serverOptions });
  await new Promise((resolve) => wss.once('listening', resolve));
  const handle = instrumentWebSocketServer(wss, {
    meterProvider: telemetry.meterProvider,
    tracerProvider: telemetry.tracerProvider,
    eventLoopDelay: false,
    ...options,
  });
  const { port } = wss.address() as { port: number };
  return {
    wss,
    url: `ws://127.0.0.1:${port}`,
    handle,
    telemetry,
    async close() {
      for (const client of wss.clients) client.terminate();
      await new Promise((resolve) => wss.close(resolve));
      handle.shutdown();
      if (!shared) await telemetry.shutdown();
    },
  };
}

/** Opens a client and resolves once it is open (rejects on an HTTP refusal with its status). */
export function connect(url: string, options: ClientOptions = {}): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const client = new WebSocket(url, options);
    client.once('open', () => resolve(client));
    client.once('unexpected-response', (_req, res) => {
      reject(Object.assign(new Error(`HTTP ${res.statusCode}`), { status: res.statusCode }));
      client.terminate();
    });
    client.once('error', reject);
  });
}

/** Resolves with the close code and reason the client saw. */
export function closed(client: WebSocket): Promise<{ code: number; reason: string }> {
  return new Promise((resolve) => client.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
}

export function nextMessage(client: WebSocket): Promise<string> {
  return new Promise((resolve) => client.once('message', (data) => resolve(data.toString())));
}

/** Polls a metric until it reaches the expected value (sockets close asynchronously). */
export async function untilValue(telemetry: Telemetry, name: string, attributes: Attributes, expected: number): Promise<void> {
  await waitFor(`${name} ${JSON.stringify(attributes)} = ${expected}`, async () => (await telemetry.value(name, attributes)) === expected, {
    timeoutMs: 15_000,
    intervalMs: 5,
  });
}

/**
 * A raw TCP client that completes a WebSocket handshake, then sends the
 * header of a masked 1 000-byte binary frame and only `payloadBytes` of its
 * payload: the server's ws receiver holds exactly those bytes in its buffer.
 */
export function connectWithPartialFrame(url: string, payloadBytes: number): Promise<Socket> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host: hostname, port: Number(port) }, () =>
      socket.write(
        'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
          'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
      ),
    );
    socket.once('data', (chunk) => {
      if (!chunk.toString('latin1').startsWith('HTTP/1.1 101')) {
        reject(new Error(`no upgrade: ${chunk.toString('latin1')}`));
        return;
      }
      // FIN + binary, masked with a 16-bit length of 1000, mask key 0, then part of the payload.
      socket.write(Buffer.concat([Buffer.from([0x82, 0x80 | 126, 0x03, 0xe8, 0, 0, 0, 0]), Buffer.alloc(payloadBytes, 7)]));
      resolve(socket);
    });
    socket.on('error', reject);
  });
}
