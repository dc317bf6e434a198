/**
 * The collector is down: the page keeps working (requests answered, nothing
 * thrown, no unhandled rejection, no console output), the export queue stays
 * within its bound and the heap does not grow; when the collector comes back
 * on its address, export resumes and the counts reach it exactly.
 */
import type { Browser, CDPSession, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Stack, freePort, waitFor } from '../../../src/stack/index.ts';
import {
  type AppServer,
  type EchoServer,
  consoleCalls,
  openSdkPage,
  recordConsole,
  startAppServer,
  startEchoServer,
  waitInPage,
} from './harness.ts';

const JOB = 'outage-test';
const MAX_PENDING = 5;
let stack: Stack;
let app: AppServer;
let echo: EchoServer;
let browser: Browser;
let page: Page;
let cdp: CDPSession;
let otlpPort: number;
const pageErrors: string[] = [];

interface Stats {
  pending: number;
  delivered: number;
  dropped: number;
  failures: number;
  inFlight: number;
}

const metricsStats = (): Promise<Stats> => page.evaluate(() => (window.t.otel as { stats: { metrics: Stats } }).stats.metrics);

/** Polls the exporter's delivery statistics; a timeout names the last ones seen. */
async function waitForStats(description: string, done: (stats: Stats) => boolean, timeoutMs = 30_000): Promise<void> {
  let last: Stats | undefined;
  await waitFor(description, async () => done((last = await metricsStats())), { timeoutMs }).catch((error: Error) => {
    throw new Error(`${error.message}; metrics export stats: ${JSON.stringify(last)}`);
  });
}

/** Sends `count` echo requests one after another; resolves with how many were answered. */
const requests = (count: number): Promise<number> =>
  page.evaluate(async (n) => {
    const ws = window.t.ws as InstanceType<typeof window.sdk.MonitoredWebSocket>;
    let answered = 0;
    for (let i = 0; i < n; i++) {
      const response = (await ws.request({ type: 'echo', payload: i }, { name: 'echo' })) as { echo: number };
      if (response.echo === i) answered++;
    }
    return answered;
  }, count);

async function heapAfterGc(): Promise<number> {
  await cdp.send('HeapProfiler.collectGarbage');
  const { metrics } = await cdp.send('Performance.getMetrics');
  return metrics.find((m) => m.name === 'JSHeapUsedSize')?.value ?? Number.NaN;
}

/** websocket_client_sent_messages_total as the collector's Prometheus exporter shows it. */
async function collectorSent(metricsEndpoint: string): Promise<number | undefined> {
  const text = await (await fetch(`http://${metricsEndpoint}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith('websocket_client_sent_messages_total{') && l.includes(`job="${JOB}"`));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

beforeAll(async () => {
  stack = new Stack('web-sdk-outage');
  otlpPort = await freePort();
  app = await startAppServer();
  echo = await startEchoServer();
  browser = await stack.chromium();
  page = await browser.newPage();
  page.on('pageerror', (error) => pageErrors.push(error.message));
  await recordConsole(page);
  await openSdkPage(page, app.url);
  cdp = await page.context().newCDPSession(page);
  await cdp.send('Performance.enable');
});

afterAll(async () => {
  await echo?.close();
  await app?.close();
  await stack?.stop();
});

describe('web SDK with the collector down', () => {
  it('keeps the page working with bounded memory, then resumes export when the collector returns', async () => {
    // Nothing listens on the OTLP port yet: every export fails (connection refused).
    await page.evaluate(
      ({ wsUrl, otlp, job, maxPending }) => {
        const { sdk, t } = window;
        t.rejections = 0;
        addEventListener('unhandledrejection', () => (t.rejections = (t.rejections as number) + 1));
        sdk.initSocketScope({
          plugins: [
            (scope) =>
              (t.otel = sdk.otlpExport({
                endpoint: otlp,
                serviceName: job,
                metricsIntervalMs: 100,
                maxPending,
                retry: { initialDelayMs: 100, maxDelayMs: 300 },
              })(scope)),
          ],
        });
        t.ws = new sdk.MonitoredWebSocket(wsUrl);
      },
      { wsUrl: echo.url, otlp: `http://127.0.0.1:${otlpPort}`, job: JOB, maxPending: MAX_PENDING },
    );
    await waitInPage(page, 'the socket to open', () => (window.t.ws as WebSocket).readyState === 1);

    expect(await requests(100)).toBe(100);
    await waitForStats('failed exports', (stats) => stats.failures >= 5);
    const heapBefore = await heapAfterGc();
    // Much more traffic and many more failed exports.
    expect(await requests(1000)).toBe(1000);
    await waitForStats('dropped exports', (stats) => stats.dropped > 0);
    const heapAfter = await heapAfterGc();
    const down = await metricsStats();
    expect(down.delivered).toBe(0);
    expect(down.pending).toBeLessThanOrEqual(MAX_PENDING);
    // The SDK holds at most MAX_PENDING payloads; what the heap gained is noise, not data kept per request.
    expect(heapAfter - heapBefore).toBeLessThan(1_000_000);

    // The collector comes back on the address the page exports to.
    const collector = await stack.collector({ env: { OTLP_BROWSER_ENDPOINT: `127.0.0.1:${otlpPort}` } });
    // New activity is exported (what the outage dropped is gone; what was still queued goes too).
    expect(await requests(10)).toBe(10);
    await waitForStats('export to resume', (stats) => stats.delivered > 0);
    await waitForStats('the pending exports to drain', (stats) => stats.pending === 0 && stats.inFlight === 0);
    await waitFor('the sent counter at the collector', async () => (await collectorSent(collector.metricsEndpoint)) !== undefined);
    const before = (await collectorSent(collector.metricsEndpoint)) ?? 0;
    expect(await requests(10)).toBe(10);
    await page.evaluate(() => window.sdk.getSocketScope()?.flush());
    await waitFor('the 10 new requests at the collector', async () => (await collectorSent(collector.metricsEndpoint)) === before + 10);

    expect(pageErrors).toEqual([]);
    expect(await page.evaluate(() => window.t.rejections)).toBe(0);
    expect(await consoleCalls(page)).toEqual([]);
  });
});
