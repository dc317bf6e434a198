/**
 * The service's own spans: one SERVER span per request, named by its route
 * pattern and continuing the caller's W3C trace context; a root span per
 * scheduled task run, marked as an error when the task fails.
 */
import { context, propagation, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { InMemorySpanExporter, type ReadableSpan, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Scheduler } from '../../../src/analytics/scheduler.ts';
import { type RunningService, startService } from '../../../src/api/service.ts';
import { loadConfig } from '../../../src/config.ts';
import { Stack } from '../../../src/stack/index.ts';
import { type Telemetry, startTelemetry } from '../../../src/telemetry/index.ts';
import { ADMIN_TOKEN, call } from './analytics-fixture.ts';

const spans = new InMemorySpanExporter();
const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT_ID = '00f067aa0ba902b7';
let stack: Stack;
let telemetry: Telemetry;
let service: RunningService;

beforeAll(async () => {
  stack = new Stack('service-tracing');
  const postgres = await stack.postgres();
  // As `socketscope serve` does with an OTLP endpoint, but into memory.
  telemetry = await startTelemetry({
    serviceName: 'socketscope-analytics',
    env: { OTEL_TRACES_EXPORTER: 'none', OTEL_METRICS_EXPORTER: 'none' },
    spanProcessors: [new SimpleSpanProcessor(spans)],
  });
  const config = loadConfig({ PORT: '0', DATABASE_URL: postgres.url, SOCKETSCOPE_ADMIN_TOKEN: ADMIN_TOKEN, ANOMALY_INTERVAL_SECONDS: '0', ROLLUP_INTERVAL_SECONDS: '0', LOG_LEVEL: 'silent' });
  service = await startService(config, { logger: pino({ level: 'silent' }), tracer: telemetry.tracerProvider.getTracer('socketscope-analytics') });
});

afterAll(async () => {
  await service?.close();
  await telemetry?.shutdown();
  trace.disable();
  propagation.disable();
  context.disable();
  await stack?.stop();
});

/** The finished spans since the last call (of one kind). */
function take(kind?: SpanKind): ReadableSpan[] {
  const finished = spans.getFinishedSpans();
  spans.reset();
  return kind === undefined ? finished : finished.filter((s) => s.kind === kind);
}

describe('the analytics service traces itself', () => {
  it('makes one SERVER span per request, named by its route, child of the traceparent it was sent', async () => {
    take();
    const response = await call(service.url, '/api/ws/client-metrics/summary?from=2026-01-01T00:00:00Z&to=2026-01-02T00:00:00Z', {
      token: ADMIN_TOKEN,
      headers: { traceparent: `00-${TRACE_ID}-${PARENT_ID}-01` },
    });
    expect(response.status).toBe(200);
    // The scheduled tasks' first runs may end meanwhile: only SERVER spans here.
    const [span, ...others] = take(SpanKind.SERVER);
    expect(others).toEqual([]);
    expect(span).toMatchObject({ name: 'GET /api/ws/client-metrics/summary', kind: SpanKind.SERVER, status: { code: SpanStatusCode.UNSET } });
    expect(span!.spanContext().traceId).toBe(TRACE_ID);
    expect(span!.parentSpanContext?.spanId).toBe(PARENT_ID);
    expect(span!.attributes).toEqual({
      'http.request.method': 'GET',
      'url.path': '/api/ws/client-metrics/summary',
      'url.scheme': 'http',
      'http.route': '/api/ws/client-metrics/summary',
      'http.response.status_code': 200,
    });
    expect(span!.resource.attributes['service.name']).toBe('socketscope-analytics');
  });

  it('keeps 4xx spans unset (the client erred) and names an unmatched path by its method alone', async () => {
    take();
    expect((await call(service.url, '/api/ws/alerts')).status).toBe(401);
    expect((await call(service.url, '/api/ws/nothing-here')).status).toBe(404);
    const [unauthorized, unmatched] = take(SpanKind.SERVER);
    expect(unauthorized).toMatchObject({ name: 'GET /api/ws/alerts', status: { code: SpanStatusCode.UNSET } });
    expect(unauthorized!.attributes['http.response.status_code']).toBe(401);
    // A new trace when no traceparent came.
    expect(unauthorized!.parentSpanContext).toBeUndefined();
    expect(unmatched).toMatchObject({ name: 'GET', status: { code: SpanStatusCode.UNSET } });
    expect(unmatched!.attributes).toEqual({ 'http.request.method': 'GET', 'url.path': '/api/ws/nothing-here', 'url.scheme': 'http', 'http.response.status_code': 404 });
  });

  it('makes a root span per scheduled task run', async () => {
    take();
    await service.scheduler.runNow('partition-maintenance');
    const [run] = take().filter((s) => s.name.startsWith('scheduled '));
    expect(run).toMatchObject({ name: 'scheduled partition-maintenance', kind: SpanKind.INTERNAL, status: { code: SpanStatusCode.UNSET } });
    expect(run!.parentSpanContext).toBeUndefined();
    expect(run!.attributes).toEqual({ 'socketscope.task': 'partition-maintenance' });
  });

  it('marks a failed task run as an error with the exception', async () => {
    take();
    const scheduler = new Scheduler({ info: () => {}, error: () => {} }, { tracer: telemetry.tracerProvider.getTracer('test') });
    scheduler.every('broken', 0, () => Promise.reject(new Error('database went away')));
    await scheduler.stop();
    const [run] = take();
    expect(run).toMatchObject({ name: 'scheduled broken', status: { code: SpanStatusCode.ERROR, message: 'database went away' } });
    expect(run!.events.map((e) => [e.name, e.attributes?.['exception.message']])).toEqual([['exception', 'database went away']]);
    expect(scheduler.status()[0]).toMatchObject({ name: 'broken', runs: 1, last_error: 'database went away' });
  });
});
