/**
 * The analytics service on real components for the API tests: a fresh
 * PostgreSQL database, Prometheus scraping a fixture target with fixed
 * values, Alertmanager routing to the service's webhook, and the service
 * itself started in-process through startService().
 */
import { pino } from 'pino';
import { expect } from 'vitest';
import type { Geography } from '../../../src/analytics/geography.ts';
import type { clientMetricsSummary } from '../../../src/analytics/summary.ts';
import type { ClientReportRow } from '../../../src/analytics/storage/client-reports.ts';
import { stringify } from 'yaml';
import { allRoutes } from '../../../src/api/app.ts';
import type { Route } from '../../../src/api/route-spec.ts';
import { type RunningService, startService } from '../../../src/api/service.ts';
import { loadConfig } from '../../../src/config.ts';
import { Stack, freePort, renderAlertmanagerConfig } from '../../../src/stack/index.ts';
import { listenHttp, type TestHttpServer } from '../../helpers/http.ts';

export const ADMIN_TOKEN = 'test-admin-token-0123456789';

/** What the fixture target exposes; Prometheus scrapes it every second. */
export const FIXTURE_METRICS = `# TYPE websocket_server_connection_count gauge
websocket_server_connection_count 42
# TYPE websocket_server_connection_opened_total counter
websocket_server_connection_opened_total 1000
`;

export interface AnalyticsFixture {
  stack: Stack;
  service: RunningService;
  databaseUrl: string;
  prometheusUrl: string;
  alertmanagerUrl: string;
  target: TestHttpServer;
  routes: Route[];
  stop(): Promise<void>;
}

export async function startAnalyticsFixture(env: Record<string, string> = {}): Promise<AnalyticsFixture> {
  const stack = new Stack('analytics-api');
  let target: TestHttpServer | undefined;
  try {
    target = await listenHttp((_req, res) => {
      res.setHeader('content-type', 'text/plain; version=0.0.4');
      res.end(FIXTURE_METRICS);
    });
    const postgres = await stack.postgres();
    // The service's port is chosen first so Alertmanager can route its webhook to it.
    const port = await freePort();
    const alertmanager = await stack.alertmanager(renderAlertmanagerConfig({ 'http://app:8080': `http://127.0.0.1:${port}` }, { groupWait: '1s', groupInterval: '1s' }));
    const prometheus = await stack.prometheus({
      config: stringify({
        global: { scrape_interval: '1s', evaluation_interval: '1s' },
        scrape_configs: [{ job_name: 'fixture', static_configs: [{ targets: [`127.0.0.1:${target.port}`] }] }],
      }),
    });
    const config = loadConfig({
      PORT: String(port),
      DATABASE_URL: postgres.url,
      PROMETHEUS_URL: prometheus.url,
      ALERTMANAGER_URL: alertmanager.url,
      SOCKETSCOPE_ADMIN_TOKEN: ADMIN_TOKEN,
      TRUSTED_COUNTRY_HEADER: 'cf-ipcountry',
      TRUSTED_REGION_HEADER: 'cf-region-code',
      ANOMALY_INTERVAL_SECONDS: '0',
      // Reads stay on the exact raw path (rollups have their own test).
      ROLLUP_INTERVAL_SECONDS: '0',
      INGEST_RATE_LIMIT_PER_MINUTE: '100000',
      ADMIN_RATE_LIMIT_PER_MINUTE: '100000',
      LOG_LEVEL: 'silent',
      ...env,
    });
    const service = await startService(config, { logger: pino({ level: 'silent' }) });
    const fixtureTarget = target;
    return {
      stack,
      service,
      databaseUrl: postgres.url,
      prometheusUrl: prometheus.url,
      alertmanagerUrl: alertmanager.url,
      target,
      routes: allRoutes(service.context),
      async stop() {
        await service.close();
        await fixtureTarget.close();
        await stack.stop();
      },
    };
  } catch (error) {
    await target?.close();
    await stack.stop();
    throw error;
  }
}

export interface ApiResponse {
  status: number;
  headers: Headers;
  body: unknown;
}

export async function call(
  baseUrl: string,
  path: string,
  { method = 'GET', body, token, headers = {}, rawBody }: { method?: string; body?: unknown; token?: string; headers?: Record<string, string>; rawBody?: string } = {},
): Promise<ApiResponse> {
  const response = await fetch(`${baseUrl}${path}`, {
    method,
    headers: {
      ...(body !== undefined || rawBody !== undefined ? { 'content-type': 'application/json' } : {}),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...headers,
    },
    body: rawBody ?? (body === undefined ? undefined : JSON.stringify(body)),
  });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // Not JSON (e.g. /metrics): keep the text.
  }
  return { status: response.status, headers: response.headers, body: parsed };
}

/** A valid schema-version-1 report (the contract's example), with overrides per field group. */
export function clientReport(overrides: {
  session: string;
  connection?: Partial<Record<'attempts' | 'opens' | 'drops' | 'reconnect_attempts' | 'reconnect_successes' | 'outage_ms' | 'connected_ms', number>>;
  messages?: Partial<Record<'sent' | 'received' | 'queued' | 'dropped' | 'errors', number>>;
  latency?: { count: number; avg: number | null; p50: number | null; p95: number | null; max: number | null };
  vitals?: Record<string, number>;
  ux?: { interactions: number; errors: number };
}): Record<string, unknown> {
  return {
    schema_version: 1,
    session_id: overrides.session.padEnd(16, '0'),
    sent_at: '2026-11-24T10:00:00.000Z',
    window_start: '2026-11-24T09:59:00.000Z',
    window_end: '2026-11-24T10:00:00.000Z',
    page_path: '/dashboard',
    app: { name: 'dashboard', version: '1.4.2' },
    connection: { attempts: 1, opens: 1, drops: 0, reconnect_attempts: 0, reconnect_successes: 0, outage_ms: 0, connected_ms: 60_000, close_codes: {}, ...overrides.connection },
    messages: { sent: 10, received: 20, queued: 0, dropped: 0, errors: 0, ...overrides.messages },
    latency_ms: overrides.latency ?? { count: 0, avg: null, p50: null, p95: null, max: null },
    ...(overrides.vitals ? { vitals: overrides.vitals } : {}),
    ux: overrides.ux ?? { interactions: 5, errors: 0 },
  };
}

/** A stored row (for seeding past days directly, as the API stamps rows with the current time). */
export function storedRow(receivedAt: Date, session: string, fields: Partial<ClientReportRow> = {}): ClientReportRow {
  return {
    received_at: receivedAt,
    schema_version: 1,
    session_id: session,
    sent_at: receivedAt.toISOString(),
    window_start: receivedAt.toISOString(),
    window_end: receivedAt.toISOString(),
    page_path: '/',
    app_name: null,
    app_version: null,
    country: 'ZZ',
    region: null,
    attempts: 1,
    opens: 1,
    drops: 0,
    reconnect_attempts: 0,
    reconnect_successes: 0,
    outage_ms: 0,
    connected_ms: 60_000,
    close_codes: {},
    messages_sent: 0,
    messages_received: 0,
    messages_queued: 0,
    messages_dropped: 0,
    message_errors: 0,
    latency_count: 0,
    latency_avg_ms: null,
    latency_p50_ms: null,
    latency_p95_ms: null,
    latency_max_ms: null,
    network_type: null,
    effective_type: null,
    network_rtt_ms: null,
    downlink_mbps: null,
    lcp_ms: null,
    inp_ms: null,
    cls: null,
    fcp_ms: null,
    ttfb_ms: null,
    page_load_ms: null,
    ux_interactions: 3,
    ux_errors: 0,
    ...fields,
  };
}

type Summary = Awaited<ReturnType<typeof clientMetricsSummary>>;

/**
 * A summary read from rollups against the exact one from raw rows: counts,
 * sums, rates and the maximum equal, the average to 9 digits, percentiles
 * within the histograms' 10% bins.
 */
export function expectSameSummary(got: Summary, exact: Summary): void {
  expect({ ...got, latency_ms: undefined, vitals_p75: undefined }).toEqual({ ...exact, latency_ms: undefined, vitals_p75: undefined });
  expect(got.latency_ms.avg).toBeCloseTo(exact.latency_ms.avg!, 9);
  expect(got.latency_ms.max).toBe(exact.latency_ms.max);
  for (const [value, wanted] of [
    [got.latency_ms.p50, exact.latency_ms.p50],
    [got.latency_ms.p95, exact.latency_ms.p95],
    [got.vitals_p75.lcp_ms, exact.vitals_p75.lcp_ms],
    [got.vitals_p75.cls, exact.vitals_p75.cls],
  ] as const) {
    expect(Math.abs(value! - wanted!) / wanted!).toBeLessThan(0.1);
  }
}

/** The latency fields of a stored report whose average is `latency`, in the proportions the rollup tests use. */
export function latencyFields(latency: number): Pick<ClientReportRow, 'latency_avg_ms' | 'latency_p50_ms' | 'latency_p95_ms' | 'latency_max_ms'> {
  return { latency_avg_ms: latency, latency_p50_ms: latency * 0.9, latency_p95_ms: latency * 2, latency_max_ms: latency * 3 };
}

/** A geography's counts and connection figures per country and region (no latency), to compare two reads exactly. */
export const geographyCounts = (g: Geography) =>
  g.countries.map((c) => ({
    country: c.country,
    clients: c.clients,
    reports: c.reports,
    connection: c.connection,
    regions: c.regions.map((r) => ({ region: r.region, clients: r.clients, reports: r.reports, connection: r.connection })),
  }));
