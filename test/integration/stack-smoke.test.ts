/**
 * Proves each component of the local stack is the real thing and wired:
 * PostgreSQL (server and throwaway cluster), Prometheus scraping and PromQL,
 * an alert rule firing through Alertmanager to a webhook, an OTLP metric
 * through our collector into Prometheus under its translated name, and
 * Chromium running a page that opens a WebSocket. And that every process the
 * stack starts can be found by the orphan sweep while it runs, and is gone
 * after stop.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { Stack, freePort, renderAlertmanagerConfig, renderPrometheusConfig, waitFor } from '../../src/stack/index.ts';
import { postgresAdminUrl, type PostgresHandle } from '../../src/stack/postgres.ts';
import { findLeftoverPids, isGone } from '../../src/stack/sweep.ts';
import { listenHttp, readBody, type TestHttpServer } from '../helpers/http.ts';
import { promQuery, waitForSamples } from '../helpers/prometheus.ts';
import { parse, stringify } from 'yaml';

let stack: Stack;
let target: TestHttpServer;
let webhook: TestHttpServer;
const notifications: Array<{ status: string; labels: Record<string, string> }> = [];
let prometheusUrl: string;
let otlpHttpUrl: string;

beforeAll(async () => {
  stack = new Stack('smoke');
  target = await listenHttp((req, res) => {
    res.setHeader('content-type', 'text/plain; version=0.0.4');
    res.end('# TYPE smoke_value gauge\nsmoke_value 42\n');
  });
  webhook = await listenHttp((req, res) => {
    void readBody(req).then((body) => {
      const payload = JSON.parse(body) as { alerts: Array<{ status: string; labels: Record<string, string> }> };
      notifications.push(...payload.alerts);
      res.end('ok');
    });
  });
  const collector = await stack.collector({ env: { TRACES_OTLP_ENDPOINT: '127.0.0.1:9' } });
  otlpHttpUrl = collector.otlpHttpUrl;
  const alertmanager = await stack.alertmanager(
    renderAlertmanagerConfig({ 'http://app:8080': webhook.url }, { groupWait: '1s', groupInterval: '1s' }),
  );
  // A smoke rule beside the shipped ones: it fires as soon as the target is scraped.
  const smokeRules = join(stack.runDir, 'smoke-rules.yml');
  writeFileSync(
    smokeRules,
    stringify({
      groups: [{ name: 'smoke', rules: [{ alert: 'SmokeValueHigh', expr: 'smoke_value > 40', labels: { severity: 'warning', component: 'smoke' } }] }],
    }),
  );
  const config = parse(
    renderPrometheusConfig({
      endpoints: {
        'app:8080': `127.0.0.1:${target.port}`,
        'otel-collector:8889': collector.metricsEndpoint,
        'otel-collector:8888': collector.selfMetricsEndpoint,
        'alertmanager:9093': `127.0.0.1:${alertmanager.port}`,
      },
      scrapeInterval: '1s',
      evaluationInterval: '1s',
    }),
  ) as { rule_files: string[] };
  config.rule_files.push(smokeRules);
  const prometheus = await stack.prometheus({ config: stringify(config) });
  prometheusUrl = prometheus.url;
});

afterAll(async () => {
  await stack?.stop();
  await target?.close();
  await webhook?.close();
});

async function serverAnswers(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
  try {
    await client.connect();
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function databaseExists(adminUrl: string, database: string): Promise<boolean> {
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    const { rowCount } = await admin.query('select 1 from pg_database where datname = $1', [database]);
    return rowCount === 1;
  } finally {
    await admin.end();
  }
}

/** A fresh, empty database answers; after stop its database (server) or its cluster (cluster) is gone. */
async function checkFreshDatabase(handle: PostgresHandle): Promise<void> {
  const client = new pg.Client({ connectionString: handle.url });
  await client.connect();
  try {
    const { rows } = await client.query<{ version: string; db: string; tables: string }>(
      "select version(), current_database() as db, (select count(*) from pg_tables where schemaname = 'public')::text as tables",
    );
    expect(rows[0]?.version).toMatch(/^PostgreSQL \d+/);
    expect(rows[0]?.db).toBe(handle.database);
    expect(rows[0]?.tables).toBe('0');
  } finally {
    await client.end();
  }
  if (handle.mode === 'server') {
    const adminUrl = handle.adminUrl as string;
    expect(await databaseExists(adminUrl, handle.database)).toBe(true);
    await handle.stop();
    expect(await databaseExists(adminUrl, handle.database)).toBe(false);
  } else {
    const pid = handle.pid as number;
    expect(findLeftoverPids(stack.runDir)).toContain(pid);
    await handle.stop();
    expect(isGone(pid)).toBe(true);
  }
}

describe('PostgreSQL', () => {
  it('answers select version() in a fresh database: on the server at the admin URL when one answers, else in a throwaway cluster', async () => {
    const adminUrl = postgresAdminUrl();
    const expected = (await serverAnswers(adminUrl)) ? 'server' : 'cluster';
    const handle = await stack.postgres();
    expect(handle.mode).toBe(expected);
    if (handle.mode === 'server') {
      expect(handle.adminUrl).toBe(adminUrl);
      expect(new URL(handle.url).host).toBe(new URL(adminUrl).host);
    }
    await checkFreshDatabase(handle);
  });

  it('answers select version() in a throwaway initdb cluster on request', async () => {
    const handle = await stack.postgres({ useServer: false });
    expect(handle.mode).toBe('cluster');
    await checkFreshDatabase(handle);
  });

  it('falls back to a throwaway cluster when nothing answers at the admin URL', async () => {
    const handle = await stack.postgres({ adminUrl: `postgres://postgres@127.0.0.1:${await freePort()}/postgres` });
    expect(handle.mode).toBe('cluster');
    expect(handle.adminUrl).toBeUndefined();
    await checkFreshDatabase(handle);
  });
});

describe('Prometheus and Alertmanager', () => {
  it('scrapes a target and answers PromQL', async () => {
    const [sample] = await waitForSamples(prometheusUrl, 'smoke_value{job="socketscope"}');
    expect(sample?.value[1]).toBe('42');
    expect(sample?.metric.instance).toBe(`127.0.0.1:${target.port}`);
  });

  it('fires an alert rule through Alertmanager to a webhook', async () => {
    await waitFor('the SmokeValueHigh notification', async () => notifications.some((a) => a.labels.alertname === 'SmokeValueHigh'), {
      timeoutMs: 45_000,
    });
    const alert = notifications.find((a) => a.labels.alertname === 'SmokeValueHigh');
    expect(alert?.status).toBe('firing');
    expect(alert?.labels).toMatchObject({ severity: 'warning', component: 'smoke', monitor: 'socketscope' });
  });
});

describe('collector', () => {
  it('receives an OTLP metric over HTTP that Prometheus then has under its translated name', async () => {
    const now = BigInt(Date.now()) * 1_000_000n;
    const body = {
      resourceMetrics: [
        {
          resource: { attributes: [{ key: 'service.name', value: { stringValue: 'smoke-service' } }] },
          scopeMetrics: [
            {
              scope: { name: 'smoke' },
              metrics: [
                {
                  name: 'smoke.io',
                  unit: 'By',
                  sum: {
                    aggregationTemporality: 2,
                    isMonotonic: true,
                    dataPoints: [
                      {
                        asInt: '1234',
                        startTimeUnixNano: String(now - 10_000_000_000n),
                        timeUnixNano: String(now),
                        attributes: [{ key: 'network.io.direction', value: { stringValue: 'transmit' } }],
                      },
                    ],
                  },
                },
              ],
            },
          ],
        },
      ],
    };
    const response = await fetch(`${otlpHttpUrl}/v1/metrics`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(response.status).toBe(200);
    const [sample] = await waitForSamples(prometheusUrl, 'smoke_io_bytes_total');
    expect(sample?.value[1]).toBe('1234');
    expect(sample?.metric).toMatchObject({ job: 'smoke-service', network_io_direction: 'transmit' });
    // And the collector's own telemetry is scraped (accepted data points).
    const accepted = await waitForSamples(prometheusUrl, 'otelcol_receiver_accepted_metric_points');
    expect(Number(accepted[0]?.value[1])).toBeGreaterThanOrEqual(1);
    expect(await promQuery(prometheusUrl, 'up{job="otel-collector"} == 1')).toHaveLength(1);
  });
});

describe('Chromium', () => {
  it('opens a local page whose WebSocket round trip reports back', async () => {
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise((resolve) => wss.once('listening', resolve));
    const wsPort = (wss.address() as { port: number }).port;
    const received: string[] = [];
    wss.on('connection', (socket) => socket.on('message', (data) => {
      received.push(data.toString());
      socket.send(`echo:${data.toString()}`);
    }));
    const page = await listenHttp((req, res) => {
      res.setHeader('content-type', 'text/html');
      res.end(`<!doctype html><title>smoke</title><script>
        const ws = new WebSocket('ws://127.0.0.1:${wsPort}');
        ws.onopen = () => ws.send('hello from chromium');
        ws.onmessage = (event) => { document.title = event.data; };
      </script>`);
    });
    try {
      const browser = await stack.chromium();
      const tab = await browser.newPage();
      await tab.goto(page.url);
      // Interval polling: requestAnimationFrame (the default) does not run in this headless mode.
      await tab.waitForFunction(() => document.title.startsWith('echo:'), undefined, { polling: 100 });
      expect(await tab.title()).toBe('echo:hello from chromium');
      expect(received).toEqual(['hello from chromium']);
      expect(await browser.version()).toMatch(/^\d+\./);
    } finally {
      await page.close();
      // ws' close() waits for its HTTP server, which waits for open sockets.
      for (const client of wss.clients) client.terminate();
      await new Promise((resolve) => wss.close(resolve));
    }
  });
});

describe('the stack\'s processes', () => {
  it('each carries the run directory on its command line while it runs, so the sweep finds it, and none is left after stop', async () => {
    // Every kind of process the stack starts, running at once.
    await stack.chromium();
    await stack.postgres({ useServer: false });
    const running = stack.processes();
    expect(new Set(running.map((p) => p.name))).toEqual(new Set(['collector', 'alertmanager', 'prometheus', 'chromium', 'postgres']));
    const pids = running.map((p) => p.pid);
    // Each of them; possibly more: a Chromium child between fork and exec still shows the browser's command line.
    expect(findLeftoverPids(stack.runDir)).toEqual(expect.arrayContaining(pids));

    await stack.stop();
    expect(pids.filter((pid) => !isGone(pid))).toEqual([]);
    expect(stack.processes()).toEqual([]);
    expect(findLeftoverPids(stack.runDir)).toEqual([]);
  });
});
