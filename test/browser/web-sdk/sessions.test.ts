/**
 * 50 browser sessions, each its own SDK instance with its own session id and
 * meter provider, five after one another in each of ten Chromium pages that
 * run at the same time. Each exports DELTA metrics every 50 ms while it
 * sends: their windows overlap and they all write the same streams. Through
 * our collector, Prometheus must hold counters equal to the sum of what the
 * sessions sent, in a number of series that does not grow with the sessions.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Stack, waitFor } from '../../../src/stack/index.ts';
import { promQuery } from '../../helpers/prometheus.ts';
import { type AppServer, type EchoServer, openSdkPage, startAppServer, startEchoServer, startPipeline, sumOf } from './harness.ts';

const JOB = 'sessions-test';
let stack: Stack;
let app: AppServer;
let echo: EchoServer;
let browser: Browser;
let prometheusUrl: string;
let browserOtlpUrl: string;

/** Messages session `i` sends: 1 to 5, so the sums are not a multiple of the session count. */
const messagesOf = (i: number) => (i % 5) + 1;

const total = (query: string) => sumOf(prometheusUrl, query);

const SESSIONS_PER_PAGE = 10;
const AT_ONCE = 5;

/**
 * Runs sessions [first, first + 10) in a fresh context, five at a time: each
 * its own SDK instance that connects, sends, closes, flushes and waits until
 * its metrics are delivered.
 */
async function runPage(first: number): Promise<void> {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    await openSdkPage(page, app.url);
    for (let wave = first; wave < first + SESSIONS_PER_PAGE; wave += AT_ONCE) {
      const counts = Array.from({ length: AT_ONCE }, (_, k) => messagesOf(wave + k));
      const results = await page.evaluate(
        ({ wsUrl, otlp, job, counts: perSession }) => {
          const { sdk } = window;
          return Promise.all(
            perSession.map(async (count) => {
              let otel: { stats: { metrics: { pending: number; inFlight: number; failures: number; delivered: number } } } | undefined;
              const scope = new sdk.SocketScope({
                // A fresh session (id and sampling decision) rather than the tab's stored one.
                storage: { getItem: () => null, setItem: () => undefined } as unknown as Storage,
                plugins: [(s) => (otel = sdk.otlpExport({ endpoint: otlp, serviceName: job, metricsIntervalMs: 50, traces: false })(s))],
              });
              const ws = new sdk.MonitoredWebSocket(wsUrl, undefined, { scope });
              await new Promise((resolve) => ws.addEventListener('open', resolve, { once: true }));
              for (let n = 0; n < count; n++) {
                ws.send(`message ${n}`);
                // Spread over several export intervals, so the deltas of concurrent sessions interleave.
                await new Promise((resolve) => setTimeout(resolve, 25));
              }
              const closed = new Promise((resolve) => ws.addEventListener('close', resolve, { once: true }));
              ws.close(1000);
              await closed;
              await scope.shutdown();
              const metrics = otel!.stats.metrics;
              while (metrics.pending > 0 || metrics.inFlight > 0) await new Promise((resolve) => setTimeout(resolve, 20));
              return { ...metrics, session: scope.session.id };
            }),
          );
        },
        { wsUrl: echo.url, otlp: browserOtlpUrl, job: JOB, counts },
      );
      for (const stats of results) {
        expect(stats).toMatchObject({ pending: 0, inFlight: 0, failures: 0 });
        expect(stats.delivered).toBeGreaterThan(0);
      }
      expect(new Set(results.map((r) => r.session)).size).toBe(AT_ONCE);
    }
  } finally {
    await context.close();
  }
}

/** Sessions [from, to) in pages running side by side. */
async function runSessions(from: number, to: number): Promise<void> {
  const pages: Promise<void>[] = [];
  for (let first = from; first < to; first += SESSIONS_PER_PAGE) pages.push(runPage(first));
  await Promise.all(pages);
}

/** Client series in Prometheus for the job, as sorted `name{labels}` strings. */
async function clientSeries(): Promise<string[]> {
  const samples = await promQuery(prometheusUrl, `{__name__=~"websocket_client_.+", job="${JOB}"}`);
  return samples
    .map(({ metric }) => {
      const { __name__: name, ...labels } = metric;
      return `${name}{${Object.entries(labels).sort().map(([k, v]) => `${k}=${v}`).join(',')}}`;
    })
    .sort();
}

async function waitForSent(expected: number): Promise<void> {
  await waitFor(`sum of sent messages = ${expected}`, async () => (await total(`websocket_client_sent_messages_total{job="${JOB}"}`)) === expected, {
    timeoutMs: 30_000,
  });
}

beforeAll(async () => {
  stack = new Stack('web-sdk-sessions');
  ({ browserOtlpUrl, prometheusUrl } = await startPipeline(stack));
  app = await startAppServer();
  echo = await startEchoServer();
  browser = await stack.chromium();
});

afterAll(async () => {
  await echo?.close();
  await app?.close();
  await stack?.stop();
});

describe('50 browser sessions through the collector', () => {
  // Generous for a loaded 2-core machine (Chromium pages compete for the CPU with other test runs).
  it('sum exactly in Prometheus, in series that do not grow with the sessions', { timeout: 180_000 }, async () => {
    const sentBy = (n: number) => Array.from({ length: n }, (_, i) => messagesOf(i)).reduce((a, b) => a + b, 0);

    await runSessions(0, 10);
    await waitForSent(sentBy(10));
    const seriesAfter10 = await clientSeries();

    await runSessions(10, 50);
    await waitForSent(sentBy(50));
    // The close of a session is counted by its final export, which can reach Prometheus a scrape
    // after its sent messages: wait until the connection counters stop changing, then check them exactly.
    const connectionTotals = async () =>
      Promise.all(['attempts', 'opened', 'closed'].map((name) => total(`websocket_client_connection_${name}_total{job="${JOB}"}`)));
    await waitFor('every session close to reach Prometheus', async () => (await connectionTotals()).every((n) => n >= 50), { timeoutMs: 30_000 });
    expect(await total(`websocket_client_connection_attempts_total{job="${JOB}"}`)).toBe(50);
    expect(await total(`websocket_client_connection_opened_total{job="${JOB}"}`)).toBe(50);
    expect(await total(`websocket_client_connection_closed_total{job="${JOB}",websocket_close_code_class="normal"}`)).toBe(50);
    expect(await total(`websocket_client_connection_duration_seconds_count{job="${JOB}"}`)).toBe(50);
    expect(await total(`websocket_client_connection_drops_total{job="${JOB}"}`)).toBe(0);
    expect(echo.received).toHaveLength(sentBy(50));

    const seriesAfter50 = await clientSeries();
    expect(seriesAfter50).toEqual(seriesAfter10);
    // One series per counter here: no label tells one session (or browser) from another.
    expect(seriesAfter50.filter((s) => s.startsWith('websocket_client_sent_messages_total'))).toHaveLength(1);
    const samples = await promQuery(prometheusUrl, `{__name__=~"websocket_client_.+", job="${JOB}"}`);
    const labelKeys = new Set(samples.flatMap((sample) => Object.keys(sample.metric)));
    expect([...labelKeys].sort()).toEqual(
      ['__name__', 'instance', 'job', 'le', 'network_connection_effective_type', 'network_connection_type', 'network_io_direction', 'otel_scope_name', 'otel_scope_version', 'websocket_close_code_class'],
    );
    // `instance` is the scraped collector, the same for every session.
    expect(new Set(samples.map((sample) => sample.metric.instance)).size).toBe(1);
    // The collector's fold dropped nothing: every browser data point was accepted.
    const folded = await promQuery(prometheusUrl, '{__name__=~"otelcol_deltatocumulative_datapoints(_total)?"}');
    expect(folded.filter((sample) => sample.metric.error !== undefined).map((sample) => sample.metric.error)).toEqual([]);
    expect(folded.reduce((sum, sample) => sum + Number(sample.value[1]), 0)).toBeGreaterThan(0);
  });
});
