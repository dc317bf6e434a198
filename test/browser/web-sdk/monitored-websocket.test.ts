/**
 * The web SDK in real Chromium against real servers: a page's
 * MonitoredWebSocket loses its connection (server kill), is refused twice,
 * reconnects, and delivers the messages queued meanwhile; its metrics go
 * through our collector into Prometheus under the documented names; its
 * request span and the server SDK's span for the same message share a trace;
 * its client report reaches the analytics endpoint, on page hide too.
 */
import { propagation } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLIENT_METRICS, prometheusSeries } from '../../../src/catalogue.ts';
import { Stack, waitFor } from '../../../src/stack/index.ts';
import { promQuery } from '../../helpers/prometheus.ts';
import {
  type AppServer,
  type EchoServer,
  type TraceCapture,
  attribute,
  consoleCalls,
  openSdkPage,
  recordConsole,
  startAppServer,
  startEchoServer,
  startPipeline,
  startTraceCapture,
  sumOf,
  waitInPage,
} from './harness.ts';

let stack: Stack;
let app: AppServer;
let echo: EchoServer;
let capture: TraceCapture;
let serverTracing: BasicTracerProvider;
let browser: Browser;
let page: Page;
let prometheusUrl: string;
let otlpHttpUrl: string;
let browserOtlpUrl: string;
const pageErrors: string[] = [];

const total = (query: string) => sumOf(prometheusUrl, query);

async function waitForTotal(query: string, expected: number): Promise<void> {
  await waitFor(`${query} = ${expected}`, async () => (await total(query)) === expected, { timeoutMs: 30_000 });
}

beforeAll(async () => {
  // The server SDK continues traces through the global propagator, as an app would set it.
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  stack = new Stack('web-sdk-browser');
  capture = await startTraceCapture(stack.runDir);
  ({ otlpHttpUrl, browserOtlpUrl, prometheusUrl } = await startPipeline(stack, [capture.configFile]));
  app = await startAppServer();
  serverTracing = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'echo-server' }),
    spanProcessors: [new SimpleSpanProcessor(new OTLPTraceExporter({ url: `${otlpHttpUrl}/v1/traces` }))],
  });
  echo = await startEchoServer(serverTracing);
  browser = await stack.chromium();
  page = await browser.newPage();
  page.on('pageerror', (error) => pageErrors.push(error.message));
  await recordConsole(page);
  await openSdkPage(page, app.url);
});

afterAll(async () => {
  await serverTracing?.shutdown();
  await echo?.close();
  await app?.close();
  await capture?.close();
  await stack?.stop();
});

describe('MonitoredWebSocket in Chromium', () => {
  it('reconnects after a kill and two refusals, and delivers the messages queued meanwhile', async () => {
    await page.evaluate(
      ({ wsUrl, otlp }) => {
        const { sdk, t } = window;
        t.events = [];
        t.scope = sdk.initSocketScope({
          app: { name: 'browser-test', version: '1.0.0' },
          report: { url: '/api/ws/client-metrics', intervalMs: 3_600_000 },
          plugins: [
            sdk.pageSignals(),
            (scope) => (t.otel = sdk.otlpExport({ endpoint: otlp, serviceName: 'browser-test', metricsIntervalMs: 3_600_000 })(scope)),
          ],
        });
        const ws = new sdk.MonitoredWebSocket(wsUrl, undefined, {
          reconnect: { initialDelayMs: 50, maxDelayMs: 200 },
          heartbeat: { intervalMs: 100, timeoutMs: 5000 },
        });
        t.ws = ws;
        const events = t.events as string[];
        ws.onopen = () => events.push('open');
        ws.addEventListener('close', (event) => {
          events.push(`close ${event.code}`);
          // Sent while disconnected: queued until the reconnection.
          if (!t.queuedSent) {
            ws.send('queued-1');
            ws.send('queued-2');
            t.queuedSent = true;
          }
        });
        ws.addEventListener('message', (event) => events.push(`message ${String(event.data)}`));
      },
      { wsUrl: echo.url, otlp: browserOtlpUrl },
    );
    await waitInPage(page, 'the first open', () => (window.t.events as string[]).includes('open'));
    await page.evaluate(() => (window.t.ws as WebSocket).send('hello-1'));
    await waitFor('hello-1 at the server', async () => echo.received.includes('hello-1'));
    // Heartbeats complete before the drop (RTT samples).
    await waitFor('two heartbeats', async () => echo.pings >= 2);

    echo.refuse(2);
    echo.killAll();
    await waitInPage(page, 'the reconnection', () => (window.t.events as string[]).filter((e) => e === 'open').length === 2);
    await waitFor('the queued messages at the server', async () => echo.received.length === 3);

    expect(echo.received).toEqual(['hello-1', 'queued-1', 'queued-2']);
    const events = await page.evaluate(() => (window.t.events as string[]).filter((e) => !e.startsWith('message')));
    expect(events).toEqual(['open', 'close 1006', 'close 1006', 'close 1006', 'open']);
    expect(await page.evaluate(() => (window.t.ws as WebSocket).readyState)).toBe(1);
  });

  it('times a request, and the server SDK continues its trace from the envelope', async () => {
    const response = await page.evaluate(() =>
      (window.t.ws as InstanceType<typeof window.sdk.MonitoredWebSocket>).request({ type: 'echo', payload: 42 }, { name: 'echo' }),
    );
    expect(response).toMatchObject({ type: 'echo', echo: 42 });
    const request = JSON.parse(echo.received.at(-1) ?? '{}') as Record<string, unknown>;
    expect(Object.keys(request).sort()).toEqual(['id', 'payload', 'sentAt', 'traceparent', 'type']);
    expect(request.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    // The send time the server SDK's message latency is measured from (epoch ms, the page's clock).
    expect(typeof request.sentAt).toBe('number');
    expect(Math.abs((request.sentAt as number) - Date.now())).toBeLessThan(60_000);

    await page.evaluate(() => (window.t.scope as { flush(): void }).flush());
    await waitFor('the browser and server spans at the collector', async () =>
      capture.spans.some((s) => s.name === 'request echo') && capture.spans.some((s) => s.name === 'process echo'),
    );
    const browserSpan = capture.spans.find((s) => s.name === 'request echo');
    const serverSpan = capture.spans.find((s) => s.name === 'process echo');
    expect(browserSpan?.service).toBe('browser-test');
    expect(serverSpan?.service).toBe('echo-server');
    expect(serverSpan?.traceId).toBe(browserSpan?.traceId);
    expect(serverSpan?.parentSpanId).toBe(browserSpan?.spanId);
    expect(request.traceparent).toBe(`00-${browserSpan?.traceId}-${browserSpan?.spanId}-01`);
    expect(browserSpan?.kind).toBe(3); // CLIENT

    // One connect span per attempt, numbered from the last open; the refused ones failed.
    await waitFor('four connect spans', async () => capture.spans.filter((s) => s.name === 'websocket connect').length === 4);
    const connects = capture.spans.filter((s) => s.name === 'websocket connect');
    expect(connects.map((s) => [Number(attribute(s, 'websocket.reconnect.attempt')), s.status?.code ?? 0])).toEqual([
      [0, 0],
      [1, 2],
      [2, 2],
      [3, 0],
    ]);
    expect(attribute(connects[0]!, 'server.address')).toBe('127.0.0.1');
  });

  it('exports its metrics through the collector to Prometheus under the documented names', async () => {
    // Everything above was exported by the flush in the previous test.
    const query = (name: string, labels = '') => `${name}{job="browser-test"${labels}}`;
    await waitForTotal(query('websocket_client_connection_attempts_total'), 4);
    expect(await total(query('websocket_client_reconnect_attempts_total'))).toBe(3);
    expect(await total(query('websocket_client_reconnect_successes_total'))).toBe(1);
    expect(await total(query('websocket_client_connection_opened_total'))).toBe(2);
    expect(await total(query('websocket_client_connection_drops_total', ',websocket_close_code_class="abnormal"'))).toBe(1);
    expect(await total(query('websocket_client_connection_closed_total', ',websocket_close_code_class="abnormal"'))).toBe(1);
    expect(await total(query('websocket_client_sent_messages_total'))).toBe(4);
    expect(await total(query('websocket_client_received_messages_total'))).toBe(1);
    expect(await total(query('websocket_client_queued_messages_total'))).toBe(2);
    expect(await total(query('websocket_client_errors_total', ',error_type="connect"'))).toBe(2);
    expect(await total(query('websocket_client_io_bytes_total', ',network_io_direction="transmit"'))).toBeGreaterThan(0);
    expect(await total(query('websocket_client_outage_duration_seconds_count'))).toBe(1);
    expect(await total(query('websocket_client_connection_duration_seconds_count'))).toBe(1);
    expect(await total(query('websocket_client_connect_duration_seconds_count'))).toBe(2);
    expect(await total(query('websocket_client_request_duration_seconds_count', ',websocket_request_outcome="ok"'))).toBe(1);
    expect(await total(query('websocket_client_rtt_seconds_count'))).toBeGreaterThan(0);
    expect(await total(query('websocket_client_rtt_seconds_bucket', ',le="+Inf"'))).toBe(await total(query('websocket_client_rtt_seconds_count')));
    expect(await total(query('browser_web_vital_ttfb_seconds_count'))).toBe(1);
    expect(await total(query('browser_page_load_duration_seconds_count'))).toBe(1);
    // Bounded attributes only: network type, never a session id.
    const [drop] = await promQuery(prometheusUrl, query('websocket_client_connection_drops_total'));
    expect(Object.keys(drop?.metric ?? {}).sort()).toEqual(
      ['__name__', 'instance', 'job', 'network_connection_effective_type', 'network_connection_type', 'otel_scope_name', 'otel_scope_version', 'websocket_close_code_class'].sort(),
    );
  });

  it('sends the client report with the session summary', async () => {
    await waitFor('a client report', async () => app.reports.length === 1);
    const [report] = app.reports;
    const sessionId = await page.evaluate(() => (window.t.scope as { session: { id: string } }).session.id);
    expect(report).toMatchObject({
      schema_version: 1,
      session_id: sessionId,
      page_path: '/',
      app: { name: 'browser-test', version: '1.0.0' },
      connection: { attempts: 4, opens: 2, drops: 1, reconnect_attempts: 3, reconnect_successes: 1, close_codes: { '1006': 1 } },
      messages: { sent: 4, received: 1, queued: 2, dropped: 0, errors: 2 },
      network: { type: 'unknown', effective_type: '4g' },
      ux: { interactions: 0, errors: 0 },
    });
    expect(report?.connection.outage_ms).toBeGreaterThan(0);
    expect(report?.connection.connected_ms).toBeGreaterThan(0);
    expect(report?.latency_ms.count).toBeGreaterThan(0);
    expect(report?.vitals?.ttfb_ms).toBeGreaterThanOrEqual(0);
    expect(report?.vitals?.page_load_ms).toBeGreaterThan(0);
  });

  it("the collector's browser receiver accepts cross-origin OTLP with a traceparent header (CORS preflight); the servers' receiver refuses it", async () => {
    const statuses = await page.evaluate(
      async (urls) =>
        Promise.all(
          urls.map((url) =>
            fetch(`${url}/v1/traces`, {
              method: 'POST',
              headers: { 'content-type': 'application/json', traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' },
              body: '{"resourceSpans":[]}',
            }).then(
              (response) => String(response.status),
              (error: Error) => error.name,
            ),
          ),
        ),
      [browserOtlpUrl, otlpHttpUrl],
    );
    // The servers' receiver sends no CORS headers: the browser blocks the request (a TypeError).
    expect(statuses).toEqual(['200', 'TypeError']);
  });

  it('flushes metrics and the report when the page is hidden, with page signals, one sample per vital', async () => {
    await page.evaluate(() => {
      // A slow click handler: an interaction long enough for INP.
      window.t.busyMs = 100;
      document.body.addEventListener('click', () => {
        const end = performance.now() + (window.t.busyMs as number);
        while (performance.now() < end);
      });
      // A message sent on a socket the app closed is dropped, and counted.
      const closed = new window.sdk.MonitoredWebSocket('ws://127.0.0.1:9/');
      closed.close();
      closed.send('too late');
      (window.t.ws as WebSocket).send('before-hide');
      setTimeout(() => {
        throw new Error('deliberate uncaught error');
      });
    });
    /** Clicks, and waits until web-vitals has seen the click (clicks so far: `clicks`). */
    const click = async (clicks: number) => {
      await page.mouse.click(20, 20);
      // The browser reports the click's Event Timing entry (which INP is computed from) after the next paint.
      await page.evaluate(
        (count) =>
          new Promise<void>((resolve) => {
            let seen = 0;
            new PerformanceObserver((list, observer) => {
              seen += list.getEntries().filter((entry) => entry.name === 'click').length;
              if (seen >= count) {
                observer.disconnect();
                resolve();
              }
            }).observe({ type: 'event', buffered: true, durationThreshold: 16 } as PerformanceObserverInit);
          }),
        clicks,
      );
      // web-vitals processes interactions when the page is idle.
      await page.evaluate(() => new Promise<void>((resolve) => requestIdleCallback(() => resolve())));
    };
    await click(1);
    await waitFor('before-hide at the server', async () => echo.received.includes('before-hide'));
    await waitFor('the uncaught error', async () => pageErrors.length === 1);
    // Nothing else thrown, no unhandled rejection, and not a line on the console from any script
    // (Chromium's own network log lines, e.g. the refused handshakes, are not script output).
    expect(pageErrors).toEqual(['deliberate uncaught error']);
    expect(await consoleCalls(page)).toEqual([]);

    // The user switches to another tab and back: web-vitals reports INP and CLS, the scope flushes.
    await page.evaluate(() => {
      const dispatch = () => document.dispatchEvent(new Event('visibilitychange'));
      Object.defineProperty(document, 'visibilityState', { value: 'hidden', configurable: true });
      dispatch();
      delete (document as { visibilityState?: unknown }).visibilityState;
      dispatch();
    });
    await waitFor('the report of the hide', async () => app.reports.some((r) => r.messages.sent === 1));
    const hidden = app.reports.find((r) => r.messages.sent === 1);
    expect(hidden).toMatchObject({ messages: { sent: 1, dropped: 1 }, ux: { interactions: 1, errors: 1 } });
    // A slower interaction after the tab came back: web-vitals will report INP again, same id, larger.
    await page.evaluate(() => (window.t.busyMs = 300));
    await click(2);

    // Navigating away hides the page and fires pagehide: the report goes by sendBeacon, metrics by keepalive fetch.
    await page.goto('about:blank');
    await waitFor('a report with CLS', async () => app.reports.some((r) => r.vitals?.cls !== undefined));
    // Each vital of the page view is in exactly one report; INP with its latest value.
    const reportsWith = (key: string) => app.reports.filter((r) => r.vitals && key in r.vitals).length;
    expect(Object.fromEntries(['cls', 'fcp_ms', 'inp_ms', 'lcp_ms', 'page_load_ms', 'ttfb_ms'].map((key) => [key, reportsWith(key)]))).toEqual({
      cls: 1,
      fcp_ms: 1,
      inp_ms: 1,
      lcp_ms: 1,
      page_load_ms: 1,
      ttfb_ms: 1,
    });
    expect(app.reports.find((r) => r.vitals?.inp_ms !== undefined)?.vitals?.inp_ms).toBeGreaterThanOrEqual(300);
    await waitForTotal('websocket_client_sent_messages_total{job="browser-test"}', 5);
    await waitForTotal('browser_web_vital_cls_count{job="browser-test"}', 1);
    // The second click is counted only in the page-hide export: its arrival (and scrape) is what the checks below read.
    await waitForTotal('browser_interactions_total{job="browser-test"}', 2);
    // One sample per vital in the histograms too, INP's the latest.
    for (const vital of ['lcp', 'fcp', 'ttfb', 'inp']) expect(await total(`browser_web_vital_${vital}_seconds_count{job="browser-test"}`)).toBe(1);
    expect(await total('browser_web_vital_inp_seconds_sum{job="browser-test"}')).toBeGreaterThanOrEqual(0.3);
    expect(await total('websocket_client_dropped_messages_total{job="browser-test",websocket_drop_reason="closed"}')).toBe(1);
    expect(await total('browser_errors_total{job="browser-test"}')).toBe(1);
  });

  it('has every client metric of the catalogue in Prometheus under its documented name', async () => {
    const expected = CLIENT_METRICS.flatMap((definition) => prometheusSeries(definition)).sort();
    const present = async () =>
      (await promQuery(prometheusUrl, 'count by (__name__) ({job="browser-test"})')).map((sample) => sample.metric.__name__ ?? '').sort();
    let names: string[] = [];
    const complete = async () => {
      names = await present();
      return expected.every((name) => names.includes(name));
    };
    // On a timeout, the assertion below shows which names are missing or unexpected.
    await waitFor('every client metric', complete, { timeoutMs: 15_000 }).catch(() => complete());
    // Recording rules (job:…) and span metrics share the job label; the client's own series are these.
    expect(names.filter((name) => /^(websocket_client|browser)_/.test(name))).toEqual(expected);
  });
});
