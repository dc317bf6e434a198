/**
 * The README's run command, as a newcomer runs it: `npm start` brings up the
 * whole pipeline; the admin page shows live connection numbers and Prometheus
 * has the demo's series; Ctrl-C (SIGINT to the process group, as a terminal
 * sends it) stops every process it started and frees every port. Then the same
 * command without Prometheus, Alertmanager or the collector and without
 * DATABASE_URL: the service runs on embedded PGlite, the admin page loads, and
 * the health endpoint names what is missing. And `demo --app-only`, the
 * docker-compose demo service: only the instrumented app and its clients,
 * exporting to the collector named by OTEL_EXPORTER_OTLP_ENDPOINT. A hangup
 * (SIGHUP, the terminal closed) stops everything as Ctrl-C does.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DemoUrls } from '../../src/demo/run-demo.ts';
import { REPO_ROOT, Stack, freePort, waitFor } from '../../src/stack/index.ts';
import { listenHttp, readBody } from '../helpers/http.ts';
import { promQuery } from '../helpers/prometheus.ts';

interface Demo {
  child: ChildProcess;
  urls: DemoUrls;
  output: () => string;
  exited: Promise<number | null>;
}

/** Starts a command in its own process group and resolves once it printed the demo's URLs (--json). */
async function startDemo(command: string, args: string[], env: NodeJS.ProcessEnv, cwd: string): Promise<Demo> {
  const child = spawn(command, args, { cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code, signal) => resolve(code ?? (signal ? 128 : null))));
  const output = () => `--- stdout\n${stdout}\n--- stderr\n${stderr}`;
  let urls: DemoUrls | undefined;
  await waitFor(
    'the demo to print its URLs',
    async () => {
      if (child.exitCode !== null) throw new Error(`the demo exited early:\n${output()}`);
      const line = stdout.split('\n').find((l) => l.startsWith('{"app"'));
      if (line) urls = JSON.parse(line) as DemoUrls;
      return urls !== undefined;
    },
    { timeoutMs: 240_000, intervalMs: 250 },
  );
  return { child, urls: urls as DemoUrls, output, exited };
}

/** Every process descended from `root` (from /proc). */
function descendants(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const list = children.get(ppid) ?? [];
      list.push(Number(entry));
      children.set(ppid, list);
    } catch {
      // exited meanwhile
    }
  }
  const out: number[] = [];
  const queue = [root];
  while (queue.length > 0) {
    const pid = queue.shift() as number;
    for (const child of children.get(pid) ?? []) {
      out.push(child);
      queue.push(child);
    }
  }
  return out;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    // A zombie is dead but not yet reaped: treat it as gone.
    return !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z ');
  } catch {
    return false;
  }
}

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Last resort after a failure: the whole process group, if it is still there. */
function killGroup(demo: Demo): void {
  try {
    process.kill(-(demo.child.pid as number), 'SIGKILL');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

/**
 * Ctrl-C: SIGINT to the whole foreground process group (or `signal` to the demo's process alone, as
 * `kill -HUP <pid>` does); then nothing it started may remain.
 */
async function interruptAndCheck(demo: Demo, processes: number[], signal: { name: NodeJS.Signals; to: 'group' | 'process' } = { name: 'SIGINT', to: 'group' }): Promise<void> {
  process.kill(signal.to === 'group' ? -(demo.child.pid as number) : (demo.child.pid as number), signal.name);
  const code = await Promise.race([demo.exited, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 60_000))]);
  expect(code, demo.output()).not.toBe('timeout');
  expect(demo.output()).toContain('✓ stopped');
  await waitFor('every process of the demo to exit', async () => processes.every((pid) => !alive(pid)), { timeoutMs: 15_000 });
  for (const port of demo.urls.ports) expect(await listening(port), `port ${port} still listening`).toBe(false);
}

async function adminShowsLiveConnections(browser: Browser, urls: DemoUrls): Promise<number> {
  const context = await browser.newContext({ viewport: { width: 1366, height: 768 } });
  await context.addInitScript((token) => sessionStorage.setItem('socketscope.admin-token', token), urls.adminToken);
  const page = await context.newPage();
  await page.goto(urls.admin);
  const selector = '[data-metric=active_connections] .stat-value';
  await page.waitForFunction((s) => /^[1-9]\d*$/.test(document.querySelector(s)?.textContent ?? ''), selector, { polling: 250, timeout: 90_000 });
  const value = Number(await page.textContent(selector));
  await context.close();
  return value;
}

let stack: Stack;
let browser: Browser;
const workDirs: string[] = [];

beforeAll(async () => {
  stack = new Stack('e2e-demo');
  browser = await stack.chromium();
});

afterAll(async () => {
  await stack?.stop();
  for (const dir of workDirs) rmSync(dir, { recursive: true, force: true });
});

describe('npm start (the demo)', () => {
  it('runs the whole pipeline on the real PostgreSQL server, and Ctrl-C stops every process', { timeout: 420_000 }, async () => {
    const database = await stack.postgres();
    const env = { ...process.env, DATABASE_URL: database.url };
    const demo = await startDemo('npm', ['start', '--silent', '--', '--clients', '20', '--no-browser', '--json'], env, REPO_ROOT);
    try {
      expect(demo.urls.missing).toEqual([]);
      expect(demo.urls.database).toBe('server');
      const prometheus = demo.urls.prometheus as string;
      // Prometheus has the demo's series, under the documented names.
      await waitFor(
        'the demo app series in Prometheus',
        async () => (await promQuery(prometheus, 'sum(websocket_server_connection_count{job="socketscope-demo"}) > 0')).length === 1,
        { timeoutMs: 120_000, intervalMs: 1_000 },
      );
      const [opened] = await promQuery(prometheus, 'sum(websocket_server_connection_opened_total{job="socketscope-demo"})');
      expect(Number(opened?.value[1])).toBeGreaterThan(0);
      expect(await adminShowsLiveConnections(browser, demo.urls)).toBeGreaterThan(0);

      // The alerting path watches itself: Prometheus scrapes itself and Alertmanager, and
      // Alertmanager's Watchdog reaches the service's webhook with the demo's token.
      await waitFor('the prometheus and alertmanager jobs up', async () => (await promQuery(prometheus, 'up{job=~"prometheus|alertmanager"} == 1')).length === 2, {
        timeoutMs: 60_000,
        intervalMs: 1_000,
      });
      await waitFor(
        'the Watchdog in /api/ws/health',
        async () => typeof ((await (await fetch(`${demo.urls.api}/health`)).json()) as { service: { watchdog_last_seen_at?: unknown } }).service.watchdog_last_seen_at === 'string',
        { timeoutMs: 60_000, intervalMs: 1_000 },
      );
      const [webhookFailures] = await promQuery(prometheus, 'sum(alertmanager_notifications_failed_total{integration="webhook"})');
      expect(webhookFailures?.value[1]).toBe('0');

      // Traces leave the collector for a live local end (no Tempo natively), not a closed port.
      expect(demo.urls.traces).toMatch(/^otlp-grpc:\/\/127\.0\.0\.1:\d+$/);
      const now = BigInt(Date.now()) * 1_000_000n;
      const span = { traceId: '5b8efff798038103d269b633813fc60c', spanId: 'eee19b7ec3c1b174', name: 'e2e demo span', kind: 1, startTimeUnixNano: String(now), endTimeUnixNano: String(now + 1_000_000n) };
      const posted = await fetch(`${demo.urls.collector}/v1/traces`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ resourceSpans: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: 'e2e-demo-test' } }] }, scopeSpans: [{ spans: [span] }] }] }),
      });
      expect(posted.status).toBe(200);
      await waitFor('the collector to report the span sent', async () => (await promQuery(prometheus, 'sum(otelcol_exporter_sent_spans{exporter="otlp_grpc/tempo"}) >= 1')).length === 1, {
        timeoutMs: 60_000,
        intervalMs: 1_000,
      });
      const processes = descendants(demo.child.pid as number);
      // npm, the shell, node, and the collector, Prometheus and Alertmanager it started.
      expect(processes.length).toBeGreaterThanOrEqual(5);
      await interruptAndCheck(demo, processes);
    } finally {
      killGroup(demo);
    }
  });

  it('stops every process when its terminal hangs up (SIGHUP to the demo alone), and an empty SOCKETSCOPE_ADMIN_TOKEN counts as unset', { timeout: 300_000 }, async () => {
    const database = await stack.postgres();
    const env = { ...process.env, DATABASE_URL: database.url, SOCKETSCOPE_ADMIN_TOKEN: '' };
    const demo = await startDemo(process.execPath, [join(REPO_ROOT, 'bin', 'socketscope.js'), 'demo', '--clients', '5', '--no-browser', '--json'], env, REPO_ROOT);
    try {
      expect(demo.urls.missing).toEqual([]);
      // A generated token (18 random bytes), the one the service accepts.
      expect(demo.urls.adminToken).toMatch(/^[A-Za-z0-9_-]{24}$/);
      expect((await fetch(`${demo.urls.admin.replace(/\/admin\/.*$/, '')}/admin/api/session`, { headers: { authorization: `Bearer ${demo.urls.adminToken}` } })).status).toBe(200);
      const processes = descendants(demo.child.pid as number);
      // The collector, Prometheus and Alertmanager.
      expect(processes.length).toBeGreaterThanOrEqual(3);
      await interruptAndCheck(demo, processes, { name: 'SIGHUP', to: 'process' });
      expect(demo.output()).toContain('SIGHUP: stopping…');
    } finally {
      killGroup(demo);
    }
  });

  it('--app-only (the docker-compose demo service) runs the instrumented app and its clients against a collector, and stops on SIGTERM', { timeout: 180_000 }, async () => {
    const collector = await stack.collector({ env: { TRACES_OTLP_ENDPOINT: `127.0.0.1:${await freePort()}` } });
    const reports: unknown[] = [];
    const analytics = await listenHttp((req, res) => {
      void readBody(req).then((body) => {
        if (req.url === '/api/ws/client-metrics') reports.push(JSON.parse(body));
        res.writeHead(202, { 'content-type': 'application/json' }).end('{}');
      });
    });
    const env: NodeJS.ProcessEnv = { ...process.env, OTEL_EXPORTER_OTLP_ENDPOINT: collector.otlpHttpUrl, OTEL_METRIC_EXPORT_INTERVAL: '1000', OTEL_TRACES_EXPORTER: 'none' };
    delete env.OTEL_SERVICE_NAME;
    const child = spawn(process.execPath, [join(REPO_ROOT, 'bin', 'socketscope.js'), 'demo', '--app-only', '--clients', '5', '--report-url', analytics.url], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      let series: string[] = [];
      await waitFor(
        "the demo app's connections in the collector",
        async () => {
          if (child.exitCode !== null) throw new Error(`the demo exited early:\n${output}`);
          const exposition = await (await fetch(`http://${collector.metricsEndpoint}/metrics`)).text();
          series = exposition.split('\n').filter((l) => l.startsWith('websocket_server_connection_count{') && l.includes('job="socketscope-demo"'));
          return series.some((l) => !/ 0$/.test(l));
        },
        { timeoutMs: 60_000, intervalMs: 500 },
      );
      // One series, with the process's own instance id.
      expect(series).toHaveLength(1);
      expect(series[0]).toMatch(/instance="[0-9a-f-]{36}"/);
      await waitFor('a client report at the analytics URL', async () => reports.length > 0, { timeoutMs: 60_000, intervalMs: 500 });
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(output).toContain('✓ stopped');
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      await analytics.close();
    }
  });

  it('without Prometheus, the collector or DATABASE_URL still starts on PGlite and says what is missing', { timeout: 300_000 }, async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'socketscope-e2e-demo-'));
    workDirs.push(cwd);
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      // Nothing on PATH: no prometheus, no prometheus-alertmanager; and no collector build.
      PATH: join(cwd, 'empty-path'),
      SOCKETSCOPE_OTELCOL: join(cwd, 'no-collector'),
    };
    delete env.DATABASE_URL;
    const demo = await startDemo(process.execPath, [join(REPO_ROOT, 'bin', 'socketscope.js'), 'demo', '--clients', '5', '--no-browser', '--json'], env, cwd);
    try {
      expect(demo.urls.missing.sort()).toEqual(['prometheus', 'prometheus-alertmanager', 'socketscope-otelcol']);
      expect(demo.urls.database).toBe('embedded');
      expect(demo.urls.prometheus).toBeNull();
      // The embedded database lives in ./.data of the directory it was started from.
      expect(readdirSync(join(cwd, '.data')).length).toBeGreaterThan(0);
      expect(demo.output()).toContain('prometheus is not installed');

      const health = (await (await fetch(`${demo.urls.api}/health`)).json()) as {
        status: string;
        checks: Record<string, { configured: boolean; ok: boolean; detail: string }>;
        service: { database: string; needs_prometheus: string[] };
      };
      expect(health.status).toBe('ok');
      expect(health.checks.postgres?.ok).toBe(true);
      expect(health.service.database).toBe('embedded');
      for (const part of ['prometheus', 'alertmanager', 'collector']) expect(health.checks[part]?.configured, part).toBe(false);
      // The demo sets the URLs itself: the remedy is installing the part, not setting a variable.
      const install = 'As root run `npm run setup` (or `apt-get install -y --no-install-recommends';
      expect(health.checks.prometheus?.detail).toBe(
        `Prometheus is not running: prometheus is not installed, so the demo runs without it. ${install} prometheus\`). Live server metrics, historical trends and anomaly detection over server metrics are unavailable.`,
      );
      expect(health.checks.alertmanager?.detail).toMatch(
        /^Alertmanager is not running: prometheus-alertmanager is not installed, so the demo runs without it\. As root run `npm run setup` \(or `apt-get install -y --no-install-recommends prometheus-alertmanager`\)\. Anomalies are not raised as alerts/,
      );
      expect(health.checks.collector?.detail).toMatch(
        /^The OpenTelemetry Collector is not running: socketscope-otelcol is not built, so the demo runs without it\. Build it with `npm run setup` /,
      );
      expect(JSON.stringify(health.checks)).not.toContain('_URL');
      expect(health.service.needs_prometheus).toContain('GET /api/ws/metrics');

      // The admin page loads and signs in; its live panel says Prometheus is needed, and how to get it.
      const context = await browser.newContext({ viewport: { width: 1366, height: 768 } });
      await context.addInitScript((token) => sessionStorage.setItem('socketscope.admin-token', token), demo.urls.adminToken);
      const page = await context.newPage();
      const response = await page.goto(demo.urls.admin);
      expect(response?.status()).toBe(200);
      await page.waitForSelector('.live-status[data-live=error]', { timeout: 60_000 });
      // The status line's text (the next span is the screen-reader announcement of the same).
      expect(await page.textContent('.live-status > span:nth-child(2)')).toBe(
        `No live data: live statistics need Prometheus, which is not running: prometheus is not installed, so the demo runs without it. ${install} prometheus\`).`,
      );
      await context.close();

      await interruptAndCheck(demo, descendants(demo.child.pid as number));
    } finally {
      killGroup(demo);
    }
  });
});
