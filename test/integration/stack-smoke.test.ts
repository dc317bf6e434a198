/**
 * Proves each component of the local stack is the real thing and wired:
 * PostgreSQL (server and throwaway cluster), Prometheus scraping and PromQL,
 * an alert rule firing through Alertmanager to a webhook, an OTLP metric
 * through our collector into Prometheus under its translated name, and
 * Chromium running a page that opens a WebSocket.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { Stack, renderAlertmanagerConfig, renderPrometheusConfig, waitFor } from '../../src/stack/index.ts';
import { findLeftoverPids } from '../../src/stack/sweep.ts';
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
  const runDir = stack?.runDir;
  await stack?.stop();
  await target?.close();
  await webhook?.close();
  // Nothing this stack started is left running.
  if (runDir) expect(findLeftoverPids(runDir)).toEqual([]);
});

describe('PostgreSQL', () => {
  it.each([
    ['the running server, fresh database', true],
    ['a throwaway initdb cluster', false],
  ])('answers select version() on %s', async (_label, useServer) => {
    const handle = await stack.postgres({ useServer });
    expect(handle.mode).toBe(useServer ? 'server' : 'cluster');
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
    await handle.stop();
    if (useServer) {
      const admin = new pg.Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/postgres' });
      await admin.connect();
      const { rowCount } = await admin.query('select 1 from pg_database where datname = $1', [handle.database]);
      await admin.end();
      expect(rowCount).toBe(0);
    }
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
