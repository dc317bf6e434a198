/**
 * Daily rollups and exact distinct clients on a real PostgreSQL: over ranges
 * made of whole days, whole hours and raw edges, reads from the rollups give
 * the same counts, sums and distinct clients (in total and per group) as the
 * exact raw path, and percentiles within the bin width; sessions that span
 * hours, midnights and groups, come back days later, or live only in a raw
 * edge are each counted once; an upgrade from hourly-only rollups builds the
 * same; and after retention drops the oldest days the counts still match the
 * rows that are left. The clustered success-rate interval is the same from
 * raw, hourly and daily rows, and the migration that added its sums backfills
 * rollups made before it from the raw rows still there. UX correlation from
 * the per-session hourly rows equals the raw path's, also after the migration
 * that added them backfilled them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type UxCorrelation, uxCorrelation } from '../../../src/analytics/correlation.ts';
import { geographicDistribution } from '../../../src/analytics/geography.ts';
import { maintainPartitions } from '../../../src/analytics/maintenance.ts';
import { rollUp, rolledSpan } from '../../../src/analytics/rollups.ts';
import { wilsonInterval } from '../../../src/analytics/statistics.ts';
import { type ClientReportRow, insertClientReports } from '../../../src/analytics/storage/client-reports.ts';
import { type Database, openDatabase } from '../../../src/analytics/storage/database.ts';
import { migrate } from '../../../src/analytics/storage/migrate.ts';
import { ensurePartitions, startOfUtcDay } from '../../../src/analytics/storage/partitions.ts';
import { clientMetricsSummary } from '../../../src/analytics/summary.ts';
import type { TimeRange } from '../../../src/analytics/time-range.ts';
import { Stack } from '../../../src/stack/index.ts';
import { type Cluster, byDefinition, expectInterval } from '../../unit/analytics/cluster-interval.ts';
import { randomSource } from '../../unit/analytics/synthetic-series.ts';
import { expectSameSummary, geographyCounts, latencyFields, storedRow } from './analytics-fixture.ts';

const MINUTE = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;
const stack = new Stack('daily-rollups');
let database: Database;
// A fixed clock in the past: yesterday 13:45 UTC. Data covers the five days before it.
const today = startOfUtcDay(new Date());
const now = new Date(today.getTime() - DAY + 13.75 * HOUR);
const D = startOfUtcDay(now);
const at = (days: number, hours: number) => new Date(D.getTime() + days * DAY + hours * HOUR);

const PLACES = [['DE', 'BE'], ['DE', 'BY'], ['FR', null], ['US', 'CA'], ['JP', null], ['BR', 'SP']] as const;

/** 400 sessions of 1 minute to 30 hours, reporting every 1–20 minutes; a tenth move to another group midway, a tenth come back two days later. */
function seed(): ClientReportRow[] {
  const random = randomSource(2026);
  const first = at(-4, 0).getTime();
  const rows: ClientReportRow[] = [];
  for (let s = 0; s < 400; s++) {
    const session = `daily-session-${String(s).padStart(4, '0')}`;
    let place = Math.floor(random() * PLACES.length);
    const start = first + Math.floor(random() * (now.getTime() - first - 30 * MINUTE) / MINUTE) * MINUTE;
    const duration = random() < 0.2 ? 30 * HOUR * random() : 3 * HOUR * random();
    const cadence = (1 + Math.floor(random() * 20)) * MINUTE;
    const moves = random() < 0.1;
    const returns = random() < 0.1;
    const bursts = returns ? [start, start + 2 * DAY] : [start];
    for (const burst of bursts) {
      for (let t = burst; t <= burst + duration && t < now.getTime(); t += cadence) {
        if (moves && t > burst + duration / 2) place = (place + 1) % PLACES.length;
        const [country, region] = PLACES[place]!;
        const latency = 10 + 300 * random() ** 2;
        rows.push(
          storedRow(new Date(t), session, {
            country,
            region,
            attempts: 1 + Math.floor(random() * 3),
            opens: 1,
            drops: random() < 0.1 ? 1 : 0,
            messages_sent: 10,
            message_errors: random() < 0.05 ? 1 : 0,
            latency_count: 1 + Math.floor(random() * 20),
            ...latencyFields(latency),
            lcp_ms: 1000 + 3000 * random(),
            cls: 0.3 * random(),
          }),
        );
      }
    }
  }
  return rows;
}

/**
 * NL/NH, two days before the clock, between 02:00 and 21:00: one report of 20 failed
 * attempts (a client behind a broken proxy) and 30 reports of one attempt that opened,
 * then ten reports of clients still connected (no attempt, no open: not clusters).
 */
const CLUSTERS: Cluster[] = [[20, 0], ...Array.from({ length: 30 }, (): Cluster => [1, 1]), ...Array.from({ length: 10 }, (): Cluster => [0, 0])];
function clusterRows(): ClientReportRow[] {
  return CLUSTERS.map(([attempts, opens], i) =>
    storedRow(at(-2, 2 + (i % 31) * 0.6 + (i < 31 ? 0.1 : 0.3)), `cluster-session-${String(i % 31).padStart(2, '0')}`, { country: 'NL', region: 'NH', attempts, opens }),
  );
}
/** The NL rows read from daily rows only, and from hourly rows (with raw edges around them). */
const NL_RANGES: Array<[string, TimeRange]> = [
  ['NL day', { from: at(-2, 0), to: at(-1, 0) }],
  ['NL hours', { from: at(-2, 1.5), to: at(-2, 23.5) }],
];

const RANGES: Array<[string, TimeRange]> = [
  ['days, hours and raw edges', { from: at(-4, 10.5), to: now }],
  ['whole days only', { from: at(-3, 0), to: at(-1, 0) }],
  ['hours of one day and raw edges', { from: at(-3, 5 + 1 / 3), to: at(-3, 23 + 2 / 3) }],
  ['across two midnights', { from: at(-4, 22.5), to: at(-2, 1.5) }],
  ['everything', { from: at(-5, 0), to: new Date(now.getTime() + 1000) }],
];

type Summary = Awaited<ReturnType<typeof clientMetricsSummary>>;
type Geography = Awaited<ReturnType<typeof geographicDistribution>>;
const exact = new Map<string, { summary: Summary; geography: Geography; correlation: UxCorrelation }>();

/** The same sessions and figures (sums added in another order: coefficients to 10 digits). */
function expectSameCorrelation(got: UxCorrelation, want: UxCorrelation): void {
  expect({ sessions: got.sessions, sessions_in_range: got.sessions_in_range, truncated: got.truncated }).toEqual({
    sessions: want.sessions,
    sessions_in_range: want.sessions_in_range,
    truncated: false,
  });
  got.pairs.forEach((pair, i) => {
    const w = want.pairs[i]!;
    expect({ id: pair.id, n: pair.n, status: pair.status, strength: pair.strength }).toEqual({ id: w.id, n: w.n, status: w.status, strength: w.strength });
    for (const side of ['pearson', 'spearman'] as const) {
      if (w[side] === null) expect(pair[side]).toBeNull();
      else for (const value of [pair[side]!.r, pair[side]!.p_value, pair[side]!.ci95?.lower, pair[side]!.ci95?.upper].map((v, k) => [v, [w[side]!.r, w[side]!.p_value, w[side]!.ci95?.lower, w[side]!.ci95?.upper][k]])) expect(value[0]).toBeCloseTo(value[1]!, 10);
    }
  });
}

beforeAll(async () => {
  const postgres = await stack.postgres();
  database = await openDatabase({ databaseUrl: postgres.url, dataDir: stack.runDir });
  await migrate(database.pool);
  await ensurePartitions(database.pool, { from: at(-5, 0), daysAhead: 6 });
  await insertClientReports(database, [...seed(), ...clusterRows()]);
  // Before any rollup every range is read exactly from the raw rows.
  for (const [name, range] of [...RANGES, ...NL_RANGES]) {
    expect(await rolledSpan(database.pool, range)).toBeNull();
    exact.set(name, {
      summary: await clientMetricsSummary(database.pool, range),
      geography: await geographicDistribution(database.pool, range, 1),
      correlation: await uxCorrelation(database.pool, range, 10),
    });
  }
  const rolled = await rollUp(database.pool, now);
  expect(rolled).toMatchObject({ hours: 4 * 24 + 13, days: 4 });
});

afterAll(async () => {
  await database?.close();
  await stack.stop();
});

const nlIntervals = (g: Geography) => {
  const nl = g.countries.find((c) => c.country === 'NL')!;
  return [nl.connection.success_rate_ci, nl.regions.find((r) => r.region === 'NH')!.connection.success_rate_ci];
};

describe('daily rollups', () => {
  it.each(RANGES)('give the exact counts, sums and distinct clients over %s', async (name, range) => {
    const span = await rolledSpan(database.pool, range);
    expect(span).not.toBeNull();
    if (name === 'days, hours and raw edges' || name === 'whole days only') expect(span!.daysTo.getTime()).toBeGreaterThan(span!.daysFrom.getTime());
    const { summary: want, geography: wantGeo } = exact.get(name)!;
    expect(want.clients).toBeGreaterThan(20);

    const summary = await clientMetricsSummary(database.pool, range);
    expectSameSummary(summary, want);

    const geography = await geographicDistribution(database.pool, range, 1);
    expect(geographyCounts(geography)).toEqual(geographyCounts(wantGeo));
  });

  it.each(RANGES)('give UX correlation per session from the per-session hourly rows as from the raw rows over %s', async (name, range) => {
    const want = exact.get(name)!.correlation;
    expect(want.sessions).toBeGreaterThan(20);
    expect(want.pairs.find((p) => p.id === 'latency_vs_lcp')).toMatchObject({ status: 'ok' });
    // Per session and hour: far fewer rows than reports.
    const { rows } = await database.pool.query<{ hours: number; reports: number }>(
      'SELECT (SELECT count(*) FROM client_report_session_rollups WHERE hour >= $1 AND hour < $2)::int AS hours, (SELECT count(*) FROM client_reports WHERE received_at >= $1 AND received_at < $2)::int AS reports',
      [range.from, range.to],
    );
    expect(rows[0]!.hours).toBeGreaterThan(0);
    expect(rows[0]!.hours).toBeLessThan(rows[0]!.reports);
    expectSameCorrelation(await uxCorrelation(database.pool, range, 10), want);
  });

  it('count a session once in the totals however many groups and days it reported from', async () => {
    const range = RANGES[0]![1];
    const { rows } = await database.pool.query<{ n: number }>(
      `SELECT count(*) AS n FROM (SELECT session_id FROM client_reports WHERE received_at >= $1 AND received_at < $2 GROUP BY session_id HAVING count(DISTINCT country) > 1) AS s`,
      [range.from, range.to],
    );
    expect(rows[0]!.n).toBeGreaterThan(5);
    const geography = await geographicDistribution(database.pool, range, 1);
    const summary = await clientMetricsSummary(database.pool, range);
    // Per country a moving session counts in each; in the total once.
    expect(geography.countries.reduce((sum, c) => sum + c.clients, 0)).toBeGreaterThan(summary.clients);
  });

  it('give the clustered success-rate interval of the formula alike from raw rows, hourly rows and daily rows', async () => {
    const { interval } = byDefinition(CLUSTERS);
    const plain = wilsonInterval(30, 50)!;
    expect(interval.upper - interval.lower).toBeGreaterThan(2 * (plain.upper - plain.lower));
    const [day, hours] = await Promise.all(NL_RANGES.map(([, range]) => rolledSpan(database.pool, range)));
    expect(day!.daysTo.getTime() - day!.daysFrom.getTime()).toBe(DAY);
    expect(hours!.daysTo.getTime()).toBe(hours!.daysFrom.getTime());
    expect(hours!.end.getTime() - hours!.start.getTime()).toBe(21 * HOUR);
    for (const [name, range] of NL_RANGES) {
      const raw = nlIntervals(exact.get(name)!.geography);
      for (const ci of raw) expectInterval(ci, interval);
      const rolled = await geographicDistribution(database.pool, range, 1);
      expect(nlIntervals(rolled)).toEqual(raw);
      expect(geographyCounts(rolled)).toEqual(geographyCounts(exact.get(name)!.geography));
      expectSameSummary(await clientMetricsSummary(database.pool, range), exact.get(name)!.summary);
    }
  });

  it('are built on upgrade from hourly rollups made before them, with the same results', async () => {
    // Reverting the migrations leaves the hourly tables as the version before them wrote them.
    expect(await migrate(database.pool, { direction: 'down', count: 6 })).toEqual([
      '1764000000009_client-report-session-rollups',
      '1764000000008_anomaly-alert-lifetime',
      '1764000000007_alert-resolution',
      '1764000000006_anomaly-stream-progress',
      '1764000000005_client-report-success-clusters',
      '1764000000004_client-report-daily-rollups',
    ]);
    const { rows } = await database.pool.query<{ n: number }>(`SELECT count(*) AS n FROM client_report_session_hours WHERE region = '*'`);
    expect(rows[0]!.n).toBe(0);
    expect(await migrate(database.pool)).toEqual([
      '1764000000004_client-report-daily-rollups',
      '1764000000005_client-report-success-clusters',
      '1764000000006_anomaly-stream-progress',
      '1764000000007_alert-resolution', '1764000000008_anomaly-alert-lifetime', '1764000000009_client-report-session-rollups',
    ]);
    expect(await rollUp(database.pool, now)).toMatchObject({ hours: 0, days: 4 });
    for (const [name, range] of [...RANGES, ...NL_RANGES]) {
      const { summary: want, geography: wantGeo } = exact.get(name)!;
      expectSameSummary(await clientMetricsSummary(database.pool, range), want);
      expect(geographyCounts(await geographicDistribution(database.pool, range, 1))).toEqual(geographyCounts(wantGeo));
    }
    // The per-session hourly rows, backfilled by their migration from the raw rows.
    for (const [name, range] of RANGES) expectSameCorrelation(await uxCorrelation(database.pool, range, 10), exact.get(name)!.correlation);
  });

  it('match the remaining rows after retention dropped the oldest days', async () => {
    await maintainPartitions(database.pool, { retentionDays: 3, now });
    const range = { from: at(-5, 0), to: new Date(now.getTime() + 1000) };
    const { rows } = await database.pool.query<{ reports: number; clients: number; countries: number }>(
      'SELECT count(*) AS reports, count(DISTINCT session_id) AS clients, count(DISTINCT country) AS countries FROM client_reports WHERE received_at >= $1 AND received_at < $2',
      [range.from, range.to],
    );
    const { rows: groups } = await database.pool.query<{ country: string; region: string | null; clients: number }>(
      'SELECT country, region, count(DISTINCT session_id) AS clients FROM client_reports WHERE received_at >= $1 AND received_at < $2 GROUP BY 1, 2 ORDER BY 1, 2',
      [range.from, range.to],
    );
    expect(rows[0]!.reports).toBeLessThan(exact.get('everything')!.summary.reports);
    expect(await rolledSpan(database.pool, range)).not.toBeNull();
    const summary = await clientMetricsSummary(database.pool, range);
    expect({ reports: summary.reports, clients: summary.clients, countries: summary.countries }).toEqual(rows[0]);
    const geography = await geographicDistribution(database.pool, range, 1);
    const perGroup = geography.countries
      .flatMap((c) => (c.regions.length ? c.regions.filter((r) => r.region !== null).map((r) => ({ country: c.country, region: r.region, clients: r.clients })) : []))
      .sort((a, b) => `${a.country}${a.region}`.localeCompare(`${b.country}${b.region}`));
    expect(perGroup).toEqual(groups.filter((g) => g.region !== null));
  });

  it('get the clustered sums backfilled on upgrade from the raw rows still there, and 0 (plain Wilson) where those are gone', async () => {
    type SumsRow = { at: Date; country: string; region: string; attempts_sq: number; opens_sq: number; attempts_opens: number; connection_reports: number };
    const columns = 'attempts_sq, opens_sq, attempts_opens, connection_reports';
    const snapshot = async () => ({
      hours: (await database.pool.query<SumsRow>(`SELECT hour AS at, country, region, ${columns} FROM client_report_rollups ORDER BY 1, 2, 3`)).rows,
      days: (await database.pool.query<SumsRow>(`SELECT day AS at, country, region, ${columns} FROM client_report_daily_rollups ORDER BY 1, 2, 3`)).rows,
    });
    const { interval } = byDefinition(CLUSTERS);
    for (const [, range] of NL_RANGES) for (const ci of nlIntervals(await geographicDistribution(database.pool, range, 1))) expectInterval(ci, interval);
    // As rollUp wrote them.
    const rolled = await snapshot();
    expect(rolled.hours.filter((r) => r.connection_reports > 0).length).toBeGreaterThan(100);
    expect(rolled.days.filter((r) => r.connection_reports > 0).length).toBeGreaterThan(10);

    expect(await migrate(database.pool, { direction: 'down', count: 5 })).toEqual([
      '1764000000009_client-report-session-rollups', '1764000000008_anomaly-alert-lifetime', '1764000000007_alert-resolution',
      '1764000000006_anomaly-stream-progress',
      '1764000000005_client-report-success-clusters',
    ]);
    // Rolled up before the sums existed; since then the raw rows of NL's 02:00 hour (the failing
    // client's report, one of an attempt that opened, two idle) are gone, and one JP row no longer
    // matches its hour's rollup.
    const nlHour = at(-2, 2);
    expect((await database.pool.query("DELETE FROM client_reports WHERE country = 'NL' AND received_at >= $1 AND received_at < $2", [nlHour, at(-2, 3)])).rowCount).toBe(4);
    const { rows: jp } = await database.pool.query<{ session_id: string; received_at: Date }>(
      "SELECT session_id, received_at FROM client_reports WHERE country = 'JP' AND received_at >= $1 AND received_at < $2 ORDER BY received_at, session_id LIMIT 1",
      [at(-2, 0), at(-1, 0)],
    );
    await database.pool.query('UPDATE client_reports SET attempts = attempts + 1 WHERE session_id = $1 AND received_at = $2', [jp[0]!.session_id, jp[0]!.received_at]);
    const jpHour = new Date(Math.floor(jp[0]!.received_at.getTime() / HOUR) * HOUR);
    expect(await migrate(database.pool)).toEqual(['1764000000005_client-report-success-clusters', '1764000000006_anomaly-stream-progress', '1764000000007_alert-resolution', '1764000000008_anomaly-alert-lifetime', '1764000000009_client-report-session-rollups']);

    const zero = { attempts_sq: 0, opens_sq: 0, attempts_opens: 0, connection_reports: 0 };
    const gone = (r: SumsRow) => (r.country === 'NL' && r.at.getTime() === nlHour.getTime()) || (r.country === 'JP' && r.at.getTime() === jpHour.getTime());
    const hours = rolled.hours.map((r) => (gone(r) ? { ...r, ...zero } : r));
    expect(hours.filter(gone)).toHaveLength(2);
    // Days: the sums of their hours.
    const days = rolled.days.map((d) => {
      const own = hours.filter((h) => h.country === d.country && h.region === d.region && h.at >= d.at && h.at.getTime() < d.at.getTime() + DAY);
      return { ...d, ...Object.fromEntries(Object.keys(zero).map((c) => [c, own.reduce((sum, h) => sum + h[c as keyof typeof zero], 0)])) };
    });
    const after = await snapshot();
    expect(after.hours).toEqual(hours);
    expect(after.days).toEqual(days);

    // NL's sums now lack the failing client's report: its interval falls back to plain Wilson, from daily and from hourly rows.
    for (const [, range] of NL_RANGES) expect(nlIntervals(await geographicDistribution(database.pool, range, 1))).toEqual([wilsonInterval(30, 50), wilsonInterval(30, 50)]);
  });
});
