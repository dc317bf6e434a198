/* eslint-disable @typescript-eslint/no-explicit-any -- JSON bodies are inspected loosely; their shape is checked against the route schemas. */
/**
 * Every endpoint of the analytics API against real PostgreSQL, Prometheus and
 * Alertmanager: exact numbers from seeded data, the error contract (400, 401,
 * 404, 413, 429), atomic batches, retention by partition drop, anomalies
 * posted to Alertmanager, and acknowledgements that create real silences.
 */
import net from 'node:net';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AlertmanagerClient } from '../../../src/analytics/alertmanager.ts';
import { runAnomalyDetection } from '../../../src/analytics/anomaly-job.ts';
import { uxCorrelation } from '../../../src/analytics/correlation.ts';
import { pearson, wilsonInterval } from '../../../src/analytics/statistics.ts';
import { insertClientReports } from '../../../src/analytics/storage/client-reports.ts';
import { dropExpiredPartitions, ensurePartitions, listPartitions, partitionName, startOfUtcDay } from '../../../src/analytics/storage/partitions.ts';
import { maintainPartitions } from '../../../src/analytics/maintenance.ts';
import { PrometheusClient } from '../../../src/analytics/prometheus.ts';
import { createApp } from '../../../src/api/app.ts';
import { sharedProbe } from '../../../src/api/routes/health.ts';
import { waitFor } from '../../../src/stack/index.ts';
import { listenHttp } from '../../helpers/http.ts';
import { waitForSamples } from '../../helpers/prometheus.ts';
import { type Cluster, byDefinition, expectInterval } from '../../unit/analytics/cluster-interval.ts';
import { ADMIN_TOKEN, type AnalyticsFixture, call, clientReport, startAnalyticsFixture, storedRow } from './analytics-fixture.ts';

let fx: AnalyticsFixture;
let base: string;
let client: pg.Client;
const testStart = new Date();
const DAY = 86_400_000;

const admin = (path: string, init: Parameters<typeof call>[2] = {}) => call(base, path, { ...init, token: ADMIN_TOKEN });
const countRows = async () => Number((await client.query('SELECT count(*) AS n FROM client_reports')).rows[0].n);

/** Checks a success body against the route's declared response schema (the one in the OpenAPI document). */
function expectMatchesSchema(method: string, path: string, body: unknown): void {
  const route = fx.routes.find((r) => r.method === method && r.path === path);
  expect(route, `${method} ${path} is declared`).toBeDefined();
  const parsed = route!.response.safeParse(body);
  expect(parsed.success ? [] : parsed.error.issues).toEqual([]);
}

function post(path: string, body: unknown, headers: Record<string, string> = {}) {
  return call(base, path, { method: 'POST', body, headers });
}

// Seed: 7 sessions, 8 reports, posted through the API with CDN geography headers.
const DE_BE = { 'cf-ipcountry': 'DE', 'cf-region-code': 'BE' };
const SEED: Array<{ headers: Record<string, string>; report: Record<string, unknown> }> = [
  {
    headers: DE_BE,
    report: clientReport({
      session: 's1',
      connection: { attempts: 2, opens: 2 },
      latency: { count: 10, avg: 40, p50: 38, p95: 80, max: 100 },
      vitals: { lcp_ms: 1000, inp_ms: 100, cls: 0.1, fcp_ms: 500, ttfb_ms: 100, page_load_ms: 1500 },
    }),
  },
  { headers: DE_BE, report: clientReport({ session: 's1', connection: { attempts: 1, opens: 0 } }) },
  {
    headers: DE_BE,
    report: clientReport({
      session: 's2',
      latency: { count: 30, avg: 60, p50: 55, p95: 120, max: 150 },
      messages: { errors: 3 },
      vitals: { lcp_ms: 2000, inp_ms: 200, cls: 0.2, fcp_ms: 700, ttfb_ms: 300, page_load_ms: 2500 },
    }),
  },
  { headers: DE_BE, report: clientReport({ session: 's3', latency: { count: 20, avg: 50, p50: 45, p95: 90, max: 95 } }) },
  { headers: { 'cf-ipcountry': 'DE', 'cf-region-code': 'BY' }, report: clientReport({ session: 's4', connection: { attempts: 4, opens: 3 }, latency: { count: 10, avg: 100, p50: 90, p95: 200, max: 250 } }) },
  { headers: { 'cf-ipcountry': 'FR' }, report: clientReport({ session: 's5', latency: { count: 10, avg: 30, p50: 28, p95: 50, max: 60 } }) },
  { headers: { 'cf-ipcountry': 'FR' }, report: clientReport({ session: 's6', connection: { attempts: 2, opens: 2 }, latency: { count: 10, avg: 20, p50: 18, p95: 40, max: 45 } }) },
  {
    headers: { 'cf-ipcountry': 'US', 'cf-region-code': 'CA' },
    report: clientReport({ session: 's7', connection: { attempts: 5, opens: 1, drops: 2, reconnect_attempts: 3, reconnect_successes: 1, outage_ms: 5000 }, ux: { interactions: 5, errors: 2 } }),
  },
];

const range = () => `from=${encodeURIComponent(testStart.toISOString())}&to=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`;

beforeAll(async () => {
  fx = await startAnalyticsFixture();
  base = fx.service.url;
  client = new pg.Client({ connectionString: fx.databaseUrl });
  await client.connect();
  for (const { headers, report } of SEED) {
    const response = await post('/api/ws/client-metrics', report, headers);
    expect(response).toMatchObject({ status: 202, body: { accepted: 1 } });
  }
});

afterAll(async () => {
  await client?.end();
  await fx?.stop();
});

describe('POST /api/ws/client-metrics', () => {
  it('commits a batch and answers 202 with the count; geography is stored, the address is not', async () => {
    const before = await countRows();
    const batch = { reports: [clientReport({ session: 'batch-a' }), clientReport({ session: 'batch-b' })] };
    const response = await post('/api/ws/client-metrics', batch, { 'cf-ipcountry': 'jp' });
    expect(response).toMatchObject({ status: 202, body: { accepted: 2 } });
    expectMatchesSchema('post', '/api/ws/client-metrics', response.body);
    expect(await countRows()).toBe(before + 2);
    const { rows } = await client.query("SELECT country, region, session_id FROM client_reports WHERE session_id LIKE 'batch-%' ORDER BY session_id");
    expect(rows).toEqual([
      { country: 'JP', region: null, session_id: 'batch-a000000000' },
      { country: 'JP', region: null, session_id: 'batch-b000000000' },
    ]);
    // No column can hold an address.
    const columns = (await client.query("SELECT column_name FROM information_schema.columns WHERE table_name = 'client_reports'")).rows.map((r) => r.column_name as string);
    expect(columns.filter((c) => /ip|addr/.test(c))).toEqual([]);
    await client.query("DELETE FROM client_reports WHERE session_id LIKE 'batch-%'");
  });

  it('accepts text/plain bodies (navigator.sendBeacon)', async () => {
    const response = await call(base, '/api/ws/client-metrics', {
      method: 'POST',
      rawBody: JSON.stringify(clientReport({ session: 'beacon' })),
      headers: { 'content-type': 'text/plain;charset=UTF-8' },
    });
    expect(response).toMatchObject({ status: 202, body: { accepted: 1 } });
    await client.query("DELETE FROM client_reports WHERE session_id LIKE 'beacon%'");
  });

  it.each([
    ['form-urlencoded', 'application/x-www-form-urlencoded', 'Content-Type application/x-www-form-urlencoded'],
    ['multipart', 'multipart/form-data; boundary=x', 'Content-Type multipart/form-data; boundary=x'],
    ['no Content-Type', undefined, 'a body without Content-Type'],
  ])('answers a body sent as %s 415 unsupported_media_type naming the accepted types, and writes nothing', async (_label, type, what) => {
    const before = await countRows();
    // Bytes: fetch gives a string body a Content-Type of its own (text/plain).
    const response = await fetch(`${base}/api/ws/client-metrics`, {
      method: 'POST',
      headers: type ? { 'content-type': type } : {},
      body: new TextEncoder().encode(JSON.stringify(clientReport({ session: 'mediatype' }))),
    });
    expect(response.status).toBe(415);
    expect(await response.json()).toEqual({
      error: {
        code: 'unsupported_media_type',
        message: `${what} is not accepted here: send application/json or text/plain`,
        details: { accepted: ['application/json', 'text/plain'], received: type ?? null },
      },
    });
    expect(await countRows()).toBe(before);
  });

  it('answers 415 to an admin JSON route sent form-urlencoded (after auth), naming application/json', async () => {
    const response = await call(base, '/api/ws/alerts/0123456789abcdef/acknowledge', {
      method: 'POST',
      token: ADMIN_TOKEN,
      rawBody: 'acknowledged_by=alice',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(response).toMatchObject({ status: 415, body: { error: { code: 'unsupported_media_type', details: { accepted: ['application/json'] } } } });
    expect((await call(base, '/api/ws/alerts/0123456789abcdef/acknowledge', { method: 'POST', rawBody: 'acknowledged_by=alice', headers: { 'content-type': 'application/x-www-form-urlencoded' } })).status).toBe(401);
  });

  it.each([
    ['malformed JSON', '{"reports": [', 400, 'malformed_json'],
    ['a wrong type', JSON.stringify(clientReport({ session: 'wrongtype', connection: { attempts: '3' as unknown as number } })), 400, 'validation_failed'],
    ['an unknown key', JSON.stringify({ ...clientReport({ session: 'unknownkey' }), extra: 1 }), 400, 'validation_failed'],
    ['a bad date', JSON.stringify({ ...clientReport({ session: 'baddate' }), sent_at: 'yesterday' }), 400, 'validation_failed'],
    ['window_start after window_end', JSON.stringify({ ...clientReport({ session: 'window' }), window_start: '2026-11-24T10:01:00Z' }), 400, 'validation_failed'],
    ['another schema version', JSON.stringify({ ...clientReport({ session: 'version' }), schema_version: 2 }), 400, 'unsupported_schema_version'],
    ['a NUL character in a text field', JSON.stringify({ ...clientReport({ session: 'nulchar' }), page_path: '/a\u0000b' }), 400, 'validation_failed'],
    ['an unpaired surrogate in a text field', JSON.stringify({ ...clientReport({ session: 'surrogate' }), app: { name: 'x\ud800' } }), 400, 'validation_failed'],
    ['more than 100 reports', JSON.stringify({ reports: Array.from({ length: 101 }, (_, i) => clientReport({ session: `many${i}` })) }), 400, 'validation_failed'],
    ['more attempts than a window can hold', JSON.stringify(clientReport({ session: 'attempts', connection: { attempts: 2_147_483_647, opens: 0 } })), 400, 'validation_failed'],
    ['a window over 15 minutes', JSON.stringify({ ...clientReport({ session: 'longwindow' }), window_start: '2026-11-24T09:00:00.000Z' }), 400, 'validation_failed'],
    ['a body over 256 KB', JSON.stringify({ pad: 'x'.repeat(300 * 1024) }), 413, 'payload_too_large'],
  ])('rejects %s and writes nothing', async (_label, rawBody, status, code) => {
    const before = await countRows();
    const response = await call(base, '/api/ws/client-metrics', { method: 'POST', rawBody });
    expect(response.status).toBe(status);
    expect(response.body).toMatchObject({ error: { code } });
    expect(await countRows()).toBe(before);
  });

  it.each([
    ['sent_at in year 0000 (PostgreSQL has no year 0)', { ...clientReport({ session: 'year0' }), sent_at: '0000-01-01T00:00:00Z' }, 'sent_at'],
    ['sent_at before 2000', { ...clientReport({ session: 'y1999' }), sent_at: '1999-12-31T23:59:59.999Z' }, 'sent_at'],
    ['window_end at 2100', { ...clientReport({ session: 'y2100' }), window_end: '2100-01-01T00:00:00Z' }, 'window_end'],
    ['window_start in year 0000 in a batch', { reports: [clientReport({ session: 'year0-ok' }), { ...clientReport({ session: 'year0-bad' }), window_start: '0000-01-01T00:00:00Z' }] }, 'reports.1.window_start'],
  ])('rejects %s with 400 naming the field, and writes nothing', async (_label, body, path) => {
    const before = await countRows();
    const response = await post('/api/ws/client-metrics', body);
    expect(response).toMatchObject({ status: 400 });
    expect(response.body).toEqual({
      error: {
        code: 'validation_failed',
        message: 'the client report is invalid',
        details: [{ path, code: 'custom', message: 'must be from 2000-01-01T00:00:00Z up to (not including) 2100-01-01T00:00:00Z' }],
      },
    });
    expect(await countRows()).toBe(before);
  });

  it('accepts the bounds of the stored time range', async () => {
    const report = { ...clientReport({ session: 'bounds' }), sent_at: '2099-12-31T23:59:59.999Z', window_start: '2000-01-01T00:00:00Z', window_end: '2000-01-01T01:15:00+01:00' };
    expect(await post('/api/ws/client-metrics', report)).toMatchObject({ status: 202, body: { accepted: 1 } });
    await client.query("DELETE FROM client_reports WHERE session_id LIKE 'bounds%'");
  });

  it('answers a data exception PostgreSQL raises anyway (SQLSTATE class 22) with 400 invalid_request, not 500', async () => {
    // The safety net behind validation: a writer that fails as PostgreSQL does on year 0000.
    const reports = { write: () => client.query("SELECT '0000-01-01T00:00:00Z'::timestamptz") } as unknown as typeof fx.service.context.reports;
    const server = await listenHttp(createApp({ ...fx.service.context, reports }));
    try {
      const response = await call(server.url, '/api/ws/client-metrics', { method: 'POST', body: clientReport({ session: 'sqlstate22' }) });
      expect(response).toMatchObject({ status: 400 });
      expect(response.body).toEqual({ error: { code: 'invalid_request', message: 'a value in the request cannot be stored or compared by the database', details: { sqlstate: '22008' } } });
    } finally {
      await server.close();
    }
  });

  it('names the bound a report exceeds (one report must not move fleet-wide figures)', async () => {
    const response = await post('/api/ws/client-metrics', {
      reports: [clientReport({ session: 'bound-ok' }), clientReport({ session: 'bound-bad', connection: { attempts: 2_147_483_647, opens: 0, connected_ms: 3_600_000 } })],
    });
    expect(response).toMatchObject({ status: 400 });
    expect(response.body).toEqual({
      error: {
        code: 'validation_failed',
        message: 'the client report is invalid',
        details: [
          { path: 'reports.1.connection.attempts', code: 'custom', message: 'at most 660 in a window of 60 s (60 + 10 per second), not 2147483647' },
          { path: 'reports.1.connection.connected_ms', code: 'custom', message: 'at most 601000 (10 sockets × the window of 60 s + 1000 ms), not 3600000' },
        ],
      },
    });
  });

  it('names the offending field of a wrong type', async () => {
    const response = await call(base, '/api/ws/client-metrics', {
      method: 'POST',
      body: clientReport({ session: 'wrongtype', connection: { attempts: '3' as unknown as number } }),
    });
    expect(response.body).toMatchObject({ error: { code: 'validation_failed', details: [{ path: 'connection.attempts', code: 'invalid_type' }] } });
  });

  it('rejects a whole batch when one report is invalid: nothing is partially written', async () => {
    const before = await countRows();
    const bad = { ...clientReport({ session: 'partial-c' }), page_path: 'no-leading-slash' };
    const response = await post('/api/ws/client-metrics', { reports: [clientReport({ session: 'partial-a' }), clientReport({ session: 'partial-b' }), bad] });
    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({ error: { code: 'validation_failed', details: [{ path: 'reports.2.page_path' }] } });
    expect(await countRows()).toBe(before);
  });

  it('answers 429 past the per-client rate limit, in the error shape', async () => {
    // A second app over the same service context with a limit of 3 per minute.
    const limited = createApp({ ...fx.service.context, config: { ...fx.service.context.config, ingestRateLimit: 3 } });
    const server = await listenHttp(limited);
    try {
      const statuses: number[] = [];
      let last;
      for (let i = 0; i < 4; i++) {
        last = await call(server.url, '/api/ws/client-metrics', { method: 'POST', rawBody: '{' });
        statuses.push(last.status);
      }
      expect(statuses).toEqual([400, 400, 400, 429]);
      expect(last?.body).toMatchObject({ error: { code: 'rate_limited', details: { limit_per_minute: 3 } } });
      expect(last?.headers.get('ratelimit-policy')).toContain('q=3');
    } finally {
      await server.close();
    }
  });
});

describe('client address behind a proxy (TRUST_PROXY)', () => {
  it('with a hop count of 1, keys the rate limit by the address the proxy appended, whatever the client wrote before it', async () => {
    const limited = createApp({ ...fx.service.context, config: { ...fx.service.context.config, trustProxy: 1, ingestRateLimit: 3 } });
    const server = await listenHttp(limited);
    try {
      // The proxy (this loopback peer) appends the real client, 203.0.113.7, to a header the client forged.
      const statuses: number[] = [];
      for (let i = 0; i < 4; i++) {
        const forged = `198.51.100.${i + 1}, 192.0.2.${i + 1}`;
        statuses.push((await call(server.url, '/api/ws/client-metrics', { method: 'POST', rawBody: '{', headers: { 'x-forwarded-for': `${forged}, 203.0.113.7` } })).status);
      }
      expect(statuses).toEqual([400, 400, 400, 429]);
      // Another real client has a window of its own.
      expect((await call(server.url, '/api/ws/client-metrics', { method: 'POST', rawBody: '{', headers: { 'x-forwarded-for': '198.51.100.1, 203.0.113.8' } })).status).toBe(400);
    } finally {
      await server.close();
    }
  });
});

describe('GET /api/ws/client-metrics/summary', () => {
  it('gives exact totals, weighted latency, percentiles and a clustered Wilson interval from the seed', async () => {
    const response = await admin(`/api/ws/client-metrics/summary?${range()}`);
    expect(response.status).toBe(200);
    expectMatchesSchema('get', '/api/ws/client-metrics/summary', response.body);
    const body = response.body as Record<string, any>;
    expect(body).toMatchObject({ reports: 8, clients: 7, countries: 3 });
    expect(body.connection).toMatchObject({ attempts: 17, opens: 11, drops: 2, reconnect_attempts: 3, reconnect_successes: 1, outage_ms: 5000, connected_ms: 480_000 });
    expect(body.connection.success_rate).toBeCloseTo(11 / 17, 12);
    // Each report a cluster of [attempts, opens]; s7's 4 failures of 5 make it wider than Wilson's 11 of 17.
    const clusters = SEED.map(({ report }) => [(report.connection as { attempts: number }).attempts, (report.connection as { opens: number }).opens] as const);
    expect(clusters).toEqual([[2, 2], [1, 0], [1, 1], [1, 1], [4, 3], [1, 1], [2, 2], [5, 1]]);
    expectInterval(body.connection.success_rate_ci, byDefinition(clusters).interval);
    expect(body.connection.success_rate_ci.lower).toBeLessThan(wilsonInterval(11, 17)!.lower);
    expect(body.connection.drops_per_hour).toBeCloseTo(15, 12);
    expect(body.messages).toEqual({ sent: 80, received: 160, queued: 0, dropped: 0, errors: 3, error_rate: 0.0125 });
    // (40·10 + 60·30 + 50·20 + 100·10 + 30·10 + 20·10) / 90
    expect(body.latency_ms.avg).toBeCloseTo(4700 / 90, 10);
    // Percentiles are nearest rank (percentile_disc): row ⌈q·n⌉ of the sorted values. p50 of
    // 18, 28, 38, 45, 55, 90 is row 3; p95 of 40, 50, 80, 90, 120, 200 row 6; p75 of two values row 2.
    expect(body.latency_ms).toMatchObject({ samples: 90, p50: 38, p95: 200, max: 250 });
    expect(body.vitals_p75).toEqual({ lcp_ms: 2000, inp_ms: 200, cls: 0.2, fcp_ms: 700, ttfb_ms: 300, page_load_ms: 2500 });
    expect(body.ux).toEqual({ interactions: 40, errors: 2 });
  });

  it('defaults to the last 24 hours and checks its dates', async () => {
    const response = await admin('/api/ws/client-metrics/summary');
    const body = response.body as { from: string; to: string; reports: number };
    expect(Date.parse(body.to) - Date.parse(body.from)).toBe(DAY);
    expect(body.reports).toBe(8);
    expect(await admin('/api/ws/client-metrics/summary?from=yesterday')).toMatchObject({ status: 400, body: { error: { code: 'validation_failed', details: [{ path: 'from' }] } } });
    expect(await admin('/api/ws/client-metrics/summary?from=2026-11-24T10:00:00Z&to=2026-11-23T10:00:00Z')).toMatchObject({
      status: 400,
      body: { error: { code: 'invalid_range' } },
    });
  });
});

describe('GET /api/ws/client-metrics/geographic', () => {
  it('aggregates by country and region, folds groups under min_clients into other', async () => {
    const response = await admin(`/api/ws/client-metrics/geographic?${range()}&min_clients=2`);
    expect(response.status).toBe(200);
    expectMatchesSchema('get', '/api/ws/client-metrics/geographic', response.body);
    const { countries } = response.body as { countries: Array<Record<string, any>> };
    expect(countries.map((c) => c.country)).toEqual(['DE', 'FR', 'other']);
    const [de, fr, other] = countries;
    // Nearest-rank percentiles: p50 of 38, 45, 55, 90 is row 2, p95 of 80, 90, 120, 200 row 4.
    expect(de).toMatchObject({ clients: 4, reports: 5, latency_ms: { avg: 60, p50: 45, p95: 200 }, connection: { attempts: 9, opens: 7, drops: 0 } });
    // Reports [2, 2], [1, 0], [1, 1], [1, 1], [4, 3] vary less than independent attempts would: plain Wilson.
    expect(byDefinition([[2, 2], [1, 0], [1, 1], [1, 1], [4, 3]]).nEff).toBe(9);
    expect(de!.connection.success_rate_ci).toEqual(wilsonInterval(7, 9));
    expect(de!.regions.map((r: { region: string }) => r.region)).toEqual(['BE', 'other']);
    expect(de!.regions[0]).toMatchObject({ clients: 3, reports: 4, latency_ms: { p50: 45, p95: 120 }, connection: { attempts: 5, opens: 4 } });
    expect(de!.regions[0].latency_ms.avg).toBeCloseTo(3200 / 60, 10);
    expect(de!.regions[1]).toMatchObject({ clients: 1, latency_ms: { avg: 100, p50: 90, p95: 200 }, connection: { attempts: 4, opens: 3 } });
    expect(fr).toMatchObject({ clients: 2, reports: 2, latency_ms: { avg: 25, p50: 18, p95: 50 }, connection: { attempts: 3, opens: 3, success_rate: 1 }, regions: [] });
    expect(other).toMatchObject({ clients: 1, reports: 1, latency_ms: { avg: null, p50: null, p95: null }, connection: { attempts: 5, opens: 1, drops: 2, success_rate: 0.2 }, regions: [] });
  });

  it('rejects a bad min_clients', async () => {
    expect(await admin('/api/ws/client-metrics/geographic?min_clients=zero')).toMatchObject({ status: 400, body: { error: { code: 'validation_failed', details: [{ path: 'min_clients' }] } } });
  });
});

describe('clustered success-rate interval', () => {
  // Six days ago, in NL/NH: one client's report of 20 failed attempts (a broken proxy
  // retrying) and 30 clients' reports of one attempt that opened; ten of those clients
  // report again a minute later, still connected (no attempt, no open: no cluster).
  const day = new Date(startOfUtcDay(new Date()).getTime() - 6 * DAY);
  const window = `from=${encodeURIComponent(day.toISOString())}&to=${encodeURIComponent(new Date(day.getTime() + DAY).toISOString())}`;
  const clusters: Cluster[] = [[20, 0], ...Array.from({ length: 30 }, (): Cluster => [1, 1])];
  // In BE: windows holding the open of an attempt made in the window before ([0, 1]).
  const straddling: Cluster[] = [[3, 1], [0, 1], [2, 0], [4, 4], [1, 0], [0, 1], [5, 2], [2, 1]];
  // In LU: more opens than attempts in total (the attempt was before the range).
  const moreOpens: Cluster[] = [[0, 1], [1, 1]];

  beforeAll(async () => {
    await ensurePartitions(fx.service.context.database.pool, { from: day, daysAhead: 0 });
    const at = (minutes: number) => new Date(day.getTime() + 9 * 3_600_000 + minutes * 60_000);
    const session = (i: number) => `cluster-session-${String(i).padStart(2, '0')}`;
    const rows = [
      ...clusters.map(([attempts, opens], i) => storedRow(at(i), session(i), { country: 'NL', region: 'NH', attempts, opens })),
      ...Array.from({ length: 10 }, (_, i) => storedRow(at(40 + i), session(i + 1), { country: 'NL', region: 'NH', attempts: 0, opens: 0 })),
      ...straddling.map(([attempts, opens], i) => storedRow(at(i), 'straddling-session', { country: 'BE', attempts, opens })),
      ...moreOpens.map(([attempts, opens], i) => storedRow(at(i), 'more-opens-session', { country: 'LU', attempts, opens })),
    ];
    await insertClientReports(fx.service.context.database, rows);
  });

  it('counts one client failing 20 times as one cluster: the interval of the formula, far wider than plain Wilson', async () => {
    const { nEff, interval } = byDefinition(clusters);
    // A = 50, p̂ = 0.6, Σ(s − p̂a)² = 12² + 30·0.4² = 148.8, v = 31/30·148.8/50², n_eff = 1 + 0.24/v ≈ 4.90.
    expect(nEff).toBeCloseTo(4.902185, 6);
    const plain = wilsonInterval(30, 50)!;
    expect(plain.lower).toBeCloseTo(0.4618, 4);
    expect(plain.upper).toBeCloseTo(0.7239, 4);
    expect(interval.lower).toBeCloseTo(0.2284, 4);
    expect(interval.upper).toBeCloseTo(0.8837, 4);

    const geography = await admin(`/api/ws/client-metrics/geographic?${window}&min_clients=10`);
    expect(geography.status).toBe(200);
    expectMatchesSchema('get', '/api/ws/client-metrics/geographic', geography.body);
    const [nl] = (geography.body as { countries: Array<Record<string, any>> }).countries;
    expect(nl).toMatchObject({ country: 'NL', clients: 31, reports: 41, connection: { attempts: 50, opens: 30, success_rate: 0.6 }, regions: [{ region: 'NH', clients: 31 }] });
    expectInterval(nl!.connection.success_rate_ci, interval);
    expectInterval(nl!.regions[0].connection.success_rate_ci, interval);
  });

  it('does not cap opens per report (an open in the window after its attempt is a cluster of its own), only in total', async () => {
    const { nEff, interval } = byDefinition(straddling);
    // A = 17, p̂ = 10/17; capped per report it would be 8/17.
    expect(nEff).toBeGreaterThan(1);
    expect(nEff).toBeLessThan(17);
    const geography = await admin(`/api/ws/client-metrics/geographic?${window}&min_clients=1`);
    const be = (geography.body as { countries: Array<Record<string, any>> }).countries.find((c) => c.country === 'BE')!;
    expect(be.connection).toMatchObject({ attempts: 17, opens: 10 });
    expect(be.connection.success_rate).toBeCloseTo(10 / 17, 12);
    expectInterval(be.connection.success_rate_ci, interval);
    // Opens beyond the attempts in total are capped, as the success rate is: p̂ = 1, one cluster with an attempt.
    const lu = (geography.body as { countries: Array<Record<string, any>> }).countries.find((c) => c.country === 'LU')!;
    expect(lu.connection).toMatchObject({ attempts: 1, opens: 2, success_rate: 1, success_rate_ci: wilsonInterval(1, 1) });
    // The summary over all three countries: their clusters together.
    const summary = await admin(`/api/ws/client-metrics/summary?${window}`);
    expect(summary.status).toBe(200);
    expectMatchesSchema('get', '/api/ws/client-metrics/summary', summary.body);
    expect((summary.body as Record<string, any>).connection).toMatchObject({ attempts: 68, opens: 42 });
    expectInterval((summary.body as Record<string, any>).connection.success_rate_ci, byDefinition([...clusters, ...straddling, ...moreOpens]).interval);
  });

  it('sums squares of attempts at the largest value a report may carry without overflowing', async () => {
    const busyDay = new Date(day.getTime() - DAY);
    await ensurePartitions(fx.service.context.database.pool, { from: busyDay, daysAhead: 0 });
    // (2^31 − 1)² is about 4.6e18: three of them would overflow a bigint.
    const rows = Array.from({ length: 3 }, (_, i) =>
      storedRow(new Date(busyDay.getTime() + 3_600_000), `huge-attempts-${i}`, { attempts: 2_147_483_647, opens: i === 0 ? 0 : 2_147_483_647 }),
    );
    await insertClientReports(fx.service.context.database, rows);
    const range = `from=${encodeURIComponent(busyDay.toISOString())}&to=${encodeURIComponent(day.toISOString())}`;
    const summary = await admin(`/api/ws/client-metrics/summary?${range}`);
    expect(summary.status).toBe(200);
    // Three clusters of equal size, two all open: Wilson over 3 trials, 2 successes.
    expectInterval((summary.body as Record<string, any>).connection.success_rate_ci, wilsonInterval(2, 3)!, 9);
    expect((await admin(`/api/ws/client-metrics/geographic?${range}&min_clients=1`)).status).toBe(200);
  });
});

describe('GET /api/ws/client-metrics/ux-correlation', () => {
  // Anscombe's set I as (latency, page load) of eleven sessions, three days ago.
  const x = [10, 8, 13, 9, 11, 14, 6, 4, 12, 7, 5];
  const y = [8.04, 6.95, 7.58, 8.81, 8.33, 9.96, 7.24, 4.26, 10.84, 4.82, 5.68];
  const day = new Date(startOfUtcDay(new Date()).getTime() - 3 * DAY);
  const at = new Date(day.getTime() + 12 * 3_600_000);

  beforeAll(async () => {
    await ensurePartitions(fx.service.context.database.pool, { from: day, daysAhead: 0 });
    const rows = x.map((xi, i) =>
      storedRow(at, `anscombe-session-${i}`, { latency_count: 1, latency_avg_ms: xi, latency_p50_ms: xi, latency_p95_ms: xi, latency_max_ms: xi, page_load_ms: y[i]! }),
    );
    await insertClientReports(fx.service.context.database, rows);
  });

  it('gives Pearson, Spearman, Fisher-z intervals and p-values per pair, per session', async () => {
    const from = encodeURIComponent(day.toISOString());
    const to = encodeURIComponent(new Date(day.getTime() + DAY).toISOString());
    const response = await admin(`/api/ws/client-metrics/ux-correlation?from=${from}&to=${to}`);
    expect(response.status).toBe(200);
    expectMatchesSchema('get', '/api/ws/client-metrics/ux-correlation', response.body);
    const body = response.body as { sessions: number; min_n: number; pairs: Array<Record<string, any>> };
    expect(body).toMatchObject({ sessions: 11, sessions_in_range: 11, truncated: false, min_n: 10 });
    const byId = Object.fromEntries(body.pairs.map((p) => [p.id, p]));
    const latency = byId.latency_vs_page_load!;
    expect(latency).toMatchObject({ n: 11, status: 'ok', strength: 'strong' });
    expect(latency.pearson.r).toBeCloseTo(0.8164205, 6);
    expect(latency.pearson.p_value).toBeCloseTo(0.00217, 5);
    expect(latency.pearson.ci95.lower).toBeCloseTo(0.4244, 3);
    expect(latency.pearson.ci95.upper).toBeCloseTo(0.9507, 3);
    expect(latency.spearman.r).toBeCloseTo(0.8181818, 6);
    // No LCP/INP reported, no messages (no error rate): insufficient data; drops constant 0: no correlation to speak of.
    expect(byId.latency_vs_lcp).toMatchObject({ n: 0, status: 'insufficient_data', pearson: null, strength: null });
    expect(byId.error_rate_vs_ux_errors).toMatchObject({ n: 0, status: 'insufficient_data' });
    expect(byId.drops_vs_interactions).toMatchObject({ n: 11, status: 'insufficient_data' });
    // Below min_n everything is insufficient.
    const strict = await admin(`/api/ws/client-metrics/ux-correlation?from=${from}&to=${to}&min_n=12`);
    expect((strict.body as { pairs: Array<{ status: string }> }).pairs.every((p) => p.status === 'insufficient_data')).toBe(true);
  });

  it('correlates the most recent sessions when the range holds more than the cap, and says so', async () => {
    const range = { from: day, to: new Date(day.getTime() + DAY) };
    // Anscombe's sessions share their time: the most recent four are the last by id (9, 8, 7, 6).
    const result = await uxCorrelation(fx.service.context.database.pool, range, 3, { maxSessions: 4 });
    expect(result).toMatchObject({ sessions: 4, sessions_in_range: 11, truncated: true });
    const latency = result.pairs.find((p) => p.id === 'latency_vs_page_load')!;
    expect(latency.n).toBe(4);
    expect(latency.pearson!.r).toBeCloseTo(pearson([7, 12, 4, 6], [4.82, 10.84, 4.26, 7.24])!, 12);
  });

  it('sums message counts at the largest values a report may carry without overflowing', async () => {
    const busyDay = new Date(day.getTime() - DAY);
    await ensurePartitions(fx.service.context.database.pool, { from: busyDay, daysAhead: 0 });
    // Sent and received each at the int4 maximum the schema allows: their sum only fits a bigint.
    const rows = Array.from({ length: 10 }, (_, i) =>
      storedRow(new Date(busyDay.getTime() + 3_600_000), `busy-session-${i}`, { messages_sent: 2_147_483_647, messages_received: 2_147_483_647, message_errors: 4_294_967 * (i + 1), ux_errors: i }),
    );
    await insertClientReports(fx.service.context.database, rows);
    const window = `from=${encodeURIComponent(busyDay.toISOString())}&to=${encodeURIComponent(day.toISOString())}`;
    const response = await admin(`/api/ws/client-metrics/ux-correlation?${window}`);
    expect(response.status).toBe(200);
    const pair = (response.body as { pairs: Array<Record<string, any>> }).pairs.find((p) => p.id === 'error_rate_vs_ux_errors')!;
    // Error rate (i + 1) / 1000 of the messages against i UX errors: a perfect line.
    expect(pair).toMatchObject({ n: 10, status: 'ok', strength: 'strong' });
    expect(pair.pearson.r).toBeCloseTo(1, 9);
  });
});

describe('anomaly detection → storage → Alertmanager → GET /api/ws/client-metrics/anomalies', () => {
  it('stores an incident start once, posts it as an alert, and lists it', async () => {
    const step = 300_000;
    const end = Math.floor(Date.now() / step) * step;
    const points = Array.from({ length: 200 }, (_, i) => ({ timestamp: end - (200 - i) * step, value: 100 + (i % 3) }));
    points[199]!.value = 400;
    const stream = { name: 'test_stream', source: 'prometheus' as const, description: 'A test stream', read: async () => points };
    const options = { pool: fx.service.context.database.pool, alertmanager: fx.service.context.alertmanager, stepSeconds: 300, now: () => new Date(end + 1000) };
    const first = await runAnomalyDetection(options, [stream]);
    expect(first).toEqual({ streams: 1, points: 200, stored: 1, posted: 1, reposted: 0, errors: [] });
    // The same window again: nothing new; the active alert is sent again (Alertmanager de-duplicates it).
    expect(await runAnomalyDetection(options, [stream])).toEqual({ streams: 1, points: 200, stored: 0, posted: 0, reposted: 1, errors: [] });

    type PostedAlert = { labels: Record<string, string>; annotations: Record<string, string> };
    const am = await fetch(`${fx.alertmanagerUrl}/api/v2/alerts?filter=alertname%3D%22WebSocketMetricAnomaly%22`).then((r) => r.json() as Promise<PostedAlert[]>);
    expect(am.map((a) => a.labels)).toEqual([{ alertname: 'WebSocketMetricAnomaly', severity: 'critical', component: 'anomaly', stream: 'test_stream', source: 'prometheus' }]);
    expect(am[0]?.annotations.runbook_url).toBe('https://github.com/socketscope/socketscope/blob/main/docs/runbooks.md#websocketmetricanomaly');
    expect(am[0]?.annotations.description).toMatch(
      new RegExp(`^A test stream was 400 at ${new Date(points[199]!.timestamp).toISOString().replace(/\./g, '\\.')}, outside the expected band \\[[\\d.]+, [\\d.]+\\] \\(robust z [\\d.]+, high\\)\\.$`),
    );

    const from = encodeURIComponent(new Date(end - DAY).toISOString());
    const response = await admin(`/api/ws/client-metrics/anomalies?from=${from}`);
    expect(response.status).toBe(200);
    expectMatchesSchema('get', '/api/ws/client-metrics/anomalies', response.body);
    const body = response.body as Record<string, any>;
    expect(body).toMatchObject({ total: 1, truncated: false, by_severity: { low: 0, medium: 0, high: 1 }, by_stream: { test_stream: 1 } });
    expect(body.anomalies[0]).toMatchObject({ stream: 'test_stream', source: 'prometheus', value: 400, expected: 101, severity: 'high', observed_at: new Date(points[199]!.timestamp).toISOString() });
    expect(body.anomalies[0].score).toBeGreaterThan(0.9);
    expect(body.anomalies[0].alert_posted_at).not.toBeNull();
    // Re-sent until this end, 30 minutes after it was first posted.
    expect(Date.parse(body.anomalies[0].alert_ends_at) - Date.parse(body.anomalies[0].alert_posted_at)).toBe(30 * 60_000);
    expect(body.detection.last_run).toBeNull();
    expect(await admin(`/api/ws/client-metrics/anomalies?from=${from}&severity=low`)).toMatchObject({ body: { total: 0 } });
    expect(await admin('/api/ws/client-metrics/anomalies?severity=urgent')).toMatchObject({ status: 400 });
  });

  it('posts an alert again on the next run when Alertmanager refused it, and counts every anomaly past the listing limit', async () => {
    const step = 300_000;
    const end = Math.floor(Date.now() / step) * step;
    const points = Array.from({ length: 200 }, (_, i) => ({ timestamp: end - (200 - i) * step, value: 50 + (i % 2) }));
    points[199]!.value = 10;
    const stream = { name: 'outbox_stream', source: 'prometheus' as const, description: 'A stream whose first post fails', read: async () => points };
    const base = { pool: fx.service.context.database.pool, stepSeconds: 300, now: () => new Date(end + 1000) };
    const down = { postAlerts: async () => Promise.reject(new Error('connect ECONNREFUSED')) } as unknown as NonNullable<typeof fx.service.context.alertmanager>;
    expect(await runAnomalyDetection({ ...base, alertmanager: down }, [stream])).toEqual({ streams: 1, points: 200, stored: 1, posted: 0, reposted: 0, errors: [{ stream: 'outbox_stream', error: 'connect ECONNREFUSED' }] });
    expect(await runAnomalyDetection({ ...base, alertmanager: fx.service.context.alertmanager }, [stream])).toEqual({ streams: 1, points: 200, stored: 0, posted: 1, reposted: 0, errors: [] });
    const am = await fetch(`${fx.alertmanagerUrl}/api/v2/alerts?filter=stream%3D%22outbox_stream%22`).then((r) => r.json() as Promise<Array<{ labels: Record<string, string> }>>);
    expect(am.map((a) => a.labels.severity)).toEqual(['critical']);

    const from = encodeURIComponent(new Date(end - DAY).toISOString());
    expect(await admin(`/api/ws/client-metrics/anomalies?from=${from}&limit=1`)).toMatchObject({
      status: 200,
      body: { total: 2, truncated: true, by_stream: { test_stream: 1, outbox_stream: 1 }, anomalies: [{ stream: 'outbox_stream' }] },
    });
  });

  it('describes an incident found by a run of moderate deviations as inside its band, after the run', async () => {
    const step = 300_000;
    const end = Math.floor(Date.now() / step) * step;
    // Samples 4 above a cycle the detector follows exactly (scale 1.01, gate 5): no point leaves the band, the sixth is an incident.
    const points = Array.from({ length: 200 }, (_, i) => ({ timestamp: end - (200 - i) * step, value: 100 + (i % 3) + (i >= 194 ? 4 : 0) }));
    const stream = { name: 'run_stream', source: 'prometheus' as const, description: 'A drifting stream', read: async () => points };
    const options = { pool: fx.service.context.database.pool, alertmanager: fx.service.context.alertmanager, stepSeconds: 300, now: () => new Date(end + 1000) };
    expect(await runAnomalyDetection(options, [stream])).toEqual({ streams: 1, points: 200, stored: 1, posted: 1, reposted: 0, errors: [] });
    const am = await fetch(`${fx.alertmanagerUrl}/api/v2/alerts?filter=stream%3D%22run_stream%22`).then((r) => r.json() as Promise<Array<{ labels: Record<string, string>; annotations: Record<string, string> }>>);
    expect(am.map((a) => a.labels)).toEqual([{ alertname: 'WebSocketMetricAnomaly', severity: 'info', component: 'anomaly', stream: 'run_stream', source: 'prometheus' }]);
    expect(am[0]?.annotations.description).toBe(
      `A drifting stream was 105 at ${new Date(points[199]!.timestamp).toISOString()}, after a run of samples above what was expected or above the highest level seen before, inside the expected band [95.95, 106.05] (robust z 3.9604, low).`,
    );
  });
});

describe('server metrics from Prometheus', () => {
  beforeAll(async () => {
    // Rates need two samples, and the range below three seconds of them.
    await waitForSamples(fx.prometheusUrl, 'count_over_time(websocket_server_connection_count[1m]) >= 4');
  });

  it('GET /api/ws/metrics answers the current values', async () => {
    const response = await admin('/api/ws/metrics');
    expect(response.status).toBe(200);
    expectMatchesSchema('get', '/api/ws/metrics', response.body);
    const metrics = Object.fromEntries((response.body as { metrics: Array<{ id: string; value: number | null }> }).metrics.map((m) => [m.id, m.value]));
    expect(metrics.active_connections).toBe(42);
    // A counter that does not move has a rate of exactly 0; a histogram with no data has no quantile.
    expect(metrics.connections_opened_per_second).toBe(0);
    expect(metrics.message_latency_p95_seconds).toBeNull();
    expect(await admin('/api/ws/metrics?metric=active_connections')).toMatchObject({ body: { metrics: [{ id: 'active_connections', value: 42 }] } });
    expect(await admin('/api/ws/metrics?metric=nope')).toMatchObject({ status: 400, body: { error: { code: 'validation_failed' } } });
  });

  it('GET /api/ws/metrics/historical answers range queries and guards their size', async () => {
    const [sample] = await waitForSamples(fx.prometheusUrl, 'websocket_server_connection_count');
    const at = Math.floor(sample!.value[0]);
    const from = new Date((at - 2) * 1000).toISOString();
    const to = new Date(at * 1000).toISOString();
    const response = await admin(`/api/ws/metrics/historical?metric=active_connections&from=${from}&to=${to}&step=1`);
    expect(response.status).toBe(200);
    expectMatchesSchema('get', '/api/ws/metrics/historical', response.body);
    const body = response.body as { step_s: number; window_s: number; series: Array<{ id: string; points: Array<[string, number]> }> };
    // A short step still reads rates over the live view's 5 minutes.
    expect([body.step_s, body.window_s]).toEqual([1, 300]);
    expect(body.series).toHaveLength(1);
    expect(body.series[0]!.points).toEqual([
      [from, 42],
      [new Date((at - 1) * 1000).toISOString(), 42],
      [to, 42],
    ]);
    // Over 7 days the default step is 2016 s, and each point's rate covers it plus a scrape interval.
    const week = await admin(`/api/ws/metrics/historical?metric=connections_opened_per_second&from=${new Date((at - 7 * 86_400) * 1000).toISOString()}&to=${to}`);
    expect(week).toMatchObject({ status: 200, body: { step_s: 2016, window_s: 2031 } });
    expect(await admin(`/api/ws/metrics/historical?from=2026-01-01T00:00:00Z&to=2026-03-01T00:00:00Z&step=1`)).toMatchObject({ status: 400, body: { error: { code: 'too_many_points' } } });
    expect(await admin(`/api/ws/metrics/historical?step=-5`)).toMatchObject({ status: 400, body: { error: { code: 'validation_failed', details: [{ path: 'step' }] } } });
  });

  it('GET /api/ws/metrics/historical takes step as a Prometheus duration too', async () => {
    const [sample] = await waitForSamples(fx.prometheusUrl, 'websocket_server_connection_count');
    const to = new Date(Math.floor(sample!.value[0]) * 1000).toISOString();
    const from = new Date(Date.parse(to) - 3 * 3_600_000).toISOString();
    const historical = (step: string) => admin(`/api/ws/metrics/historical?metric=active_connections&from=${from}&to=${to}&step=${encodeURIComponent(step)}`);
    for (const [step, seconds] of [['5m', 300], ['1h30m', 5_400], ['30s', 30], ['300', 300]] as const) {
      expect(await historical(step), step).toMatchObject({ status: 200, body: { step_s: seconds } });
    }
    // The same points as the step in seconds.
    expect((await historical('1h')).body).toEqual((await historical('3600')).body);
    expect(await historical('5 minutes')).toMatchObject({
      status: 400,
      body: { error: { code: 'validation_failed', details: [{ path: 'step', message: 'must be seconds (e.g. 300) or a Prometheus duration (e.g. 30s, 5m, 1h, 1h30m), not "5 minutes"' }] } },
    });
    expect(await historical('2d')).toMatchObject({ status: 400, body: { error: { code: 'validation_failed', details: [{ path: 'step', message: 'must be at most 86400 s (1d)' }] } } });
    const doc = (await call(base, '/api/openapi.json')).body as { paths: Record<string, Record<string, { parameters: Array<{ name: string; description?: string; schema: { type?: string } }> }>> };
    const param = doc.paths['/api/ws/metrics/historical']!.get!.parameters.find((p) => p.name === 'step');
    expect(param?.description).toMatch(/^Time between points, in seconds \(300, 1\.5\) or as a Prometheus duration \(30s, 5m, 1h, 1h30m\)/);
    expect(param?.schema.type).toBe('string');
  });

  it('GET /health/websocket reports the active connections', async () => {
    const response = await call(base, '/health/websocket');
    expect(response.status).toBe(200);
    expectMatchesSchema('get', '/health/websocket', response.body);
    expect(response.body).toMatchObject({ status: 'healthy', activeConnections: 42 });
  });
});

describe('alerts', () => {
  const labels = { alertname: 'WebSocketHighLatency', severity: 'warning', component: 'test' };
  let fingerprint = '';

  type HeldAlert = { fingerprint: string; labels: Record<string, string> };
  const held = async () => (await fetch(`${fx.alertmanagerUrl}/api/v2/alerts`).then((r) => r.json())) as HeldAlert[];
  const sameLabels = (a: Record<string, string>, b: Record<string, string>) => JSON.stringify(Object.entries(a).sort()) === JSON.stringify(Object.entries(b).sort());
  /** Posts an alert to Alertmanager (as Prometheus does) and waits for it there; returns its fingerprint. */
  async function firingInAlertmanager(alertLabels: Record<string, string>): Promise<string> {
    const posted = await fetch(`${fx.alertmanagerUrl}/api/v2/alerts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([{ labels: alertLabels, annotations: {}, startsAt: new Date().toISOString() }]),
    });
    expect(posted.status).toBe(200);
    let found = '';
    await waitFor(`${alertLabels.alertname} in Alertmanager`, async () => {
      found = (await held()).find((a) => sameLabels(a.labels, alertLabels))?.fingerprint ?? '';
      return found !== '';
    });
    return found;
  }

  beforeAll(async () => {
    const posted = await fetch(`${fx.alertmanagerUrl}/api/v2/alerts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([{ labels, annotations: { summary: 'p95 above 500 ms' }, startsAt: new Date().toISOString() }]),
    });
    expect(posted.status).toBe(200);
  });

  it('GET /api/ws/alerts lists active alerts from Alertmanager and recent ones its webhook delivered', async () => {
    let body: Record<string, any> = {};
    // Alertmanager delivers to POST /api/ws/alerts/webhook after group_wait (1 s here).
    await waitFor('the webhook to record the alert', async () => {
      body = (await admin('/api/ws/alerts')).body as Record<string, any>;
      return body.recent.some((a: { alertname: string }) => a.alertname === 'WebSocketHighLatency');
    }, { timeoutMs: 30_000, intervalMs: 250 });
    expectMatchesSchema('get', '/api/ws/alerts', body);
    expect(body.active_source).toBe('alertmanager');
    const active = body.active.find((a: { alertname: string }) => a.alertname === 'WebSocketHighLatency');
    expect(active).toMatchObject({ severity: 'warning', status: 'active', labels, annotations: { summary: 'p95 above 500 ms' }, acknowledgement: null });
    fingerprint = active.id;
    const recent = body.recent.find((a: { alertname: string }) => a.alertname === 'WebSocketHighLatency');
    expect(recent).toMatchObject({ id: fingerprint, status: 'active', labels, resolved_by: null });
    expect(Date.parse(recent.last_delivered_at)).toBeGreaterThan(testStart.getTime());
    expect(body).toMatchObject({ truncated: false, reconciliation: { method: 'alertmanager', stale_after_s: null } });
  });

  it('POST /api/ws/alerts/{id}/acknowledge records who and when and creates a silence in Alertmanager', async () => {
    expect(fingerprint).not.toBe('');
    expect(fingerprint).toMatch(/^[0-9a-f]+$/);
    // In uppercase: the same fingerprint (lowercased; compared as text it never matched before).
    const response = await admin(`/api/ws/alerts/${fingerprint.toUpperCase()}/acknowledge`, { method: 'POST', body: { acknowledged_by: 'alice', comment: 'looking into it', duration_minutes: 30 } });
    expect(response.status).toBe(201);
    expectMatchesSchema('post', '/api/ws/alerts/{id}/acknowledge', response.body);
    const { acknowledgement } = response.body as { acknowledgement: { silence_id: string; acknowledged_by: string; acknowledged_at: string; silence_ends_at: string } };
    expect(acknowledgement).toMatchObject({ acknowledged_by: 'alice', comment: 'looking into it' });
    expect(Date.parse(acknowledgement.silence_ends_at) - Date.parse(acknowledgement.acknowledged_at)).toBeGreaterThan(29 * 60_000);

    // The silence, in the real Alertmanager.
    const silence = (await fetch(`${fx.alertmanagerUrl}/api/v2/silence/${acknowledgement.silence_id}`).then((r) => r.json())) as Record<string, any>;
    expect(silence).toMatchObject({ createdBy: 'alice', comment: 'looking into it', status: { state: 'active' } });
    expect(silence.matchers).toEqual(expect.arrayContaining([{ name: 'alertname', value: 'WebSocketHighLatency', isRegex: false, isEqual: true }]));
    await waitFor('the alert to be silenced', async () => {
      const alerts = (await fetch(`${fx.alertmanagerUrl}/api/v2/alerts`).then((r) => r.json())) as Array<{ fingerprint: string; status: { silencedBy: string[] } }>;
      return alerts.find((a) => a.fingerprint === fingerprint)?.status.silencedBy.includes(acknowledgement.silence_id) ?? false;
    });

    const { rows } = await client.query('SELECT acknowledged_by, silence_id FROM alert_acknowledgements WHERE fingerprint = $1', [fingerprint]);
    expect(rows).toEqual([{ acknowledged_by: 'alice', silence_id: acknowledgement.silence_id }]);
    const listed = (await admin('/api/ws/alerts')).body as { active: Array<{ id: string; status: string; acknowledgement: { acknowledged_by: string } | null }> };
    expect(listed.active.find((a) => a.id === fingerprint)).toMatchObject({ status: 'suppressed', acknowledgement: { acknowledged_by: 'alice' } });
  });

  it('answers 404 for an unknown alert and 400 for a bad acknowledgement', async () => {
    expect(await admin('/api/ws/alerts/0123456789abcdef/acknowledge', { method: 'POST', body: { acknowledged_by: 'bob' } })).toMatchObject({
      status: 404,
      body: { error: { code: 'alert_not_found' } },
    });
    expect(await admin('/api/ws/alerts/0123456789ABCDEF/acknowledge', { method: 'POST', body: { acknowledged_by: 'bob' } })).toMatchObject({
      status: 404,
      body: { error: { code: 'alert_not_found', message: 'no alert with id 0123456789abcdef' } },
    });
    expect(await admin(`/api/ws/alerts/${fingerprint}/acknowledge`, { method: 'POST', body: { acknowledged_by: '' } })).toMatchObject({ status: 400 });
    expect(await admin('/api/ws/alerts/not-hex!/acknowledge', { method: 'POST', body: { acknowledged_by: 'bob' } })).toMatchObject({ status: 400 });
    // A path Express cannot decode is the client's error, in the error shape.
    expect(await admin('/api/ws/alerts/%E0%A4%A/acknowledge', { method: 'POST', body: { acknowledged_by: 'bob' } })).toMatchObject({
      status: 400,
      body: { error: { code: 'bad_request' } },
    });
  });

  it('POST /api/ws/alerts/webhook records resolutions and validates its payload', async () => {
    const startsAt = '2026-11-20T10:00:00Z';
    const payload = (status: 'firing' | 'resolved') => ({
      version: '4',
      status,
      receiver: 'analytics-webhook',
      groupKey: '{}:{}',
      alerts: [{ status, labels: { alertname: 'Hooked', severity: 'critical' }, annotations: {}, startsAt, endsAt: status === 'firing' ? '0001-01-01T00:00:00Z' : '2026-11-20T10:05:00Z', fingerprint: 'feedfacecafe0001' }],
    });
    expect(await post('/api/ws/alerts/webhook', payload('firing'))).toMatchObject({ status: 200, body: { received: 1 } });
    expect(await post('/api/ws/alerts/webhook', payload('resolved'))).toMatchObject({ status: 200, body: { received: 1 } });
    const { rows } = await client.query("SELECT status, ends_at FROM alerts WHERE fingerprint = 'feedfacecafe0001'");
    expect(rows).toEqual([{ status: 'resolved', ends_at: new Date('2026-11-20T10:05:00Z') }]);
    expect(await post('/api/ws/alerts/webhook', { version: '4', alerts: 'nope' })).toMatchObject({ status: 400, body: { error: { code: 'validation_failed' } } });
    // The same alert instance twice in one payload is one row, the later state winning.
    const twice = { ...payload('firing'), alerts: [...payload('firing').alerts, ...payload('resolved').alerts].map((a) => ({ ...a, fingerprint: 'feedfacecafe0002' })) };
    expect(await post('/api/ws/alerts/webhook', twice)).toMatchObject({ status: 200, body: { received: 1 } });
    const { rows: deduped } = await client.query("SELECT status FROM alerts WHERE fingerprint = 'feedfacecafe0002'");
    expect(deduped).toEqual([{ status: 'resolved' }]);
  });

  const RANGE_MESSAGE = 'must be from 2000-01-01T00:00:00Z up to (not including) 2100-01-01T00:00:00Z';
  const hooked = (alert: Record<string, unknown>) => ({
    version: '4',
    status: 'firing',
    receiver: 'analytics-webhook',
    alerts: [{ status: 'firing', labels: { alertname: 'Rejected' }, annotations: {}, startsAt: '2026-11-20T10:00:00Z', endsAt: '0001-01-01T00:00:00Z', fingerprint: 'feedfacecafe0009', ...alert }],
  });
  const countAlerts = async () => Number((await client.query('SELECT count(*) AS n FROM alerts')).rows[0].n);

  it.each([
    ['startsAt in year 0000', { startsAt: '0000-01-01T00:00:00Z' }, 'alerts.0.startsAt', 'custom', RANGE_MESSAGE],
    ['endsAt in year 0000', { endsAt: '0000-01-01T00:00:00Z' }, 'alerts.0.endsAt', 'custom', `must be 0001-01-01T00:00:00Z (no end) or an ISO 8601 date-time with zone from 2000-01-01T00:00:00Z up to (not including) 2100-01-01T00:00:00Z`],
    ['endsAt that is not a date', { endsAt: 'soon' }, 'alerts.0.endsAt', 'custom', `must be 0001-01-01T00:00:00Z (no end) or an ISO 8601 date-time with zone from 2000-01-01T00:00:00Z up to (not including) 2100-01-01T00:00:00Z`],
    ['a NUL in a label value', { labels: { alertname: 'Rej\u0000ected' } }, 'alerts.0.labels.alertname', 'invalid_format', 'must not contain NUL characters or unpaired surrogates'],
    ['a NUL in a label name', { labels: { alertname: 'Rejected', 'a\u0000b': 'x' } }, 'alerts.0.labels.a\u0000b', 'invalid_key', 'Invalid key in record'],
    ['a NUL in an annotation', { annotations: { summary: 'x\u0000' } }, 'alerts.0.annotations.summary', 'invalid_format', 'must not contain NUL characters or unpaired surrogates'],
    ['a NUL in the fingerprint', { fingerprint: 'feed\u0000' }, 'alerts.0.fingerprint', 'invalid_format', 'must not contain NUL characters or unpaired surrogates'],
    ['a NUL in the generator URL', { generatorURL: 'http://x/\u0000' }, 'alerts.0.generatorURL', 'invalid_format', 'must not contain NUL characters or unpaired surrogates'],
  ])('POST /api/ws/alerts/webhook rejects %s with 400 naming the field, and writes nothing', async (_label, alert, path, code, message) => {
    const before = await countAlerts();
    const response = await post('/api/ws/alerts/webhook', hooked(alert));
    expect(response).toMatchObject({ status: 400 });
    expect(response.body).toEqual({ error: { code: 'validation_failed', message: 'invalid request body', details: [{ path, code, message }] } });
    expect(await countAlerts()).toBe(before);
  });

  it('POST /api/ws/alerts/webhook still takes a resolved alert with a real end and fractional seconds', async () => {
    const response = await post('/api/ws/alerts/webhook', hooked({ status: 'resolved', startsAt: '2026-11-20T10:00:00.123456789Z', endsAt: '2026-11-20T10:05:00.5+01:00', fingerprint: 'feedfacecafe000a' }));
    expect(response).toMatchObject({ status: 200, body: { received: 1 } });
    const { rows } = await client.query("SELECT status, ends_at FROM alerts WHERE fingerprint = 'feedfacecafe000a'");
    expect(rows).toEqual([{ status: 'resolved', ends_at: new Date('2026-11-20T09:05:00.500Z') }]);
  });

  it('POST /api/ws/alerts/webhook needs the webhook token when one is set, and is rate-limited per client', async () => {
    const token = 'a-webhook-token-0123456789';
    const app = createApp({ ...fx.service.context, config: { ...fx.service.context.config, host: '0.0.0.0', webhookToken: token, webhookRateLimit: 3 } });
    const server = await listenHttp(app);
    const watchdogs = async () => Number((await client.query("SELECT count(*) AS n FROM alerts WHERE alertname = 'Watchdog'")).rows[0].n);
    try {
      const before = await watchdogs();
      // A forged Watchdog would make /api/ws/health call the dead-man's switch fresh.
      const forged = hooked({ labels: { alertname: 'Watchdog' }, fingerprint: 'feedfacecafe000b' });
      const none = await call(server.url, '/api/ws/alerts/webhook', { method: 'POST', body: forged });
      expect(none).toMatchObject({ status: 401, body: { error: { code: 'unauthorized', message: 'an Authorization: Bearer token is required' } } });
      expect(none.headers.get('www-authenticate')).toBe('Bearer realm="socketscope-webhook"');
      expect(await call(server.url, '/api/ws/alerts/webhook', { method: 'POST', body: forged, token: ADMIN_TOKEN })).toMatchObject({ status: 401, body: { error: { code: 'unauthorized', message: 'the bearer token is not valid' } } });
      expect(await watchdogs()).toBe(before);
      const ok = await call(server.url, '/api/ws/alerts/webhook', { method: 'POST', body: hooked({ fingerprint: 'feedfacecafe000c' }), token });
      expect(ok).toMatchObject({ status: 200, body: { received: 1 } });
      const limited = await call(server.url, '/api/ws/alerts/webhook', { method: 'POST', body: hooked({ fingerprint: 'feedfacecafe000d' }), token });
      expect(limited).toMatchObject({ status: 429, body: { error: { code: 'rate_limited', details: { limit_per_minute: 3 } } } });
      expect((await client.query("SELECT fingerprint FROM alerts WHERE fingerprint IN ('feedfacecafe000b', 'feedfacecafe000c', 'feedfacecafe000d')")).rows).toEqual([{ fingerprint: 'feedfacecafe000c' }]);
    } finally {
      await server.close();
    }
  });

  it('will not serve the webhook without a token beyond loopback (the admin token’s rule)', () => {
    for (const host of ['0.0.0.0', '::', '10.0.0.5']) {
      expect(() => createApp({ ...fx.service.context, config: { ...fx.service.context.config, host, webhookToken: undefined } })).toThrow(
        `ALERTMANAGER_WEBHOOK_TOKEN must be set when the service listens on ${host}, beyond this machine: without it anyone who can reach the service could post alerts to POST /api/ws/alerts/webhook`,
      );
    }
    expect(() => createApp({ ...fx.service.context, config: { ...fx.service.context.config, host: '127.0.0.1', webhookToken: undefined } })).not.toThrow();
  });

  it('expires the silence it created when the acknowledgement cannot be recorded, so a retry leaves one silence', async () => {
    const fingerprint = await firingInAlertmanager({ alertname: 'AckFails', component: 'ack-test' });
    // The insert fails for this one acknowledger only.
    await client.query(`CREATE FUNCTION fail_test_ack() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'acknowledgement insert fails (test)'; END $$`);
    await client.query(`CREATE TRIGGER fail_test_ack BEFORE INSERT ON alert_acknowledgements FOR EACH ROW WHEN (NEW.acknowledged_by = 'eve') EXECUTE FUNCTION fail_test_ack()`);
    const silences = async () =>
      ((await fetch(`${fx.alertmanagerUrl}/api/v2/silences`).then((r) => r.json())) as Array<{ id: string; createdBy: string; status: { state: string } }>)
        .filter((x) => x.createdBy === 'eve')
        .map((x) => x.status.state);
    try {
      const failed = await admin(`/api/ws/alerts/${fingerprint}/acknowledge`, { method: 'POST', body: { acknowledged_by: 'eve' } });
      expect(failed).toMatchObject({ status: 500, body: { error: { code: 'internal_error' } } });
      expect(await silences()).toEqual(['expired']);
      expect((await client.query('SELECT count(*)::int AS n FROM alert_acknowledgements WHERE fingerprint = $1', [fingerprint])).rows).toEqual([{ n: 0 }]);
    } finally {
      await client.query('DROP TRIGGER fail_test_ack ON alert_acknowledgements');
      await client.query('DROP FUNCTION fail_test_ack()');
    }
    const retried = await admin(`/api/ws/alerts/${fingerprint}/acknowledge`, { method: 'POST', body: { acknowledged_by: 'eve' } });
    expect(retried.status).toBe(201);
    expect((await silences()).sort()).toEqual(['active', 'expired']);
  });

  it('acknowledging again updates the silence of the earlier acknowledgement: one active silence, with the second end', async () => {
    const fingerprint = await firingInAlertmanager({ alertname: 'AckedTwice', component: 'ack-test' });
    type Ack = { silence_id: string; acknowledged_by: string; silence_ends_at: string };
    const acknowledge = async (body: Record<string, unknown>) => {
      const response = await admin(`/api/ws/alerts/${fingerprint}/acknowledge`, { method: 'POST', body });
      expect(response.status).toBe(201);
      return (response.body as { acknowledgement: Ack }).acknowledgement;
    };
    type Silence = { id: string; endsAt: string; createdBy: string; comment: string; matchers: Array<{ name: string; value: string }>; status: { state: string } };
    const activeSilences = async () =>
      ((await fetch(`${fx.alertmanagerUrl}/api/v2/silences`).then((r) => r.json())) as Silence[]).filter(
        (x) => x.status.state === 'active' && x.matchers.some((m) => m.name === 'alertname' && m.value === 'AckedTwice'),
      );

    const first = await acknowledge({ acknowledged_by: 'grace', comment: 'first look', duration_minutes: 30 });
    const second = await acknowledge({ acknowledged_by: 'heidi', comment: 'taking over', duration_minutes: 90 });
    expect(second.silence_id).toBe(first.silence_id);
    expect(Date.parse(second.silence_ends_at)).toBeGreaterThan(Date.parse(first.silence_ends_at));
    const [held, ...more] = await activeSilences();
    expect(more).toEqual([]);
    expect(held).toMatchObject({ id: first.silence_id, createdBy: 'heidi', comment: 'taking over' });
    expect(Date.parse(held!.endsAt)).toBe(Date.parse(second.silence_ends_at));
    const listed = (await admin('/api/ws/alerts')).body as { active: Array<{ id: string; acknowledgement: Ack | null }> };
    expect(listed.active.find((a) => a.id === fingerprint)?.acknowledgement).toMatchObject({ acknowledged_by: 'heidi', silence_id: first.silence_id, silence_ends_at: second.silence_ends_at });

    // Expired in Alertmanager by hand: the next acknowledgement makes a new silence, again the only active one.
    expect((await fetch(`${fx.alertmanagerUrl}/api/v2/silence/${first.silence_id}`, { method: 'DELETE' })).status).toBe(200);
    const third = await acknowledge({ acknowledged_by: 'ivan', duration_minutes: 15 });
    expect(third.silence_id).not.toBe(first.silence_id);
    expect((await activeSilences()).map((x) => [x.id, x.createdBy, Date.parse(x.endsAt)])).toEqual([[third.silence_id, 'ivan', Date.parse(third.silence_ends_at)]]);
  });

  it('does not carry an old acknowledgement over to the same alert firing again after its silence ended', async () => {
    const firing = (fingerprint: string, startsAt: string) => ({
      version: '4',
      status: 'firing',
      receiver: 'analytics-webhook',
      alerts: [{ status: 'firing', labels: { alertname: 'Recurring', severity: 'warning' }, annotations: {}, startsAt, endsAt: '0001-01-01T00:00:00Z', fingerprint }],
    });
    const now = Date.now();
    const iso = (ms: number) => new Date(ms).toISOString();
    await post('/api/ws/alerts/webhook', firing('feedfacecafe0003', iso(now - 10 * 60_000)));
    await post('/api/ws/alerts/webhook', firing('feedfacecafe0004', iso(now - 10 * 60_000)));
    // 0003 was acknowledged two hours ago (silence over an hour ago); 0004 five minutes ago, during this instance, with its silence over.
    await client.query(
      `INSERT INTO alert_acknowledgements (fingerprint, alertname, acknowledged_by, comment, silence_id, silence_ends_at, acknowledged_at)
       VALUES ('feedfacecafe0003', 'Recurring', 'carol', NULL, 'old-silence', $1, $2), ('feedfacecafe0004', 'Recurring', 'dave', NULL, 'short-silence', $3, $4)`,
      [iso(now - 3_600_000), iso(now - 7_200_000), iso(now - 60_000), iso(now - 5 * 60_000)],
    );
    const listed = (await admin(`/api/ws/alerts?from=${encodeURIComponent(iso(now - 3_600_000))}`)).body as { recent: Array<{ id: string; acknowledgement: { acknowledged_by: string } | null }> };
    expect(listed.recent.find((a) => a.id === 'feedfacecafe0003')).toMatchObject({ acknowledgement: null });
    expect(listed.recent.find((a) => a.id === 'feedfacecafe0004')).toMatchObject({ acknowledgement: { acknowledged_by: 'dave' } });
  });
});

describe('alerts that resolve without a resolved notification', () => {
  type Listed = { id: string; status: string; resolved_by: string | null; ends_at: string | null; last_delivered_at: string | null };
  type AlertsBody = { active: Listed[]; recent: Listed[]; truncated: boolean; active_source: string; reconciliation: { method: string; resolved: number; stale_after_s: number | null } };
  type HeldAlert = { fingerprint: string; labels: Record<string, string>; status: { state: string; silencedBy: string[] } };
  const held = async () => (await fetch(`${fx.alertmanagerUrl}/api/v2/alerts`).then((r) => r.json())) as HeldAlert[];
  const stored = async (fp: string) =>
    (await client.query<{ status: string; resolved_by: string | null; ends_at: Date | null }>('SELECT status, resolved_by, ends_at FROM alerts WHERE fingerprint = $1 ORDER BY starts_at', [fp])).rows;
  const silencesBy = async (who: string) =>
    ((await fetch(`${fx.alertmanagerUrl}/api/v2/silences`).then((r) => r.json())) as Array<{ createdBy: string; status: { state: string } }>).filter((x) => x.createdBy === who).length;
  const webhook = (status: 'firing' | 'resolved', fingerprint: string, startsAt: string, endsAt = '0001-01-01T00:00:00Z', alertname = 'Reconciled') =>
    post('/api/ws/alerts/webhook', {
      version: '4',
      status,
      receiver: 'analytics-webhook',
      alerts: [{ status, labels: { alertname, severity: 'warning' }, annotations: {}, startsAt, endsAt, fingerprint }],
    });

  it('marks resolved on read an acknowledged alert that resolved while silenced, and refuses to acknowledge it again (409, no silence)', async () => {
    const alertLabels = { alertname: 'ResolvesWhileSilenced', severity: 'warning', component: 'reconcile-test' };
    const startsAt = new Date(Date.now() - 60_000);
    const send = (endsAt?: Date) =>
      fetch(`${fx.alertmanagerUrl}/api/v2/alerts`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify([{ labels: alertLabels, annotations: {}, startsAt: startsAt.toISOString(), ...(endsAt ? { endsAt: endsAt.toISOString() } : {}) }]),
      });
    expect((await send()).status).toBe(200);
    let fp = '';
    await waitFor('the webhook to record it firing', async () => {
      fp = (await held()).find((a) => a.labels.alertname === 'ResolvesWhileSilenced')?.fingerprint ?? '';
      return fp !== '' && (await stored(fp)).some((r) => r.status === 'firing');
    });
    const ack = await admin(`/api/ws/alerts/${fp}/acknowledge`, { method: 'POST', body: { acknowledged_by: 'frank' } });
    expect(ack.status).toBe(201);
    await waitFor('the alert to be silenced', async () => (await held()).find((a) => a.fingerprint === fp)?.status.state === 'suppressed');

    // It resolves (Prometheus sends an end in the past) while silenced: Alertmanager drops it and notifies nobody.
    expect((await send(new Date(Date.now() - 1_000))).status).toBe(200);
    await waitFor('Alertmanager to no longer list it', async () => !(await held()).some((a) => a.fingerprint === fp));
    expect(await stored(fp)).toMatchObject([{ status: 'firing', resolved_by: null }]);

    const before = Date.now();
    const listed = await admin('/api/ws/alerts');
    expect(listed.status).toBe(200);
    expectMatchesSchema('get', '/api/ws/alerts', listed.body);
    const body = listed.body as AlertsBody;
    expect(body.reconciliation.method).toBe('alertmanager');
    expect(body.reconciliation.resolved).toBeGreaterThanOrEqual(1);
    expect(body.active.map((a) => a.id)).not.toContain(fp);
    const recent = body.recent.find((a) => a.id === fp)!;
    expect(recent).toMatchObject({ status: 'resolved', resolved_by: 'reconciliation' });
    // Its end is when the read found it gone (it ended then or earlier).
    expect(Date.parse(recent.ends_at!)).toBeGreaterThanOrEqual(before - 1_000);
    expect(Date.parse(recent.ends_at!)).toBeLessThanOrEqual(Date.now());
    expect(await stored(fp)).toMatchObject([{ status: 'resolved', resolved_by: 'reconciliation' }]);
    // The next read has nothing left to resolve for it.
    expect(((await admin('/api/ws/alerts')).body as AlertsBody).recent.find((a) => a.id === fp)).toEqual(recent);

    // Acknowledging it again would silence its next firing: refused, and no silence is created.
    const silences = await silencesBy('frank');
    expect(await admin(`/api/ws/alerts/${fp}/acknowledge`, { method: 'POST', body: { acknowledged_by: 'frank' } })).toMatchObject({
      status: 409,
      body: { error: { code: 'alert_not_active', message: `ResolvesWhileSilenced (${fp}) is not firing in Alertmanager: there is nothing to acknowledge, and a silence on its labels would mute its next firing`, details: { alertname: 'ResolvesWhileSilenced', starts_at: startsAt.toISOString(), ends_at: recent.ends_at } } },
    });
    expect(await silencesBy('frank')).toBe(silences);
  });

  it('keeps a resolution Alertmanager sent when a late or retried firing delivery of the same instance arrives', async () => {
    const fp = 'feedfacecafe0020';
    const startsAt = new Date(Date.now() - 10 * 60_000).toISOString();
    const endsAt = new Date(Date.now() - 60_000).toISOString();
    expect(await webhook('firing', fp, startsAt)).toMatchObject({ status: 200, body: { received: 1 } });
    expect(await webhook('resolved', fp, startsAt, endsAt)).toMatchObject({ status: 200, body: { received: 1 } });
    expect(await webhook('firing', fp, startsAt)).toMatchObject({ status: 200, body: { received: 1 } });
    expect(await stored(fp)).toEqual([{ status: 'resolved', resolved_by: 'webhook', ends_at: new Date(endsAt) }]);
    // A new instance of the same labels (a later start) fires as its own row.
    const again = new Date(Date.now() - 30_000).toISOString();
    await webhook('firing', fp, again);
    expect((await stored(fp)).map((r) => r.status)).toEqual(['resolved', 'firing']);
  });

  it('lets a firing delivery revive an instance only a read resolved (an Alertmanager that restarted gets it again from Prometheus)', async () => {
    const fp = 'feedfacecafe0021';
    const startsAt = new Date(Date.now() - 5 * 60_000).toISOString();
    await webhook('firing', fp, startsAt);
    // Not in Alertmanager (as after its restart, before Prometheus re-sent it): the read resolves it.
    await admin('/api/ws/alerts');
    expect(await stored(fp)).toMatchObject([{ status: 'resolved', resolved_by: 'reconciliation' }]);
    await webhook('firing', fp, startsAt);
    expect(await stored(fp)).toEqual([{ status: 'firing', resolved_by: null, ends_at: null }]);
  });

  /** Two alerts firing for an hour: `fresh` delivered just now, `old` last delivered 2 minutes ago. */
  async function firingFreshAndOld(fresh: string, old: string, alertname: string): Promise<void> {
    const startsAt = new Date(Date.now() - 3_600_000).toISOString();
    await webhook('firing', fresh, startsAt, undefined, alertname);
    await webhook('firing', old, startsAt, undefined, alertname);
    await client.query("UPDATE alerts SET updated_at = now() - interval '2 minutes' WHERE fingerprint = $1", [old]);
  }

  it('without Alertmanager: lists a firing alert not delivered again for ALERT_STALE_AFTER_SECONDS as stale, outside active', async () => {
    const fresh = 'feedfacecafe0022';
    const old = 'feedfacecafe0023';
    await firingFreshAndOld(fresh, old, 'StaleTest');
    const app = createApp({ ...fx.service.context, alertmanager: undefined, config: { ...fx.service.context.config, alertStaleAfterSeconds: 60 } });
    const server = await listenHttp(app);
    try {
      const response = await call(server.url, '/api/ws/alerts', { token: ADMIN_TOKEN });
      expect(response.status).toBe(200);
      expectMatchesSchema('get', '/api/ws/alerts', response.body);
      const body = response.body as AlertsBody;
      expect(body).toMatchObject({ active_source: 'database', reconciliation: { method: 'staleness', resolved: 0, stale_after_s: 60 } });
      expect(body.active.filter((a) => a.id === fresh || a.id === old).map((a) => [a.id, a.status])).toEqual([[fresh, 'active']]);
      expect(body.recent.filter((a) => a.id === fresh || a.id === old).map((a) => [a.id, a.status]).sort()).toEqual([
        [fresh, 'active'],
        [old, 'stale'],
      ]);
      // Stale is how it reads, not what is stored: nothing was resolved.
      expect(await stored(old)).toMatchObject([{ status: 'firing', resolved_by: null }]);
    } finally {
      await server.close();
      await client.query('DELETE FROM alerts WHERE fingerprint = ANY($1)', [[fresh, old]]);
    }
  });

  it('with Alertmanager unreachable: serves the webhook record with the staleness rule and a warning, not a 502', async () => {
    const fresh = 'feedfacecafe0024';
    const old = 'feedfacecafe0025';
    await firingFreshAndOld(fresh, old, 'AlertmanagerDownTest');
    // A port nothing listens on: connection refused, as when Alertmanager is down.
    const closed = await listenHttp((_req, res) => res.end());
    const downUrl = closed.url;
    await closed.close();
    const unreachable = new AlertmanagerClient(downUrl, 2_000);
    const config = { ...fx.service.context.config, alertStaleAfterSeconds: 60 };
    const server = await listenHttp(createApp({ ...fx.service.context, alertmanager: unreachable, config }));
    try {
      const response = await call(server.url, '/api/ws/alerts', { token: ADMIN_TOKEN });
      expect(response.status).toBe(200);
      expectMatchesSchema('get', '/api/ws/alerts', response.body);
      const body = response.body as AlertsBody & { warning: string | null };
      expect(body).toMatchObject({ active_source: 'database', reconciliation: { method: 'staleness', resolved: 0, stale_after_s: 60 } });
      expect(body.warning).toMatch(
        new RegExp(`^Alertmanager did not answer \\(alertmanager: GET ${downUrl}/api/v2/alerts\\?active=true&silenced=true&inhibited=true failed: .+\\): active alerts are from the webhook record instead, where a firing alert not delivered again for 60 s reads stale; nothing was reconciled, and acknowledging needs Alertmanager\\.$`),
      );
      expect(body.active.filter((a) => a.id === fresh || a.id === old).map((a) => [a.id, a.status])).toEqual([[fresh, 'active']]);
      expect(body.recent.filter((a) => a.id === fresh || a.id === old).map((a) => [a.id, a.status]).sort()).toEqual([
        [fresh, 'active'],
        [old, 'stale'],
      ]);
      // Nothing was resolved by the read: Alertmanager could not be asked.
      expect(await stored(old)).toMatchObject([{ status: 'firing', resolved_by: null }]);
      // With Alertmanager answering there is no warning.
      expect((await admin('/api/ws/alerts')).body).toMatchObject({ active_source: 'alertmanager', warning: null });
    } finally {
      await server.close();
      await client.query('DELETE FROM alerts WHERE fingerprint = ANY($1)', [[fresh, old]]);
    }
    // Nothing to serve (the record cannot be read either): Alertmanager's 502.
    const down = { ...fx.service.context.database, pool: { query: async (sql: string) => (sql.startsWith('SELECT now()') ? { rows: [{ now: new Date() }] } : Promise.reject(new Error('connection lost'))) } };
    const neither = await listenHttp(createApp({ ...fx.service.context, alertmanager: unreachable, database: down as unknown as typeof fx.service.context.database }));
    try {
      expect(await call(neither.url, '/api/ws/alerts', { token: ADMIN_TOKEN })).toMatchObject({ status: 502, body: { error: { code: 'alertmanager_unavailable' } } });
    } finally {
      await neither.close();
    }
  });

  it('lists at most `limit` recent alerts, live ones first, and says when it cut the list', async () => {
    const all = (await admin('/api/ws/alerts?limit=5000')).body as AlertsBody;
    expect(all.truncated).toBe(false);
    expect(all.recent.length).toBeGreaterThan(2);
    const two = (await admin('/api/ws/alerts?limit=2')).body as AlertsBody;
    expect(two.truncated).toBe(true);
    expect(two.recent).toEqual(all.recent.slice(0, 2));
    expect((await admin(`/api/ws/alerts?limit=${all.recent.length}`)).body).toMatchObject({ truncated: false });
    expect(await admin('/api/ws/alerts?limit=0')).toMatchObject({ status: 400, body: { error: { code: 'validation_failed', details: [{ path: 'limit' }] } } });
    // A range that ended before they started lists none of the ones firing now.
    const past = (await admin(`/api/ws/alerts?from=2001-01-01T00:00:00Z&to=2001-01-02T00:00:00Z`)).body as AlertsBody;
    expect(past.recent).toEqual([]);
  });
});

describe('auth, health, OpenAPI, own metrics', () => {
  const adminEndpoints: Array<[string, string]> = [
    ['GET', '/api/ws/client-metrics/summary'],
    ['GET', '/api/ws/client-metrics/geographic'],
    ['GET', '/api/ws/client-metrics/anomalies'],
    ['GET', '/api/ws/client-metrics/ux-correlation'],
    ['GET', '/api/ws/metrics'],
    ['GET', '/api/ws/metrics/historical'],
    ['GET', '/api/ws/alerts'],
    ['POST', '/api/ws/alerts/0123456789abcdef/acknowledge'],
  ];

  it.each(adminEndpoints)('%s %s answers 401 without the token or with a wrong one', async (method, path) => {
    const none = await call(base, path, { method });
    expect(none).toMatchObject({ status: 401, body: { error: { code: 'unauthorized' } } });
    expect(none.headers.get('www-authenticate')).toBe('Bearer realm="socketscope-admin"');
    expect(await call(base, path, { method, token: `${ADMIN_TOKEN}x` })).toMatchObject({ status: 401 });
  });

  it('GET /api/ws/health reports every dependency', async () => {
    const response = await call(base, '/api/ws/health');
    expect(response.status).toBe(200);
    expectMatchesSchema('get', '/api/ws/health', response.body);
    expect(response.body).toMatchObject({
      status: 'ok',
      reasons: [],
      checks: {
        postgres: { configured: true, ok: true },
        prometheus: { configured: true, ok: true, detail: 'reachable' },
        alertmanager: { configured: true, ok: true, detail: 'reachable' },
        collector: { configured: false, ok: false },
        // Just started: the Watchdog is not expected yet (this Prometheus has no rules).
        watchdog: { configured: true, ok: true },
      },
      service: { database: 'server', needs_prometheus: [] },
    });
  });

  it('GET /api/ws/health tells the public whether each part works and only an admin where it lives and why it failed', async () => {
    const open = (await call(base, '/api/ws/health')).body as { checks: Record<string, { detail: string }>; service: { tasks: Array<Record<string, unknown>> } };
    expect(open.checks.postgres!.detail).toBe('server');
    expect(open.checks.prometheus!.detail).toBe('reachable');
    expect(JSON.stringify(open)).not.toContain('127.0.0.1');
    const full = (await admin('/api/ws/health')).body as { checks: Record<string, { detail: string }> };
    expect(full.checks.postgres!.detail).toMatch(/^server .*127\.0\.0\.1/);
    expect(full.checks.prometheus!.detail).toBe('HTTP 200');
  });

  it('GET /api/ws/health and /health/websocket: concurrent callers share one probe of each dependency (public, not rate-limited)', async () => {
    const seen: string[] = [];
    // A stand-in Prometheus and Alertmanager on one port, counting what they are asked.
    const stand = await listenHttp((req, res) => {
      seen.push(`${req.method} ${req.url}`);
      if (req.url === '/api/v1/query') {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ status: 'success', data: { resultType: 'vector', result: [{ metric: {}, value: [Date.now() / 1000, '7'] }] } }));
      } else res.end('ok');
    });
    let selects = 0;
    const pool = fx.service.context.database.pool;
    const counting = {
      ...fx.service.context.database,
      pool: {
        query: (sql: string, params?: unknown[]) => {
          if (sql === 'SELECT 1') selects++;
          return pool.query(sql, params);
        },
      },
    } as unknown as typeof fx.service.context.database;
    const context = { ...fx.service.context, database: counting, prometheus: new PrometheusClient(stand.url, 2_000), alertmanager: new AlertmanagerClient(stand.url, 2_000) };
    const many = (url: string, path: string) => Promise.all(Array.from({ length: 25 }, () => call(url, path)));
    // A cache far longer than the test: every call after the first probe reuses it.
    let server = await listenHttp(createApp(context, { healthCacheMs: 600_000 }));
    try {
      const health = await many(server.url, '/api/ws/health');
      expect(health.map((r) => r.status)).toEqual(Array(25).fill(200));
      expect(health.map((r) => (r.body as { checks: { prometheus: { detail: string } } }).checks.prometheus.detail)).toEqual(Array(25).fill('reachable'));
      // One readiness probe each of Prometheus and Alertmanager, one SELECT 1: not 25.
      expect(seen).toEqual(['GET /-/ready', 'GET /-/ready']);
      expect(selects).toBe(1);
      // An admin gets the full detail of the same probe.
      expect((await call(server.url, '/api/ws/health', { token: ADMIN_TOKEN })).body).toMatchObject({ checks: { prometheus: { detail: 'HTTP 200' }, alertmanager: { detail: 'HTTP 200' } } });
      expect(seen).toHaveLength(2);

      const websocket = await many(server.url, '/health/websocket');
      expect(websocket.map((r) => [r.status, (r.body as { activeConnections: number }).activeConnections])).toEqual(Array(25).fill([200, 7]));
      expect(seen.filter((r) => r === 'POST /api/v1/query')).toHaveLength(1);
      expect(selects).toBe(2);
    } finally {
      await server.close();
    }
    // Without reuse, each call after the last probe finished probes anew.
    seen.length = 0;
    selects = 0;
    server = await listenHttp(createApp(context, { healthCacheMs: 0 }));
    try {
      for (let i = 0; i < 3; i++) expect((await call(server.url, '/api/ws/health')).status).toBe(200);
      expect(seen).toHaveLength(6);
      expect(selects).toBe(3);
    } finally {
      await server.close();
      await stand.close();
    }
  });

  it('GET /api/ws/health and /health/websocket answer within the deadline when a database connection never answers (the database down)', async () => {
    // A "database" that accepts connections and never writes: every query of its pool hangs, as on a black-holed connection.
    const sockets = new Set<net.Socket>();
    const silent = net.createServer((socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as net.AddressInfo;
    const pool = new pg.Pool({ host: '127.0.0.1', port, user: 'postgres', database: 'postgres', max: 2 });
    pool.on('error', () => {});
    const database = { ...fx.service.context.database, pool, location: `127.0.0.1:${port}` };
    const deadlineMs = 500;
    const config = { ...fx.service.context.config, prometheusTimeoutMs: deadlineMs };
    const server = await listenHttp(createApp({ ...fx.service.context, database, config }, { healthCacheMs: 0 }));
    try {
      const timedCall = async (path: string, token?: string) => {
        const started = performance.now();
        const response = await call(server.url, path, token ? { token } : {});
        return { response, ms: performance.now() - started };
      };
      const health = await timedCall('/api/ws/health', ADMIN_TOKEN);
      expect(health.ms).toBeLessThan(deadlineMs + 1_500);
      expect(health.response).toMatchObject({ status: 503, body: { status: 'down', checks: { postgres: { ok: false, detail: `no answer within ${deadlineMs} ms` } } } });
      expect((health.response.body as { reasons: string[] }).reasons).toContain(`PostgreSQL: no answer within ${deadlineMs} ms`);
      const websocket = await timedCall('/health/websocket');
      expect(websocket.ms).toBeLessThan(deadlineMs + 1_500);
      expect(websocket.response).toMatchObject({ status: 503, body: { status: 'unhealthy' } });
      // The public reads only that it does not answer.
      expect((await call(server.url, '/api/ws/health')).body).toMatchObject({ status: 'down', checks: { postgres: { ok: false, detail: 'not reachable' } } });
    } finally {
      await server.close();
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
      await pool.end();
    }
  });

  it('shares one run of a health probe among the callers while it runs, and reuses its result for cacheMs', async () => {
    let runs = 0;
    let finish!: (value: number) => void;
    const probe = sharedProbe(() => {
      runs++;
      return new Promise<number>((resolve) => {
        finish = resolve;
      });
    }, 0);
    const callers = [probe(), probe(), probe()];
    expect(runs).toBe(1);
    finish(42);
    expect(await Promise.all(callers)).toEqual([42, 42, 42]);
    // Settled and cacheMs 0: the next caller runs it again.
    const next = probe();
    expect(runs).toBe(2);
    finish(43);
    expect(await next).toBe(43);
    // A failed run is not kept past cacheMs either.
    const failing = sharedProbe(() => {
      runs++;
      return Promise.reject(new Error('down'));
    }, 0);
    await expect(failing()).rejects.toThrow('down');
    await expect(failing()).rejects.toThrow('down');
    expect(runs).toBe(4);
  });

  it('GET /api/openapi.json is an OpenAPI 3.1 document of every route', async () => {
    const response = await call(base, '/api/openapi.json');
    expect(response.status).toBe(200);
    const doc = response.body as { openapi: string; paths: Record<string, Record<string, any>>; components: { schemas: Record<string, unknown> } };
    expect(doc.openapi).toBe('3.1.0');
    for (const route of fx.routes) expect(doc.paths[route.path]?.[route.method], `${route.method} ${route.path}`).toBeDefined();
    expect(doc.paths['/api/ws/client-metrics']!.post.requestBody.content['application/json'].schema).toBeDefined();
    expect(doc.paths['/api/ws/client-metrics/summary']!.get.security).toEqual([{ adminToken: [] }]);
    expect(doc.paths['/api/ws/client-metrics/summary']!.get.parameters.map((p: { name: string }) => p.name)).toEqual(['from', 'to']);
    expect(Object.keys(doc.components.schemas)).toEqual(expect.arrayContaining(['Error', 'ClientMetricsSummary', 'Geography', 'Alert']));
  });

  it('GET /api/openapi.json declares the error statuses each alerts route can answer, and a fingerprint pattern that matches', async () => {
    const doc = (await call(base, '/api/openapi.json')).body as { paths: Record<string, Record<string, any>>; components: { securitySchemes: Record<string, unknown> } };
    const statuses = (path: string, method: string) => Object.keys(doc.paths[path]![method].responses).filter((s) => Number(s) >= 400);
    // 502: Alertmanager failed (alertmanager_unavailable); 401: wrong or missing token; 413: body over the parser's limit; 429: rate limit;
    // 503 on every route: the database out of reach (database_unavailable).
    expect(statuses('/api/ws/alerts', 'get')).toEqual(['400', '401', '429', '500', '502', '503']);
    // 409: not firing in Alertmanager (alert_not_active); 415: a body encoding or charset the JSON parser refuses.
    expect(statuses('/api/ws/alerts/{id}/acknowledge', 'post')).toEqual(['400', '401', '404', '409', '413', '415', '429', '500', '502', '503']);
    expect(statuses('/api/ws/alerts/webhook', 'post')).toEqual(['400', '401', '413', '415', '429', '500', '503']);
    expect(doc.paths['/api/ws/alerts/webhook']!.post.security).toEqual([{ webhookToken: [] }, {}]);
    expect(doc.components.securitySchemes).toHaveProperty('webhookToken');
    // Every admin route declares 401 and 429; every POST with a body 400 and 413.
    for (const route of fx.routes) {
      const declared = statuses(route.path, route.method);
      if (route.access === 'admin') expect(declared, `${route.method} ${route.path}`).toEqual(expect.arrayContaining(['401', '429']));
      if (route.method === 'post' && route.body) expect(declared, `${route.method} ${route.path}`).toEqual(expect.arrayContaining(['400', '413', '415']));
    }

    const param = (doc.paths['/api/ws/alerts/{id}/acknowledge']!.post.parameters as Array<{ name: string; in: string; schema: { pattern: string } }>).find((p) => p.name === 'id' && p.in === 'path');
    const pattern = new RegExp(param!.schema.pattern);
    // A fingerprint from the real Alertmanager (it is the alert's id in this API).
    const posted = await fetch(`${fx.alertmanagerUrl}/api/v2/alerts`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify([{ labels: { alertname: 'PatternProbe' } }]) });
    expect(posted.status).toBe(200);
    let real = '';
    await waitFor('the probe alert in Alertmanager', async () => {
      const alerts = (await fetch(`${fx.alertmanagerUrl}/api/v2/alerts`).then((r) => r.json())) as Array<{ fingerprint: string; labels: Record<string, string> }>;
      real = alerts.find((a) => a.labels.alertname === 'PatternProbe')?.fingerprint ?? '';
      return real !== '';
    });
    expect(param!.schema.pattern).toBe('^[0-9a-fA-F]{1,64}$');
    // Either case is valid: the route lowercases the id, as Alertmanager writes fingerprints.
    expect(real).toMatch(/^[0-9a-f]+$/);
    expect([real, real.toUpperCase(), 'not-hex!', ''].map((id) => pattern.test(id))).toEqual([true, true, false, false]);
    expect(fx.routes.find((r) => r.path === '/api/ws/alerts/{id}/acknowledge')!.params!.parse({ id: real.toUpperCase() })).toEqual({ id: real });
  });

  it('GET /api/openapi.json gives each status its own body: the health 503s their normal body, 415 for an unreadable body, typed tasks', async () => {
    const doc = (await call(base, '/api/openapi.json')).body as { paths: Record<string, Record<string, any>>; components: { schemas: Record<string, any> } };
    const body = (path: string, method: string, status: string) => doc.paths[path]![method].responses[status].content['application/json'].schema;
    expect(body('/api/ws/health', 'get', '503')).toEqual({ $ref: '#/components/schemas/Health' });
    expect(body('/api/ws/health', 'get', '200')).toEqual({ $ref: '#/components/schemas/Health' });
    expect(body('/health/websocket', 'get', '503')).toEqual({ $ref: '#/components/schemas/WebSocketHealth' });
    expect(body('/api/ws/alerts/{id}/acknowledge', 'post', '503')).toEqual({ $ref: '#/components/schemas/Error' });
    expect(doc.paths['/api/ws/client-metrics']!.post.responses['415'].description).toBe(
      'Unsupported Content-Type (unsupported_media_type: send application/json or text/plain), body encoding or charset (unsupported_encoding, unsupported_charset)',
    );
    expect(doc.paths['/api/ws/alerts/{id}/acknowledge']!.post.responses['415'].description).toBe(
      'Unsupported Content-Type (unsupported_media_type: send application/json), body encoding or charset (unsupported_encoding, unsupported_charset)',
    );
    expect(Object.keys(doc.paths['/api/ws/client-metrics']!.post.requestBody.content)).toEqual(['application/json', 'text/plain']);
    expect(doc.components.schemas.Health.properties.service.properties.tasks.items).toEqual({ $ref: '#/components/schemas/TaskStatus' });
    const taskFields = ['name', 'interval_ms', 'running', 'runs', 'last_started_at', 'last_duration_ms', 'last_error', 'last_result'];
    expect(Object.keys(doc.components.schemas.TaskStatus.properties)).toEqual(taskFields);
    const lastRun = doc.components.schemas.Anomalies.properties.detection.properties.last_run;
    expect([lastRun.type, Object.keys(lastRun.properties)]).toEqual([['object', 'null'], taskFields]);
    // A charset the parser cannot read is answered 415 in the error shape, as declared.
    const response = await call(base, '/api/ws/client-metrics', { method: 'POST', rawBody: '{}', headers: { 'content-type': 'application/json; charset=klingon' } });
    expect(response).toMatchObject({ status: 415, body: { error: { code: 'unsupported_charset' } } });
  });

  it('GET /api/ws/health and /health/websocket answer 503 with their normal body when the database is down', async () => {
    const down = { ...fx.service.context.database, pool: { query: async () => Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:1')) } } as unknown as typeof fx.service.context.database;
    const server = await listenHttp(createApp({ ...fx.service.context, database: down, prometheus: undefined }));
    try {
      const health = await call(server.url, '/api/ws/health');
      expect(health).toMatchObject({ status: 503, body: { status: 'down', reasons: ['PostgreSQL: not reachable'], checks: { postgres: { ok: false, detail: 'not reachable' } } } });
      const route = fx.routes.find((r) => r.path === '/api/ws/health')!;
      expect(route.otherResponses?.[503]?.schema.safeParse(health.body).success).toBe(true);
      const websocket = await call(server.url, '/health/websocket');
      expect(websocket).toMatchObject({ status: 503, body: { status: 'unhealthy', activeConnections: null } });
      expect(fx.routes.find((r) => r.path === '/health/websocket')!.otherResponses?.[503]?.schema.safeParse(websocket.body).success).toBe(true);
    } finally {
      await server.close();
    }
  });

  it('GET /api/ws/health is degraded, saying why, when the Watchdog has not arrived for more than 5 minutes (Alertmanager configured)', async () => {
    const minute = 60_000;
    // Health results not reused (healthCacheMs 0): each read below follows a change to the alerts table.
    const upFor = (ms: number, overrides: Partial<typeof fx.service.context> = {}) =>
      listenHttp(createApp({ ...fx.service.context, startedAt: new Date(Date.now() - ms), ...overrides }, { healthCacheMs: 0 }));
    type Health = { status: string; reasons: string[]; checks: { watchdog: { configured: boolean; ok: boolean; detail: string } }; service: { watchdog_last_seen_at: string | null } };
    const health = async (url: string) => {
      const response = await call(url, '/api/ws/health');
      expect(response.status).toBe(200);
      expectMatchesSchema('get', '/api/ws/health', response.body);
      return response.body as Health;
    };
    const cause = 'Rule evaluation, Prometheus → Alertmanager or Alertmanager → this webhook is broken';
    // Never arrived, the service up for 10 minutes: degraded (Prometheus, Alertmanager and PostgreSQL answer).
    let server = await upFor(10 * minute + 1_000);
    try {
      const never = await health(server.url);
      const detail = `The Watchdog alert has never reached the webhook in the 10 min the service has been up (more than 5 min): alerts may not be reaching anyone. ${cause}, or Alertmanager does not route Watchdog to this service (docs/runbooks.md#watchdog).`;
      expect(never).toMatchObject({ status: 'degraded', reasons: [detail], checks: { watchdog: { configured: true, ok: false, detail } }, service: { watchdog_last_seen_at: null } });
    } finally {
      await server.close();
    }
    // Up for 4 minutes: not expected yet.
    server = await upFor(4 * minute);
    try {
      expect(await health(server.url)).toMatchObject({ status: 'ok', reasons: [], checks: { watchdog: { ok: true } } });
    } finally {
      await server.close();
    }
    // Alertmanager delivers it: ok again, whatever the uptime.
    const fingerprint = 'feedfacecafe00dd';
    const watchdog = (startsAt: string) => ({ version: '4', status: 'firing', receiver: 'watchdog', alerts: [{ status: 'firing', labels: { alertname: 'Watchdog', severity: 'none' }, annotations: {}, startsAt, fingerprint }] });
    const startsAt = new Date(Date.now() - 3_600_000).toISOString();
    try {
      expect(await post('/api/ws/alerts/webhook', watchdog(startsAt))).toMatchObject({ status: 200 });
      const seen = (await client.query<{ updated_at: Date }>('SELECT updated_at FROM alerts WHERE fingerprint = $1', [fingerprint])).rows[0]!.updated_at;
      server = await upFor(60 * minute);
      try {
        expect(await health(server.url)).toMatchObject({
          status: 'ok',
          reasons: [],
          checks: { watchdog: { ok: true, detail: `The Watchdog alert last reached the webhook at ${seen.toISOString()}.` } },
          service: { watchdog_last_seen_at: seen.toISOString() },
        });
        // Seven minutes without it: degraded. (Its row resolved by a read, as a Watchdog Alertmanager dropped is, still counts as seen.)
        await client.query("UPDATE alerts SET updated_at = updated_at - interval '7 minutes', status = 'resolved', resolved_by = 'reconciliation', ends_at = now() WHERE fingerprint = $1", [fingerprint]);
        const late = new Date(seen.getTime() - 7 * minute).toISOString();
        const detail = `The Watchdog alert last reached the webhook at ${late}, 7 min ago (more than 5 min): alerts may not be reaching anyone. ${cause} (docs/runbooks.md#watchdog).`;
        expect(await health(server.url)).toMatchObject({ status: 'degraded', reasons: [detail], checks: { watchdog: { ok: false, detail } }, service: { watchdog_last_seen_at: late } });
      } finally {
        await server.close();
      }
      // A service started since is not stale: nothing could be delivered while it was down.
      server = await upFor(2 * minute);
      try {
        expect(await health(server.url)).toMatchObject({ status: 'ok', checks: { watchdog: { ok: true } } });
      } finally {
        await server.close();
      }
      // Without Alertmanager there is no Watchdog to expect.
      server = await upFor(60 * minute, { alertmanager: undefined });
      try {
        expect(await health(server.url)).toMatchObject({ status: 'ok', reasons: [], checks: { watchdog: { configured: false, ok: false } } });
      } finally {
        await server.close();
      }
    } finally {
      await client.query('DELETE FROM alerts WHERE fingerprint = $1', [fingerprint]);
    }
  });

  it('GET /metrics exposes the service’s own metrics', async () => {
    const response = await call(base, '/metrics');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/plain');
    const text = response.body as string;
    // 8 seeded, a batch of 2, a beacon, one at the bounds of the stored time range.
    expect(text).toMatch(/^socketscope_client_reports_accepted_total(\{[^}]*\})? 12$/m);
    expect(text).toContain('http_server_request_duration_seconds_bucket');
    expect(text).toMatch(/http_route="\/api\/ws\/client-metrics"/);
    // Each scheduled run is counted by task and outcome (what SocketscopeTaskFailing reads).
    const runs = (exposition: string, outcome: string) => {
      const line = exposition.split('\n').find((l) => l.startsWith('socketscope_task_duration_seconds_count{') && l.includes('socketscope_task="partition-maintenance"') && l.includes(`socketscope_task_outcome="${outcome}"`));
      return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(' ') + 1));
    };
    const before = runs(text, 'ok');
    expect(before).toBeGreaterThanOrEqual(1);
    await fx.service.scheduler.runNow('partition-maintenance');
    const after = (await call(base, '/metrics')).body as string;
    expect(runs(after, 'ok')).toBe(before + 1);
    expect(runs(after, 'error')).toBe(0);
  });

  it('answers unknown routes with 404 in the error shape and honours the CORS allow-list', async () => {
    expect(await call(base, '/api/ws/nope')).toMatchObject({ status: 404, body: { error: { code: 'not_found' } } });
    const denied = await fetch(`${base}/api/ws/client-metrics`, { method: 'OPTIONS', headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' } });
    expect(denied.headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe('retention', () => {
  it('drops day partitions older than the retention and keeps recent ones', async () => {
    const pool = fx.service.context.database.pool;
    const today = startOfUtcDay(new Date());
    const days = [40, 31, 30, 29].map((d) => new Date(today.getTime() - d * DAY));
    for (const day of days) {
      await ensurePartitions(pool, { from: day, daysAhead: 0 });
      await insertClientReports(fx.service.context.database, [storedRow(new Date(day.getTime() + 3_600_000), `retention-${partitionName(day)}`)]);
    }
    const result = await maintainPartitions(pool, { retentionDays: 30 });
    expect(result.dropped).toEqual([partitionName(days[0]!), partitionName(days[1]!)]);
    const names = (await listPartitions(pool)).map((p) => p.name);
    expect(names).not.toContain(partitionName(days[0]!));
    expect(names).not.toContain(partitionName(days[1]!));
    expect(names).toEqual(expect.arrayContaining([partitionName(days[2]!), partitionName(days[3]!), partitionName(today), partitionName(new Date(today.getTime() + 2 * DAY))]));
    const kept = await client.query("SELECT session_id FROM client_reports WHERE session_id LIKE 'retention-%' ORDER BY session_id");
    expect(kept.rows.map((r) => r.session_id)).toEqual([`retention-${partitionName(days[2]!)}`, `retention-${partitionName(days[3]!)}`]);
    // Rows of kept days are untouched (the UX seed of three days ago).
    expect(Number((await client.query("SELECT count(*) AS n FROM client_reports WHERE session_id LIKE 'anscombe-%'")).rows[0].n)).toBe(11);
  });

  it('detaches an expired day next to a long read without failing or holding up ingest; a wait cut short is finished by the next run', async () => {
    const pool = fx.service.context.database.pool;
    const old = new Date(startOfUtcDay(new Date()).getTime() - 45 * DAY);
    await ensurePartitions(pool, { from: old, daysAhead: 0 });
    const reader = new pg.Client({ connectionString: fx.databaseUrl });
    await reader.connect();
    try {
      await reader.query('BEGIN');
      await reader.query('SELECT count(*) FROM client_reports');
      // The detach waits for the read (here only 200 ms), and ingest goes on meanwhile.
      await expect(dropExpiredPartitions(pool, { retentionDays: 30, detachTimeoutMs: 200 })).rejects.toMatchObject({ code: '55P03' });
      // Half way: detach-pending (queries no longer see the day; the next run finalizes it).
      const pending = await pool.query('SELECT i.inhdetachpending AS pending FROM pg_inherits i WHERE i.inhrelid = to_regclass($1)', [partitionName(old)]);
      expect(pending.rows).toEqual([{ pending: true }]);
      const accepted = await post('/api/ws/client-metrics', clientReport({ session: 'during-detach' }));
      expect(accepted.status).toBe(202);
    } finally {
      await reader.query('ROLLBACK');
      await reader.end();
    }
    expect(await dropExpiredPartitions(pool, { retentionDays: 30 })).toEqual([partitionName(old)]);
    expect((await listPartitions(pool)).map((p) => p.name)).not.toContain(partitionName(old));
  });
});
