/**
 * `socketscope demo` where the optional parts are missing or the port is
 * taken, in this process (src/demo/run-demo.ts): without Chromium (nor the
 * collector, Prometheus, Alertmanager) it says so in one line each and runs
 * the service, the app and the synthetic clients, even with --browser on; a
 * --port in use is refused, naming --port, before anything starts; and the
 * CLI refuses a --port outside 1-65535 as a usage error (exit 2). With
 * Chromium but no collector, the browser line does not claim an OTLP export.
 * Chromium cannot be hidden by PATH (the stack also looks in
 * /usr/lib/chromium), so the demo's `installed` hook stands in for "not
 * installed".
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { DemoPortError, checkServicePort, missingComponents, runDemo } from '../../../src/demo/run-demo.ts';
import { run } from '../../helpers/exec.ts';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const socketscope = (...args: string[]) => run(process.execPath, ['bin/socketscope.js', ...args], { cwd: root, timeoutMs: 60_000 });
const dirs: string[] = [];
const APT = 'As root run `npm run setup` (or `apt-get install -y --no-install-recommends';

afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

async function listenOn127(): Promise<{ server: Server; port: number }> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as { port: number }).port };
}

/**
 * Runs the demo on the embedded database (DATABASE_URL unset for the run) with `options`, hands it
 * and its progress lines to `check`, and stops it.
 */
async function withEmbeddedDemo(
  options: Omit<Parameters<typeof runDemo>[0], 'dataDir' | 'logLevel' | 'progress'>,
  check: (demo: Awaited<ReturnType<typeof runDemo>>, lines: string[]) => Promise<void>,
): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'socketscope-demo-test-'));
  dirs.push(dataDir);
  const databaseUrl = process.env.DATABASE_URL;
  delete process.env.DATABASE_URL;
  const lines: string[] = [];
  try {
    const demo = await runDemo({ ...options, dataDir, logLevel: 'silent', progress: (line) => lines.push(line) });
    try {
      await check(demo, lines);
    } finally {
      await demo.stop();
    }
  } finally {
    if (databaseUrl !== undefined) process.env.DATABASE_URL = databaseUrl;
  }
}

describe('socketscope demo without its optional parts', () => {
  it('names Chromium as missing only when the browser client is asked for', () => {
    const none = () => false;
    expect(missingComponents(true, none).map((c) => c.name)).toEqual(['collector', 'prometheus', 'alertmanager', 'chromium']);
    expect(missingComponents(false, none).map((c) => c.name)).toEqual(['collector', 'prometheus', 'alertmanager']);
    expect(missingComponents(true, (name) => name !== 'chromium').map((c) => c.name)).toEqual(['chromium']);
    expect(missingComponents(true, () => true)).toEqual([]);
  });

  it('runs without Chromium, the collector, Prometheus and Alertmanager, saying so, with --browser on', { timeout: 120_000 }, () =>
    withEmbeddedDemo({ clients: 2, browser: true, installed: () => false }, async (demo, lines) => {
      expect(lines.filter((line) => line.startsWith('!'))).toEqual([
        '! socketscope-otelcol is not installed (SDK metrics over OTLP); the demo runs without it. Build it with `npm run setup` (scripts/build-collector.sh needs Go and the Go module proxy).',
        `! prometheus is not installed (server metrics, dashboards data, alert rules); the demo runs without it. ${APT} prometheus\`).`,
        `! prometheus-alertmanager is not installed (alert routing and acknowledgement silences); the demo runs without it. ${APT} prometheus-alertmanager\`).`,
        `! chromium is not installed (one real browser running the web SDK); the demo runs without it. ${APT} chromium\`).`,
      ]);
      expect(lines.some((line) => line.includes('Chromium'))).toBe(false);
      expect(lines).toContain('✓ 2 synthetic clients connecting');
      expect(demo.urls.missing).toEqual(['socketscope-otelcol', 'prometheus', 'prometheus-alertmanager', 'chromium']);
      expect([demo.urls.database, demo.urls.prometheus, demo.urls.collector]).toEqual(['embedded', null, null]);
      const health = await fetch(`${demo.urls.api}/health`);
      expect(health.status).toBe(200);
      expect((await fetch(demo.urls.app)).status).toBe(200);
    }));
});

describe('socketscope demo with Chromium but without the collector', () => {
  it('says the web SDK only reports to the service: there is no collector for its OTLP export', { timeout: 120_000 }, () =>
    withEmbeddedDemo({ clients: 0, browser: true, installed: (name) => name === 'chromium' }, async (demo, lines) => {
      expect(demo.urls.collector).toBeNull();
      expect(lines.filter((line) => line.includes('Chromium'))).toEqual([
        '… opening the demo page in headless Chromium (web SDK)',
        '✓ Chromium client connected (web SDK reporting to the service only: no collector to export to)',
      ]);
    }));
});

describe('socketscope demo --port', () => {
  it('refuses a port in use before anything starts, naming --port', async () => {
    const { server, port } = await listenOn127();
    const lines: string[] = [];
    try {
      const error = await runDemo({ clients: 0, browser: false, dataDir: join(tmpdir(), 'never-created'), port, logLevel: 'silent', progress: (line) => lines.push(line), installed: () => true }).then(
        () => null,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(DemoPortError);
      expect((error as Error).message).toBe(`--port ${port} is already in use on 127.0.0.1 (another demo or service?): choose another port with --port, or leave --port out for a free one`);
      // Nothing started, nothing said: not even the missing components.
      expect(lines).toEqual([]);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
    // Free again: the check binds and lets go.
    await expect(checkServicePort(port)).resolves.toBeUndefined();
    await expect(checkServicePort(port)).resolves.toBeUndefined();
  });

  it('the CLI: a port outside 1-65535 or an unknown log level is a usage error (exit 2), a port in use exits 1 naming --port and starts nothing', { timeout: 120_000 }, async () => {
    for (const value of ['0', '99999', '65536', '80x', '']) {
      const result = await socketscope('demo', '--no-browser', '--port', value);
      expect(result.code, value).toBe(2);
      expect(result.stderr, value).toContain(`--port must be a port number from 1 to 65535 (leave it out for a free port), got "${value}"`);
    }
    const report = await socketscope('demo', '--report-url', 'http://127.0.0.1:1');
    expect([report.code, report.stderr.split('\n')[0]]).toEqual([2, 'error: --report-url goes with --app-only']);
    // A log level pino does not have is refused before anything starts, naming the flag.
    const level = await socketscope('demo', '--no-browser', '--log-level', 'verbose');
    expect([level.code, level.stderr.split('\n')[0]]).toEqual([
      2,
      "error: option '--log-level <level>' argument 'verbose' is invalid. Allowed choices are fatal, error, warn, info, debug, trace, silent.",
    ]);

    const { server, port } = await listenOn127();
    try {
      const taken = await socketscope('demo', '--no-browser', '--clients', '0', '--port', String(port));
      expect(taken.code).toBe(1);
      expect(taken.stderr).toBe(`socketscope: --port ${port} is already in use on 127.0.0.1 (another demo or service?): choose another port with --port, or leave --port out for a free one\n`);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
