/**
 * The SQL panels of the provisioned "WebSocket clients" dashboard, run as
 * Grafana runs them (its time macros expanded) against a real PostgreSQL with
 * our migrations and seeded client reports: every query executes; the two
 * tables give the exact figures, leaving out what lies outside the time range;
 * and once the hours are rolled up they give the same figures from the
 * rollups, equal to the analytics API's.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expandTimeMacros, sqlQueries, variableDefaults } from '../../grafana/src/panels.ts';
import { grafanaReaderSettings } from '../../grafana/src/reader-settings.ts';
import { geographicDistribution } from '../../src/analytics/geography.ts';
import { clientMetricsSummary } from '../../src/analytics/summary.ts';
import { rollUp, rolledSpan, spanCteSql } from '../../src/analytics/rollups.ts';
import { type AnomalySource, insertAnomalies } from '../../src/analytics/storage/anomalies.ts';
import { type ClientReportRow, insertClientReports } from '../../src/analytics/storage/client-reports.ts';
import { type Database, openDatabase } from '../../src/analytics/storage/database.ts';
import { migrate } from '../../src/analytics/storage/migrate.ts';
import { ensurePartitions } from '../../src/analytics/storage/partitions.ts';
import { Stack } from '../../src/stack/index.ts';
import { storedRow } from './api/analytics-fixture.ts';

const DAY = 86_400_000;
const stack = new Stack('grafana-sql');
let database: Database;

const load = (name: string) => JSON.parse(readFileSync(new URL(`../../grafana/dashboards/${name}.json`, import.meta.url), 'utf8')) as Record<string, unknown>;
const dashboard = load('websocket-clients');
const queries = sqlQueries(dashboard);

const to = new Date();
const from = new Date(to.getTime() - DAY);
const at = (minutesAgo: number) => new Date(to.getTime() - minutesAgo * 60_000);
const HOUR = 3_600_000;
/** Between `from` and the first whole hour after it. */
const leftEdge = new Date(from.getTime() + Math.floor((Math.ceil(from.getTime() / HOUR) * HOUR - from.getTime()) / 2));
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
    // f: half a minute ago, after the last rolled-up hour (the raw edge at the end of the range).
    storedRow(at(0.5), 'f', { country: 'NL', attempts: 1, opens: 1 }),
    // DE: c never connected (no latency), d is slow. c: before the first whole hour of the range (the raw edge at its start).
    storedRow(leftEdge, 'c', { country: 'DE', attempts: 2, opens: 0, page_load_ms: 2000 }),
    storedRow(at(15), 'd', { country: 'DE', attempts: 1, opens: 1, ...latency(10, 300), page_load_ms: 3000, lcp_ms: 2500, inp_ms: 400 }),
    // An hour after the range, for its own range: one failed attempt in 20 000.
    storedRow(at(-60), 'many', { country: 'SE', attempts: 20_000, opens: 19_999 }),
    // Outside the range: counted nowhere.
    storedRow(new Date(to.getTime() - 3 * DAY + 60_000), 'old', { country: 'NL', attempts: 9, opens: 9, ...latency(100, 1), page_load_ms: 1 }),
  ]);
});

afterAll(async () => {
  await database?.close();
  await stack.stop();
});

/** Every country on its own (the dashboard's default folds countries under 10 clients into `other`). */
const UNFOLDED = { ...variableDefaults(dashboard), min_clients: '1' };

/** A panel's rows over the range, in a session with the settings of Grafana's login (read-only among them). */
async function run(panel: string, range = { from, to }, variables: Record<string, string> = UNFOLDED): Promise<unknown[]> {
  const query = queries.find((q) => q.panel === panel);
  if (!query) throw new Error(`no SQL panel "${panel}" in websocket-clients.json`);
  const client = await database.pool.connect();
  try {
    for (const [name, value] of grafanaReaderSettings()) await client.query(`SET ${name} = ${value}`);
    return (await client.query(expandTimeMacros(query.sql, range.from, range.to, variables))).rows;
  } finally {
    await client.query('RESET ALL');
    client.release();
  }
}

const GLANCE = 'Client reports at a glance';
const BANDS = 'Page load and LCP by WebSocket latency band (client reports)';
const ANOMALIES = 'annotation: Anomalies (socketscope)';
const GEOGRAPHY = 'Geography: clients, latency and connection success by country (client reports)';

const expectedBands = [
  { latency_band: '< 50 ms', sessions: 1, avg_page_load_ms: 800, avg_lcp_ms: 600, avg_inp_ms: 80 },
  { latency_band: '50-100 ms', sessions: 1, avg_page_load_ms: 1200, avg_lcp_ms: 900, avg_inp_ms: 100 },
  { latency_band: '>= 250 ms', sessions: 1, avg_page_load_ms: 3000, avg_lcp_ms: 2500, avg_inp_ms: 400 },
];
// a (2 reports), b, f, c, d: 5 of 8 attempts opened; (400 + 2400 + 600 + 3000) / 70 = 91.4 ms; the reports' p50s
// [30, 40, 80, 300] → rank 2, 40 ms (39.2), p95s → rank 4, 300 ms in (1.1^59, 1.1^60] (290.3); no drops, no messages.
const expectedGlance = {
  reports: 6, clients: 5, countries: 2, success_rate: 0.625, drops_per_connected_hour: 0, errors_per_message: null, avg_latency_ms: 91.4, p50_latency_ms: 39.2, p95_latency_ms: 290.3,
};

/** The API's summary of the range in the panel's columns and rounding. */
async function summaryFromApi(range: { from: Date; to: Date }): Promise<Record<string, unknown>> {
  const s = await clientMetricsSummary(database.pool, range);
  const round = (v: number | null, digits: number) => (v === null ? null : Math.round(v * 10 ** digits) / 10 ** digits);
  return {
    reports: s.reports,
    clients: s.clients,
    countries: s.countries,
    success_rate: round(s.connection.success_rate, 4),
    drops_per_connected_hour: round(s.connection.drops_per_hour, 2),
    errors_per_message: round(s.messages.error_rate, 4),
    avg_latency_ms: round(s.latency_ms.avg, 1),
    p50_latency_ms: round(s.latency_ms.p50, 1),
    p95_latency_ms: round(s.latency_ms.p95, 1),
  };
}

const expectedCountries = [
  // (400 + 2400 + 600) / (10 + 30 + 20) = 56.7 ms; the reports' p50s [30, 40, 80] → rank 2, 40 ms, in the bin
  // (1.1^38, 1.1^39]: 1.1^38.5 = 39.2; p95s [30, 40, 80] → rank 3, 80 ms: 1.1^45.5 = 76.4 (rollups.ts, histogramQuantile);
  // min(opens, attempts) / attempts = (1 + 1 + 1 + 1) / (1 + 2 + 1 + 1) = 0.8.
  { country: 'NL', clients: 3, avg_latency_ms: 56.7, p50_latency_ms: 39.2, p95_latency_ms: 76.4, success_rate: 0.8 },
  // c has no latency: 3000 / 10, and 300 ms in (1.1^59, 1.1^60]: 1.1^59.5 = 290.3; (0 + 1) / (2 + 1).
  { country: 'DE', clients: 2, avg_latency_ms: 300, p50_latency_ms: 290.3, p95_latency_ms: 290.3, success_rate: 0.3333 },
];

describe('Grafana SQL panels (WebSocket clients dashboard)', () => {
  it('every SQL query of the dashboard runs against the migrated schema', async () => {
    expect(queries.map((q) => q.panel)).toEqual([GLANCE, BANDS, GEOGRAPHY, ANOMALIES]);
    for (const query of queries) await expect(run(query.panel), query.panel).resolves.toBeDefined();
  });

  it("annotates each dashboard with the anomalies of its own streams in the range", async () => {
    const anomaly = (stream: string, source: AnomalySource, minutesAgo: number) => ({
      stream, source, observed_at: at(minutesAgo), value: 0.412, expected: 0.05, lower_bound: 0.02, upper_bound: 0.08, score: 0.97, deviation: 12.1, severity: 'high' as const,
    });
    await insertAnomalies(database.pool, [
      anomaly('message_latency_p95_seconds', 'prometheus', 20),
      anomaly('client_reports_mean_rtt_ms', 'client_reports', 40),
      anomaly('active_connections', 'prometheus', 3 * 24 * 60),
    ]);
    const annotationOf = async (name: string) => {
      const query = sqlQueries(load(name)).find((q) => q.panel === ANOMALIES)!;
      return (await database.pool.query(expandTimeMacros(query.sql, from, to, variableDefaults(load(name))))).rows;
    };
    expect(await annotationOf('websocket-server')).toEqual([
      { time: at(20), text: 'high anomaly in message_latency_p95_seconds: 0.412, expected 0.050 (band 0.020 to 0.080)', tags: 'anomaly,high,message_latency_p95_seconds' },
    ]);
    expect(await annotationOf('websocket-clients')).toEqual([
      { time: at(40), text: 'high anomaly in client_reports_mean_rtt_ms: 0.412, expected 0.050 (band 0.020 to 0.080)', tags: 'anomaly,high,client_reports_mean_rtt_ms' },
    ]);
    await database.pool.query('DELETE FROM anomalies');
  });

  it('the range at a glance from raw rows: reports, clients, countries, success, drops, errors and latency', async () => {
    expect(await run(GLANCE)).toEqual([expectedGlance]);
  });

  it('page load and vitals by latency band from raw rows: one row per band with sessions, from per-session means', async () => {
    expect(await run(BANDS)).toEqual(expectedBands);
  });

  it('geography from raw rows: clients, pooled latency, report percentiles and connection success per country', async () => {
    expect(await run(GEOGRAPHY)).toEqual(expectedCountries);
  });

  it('geography folds countries under the dashboard\'s min_clients into other: all of them at the default 10, NL alone from 3', async () => {
    expect(variableDefaults(dashboard).min_clients).toBe('10');
    // Both countries: 5 clients; (3400 + 3000) / 70 = 91.4 ms; p50s [30, 40, 80, 300] → rank 2, 40 ms (39.2);
    // p95s → rank 4, 300 ms (290.3); (4 + 1) / (5 + 3) = 0.625.
    const both = { country: 'other', clients: 5, avg_latency_ms: 91.4, p50_latency_ms: 39.2, p95_latency_ms: 290.3, success_rate: 0.625 };
    expect(await run(GEOGRAPHY, { from, to }, variableDefaults(dashboard))).toEqual([both]);
    expect(await run(GEOGRAPHY, { from, to }, { ...UNFOLDED, min_clients: '3' })).toEqual([expectedCountries[0], { ...expectedCountries[1], country: 'other' }]);
  });

  it('never shows a success rate short of the whole as 100%: 19 999 of 20 000 reads 99.99%', async () => {
    expect(await run(GEOGRAPHY, { from: at(-30), to: at(-90) })).toEqual([
      { country: 'SE', clients: 1, avg_latency_ms: null, p50_latency_ms: null, p95_latency_ms: null, success_rate: 0.9999 },
    ]);
  });

  describe('once the hours are rolled up', () => {
    const fourDays = { from: new Date(to.getTime() - 4 * DAY), to };

    beforeAll(async () => {
      await rollUp(database.pool, to);
    });

    /** The panels over the last day and four days: the figures of the raw rows, equal to the API's. */
    async function expectSameFigures(): Promise<void> {
      // The range holds whole rolled-up hours (and over 4 days whole rolled-up days), so the panels read rollups.
      expect(await rolledSpan(database.pool, { from, to })).not.toBeNull();
      expect(await run(GLANCE)).toEqual([expectedGlance]);
      expect(await run(BANDS)).toEqual(expectedBands);
      expect(await run(GEOGRAPHY)).toEqual(expectedCountries);
      for (const range of [{ from, to }, fourDays]) expect(await run(GLANCE, range), `summary over ${range.from.toISOString()}`).toEqual([await summaryFromApi(range)]);
      const span = await rolledSpan(database.pool, fourDays);
      expect(span!.daysTo.getTime() - span!.daysFrom.getTime()).toBeGreaterThanOrEqual(DAY);
      // 'old' joins NL: 9 attempts and 9 opens, 100 RTTs of 1 ms, p50 and p95 1 ms.
      expect(await run(GEOGRAPHY, fourDays)).toEqual([
        // (3400 + 100) / 160 = 21.9 ms; p50s [1, 30, 40, 80] → rank 2, 30 ms in (1.1^35, 1.1^36]: 1.1^35.5 = 29.5; 13 / 14 = 0.9286.
        { country: 'NL', clients: 4, avg_latency_ms: 21.9, p50_latency_ms: 29.5, p95_latency_ms: 76.4, success_rate: 0.9286 },
        expectedCountries[1],
      ]);
      for (const [range, minClients] of [[{ from, to }, 1], [fourDays, 1], [{ from, to }, 3], [{ from, to }, 10]] as const) {
        const api = await geographicDistribution(database.pool, range, minClients);
        const fromApi = api.countries.map((c) => ({
          country: c.country,
          clients: c.clients,
          avg_latency_ms: c.latency_ms.avg === null ? null : Math.round(c.latency_ms.avg * 10) / 10,
          p50_latency_ms: c.latency_ms.p50 === null ? null : Math.round(c.latency_ms.p50 * 10) / 10,
          p95_latency_ms: c.latency_ms.p95 === null ? null : Math.round(c.latency_ms.p95 * 10) / 10,
          success_rate: c.connection.success_rate === null ? null : Math.round(c.connection.success_rate * 10_000) / 10_000,
        }));
        expect(await run(GEOGRAPHY, range, { ...UNFOLDED, min_clients: String(minClients) }), `${minClients} over ${range.from.toISOString()}`).toEqual(fromApi);
      }
    }

    it('with the raw rows kept (as until retention): the same figures as from raw rows and the API, nothing counted twice', async () => {
      await expectSameFigures();
    });

    it('without the raw rows of the rolled-up hours: still the same figures, so the panels read the rollups there', async () => {
      // At least the reports of 90 and 120 minutes ago: the rollup reaches the last whole hour before to − 2 min.
      const deleted = await database.pool.query('DELETE FROM client_reports WHERE received_at >= $1 AND received_at < (SELECT rolled_until FROM client_report_rollup_state)', [
        new Date(Math.ceil(from.getTime() / HOUR) * HOUR),
      ]);
      expect(deleted.rowCount).toBeGreaterThanOrEqual(2);
      await expectSameFigures();
    });

    it('finds the same rolled-up span whatever the session\'s time zone, across a DST change', async () => {
      const sql = `WITH ${spanCteSql("'2026-03-08T00:30:00Z'", "'2026-03-10T03:00:00Z'")} SELECT start, "end", days_from, days_to FROM span`;
      const client = await database.pool.connect();
      try {
        for (const zone of ['UTC', 'America/New_York']) {
          await client.query(`SET TimeZone = '${zone}'`);
          // New York springs forward on 2026-03-08: a day added there lasts 23 hours, and would start the days an hour early.
          expect((await client.query(sql)).rows[0], zone).toEqual({
            start: new Date('2026-03-08T01:00:00Z'),
            end: new Date('2026-03-10T03:00:00Z'),
            days_from: new Date('2026-03-09T00:00:00Z'),
            days_to: new Date('2026-03-10T00:00:00Z'),
          });
        }
      } finally {
        await client.query('RESET ALL');
        client.release();
      }
    });

  });
});
