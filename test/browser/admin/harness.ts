/**
 * Everything the admin page tests run against, real and on 127.0.0.1: a
 * PostgreSQL database with seeded client reports and anomalies, Prometheus
 * with backfilled server metrics plus a live scrape target whose connections
 * gauge the test sets, Alertmanager with one firing alert, a `ws` echo
 * server, and the analytics service serving the admin pages.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { createServer } from 'node:http';
import type { Browser, Page } from 'playwright-core';
import { WebSocketServer } from 'ws';
import { insertAnomalies } from '../../../src/analytics/storage/anomalies.ts';
import { insertClientReports } from '../../../src/analytics/storage/client-reports.ts';
import { createAdminRouter, type AdminRouter } from '../../../src/admin/router.ts';
import { type RunningService, startService } from '../../../src/api/service.ts';
import { loadConfig } from '../../../src/config.ts';
import { Stack, requireBinary, waitFor } from '../../../src/stack/index.ts';
import { run } from '../../helpers/exec.ts';
import { type TestHttpServer, listenHttp } from '../../helpers/http.ts';
import { promQuery } from '../../helpers/prometheus.ts';
import { HOUR, seedAnomalies, seedReports } from './client-reports-seed.ts';
import { CONNECTIONS, SCRAPE_INTERVAL_S, type SeedTimeline, backfillText, exposition } from './server-metrics-seed.ts';

export const ADMIN_TOKEN = 'admin-pages-test-token-0123456789';
export const GRAFANA_URL = 'http://grafana.example.test:3000';
export const ACTIVE_ALERT = { alertname: 'WebSocketHighErrorRate', severity: 'warning', service: 'chat' };
export const RESOLVED_ALERT = { alertname: 'WebSocketConnectionsDropped', severity: 'critical', service: 'chat' };

export interface AdminEnv {
  url: string;
  /** The seeds' "now" (ms). */
  now: number;
  stack: Stack;
  service: RunningService;
  prometheusUrl: string;
  alertmanagerUrl: string;
  echoUrl: string;
  browser: Browser;
  /** The live target's open-connections gauge. */
  setConnections(n: number): void;
  close(): Promise<void>;
}

async function startEchoServer(): Promise<{ url: string; close(): Promise<void> }> {
  const http = createServer((_req, res) => res.writeHead(426).end());
  const wss = new WebSocketServer({ server: http });
  wss.on('connection', (ws) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })));
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const { port } = http.address() as AddressInfo;
  return {
    url: `ws://127.0.0.1:${port}/echo`,
    async close() {
      for (const client of wss.clients) client.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}

export async function startAdminEnv(): Promise<AdminEnv> {
  const stack = new Stack('admin-pages');
  const cleanups: Array<() => Promise<void>> = [];
  try {
    const now = Date.now();
    let connections = 42;
    // The timeline names the target's port, so it is set once the target listens.
    const seed: { timeline?: SeedTimeline } = {};
    const target: TestHttpServer = await listenHttp((_req, res) => {
      res.setHeader('content-type', 'text/plain; version=0.0.4');
      res.end(seed.timeline ? exposition(seed.timeline, Date.now(), connections) : '');
    });
    cleanups.push(() => target.close());
    const timeline: SeedTimeline = { start: now - 8 * HOUR, shiftAt: now - 3 * HOUR, labels: `job="websocket-app",instance="127.0.0.1:${target.port}"` };
    seed.timeline = timeline;

    // History up to now in TSDB blocks; the live scrape continues the same series.
    const dataDir = join(stack.runDir, 'prometheus-data');
    mkdirSync(dataDir, { recursive: true });
    const input = join(stack.runDir, 'backfill.om');
    writeFileSync(input, backfillText(timeline, now));
    const created = await run(requireBinary('promtool'), ['tsdb', 'create-blocks-from', 'openmetrics', input, dataDir], { timeoutMs: 60_000 });
    if (created.code !== 0) throw new Error(`promtool backfill failed:\n${created.stderr}`);
    const prometheus = await stack.prometheus({
      config: [
        'global:',
        `  scrape_interval: ${SCRAPE_INTERVAL_S}s`,
        `  evaluation_interval: ${SCRAPE_INTERVAL_S}s`,
        'scrape_configs:',
        '  - job_name: websocket-app',
        '    static_configs:',
        `      - targets: ['127.0.0.1:${target.port}']`,
        '',
      ].join('\n'),
    });
    await waitFor('the live target to be scraped', async () => (await promQuery(prometheus.url, `${CONNECTIONS}{job="websocket-app"}`)).length > 0, { timeoutMs: 30_000, intervalMs: 250 });

    const alertmanager = await stack.alertmanager(['route:', '  receiver: nobody', '  group_wait: 1s', 'receivers:', '  - name: nobody', ''].join('\n'));
    const postAlert = await fetch(`${alertmanager.url}/api/v2/alerts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([{ labels: ACTIVE_ALERT, annotations: { summary: 'Message error rate above 2% for 5 minutes' }, startsAt: new Date(now - 20 * 60_000).toISOString() }]),
    });
    if (!postAlert.ok) throw new Error(`posting the alert failed: ${postAlert.status}`);

    const postgres = await stack.postgres();
    const echo = await startEchoServer();
    cleanups.push(() => echo.close());

    const config = loadConfig({
      PORT: '0',
      HOST: '127.0.0.1',
      DATABASE_URL: postgres.url,
      PROMETHEUS_URL: prometheus.url,
      ALERTMANAGER_URL: alertmanager.url,
      SOCKETSCOPE_ADMIN_TOKEN: ADMIN_TOKEN,
      GEO_MIN_CLIENTS: '2',
      ANOMALY_INTERVAL_SECONDS: '0',
      MAINTENANCE_INTERVAL_SECONDS: '0',
      LOG_LEVEL: 'silent',
    });
    // The router reads the service's context on each request; it exists once startService returns.
    const started: { service?: RunningService } = {};
    const admin: AdminRouter = createAdminRouter(() => (started.service as RunningService).context, { grafanaUrl: GRAFANA_URL, liveIntervalMs: 1000 });
    const service = await startService(config, { admin });
    started.service = service;
    const running = service;
    cleanups.push(async () => {
      admin.close();
      await running.close();
    });

    await insertClientReports(service.context.database, seedReports(now));
    await insertAnomalies(service.context.database.pool, seedAnomalies(now));
    const webhook = await fetch(`${service.url}/api/ws/alerts/webhook`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        version: '4',
        status: 'resolved',
        receiver: 'socketscope',
        alerts: [
          {
            status: 'resolved',
            labels: RESOLVED_ALERT,
            annotations: { summary: 'Drops above 5% of connections' },
            startsAt: new Date(now - 2 * HOUR).toISOString(),
            endsAt: new Date(now - HOUR).toISOString(),
            fingerprint: 'a1b2c3d4e5f60718',
          },
        ],
      }),
    });
    if (!webhook.ok) throw new Error(`webhook failed: ${webhook.status} ${await webhook.text()}`);

    const browser = await stack.chromium();
    return {
      url: service.url,
      now,
      stack,
      service,
      prometheusUrl: prometheus.url,
      alertmanagerUrl: alertmanager.url,
      echoUrl: echo.url,
      browser,
      setConnections(n) {
        connections = n;
      },
      async close() {
        for (const cleanup of cleanups.reverse()) await cleanup();
        await stack.stop();
      },
    };
  } catch (error) {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
    await stack.stop().catch(() => undefined);
    throw error;
  }
}

/** Console errors and uncaught exceptions of a page, collected from the start. */
export function collectErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(`console.error: ${message.text()}`);
  });
  page.on('pageerror', (error) => errors.push(`pageerror: ${error.message}`));
  return errors;
}

/** Opens a page at 1366×768 with the token already in sessionStorage (as after sign-in). */
export async function openSignedIn(env: AdminEnv, path: string): Promise<{ page: Page; errors: string[] }> {
  const context = await env.browser.newContext({ viewport: { width: 1366, height: 768 }, timezoneId: 'UTC', locale: 'en-GB' });
  await context.addInitScript((token) => sessionStorage.setItem('socketscope.admin-token', token), ADMIN_TOKEN);
  const page = await context.newPage();
  const errors = collectErrors(page);
  await page.goto(`${env.url}${path}`);
  return { page, errors };
}

/** Polls the text of the first element matching `selector` until it equals `expected`. */
export async function waitForText(page: Page, selector: string, expected: string, timeoutMs = 20_000): Promise<void> {
  let last: string | null = null;
  try {
    await waitFor(
      `${selector} to read "${expected}"`,
      async () => {
        last = await page.evaluate((s) => document.querySelector(s)?.textContent?.trim() ?? null, selector);
        return last === expected;
      },
      { timeoutMs, intervalMs: 100 },
    );
  } catch (error) {
    throw new Error(`${(error as Error).message} (last: ${JSON.stringify(last)})`);
  }
}

/** Waits for a panel to leave its loading state; returns the state it reached. */
export async function waitForPanel(page: Page, selector: string): Promise<string> {
  await page.waitForFunction((s) => {
    const state = document.querySelector<HTMLElement>(s)?.dataset.state;
    return state !== undefined && state !== 'loading';
  }, selector, { polling: 100, timeout: 20_000 });
  return page.evaluate((s) => document.querySelector<HTMLElement>(s)?.dataset.state ?? '', selector);
}

export function texts(page: Page, selector: string): Promise<string[]> {
  return page.evaluate((s) => [...document.querySelectorAll(s)].map((el) => el.textContent?.trim() ?? ''), selector);
}
