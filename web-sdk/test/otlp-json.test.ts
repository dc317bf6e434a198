/**
 * Our OTLP/JSON encoders behind the OTel SDK's exporter interfaces: what the
 * collector receives from sdk-metrics (DELTA sums and histograms with the
 * catalogue's bucket advice) and from sdk-trace-base (spans).
 */
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterEach, describe, expect, it } from 'vitest';
import { CLIENT_METRIC } from '../src/catalogue.ts';
import { createInstruments } from '../src/metrics/instruments.ts';
import { OtlpJsonMetricExporter } from '../src/metrics/otlp-json.ts';
import { createSocketTracer } from '../src/traces/otel-tracer.ts';
import { OtlpJsonSpanExporter } from '../src/traces/otlp-json.ts';
import { otlpTime } from '../src/transport/otlp-json.ts';
import type { Transport } from '../src/transport/transport.ts';

/** Collects what an exporter hands to its transport. */
function capture() {
  const items: any[] = []; // eslint-disable-line @typescript-eslint/no-explicit-any -- OTLP JSON, navigated below
  const transport = { push: (item: object) => items.push(item), flush: () => undefined, stop: () => undefined } as unknown as Transport<object>;
  return { items, transport };
}

const resource = resourceFromAttributes({ 'service.name': 'shop-web', 'telemetry.sdk.language': 'webjs' });
let shutdown: Array<() => Promise<void>> = [];

afterEach(async () => {
  await Promise.all(shutdown.map((stop) => stop()));
  shutdown = [];
});

function meter() {
  const { items, transport } = capture();
  const reader = new PeriodicExportingMetricReader({ exporter: new OtlpJsonMetricExporter(transport), exportIntervalMillis: 3_600_000 });
  const provider = new MeterProvider({ resource, readers: [reader] });
  shutdown.push(() => provider.shutdown());
  return { items, provider, instruments: createInstruments(provider.getMeter('@socketscope/web-sdk', '0.1.0')) };
}

describe('OtlpJsonMetricExporter', () => {
  it('exports counters as monotonic DELTA int sums: each export holds only what happened since the last', async () => {
    const { items, provider, instruments } = meter();
    const drops = instruments.drops as import('@opentelemetry/api').Counter;
    drops.add(2, { 'websocket.close_code.class': 'abnormal' });
    await provider.forceFlush();
    drops.add(1, { 'websocket.close_code.class': 'abnormal' });
    await provider.forceFlush();
    await provider.forceFlush(); // nothing new: nothing exported

    expect(items).toHaveLength(2);
    expect(items[0].resource.attributes).toEqual([
      { key: 'service.name', value: { stringValue: 'shop-web' } },
      { key: 'telemetry.sdk.language', value: { stringValue: 'webjs' } },
    ]);
    expect(items[0].scopeMetrics[0].scope).toEqual({ name: '@socketscope/web-sdk', version: '0.1.0' });
    const [first, second] = items.map((item) => item.scopeMetrics[0].metrics[0]);
    expect(first).toMatchObject({
      name: 'websocket.client.connection.drops',
      unit: '{connection}',
      sum: { aggregationTemporality: 1, isMonotonic: true },
    });
    expect(first.sum.dataPoints).toEqual([
      {
        attributes: [{ key: 'websocket.close_code.class', value: { stringValue: 'abnormal' } }],
        startTimeUnixNano: expect.stringMatching(/^\d{19}$/),
        timeUnixNano: expect.stringMatching(/^\d{19}$/),
        asInt: 2,
      },
    ]);
    expect(second.sum.dataPoints[0].asInt).toBe(1);
    // Consecutive delta windows are contiguous.
    expect(second.sum.dataPoints[0].startTimeUnixNano).toBe(first.sum.dataPoints[0].timeUnixNano);
  });

  it('exports histograms with the catalogue bucket advice, in seconds', async () => {
    const { items, provider, instruments } = meter();
    const rtt = instruments.rtt as import('@opentelemetry/api').Histogram;
    rtt.record(0.004);
    rtt.record(0.04);
    rtt.record(30);
    await provider.forceFlush();
    const metric = items[0].scopeMetrics[0].metrics[0];
    expect(metric).toMatchObject({ name: 'websocket.client.rtt', unit: 's', histogram: { aggregationTemporality: 1 } });
    const point = metric.histogram.dataPoints[0];
    expect(point.explicitBounds).toEqual(CLIENT_METRIC.rtt.buckets);
    expect(point.bucketCounts).toEqual([1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1]);
    expect(point).toMatchObject({ count: 3, sum: 30.044, min: 0.004, max: 30 });
  });
});

describe('OtlpJsonSpanExporter and the socket tracer', () => {
  it('encodes request and connect spans, with the traceparent the envelope carries', async () => {
    const { items, transport } = capture();
    const provider = new BasicTracerProvider({ resource, spanProcessors: [new SimpleSpanProcessor(new OtlpJsonSpanExporter(transport))] });
    shutdown.push(() => provider.shutdown());
    const tracer = createSocketTracer(provider.getTracer('@socketscope/web-sdk', '0.1.0'));
    givePageLocation();

    const request = tracer.request('subscribe');
    request.end();
    const connect = tracer.connect('wss://ws.example.com/live?token=secret', 2);
    connect.end('connection failed (close code 1006)');
    await provider.forceFlush();

    const spans = items.flatMap((item) => item.scopeSpans[0].spans);
    const [req, conn] = spans;
    expect(request.carrier).toEqual({ traceparent: `00-${req.traceId}-${req.spanId}-01` });
    expect(req).toMatchObject({ name: 'request subscribe', kind: SpanKind.CLIENT + 1, status: { code: SpanStatusCode.UNSET } });
    expect(req.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(conn).toMatchObject({
      name: 'websocket connect',
      status: { code: SpanStatusCode.ERROR, message: 'connection failed (close code 1006)' },
      attributes: [
        { key: 'server.address', value: { stringValue: 'ws.example.com' } },
        { key: 'server.port', value: { intValue: 443 } },
        { key: 'url.scheme', value: { stringValue: 'wss' } },
        { key: 'websocket.reconnect.attempt', value: { intValue: 2 } },
      ],
    });
    // The URL's path and query (which may hold tokens) are not recorded.
    expect(JSON.stringify(conn)).not.toContain('secret');
    expect(BigInt(conn.endTimeUnixNano)).toBeGreaterThanOrEqual(BigInt(conn.startTimeUnixNano));
  });
});

describe('otlpTime', () => {
  it('writes HrTime as nanoseconds without losing precision', () => {
    expect(otlpTime([1_764_000_000, 5])).toBe('1764000000000000005');
    expect(otlpTime([1_764_000_000, 123_456_789])).toBe('1764000000123456789');
    expect(otlpTime([0, 42])).toBe('42');
  });
});

/** The tracer resolves relative URLs against the page; give Node a page location. */
function givePageLocation(): void {
  (globalThis as { location?: { href: string } }).location ??= { href: 'https://app.example.com/' };
}
