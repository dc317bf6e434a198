/**
 * The pipeline end to end on the real local stack: the instrumented demo app
 * (server SDK), its page in Chromium (web SDK) and synthetic clients send
 * through our collector into Prometheus. Then every PromQL expression we ship
 * (each recording and alerting rule, each dashboard panel target) runs
 * against that Prometheus and must parse, and the core panels must return
 * data; an alert driven by real authentication failures goes Prometheus →
 * Alertmanager → webhook (its warning inhibited by the critical); and a trace
 * with a browser span and its server child leaves the collector's traces
 * pipeline and is observed at its receiving end.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { parse, stringify } from 'yaml';
import { renderDashboards } from '../../grafana/build.ts';
import { promqlExpressions } from '../../grafana/src/panels.ts';
import { startDashboardApp, type DashboardApp } from '../../src/demo/dashboard-app.ts';
import { AUTH_FAILURE_REASONS } from '../../src/instrumentation/index.ts';
import { SyntheticClients } from '../../src/demo/synthetic-clients.ts';
import { PROMETHEUS_SELF_TARGET } from '../../src/demo/placeholders.ts';
import { pointSelfScrape } from '../../src/demo/run-demo.ts';
import { COLLECTOR_CONFIG } from '../../src/stack/collector.ts';
import { REPO_ROOT, Stack, freePort, renderAlertmanagerConfig, renderPrometheusConfig, waitFor } from '../../src/stack/index.ts';
import { startTelemetry, type Telemetry } from '../../src/telemetry/index.ts';
import { type TraceCapture, startTraceCapture } from '../browser/web-sdk/harness.ts';
import { type TestHttpServer, listenHttp, readBody } from '../helpers/http.ts';
import { promQuery, rulesWithoutHoldTime } from '../helpers/prometheus.ts';

const SERVICE = 'e2e-dashboard';
const RULES_DIR = join(REPO_ROOT, 'prometheus', 'rules');

interface Notification {
  status: string;
  labels: Record<string, string>;
}

let stack: Stack;
let capture: TraceCapture;
let webhook: TestHttpServer;
const notifications: Notification[] = [];
let prometheusUrl: string;
let telemetry: Telemetry;
let app: DashboardApp;
let clients: SyntheticClients;

/** Dashboard variables as Grafana would substitute them for "All". */
function substituteVariables(expr: string): string {
  return expr.replaceAll('$__rate_interval', '1m').replaceAll('$job', '.*');
}

beforeAll(async () => {
  stack = new Stack('e2e-pipeline');
  capture = await startTraceCapture(stack.runDir);
  webhook = await listenHttp((req, res) => {
    void readBody(req).then((body) => {
      notifications.push(...(JSON.parse(body) as { alerts: Notification[] }).alerts);
      res.end('ok');
    });
  });
  const collector = await stack.collector({ configFiles: [COLLECTOR_CONFIG, capture.configFile] });
  const alertmanager = await stack.alertmanager(renderAlertmanagerConfig({ 'http://app:8080': webhook.url }, { groupWait: '1s', groupInterval: '1s' }));
  const self = `127.0.0.1:${await freePort()}`;
  const config = parse(
    renderPrometheusConfig({
      endpoints: {
        'otel-collector:8889': collector.metricsEndpoint,
        'otel-collector:8888': collector.selfMetricsEndpoint,
        'alertmanager:9093': `127.0.0.1:${alertmanager.port}`,
        // No analytics service in this test: its scrape target is down.
        'app:8080': `127.0.0.1:${await freePort()}`,
        // Prometheus scrapes itself once its port is known (below).
        [PROMETHEUS_SELF_TARGET]: self,
      },
      scrapeInterval: '1s',
      evaluationInterval: '1s',
    }),
  ) as { rule_files: string[] };
  config.rule_files = rulesWithoutHoldTime(stack.runDir, 'e2e');
  const prometheus = await stack.prometheus({ config: stringify(config) });
  await pointSelfScrape(prometheus, self);
  prometheusUrl = prometheus.url;

  telemetry = await startTelemetry({
    serviceName: SERVICE,
    // Global: the server SDK extracts the envelope's traceparent with the registered propagator.
    global: true,
    env: { OTEL_SERVICE_NAME: SERVICE, OTEL_EXPORTER_OTLP_ENDPOINT: collector.otlpHttpUrl, OTEL_METRIC_EXPORT_INTERVAL: '1000', OTEL_TRACES_EXPORTER: 'otlp' },
  });
  app = await startDashboardApp({ meterProvider: telemetry.meterProvider, tracerProvider: telemetry.tracerProvider, otlpUrl: collector.browserOtlpUrl, heartbeatMs: 1_000 });
  clients = new SyntheticClients({ wsUrl: app.wsUrl, clients: 15 });
  clients.start();

  // The web SDK in a real browser: the demo app's own page.
  const browser = await stack.chromium();
  const page = await browser.newPage();
  await page.goto(app.url);
  await page.waitForFunction(() => document.getElementById('status')?.textContent === 'open', undefined, { polling: 100, timeout: 20_000 });

}, 240_000);

/** Real clients with bad tokens (half expired, half forged); resolves when all were refused. */
function badTokenConnections(count: number): Promise<void[]> {
  return Promise.all(
    Array.from({ length: count }, (_, i) => new Promise<void>((resolve) => {
      const socket = new WebSocket(`${app.wsUrl}?token=${i % 2 ? 'expired-token' : 'forged-token'}`);
      socket.on('close', () => resolve());
      socket.on('error', () => resolve());
    })),
  );
}

afterAll(async () => {
  await clients?.stop();
  await app?.close();
  await telemetry?.shutdown();
  await stack?.stop();
  await webhook?.close();
  await capture?.close();
});

describe('the shipped PromQL against real traffic', () => {
  it('runs every recording rule, alerting rule and dashboard expression; the core panels return data', { timeout: 180_000 }, async () => {
    const rules = readdirSync(RULES_DIR).flatMap(
      (file) => (parse(readFileSync(join(RULES_DIR, file), 'utf8')) as { groups: Array<{ rules: Array<{ record?: string; alert?: string; expr: string }> }> }).groups.flatMap((g) => g.rules),
    );
    const panels = Object.values(renderDashboards()).flatMap((json) => promqlExpressions(JSON.parse(json) as Record<string, unknown>));
    expect(rules.length).toBeGreaterThan(40);
    expect(panels.length).toBeGreaterThan(40);

    // The core panels of both dashboards, and the recording rules behind the alerts, return data once traffic flowed.
    const core = [
      'Active connections (busiest instance)',
      'Connections opened / closed per second',
      'End-to-end message latency p50 / p95 / p99',
      'End-to-end message latency p95 by instance',
      'Messages per second',
      'Bytes per second',
      'Ping round trip p50 / p95',
      'Authentication failures by reason',
      'Active subscriptions by channel',
      'Active rooms',
      'Broadcast fan-out time p95',
      'Estimated memory per connection',
      'Event-loop delay p99',
      'Messages sent / received per second',
      'RTT p95 by effective network type',
      'Request / response latency p95 by outcome',
    ];
    const coreRecords = ['instance:websocket_server_connection_count:sum', 'job:websocket_server_connection_count:sum', 'job:websocket_server_auth_failures:ratio5m', 'job:websocket_server_message_latency_seconds:p95_5m', 'instance:websocket_server_message_latency_seconds:p95_5m', 'job:websocket_server_send_attempts:rate5m', 'job:websocket_server_connection_memory_bytes:avg'];
    const empty = async () => {
      const missing: string[] = [];
      for (const title of core) {
        const targets = panels.filter((p) => p.panel === title);
        expect(targets.length, title).toBeGreaterThan(0);
        const results = await Promise.all(targets.map((t) => promQuery(prometheusUrl, substituteVariables(t.expr))));
        if (results.every((r) => r.length === 0)) missing.push(title);
      }
      for (const record of coreRecords) if ((await promQuery(prometheusUrl, `${record}{job="${SERVICE}"}`)).length === 0) missing.push(record);
      return missing;
    };
    let missing: string[] = [];
    await waitFor('every core panel to return data', async () => (missing = await empty()).length === 0, { timeoutMs: 120_000, intervalMs: 2_000 }).catch(() => {
      throw new Error(`core panels without data: ${missing.join(', ')}`);
    });

    // Every expression parses and evaluates (promQuery throws on an error status).
    for (const rule of rules) await promQuery(prometheusUrl, rule.expr);
    for (const { expr } of panels) await promQuery(prometheusUrl, substituteVariables(expr));
    // And Prometheus itself evaluated every rule group on this traffic without a failure (its own metrics, scrape job `prometheus`).
    const [evaluations] = await promQuery(prometheusUrl, 'sum(prometheus_rule_evaluation_failures_total{job="prometheus"})');
    expect(evaluations?.value[1]).toBe('0');

    // Values are the demo's, under the documented names and labels.
    const [connections] = await promQuery(prometheusUrl, `job:websocket_server_connection_count:sum{job="${SERVICE}"}`);
    expect(Number(connections?.value[1])).toBeGreaterThanOrEqual(1);
    // Every failure reason has its series from the start (at 0 until it happens).
    const reasons = await promQuery(prometheusUrl, `websocket_server_auth_failures_total{job="${SERVICE}"}`);
    expect(reasons.map((s) => s.metric.websocket_auth_failure_reason).sort()).toEqual([...AUTH_FAILURE_REASONS].sort());
  });
});

describe('alerting from real traffic', () => {
  it('authentication failures from real clients fire through Alertmanager to the webhook, the warning inhibited', { timeout: 120_000 }, async () => {
    const ours = (n: Notification) => n.labels.alertname === 'WebSocketAuthFailureRatioHigh' && n.labels.job === SERVICE;
    // Far more than 10% of the attempts fail from now on. The failure series already exist
    // at 0 (the server SDK reports every reason from the start), so increase() sees the burst.
    await badTokenConnections(40);
    await waitFor('the critical auth-failure notification', async () => notifications.some((n) => ours(n) && n.labels.severity === 'critical'), {
      timeoutMs: 90_000,
      intervalMs: 500,
    });
    const failures = async (reason: string) =>
      Number((await promQuery(prometheusUrl, `websocket_server_auth_failures_total{job="${SERVICE}",websocket_auth_failure_reason="${reason}"}`))[0]?.value[1]);
    expect(await failures('expired_token')).toBeGreaterThanOrEqual(20);
    expect(await failures('invalid_token')).toBeGreaterThanOrEqual(20);
    const critical = notifications.find((n) => ours(n) && n.labels.severity === 'critical');
    expect(critical?.status).toBe('firing');
    expect(critical?.labels).toMatchObject({ component: 'websocket-server', monitor: 'socketscope' });
    // The Watchdog proves the always-on path too.
    expect(notifications.some((n) => n.labels.alertname === 'Watchdog')).toBe(true);
    // Alertmanager holds the warning back while the critical of the same alert and job fires.
    expect(notifications.filter((n) => ours(n) && n.labels.severity === 'warning')).toEqual([]);
  });
});

describe('traces', () => {
  it('a browser request span and its server child leave the collector on the traces pipeline', { timeout: 60_000 }, async () => {
    await waitFor(
      'a browser span with its server child at the receiving end',
      async () => capture.spans.some((s) => s.service === SERVICE && capture.spans.some((b) => b.service === 'socketscope-demo-web' && b.spanId === s.parentSpanId)),
      { timeoutMs: 45_000, intervalMs: 500 },
    );
    const server = capture.spans.find((s) => s.service === SERVICE && capture.spans.some((b) => b.service === 'socketscope-demo-web' && b.spanId === s.parentSpanId));
    const browserSpan = capture.spans.find((b) => b.spanId === server?.parentSpanId);
    expect(browserSpan?.name).toBe('request quote');
    expect(server?.name).toBe('process request');
    expect(server?.traceId).toBe(browserSpan?.traceId);
  });
});
