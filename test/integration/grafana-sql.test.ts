/**
 * The SQL panels of the provisioned "WebSocket clients" dashboard, run as
 * Grafana runs them (its `$__timeFilter` macro expanded) against a real
 * PostgreSQL with our migrations and seeded client reports: every query
 * executes, and the two tables give the exact per-session figures, leaving
 * out what lies outside the time range.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sqlQueries } from '../../grafana/src/panels.ts';
import { type ClientReportRow, insertClientReports } from '../../src/analytics/storage/client-reports.ts';
import { type Database, openDatabase } from '../../src/analytics/storage/database.ts';
import { migrate } from '../../src/analytics/storage/migrate.ts';
import { ensurePartitions } from '../../src/analytics/storage/partitions.ts';
import { Stack } from '../../src/stack/index.ts';
import { storedRow } from './api/analytics-fixture.ts';

const DAY = 86_400_000;
const stack = new Stack('grafana-sql');
let database: Database;

const dashboard = JSON.parse(readFileSync(new URL('../../grafana/dashboards/websocket-clients.json', import.meta.url), 'utf8')) as Record<string, unknown>;
const queries = sqlQueries(dashboard);

/** Grafana's `$__timeFilter(column)` for the range [from, to]. */
function expandMacros(sql: string, from: Date, to: Date): string {
  const expanded = sql.replace(/\$__timeFilter\((\w+)\)/g, (_match, column: string) => `${column} BETWEEN '${from.toISOString()}' AND '${to.toISOString()}'`);
  expect(expanded, 'a Grafana macro this test does not expand').not.toMatch(/\$__/);
  return expanded;
}

const to = new Date();
const from = new Date(to.getTime() - DAY);
const at = (minutesAgo: number) => new Date(to.getTime() - minutesAgo * 60_000);
const latency = (count: number, avg: number | null): Partial<ClientReportRow> => ({ latency_count: count, latency_avg_ms: avg, latency_p50_ms: avg, latency_p95_ms: avg, latency_max_ms: avg });

beforeAll(async () => {
  const postgres = await stack.postgres();
  database = await openDatabase({ databaseUrl: postgres.url, dataDir: '' });
  await migrate(database.pool);
  await ensurePartitions(database.pool, { from: new Date(to.getTime() - 3 * DAY), daysAhead: 4 });
  await insertClientReports(database, [
    // NL: a, b, f. a's latency is pooled over its reports: (10·40 + 30·80) / 40 = 70 ms; its vitals are its page view's.
    storedRow(at(120), 'a', { country: 'NL', attempts: 1, opens: 1, ...latency(10, 40), page_load_ms: 1200, lcp_ms: 900, inp_ms: 100 }),
    storedRow(at(60), 'a', { country: 'NL', attempts: 2, opens: 1, ...latency(30, 80) }),
    storedRow(at(90), 'b', { country: 'NL', attempts: 1, opens: 1, ...latency(20, 30), page_load_ms: 800, lcp_ms: 600, inp_ms: 80 }),
    storedRow(at(30), 'f', { country: 'NL', attempts: 1, opens: 1 }),
    // DE: c never connected (no latency), d is slow.
    storedRow(at(45), 'c', { country: 'DE', attempts: 2, opens: 0, page_load_ms: 2000 }),
    storedRow(at(15), 'd', { country: 'DE', attempts: 1, opens: 1, ...latency(10, 300), page_load_ms: 3000, lcp_ms: 2500, inp_ms: 400 }),
    // Outside the range: counted nowhere.
    storedRow(new Date(to.getTime() - 3 * DAY + 60_000), 'old', { country: 'NL', attempts: 9, opens: 9, ...latency(100, 1), page_load_ms: 1 }),
  ]);
});

afterAll(async () => {
  await database?.close();
  await stack.stop();
});

async function run(panel: string): Promise<unknown[]> {
  const query = queries.find((q) => q.panel === panel);
  if (!query) throw new Error(`no SQL panel "${panel}" in websocket-clients.json`);
  return (await database.pool.query(expandMacros(query.sql, from, to))).rows;
}

describe('Grafana SQL panels (WebSocket clients dashboard)', () => {
  it('every SQL query of the dashboard runs against the migrated schema', async () => {
    expect(queries.map((q) => q.panel)).toEqual([
      'Page load and LCP by WebSocket latency band (client reports)',
      'Geography: clients, latency and connection success by country (client reports)',
    ]);
    for (const query of queries) await expect(database.pool.query(expandMacros(query.sql, from, to)), query.panel).resolves.toBeDefined();
  });

  it('page load and vitals by latency band: one row per band with sessions, from per-session latency', async () => {
    expect(await run('Page load and LCP by WebSocket latency band (client reports)')).toEqual([
      { latency_band: '< 50 ms', sessions: 1, avg_page_load_ms: 800, avg_lcp_ms: 600, avg_inp_ms: 80 },
      { latency_band: '50-100 ms', sessions: 1, avg_page_load_ms: 1200, avg_lcp_ms: 900, avg_inp_ms: 100 },
      { latency_band: '>= 250 ms', sessions: 1, avg_page_load_ms: 3000, avg_lcp_ms: 2500, avg_inp_ms: 400 },
    ]);
  });

  it('geography: clients, pooled latency, p95 of session latency and connection success per country', async () => {
    expect(await run('Geography: clients, latency and connection success by country (client reports)')).toEqual([
      // (400 + 2400 + 600) / (10 + 30 + 20) = 56.7 ms; p95 of [30, 70] = 68; (1 + 1 + 1 + 1) / (1 + 2 + 1 + 1) = 0.8.
      { country: 'NL', clients: 3, avg_latency_ms: 56.7, p95_session_latency_ms: 68, success_rate: 0.8 },
      // c has no latency: 3000 / 10; (0 + 1) / (2 + 1).
      { country: 'DE', clients: 2, avg_latency_ms: 300, p95_session_latency_ms: 300, success_rate: 0.333 },
    ]);
  });
});
