/**
 * src/telemetry end to end: the bootstrap exports the server SDK's metrics
 * and spans over OTLP to the real collector and serves its own /metrics; the
 * same metric has the same Prometheus name on both paths.
 */
import { metrics, trace } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { instrumentWebSocketServer } from '../../../src/instrumentation/index.ts';
import { type CollectorHandle, Stack, waitFor } from '../../../src/stack/index.ts';
import { type Telemetry, startTelemetry } from '../../../src/telemetry/index.ts';
import { closed, connect } from './harness.ts';

let stack: Stack;
let collector: CollectorHandle;
let telemetry: Telemetry;
const spans = new InMemorySpanExporter();

beforeAll(async () => {
  stack = new Stack('telemetry-bootstrap');
  collector = await stack.collector({ env: { TRACES_OTLP_ENDPOINT: '127.0.0.1:9' } });
  // The OTLP exporters read the standard variables from the process environment.
  process.env.OTEL_EXPORTER_OTLP_ENDPOINT = collector.otlpHttpUrl;
  process.env.OTEL_RESOURCE_ATTRIBUTES = 'deployment.environment.name=test';
  telemetry = await startTelemetry({
    serviceName: 'bootstrap-test',
    env: { OTEL_METRIC_EXPORT_INTERVAL: '200', OTEL_METRICS_EXPORTER: 'otlp,prometheus', OTEL_EXPORTER_PROMETHEUS_PORT: '0' } as NodeJS.ProcessEnv,
    spanProcessors: [new SimpleSpanProcessor(spans)],
  });
});

afterAll(async () => {
  await telemetry?.shutdown();
  metrics.disable();
  trace.disable();
  await stack?.stop();
});

/** Whether the collector's servers' OTLP receiver has accepted any spans or metric points over `transport`. */
async function accepted(what: 'spans' | 'metric_points', transport: 'http' | 'grpc'): Promise<boolean> {
  const self = await (await fetch(`http://${collector.selfMetricsEndpoint}/metrics`)).text();
  return new RegExp(`otelcol_receiver_accepted_${what}(_total)?\\{[^}]*receiver="otlp"[^}]*transport="${transport}"[^}]*\\} [1-9]`).test(self);
}

function names(exposition: string, prefix: string): string[] {
  const found = new Set<string>();
  for (const line of exposition.split('\n')) if (line.startsWith(prefix)) found.add(line.split(/[{ ]/, 1)[0]!);
  return [...found].sort();
}

describe('telemetry bootstrap', () => {
  it('exports the same websocket_server_* names via the collector and via its own /metrics', async () => {
    expect(telemetry.prometheus?.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise((resolve) => wss.once('listening', resolve));
    // Global providers: the instrumentation finds them without options.
    const handle = instrumentWebSocketServer(wss, { eventLoopDelay: false });
    wss.on('connection', (socket) => socket.on('message', (data) => socket.send(data.toString())));
    const client = await connect(`ws://127.0.0.1:${(wss.address() as { port: number }).port}/`);
    const echo = new Promise((resolve) => client.once('message', resolve));
    client.send('hello');
    await echo;
    const gone = closed(client);
    client.close(1000);
    await gone;

    let app = '';
    await waitFor('the app /metrics to show the closed connection', async () => {
      app = await (await fetch(telemetry.prometheus!.url)).text();
      return app.includes('websocket_server_connection_duration_seconds_bucket');
    });
    let viaCollector = '';
    await waitFor('the collector to show the closed connection', async () => {
      viaCollector = await (await fetch(`http://${collector.metricsEndpoint}/metrics`)).text();
      return viaCollector.includes('websocket_server_connection_duration_seconds_bucket');
    });
    const appNames = names(app, 'websocket_server_');
    expect(appNames).toContain('websocket_server_io_bytes_total');
    expect(appNames).toContain('websocket_server_connection_opened_total');
    expect(appNames).toContain('websocket_server_connection_count');
    expect(names(viaCollector, 'websocket_server_')).toEqual(appNames);
    expect(app).toMatch(/websocket_server_connection_closed_total\{[^}]*websocket_close_code_class="normal"[^}]*\} 1/);
    expect(viaCollector).toMatch(/websocket_server_connection_closed_total\{[^}]*job="bootstrap-test"[^}]*\} 1/);

    // The handshake span carries the resource, and spans reached the collector over OTLP.
    const [span] = spans.getFinishedSpans();
    expect(span?.name).toBe('websocket.handshake');
    expect(span?.resource.attributes).toMatchObject({ 'service.name': 'bootstrap-test', 'deployment.environment.name': 'test' });
    await telemetry.tracerProvider.forceFlush();
    // Over OTLP/HTTP with protobuf, the default (the collector's transport label says http for JSON as for protobuf).
    await waitFor('the collector to accept the span', async () => accepted('spans', 'http'));
    expect(await accepted('metric_points', 'http')).toBe(true);
    handle.shutdown();
    await new Promise((resolve) => wss.close(resolve));
  });

  it('exports to the collector over gRPC with OTEL_EXPORTER_OTLP_PROTOCOL=grpc', async () => {
    const grpc = await startTelemetry({
      serviceName: 'bootstrap-grpc-test',
      global: false,
      env: { OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc', OTEL_EXPORTER_OTLP_ENDPOINT: `http://${collector.otlpGrpcEndpoint}`, OTEL_METRICS_EXPORTER: 'otlp' } as NodeJS.ProcessEnv,
    });
    try {
      grpc.meterProvider.getMeter('bootstrap').createCounter('bootstrap.grpc.exports').add(1);
      grpc.tracerProvider.getTracer('bootstrap').startSpan('over grpc').end();
      await grpc.meterProvider.forceFlush();
      await grpc.tracerProvider.forceFlush();
      await waitFor('the collector to accept spans and metric points over gRPC', async () => (await accepted('spans', 'grpc')) && (await accepted('metric_points', 'grpc')));
    } finally {
      await grpc.shutdown();
    }
  });

});
