/**
 * `socketscope serve` with nothing configured: no DATABASE_URL, so it runs
 * its migrations on an embedded PostgreSQL (PGlite) under ./.data of its
 * working directory, answers the API, and exits cleanly on SIGTERM (an
 * unclosed PGlite would keep Node alive); with an OTLP endpoint in the
 * standard variable it exports its request spans there, flushed on exit.
 * `socketscope migrate` applies and reverts the schema on a real server.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, Stack } from '../../../src/stack/index.ts';
import { run } from '../../helpers/exec.ts';
import { listenHttp, readBody, type TestHttpServer } from '../../helpers/http.ts';
import { call, clientReport } from './analytics-fixture.ts';

const TOKEN = 'embedded-admin-token-0123';
const dir = mkdtempSync(join(tmpdir(), 'socketscope-serve-'));
const bin = join(REPO_ROOT, 'bin', 'socketscope.js');
let child: ChildProcess | undefined;
let otlp: TestHttpServer | undefined;
/** What the service POSTed to the OTLP endpoint: path and body. */
const exported: Array<{ path: string; body: string }> = [];

afterAll(async () => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
  await otlp?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Environment without any analytics setting inherited from the caller. */
function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const key of ['DATABASE_URL', 'PROMETHEUS_URL', 'ALERTMANAGER_URL', 'SOCKETSCOPE_ADMIN_TOKEN', 'PORT', 'SOCKETSCOPE_DATA_DIR']) delete env[key];
  return { ...env, ...extra };
}

describe('socketscope serve on the embedded database', () => {
  it('starts with no DATABASE_URL, answers /api/ws/health and client reports, exports its spans, and stops on SIGTERM', async () => {
    otlp = await listenHttp((req, res) => {
      void readBody(req).then((body) => {
        exported.push({ path: req.url ?? '', body });
        res.setHeader('content-type', 'application/json');
        res.end('{}');
      });
    });
    child = spawn(process.execPath, [bin, 'serve', '--port', '0'], {
      cwd: dir,
      env: cleanEnv({ SOCKETSCOPE_ADMIN_TOKEN: TOKEN, ANOMALY_INTERVAL_SECONDS: '0', LOG_LEVEL: 'info', OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const lines: string[] = [];
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const url = await new Promise<string>((resolve, reject) => {
      let buffer = '';
      child!.stdout?.on('data', (chunk: Buffer) => {
        buffer += chunk.toString();
        const parts = buffer.split('\n');
        buffer = parts.pop() ?? '';
        for (const line of parts) {
          lines.push(line);
          const entry = JSON.parse(line) as { msg: string; url?: string };
          if (entry.msg === 'socketscope analytics listening' && entry.url) resolve(entry.url);
        }
      });
      child!.once('exit', (code) => reject(new Error(`serve exited with ${code}:\n${lines.join('\n')}\n${stderr}`)));
    });

    const health = await call(url, '/api/ws/health');
    expect(health.status).toBe(200);
    expect(health.body).toMatchObject({
      status: 'ok',
      checks: { postgres: { ok: true }, prometheus: { configured: false } },
      service: { database: 'embedded' },
    });
    expect((health.body as { service: { needs_prometheus: string[] } }).service.needs_prometheus).toContain('GET /api/ws/metrics');
    expect(existsSync(join(dir, '.data', 'pglite'))).toBe(true);

    const posted = await call(url, '/api/ws/client-metrics', {
      method: 'POST',
      body: { reports: [clientReport({ session: 'embedded-a', latency: { count: 4, avg: 10, p50: 9, p95: 20, max: 25 } }), clientReport({ session: 'embedded-b' })] },
    });
    expect(posted).toMatchObject({ status: 202, body: { accepted: 2 } });
    const summary = await call(url, '/api/ws/client-metrics/summary', { token: TOKEN });
    expect(summary).toMatchObject({ status: 200, body: { reports: 2, clients: 2, latency_ms: { samples: 4, avg: 10, p50: 9, p95: 20 } } });
    expect(await call(url, '/api/ws/metrics', { token: TOKEN })).toMatchObject({ status: 503, body: { error: { code: 'prometheus_not_configured' } } });

    const exited = new Promise<number | null>((resolve) => child!.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(lines.some((line) => line.includes('"msg":"stopped"'))).toBe(true);
    // Spans only (metrics stay on /metrics), flushed before exit: one SERVER span per request, named by route.
    expect([...new Set(exported.map((e) => e.path))]).toEqual(['/v1/traces']);
    const spans = exported.map((e) => e.body).join('\n');
    for (const name of ['GET /api/ws/health', 'POST /api/ws/client-metrics', 'GET /api/ws/client-metrics/summary', 'GET /api/ws/metrics']) expect(spans).toContain(name);
    expect(spans).toContain('socketscope-analytics');
  }, 120_000); // creating a PGlite data directory takes 3–20 s depending on load
});

describe('socketscope serve above the info log level', () => {
  const stack = new Stack('serve-quiet');
  afterAll(() => stack.stop());

  it('still says where it listens (on stderr), with --log-level warn and port 0', async () => {
    const { url: databaseUrl } = await stack.postgres();
    const quiet = spawn(process.execPath, [bin, 'serve', '--port', '0', '--log-level', 'warn', '--database-url', databaseUrl], {
      cwd: dir,
      env: cleanEnv({ SOCKETSCOPE_ADMIN_TOKEN: TOKEN, ANOMALY_INTERVAL_SECONDS: '0' }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    quiet.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => quiet.once('exit', (code) => resolve(code)));
    const line = await new Promise<string>((resolve, reject) => {
      let stderr = '';
      quiet.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
        const match = /^socketscope analytics listening on (http:\/\/127\.0\.0\.1:\d+)\n/m.exec(stderr);
        if (match) resolve(match[1]!);
      });
      void exited.then((code) => reject(new Error(`serve exited with ${code}: ${stderr}`)));
    });
    expect((await call(line, '/api/ws/client-metrics/summary', { token: TOKEN })).status).toBe(200);
    quiet.kill('SIGTERM');
    expect(await exited).toBe(0);
    // Nothing below warn reached the log (its one line: PROMETHEUS_URL is not set).
    const levels = stdout.trim().split('\n').map((entry) => (JSON.parse(entry) as { level: number }).level);
    expect(levels).toEqual([40]);
  }, 60_000);
});

describe('socketscope migrate', () => {
  const stack = new Stack('migrate-cli');
  afterAll(() => stack.stop());

  it('applies pending migrations, is idempotent, and reverts with --down', async () => {
    const { url } = await stack.postgres();
    const migrate = async (...args: string[]) => {
      const result = await run(process.execPath, [bin, 'migrate', '--json', '--database-url', url, ...args], { cwd: dir, env: cleanEnv({}) });
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      return JSON.parse(result.stdout) as { database: string; direction: string; migrations: string[] };
    };
    const all = [
      '1764000000000_client-reports',
      '1764000000001_anomalies',
      '1764000000002_alerts',
      '1764000000003_client-report-rollups',
      '1764000000004_client-report-daily-rollups',
      '1764000000005_client-report-success-clusters',
      '1764000000006_anomaly-stream-progress',
      '1764000000007_alert-resolution',
      '1764000000008_anomaly-alert-lifetime',
      '1764000000009_client-report-session-rollups',
    ];
    expect(await migrate()).toEqual({ database: 'server', direction: 'up', migrations: all });
    expect(await migrate()).toEqual({ database: 'server', direction: 'up', migrations: [] });
    expect(await migrate('--down', '--count', '2')).toEqual({ database: 'server', direction: 'down', migrations: [all[9], all[8]] });
    expect(await migrate()).toEqual({ database: 'server', direction: 'up', migrations: all.slice(8) });
  });
});
