/**
 * Prometheus and Alertmanager behind authentication and a tenant header (a
 * Mimir or Cortex query frontend): the URL's user:password@ is sent as Basic
 * authentication (fetch refuses a URL with credentials: every call failed),
 * PROMETHEUS_HEADERS / ALERTMANAGER_HEADERS go with every call and readiness
 * probe, and the credentials show nowhere. The two upstreams are small local
 * servers that answer the APIs only to requests with both.
 */
import type { IncomingMessage } from 'node:http';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PrometheusClient } from '../../../src/analytics/prometheus.ts';
import { type RunningService, startService } from '../../../src/api/service.ts';
import { loadConfig } from '../../../src/config.ts';
import { Stack } from '../../../src/stack/index.ts';
import { type TestHttpServer, listenHttp } from '../../helpers/http.ts';
import { ADMIN_TOKEN, call } from './analytics-fixture.ts';

const basic = (credentials: string) => `Basic ${Buffer.from(credentials, 'utf8').toString('base64')}`;
const PROMETHEUS_AUTH = basic('reader:s3cr@t');
const ALERTMANAGER_AUTH = basic('am:pa ss');

interface Seen {
  path: string;
  authorized: boolean;
}

/** An upstream that answers `routes` only with the given Authorization and X-Scope-OrgID, 401 otherwise; it records every request. */
async function guarded(authorization: string, tenant: string, routes: Record<string, () => unknown>): Promise<{ server: TestHttpServer; seen: Seen[] }> {
  const seen: Seen[] = [];
  const server = await listenHttp((req: IncomingMessage, res) => {
    const path = (req.url ?? '').split('?')[0] ?? '';
    const authorized = req.headers.authorization === authorization && req.headers['x-scope-orgid'] === tenant;
    seen.push({ path, authorized });
    req.resume();
    res.setHeader('content-type', 'application/json');
    if (!authorized) {
      res.statusCode = 401;
      res.end(JSON.stringify({ status: 'error', error: 'authentication required' }));
      return;
    }
    const route = routes[`${req.method} ${path}`];
    res.statusCode = route ? 200 : 404;
    res.end(JSON.stringify(route ? route() : { error: 'no such route' }));
  });
  return { server, seen };
}

const stack = new Stack('upstream-auth');
let prometheus: Awaited<ReturnType<typeof guarded>>;
let alertmanager: Awaited<ReturnType<typeof guarded>>;
let service: RunningService;

beforeAll(async () => {
  const vector = () => ({ status: 'success', data: { resultType: 'vector', result: [{ metric: {}, value: [Date.now() / 1000, '42'] }] } });
  prometheus = await guarded(PROMETHEUS_AUTH, 'tenant-1', { 'GET /-/ready': () => 'ready', 'POST /api/v1/query': vector });
  alertmanager = await guarded(ALERTMANAGER_AUTH, 'tenant-2', { 'GET /-/ready': () => 'ready', 'GET /api/v2/alerts': () => [] });
  const postgres = await stack.postgres();
  const config = loadConfig({
    HOST: '127.0.0.1',
    PORT: '0',
    DATABASE_URL: postgres.url,
    SOCKETSCOPE_ADMIN_TOKEN: ADMIN_TOKEN,
    ANOMALY_INTERVAL_SECONDS: '0',
    ROLLUP_INTERVAL_SECONDS: '0',
    MAINTENANCE_INTERVAL_SECONDS: '0',
    LOG_LEVEL: 'silent',
    PROMETHEUS_URL: `http://reader:s3cr%40t@127.0.0.1:${prometheus.server.port}`,
    PROMETHEUS_HEADERS: 'X-Scope-OrgID=tenant-1',
    ALERTMANAGER_URL: `http://am:pa%20ss@127.0.0.1:${alertmanager.server.port}/`,
    ALERTMANAGER_HEADERS: 'x-scope-orgid=tenant-2',
  });
  service = await startService(config, { logger: pino({ level: 'silent' }) });
});

afterAll(async () => {
  await service?.close();
  await prometheus?.server.close();
  await alertmanager?.server.close();
  await stack.stop();
});

describe('Prometheus and Alertmanager behind authentication and a tenant header', () => {
  it('sends the credentials and headers with every call and readiness probe, and shows the credentials nowhere', async () => {
    const health = await call(service.url, '/api/ws/health', { token: ADMIN_TOKEN });
    expect(health).toMatchObject({ status: 200, body: { status: 'ok', checks: { prometheus: { ok: true, detail: 'HTTP 200' }, alertmanager: { ok: true, detail: 'HTTP 200' } } } });
    const metrics = (await call(service.url, '/api/ws/metrics', { token: ADMIN_TOKEN })).body as { metrics: Array<{ value: number | null }> };
    expect(metrics.metrics.length).toBeGreaterThan(0);
    expect(metrics.metrics.every((m) => m.value === 42)).toBe(true);
    expect(await call(service.url, '/health/websocket')).toMatchObject({ status: 200, body: { activeConnections: 42 } });
    expect(await call(service.url, '/api/ws/alerts', { token: ADMIN_TOKEN })).toMatchObject({ status: 200, body: { active_source: 'alertmanager', active: [], warning: null } });

    expect(new Set(prometheus.seen.map((s) => s.path))).toEqual(new Set(['/-/ready', '/api/v1/query']));
    expect(new Set(alertmanager.seen.map((s) => s.path))).toEqual(new Set(['/-/ready', '/api/v2/alerts']));
    expect([...prometheus.seen, ...alertmanager.seen].filter((s) => !s.authorized)).toEqual([]);

    expect(service.context.prometheus?.baseUrl).toBe(`http://127.0.0.1:${prometheus.server.port}`);
    expect(service.context.alertmanager?.baseUrl).toBe(`http://127.0.0.1:${alertmanager.server.port}`);
    expect(JSON.stringify(health.body)).not.toMatch(/s3cr|pa ss|pa%20ss/);
  });

  it('is refused by the upstream without them, and its errors do not carry the password', async () => {
    const url = `http://127.0.0.1:${prometheus.server.port}`;
    // Without the tenant header, and with a wrong password.
    expect(await new PrometheusClient(`http://reader:s3cr%40t@127.0.0.1:${prometheus.server.port}`, 2000).ready()).toEqual({ ok: false, detail: 'HTTP 401' });
    const wrong = new PrometheusClient(`http://reader:wrong-password@127.0.0.1:${prometheus.server.port}`, 2000, { 'x-scope-orgid': 'tenant-1' });
    await expect(wrong.query('up')).rejects.toThrow(`prometheus: POST ${url}/api/v1/query answered 401: authentication required`);
  });
});
