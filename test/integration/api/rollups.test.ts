/**
 * Hourly rollups on a real PostgreSQL: reads over rolled-up hours give the
 * same sums, counts, clients, folding and clustered success-rate intervals as the exact raw path, percentiles
 * within the histogram bin width (10%); rolling up is idempotent; retention
 * removes old rollups.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { geographicDistribution } from '../../../src/analytics/geography.ts';
import { maintainPartitions } from '../../../src/analytics/maintenance.ts';
import { rollUp, rolledSpan } from '../../../src/analytics/rollups.ts';
import { wilsonInterval } from '../../../src/analytics/statistics.ts';
import { randomSource } from '../../unit/analytics/synthetic-series.ts';
import { insertClientReports } from '../../../src/analytics/storage/client-reports.ts';
import { type Database, openDatabase } from '../../../src/analytics/storage/database.ts';
import { migrate } from '../../../src/analytics/storage/migrate.ts';
import { ensurePartitions, startOfUtcDay } from '../../../src/analytics/storage/partitions.ts';
import { clientMetricsSummary } from '../../../src/analytics/summary.ts';
import { Stack } from '../../../src/stack/index.ts';
import { expectSameSummary, geographyCounts, latencyFields, storedRow } from './analytics-fixture.ts';

const HOUR = 3_600_000;
const stack = new Stack('rollups');
let database: Database;
const now = new Date();
const day = new Date(startOfUtcDay(now).getTime() - 2 * 86_400_000);

beforeAll(async () => {
  const postgres = await stack.postgres();
  database = await openDatabase({ databaseUrl: postgres.url, dataDir: stack.runDir });
  await migrate(database.pool);
  await ensurePartitions(database.pool, { from: day, daysAhead: 3 });
  // 600 reports over 6 hours of two days ago, plus 20 in the current hour (not rolled up yet).
  const random = randomSource(42);
  const places = [['DE', 'BE'], ['DE', 'BY'], ['FR', null], ['US', 'CA'], ['JP', null]] as const;
  const rows = Array.from({ length: 600 }, (_, i) => {
    const [country, region] = places[i % 5]!;
    const latency = 10 + 200 * random() ** 2;
    return storedRow(new Date(day.getTime() + 10 * HOUR + Math.floor(i / 100) * HOUR + (i % 100) * 30_000), `rollup-session-${i % 40}-${country}`, {
      country,
      region,
      // Every 47th report a client retrying 15 times in vain: clustered failures, a wider interval.
      attempts: i % 47 === 0 ? 15 : 1 + (i % 3),
      opens: i % 47 === 0 ? 0 : 1 + (i % 3) - (i % 7 === 0 ? 1 : 0),
      drops: i % 11 === 0 ? 1 : 0,
      messages_sent: 10,
      message_errors: i % 13 === 0 ? 1 : 0,
      latency_count: 1 + (i % 20),
      ...latencyFields(latency),
      lcp_ms: 1000 + 3000 * random(),
      cls: 0.3 * random(),
    });
  });
  const recent = Array.from({ length: 20 }, (_, i) => storedRow(new Date(now.getTime() - 1000 * i), `recent-session-${i % 4}`, { country: 'DE', region: 'BE', latency_count: 2, latency_avg_ms: 30, latency_p50_ms: 28, latency_p95_ms: 60, latency_max_ms: 80 }));
  await insertClientReports(database, [...rows, ...recent]);
});

afterAll(async () => {
  await database?.close();
  await stack.stop();
});

describe('hourly rollups', () => {
  // From the middle of an hour two days ago to now: partial edge, rolled hours, unrolled current hour.
  const range = () => ({ from: new Date(day.getTime() + 10.5 * HOUR), to: new Date(now.getTime() + 1000) });

  it('give the exact raw results for sums, counts and clients, and percentiles within 10%', async () => {
    const exactSummary = await clientMetricsSummary(database.pool, range());
    const exactGeography = await geographicDistribution(database.pool, range(), 20);
    expect(await rolledSpan(database.pool, range())).toBeNull();

    const first = await rollUp(database.pool, now);
    expect(first.hours).toBeGreaterThanOrEqual(6);
    expect(await rollUp(database.pool, now)).toMatchObject({ hours: 0 });
    expect(await rolledSpan(database.pool, range())).not.toBeNull();

    const summary = await clientMetricsSummary(database.pool, range());
    expect(summary.reports).toBe(exactSummary.reports);
    expect(summary.reports).toBe(560);
    expectSameSummary(summary, exactSummary);

    const geography = await geographicDistribution(database.pool, range(), 20);
    expect(geographyCounts(geography)).toEqual(geographyCounts(exactGeography));
    // The clustered success-rate intervals compared are wider than plain Wilson: the rollups' sums of squares count.
    const plain = (c: { attempts: number; opens: number }) => wilsonInterval(Math.min(c.opens, c.attempts), c.attempts)!;
    const wider = (c: { attempts: number; opens: number; success_rate_ci: { lower: number; upper: number } | null }) => c.success_rate_ci!.lower < plain(c).lower - 0.005;
    expect(wider(summary.connection)).toBe(true);
    expect(geography.countries.filter((c) => wider(c.connection)).length).toBeGreaterThanOrEqual(2);
    geography.countries.forEach((c, i) => {
      const exact = exactGeography.countries[i]!;
      if (exact.latency_ms.p95 !== null) expect(Math.abs(c.latency_ms.p95! - exact.latency_ms.p95) / exact.latency_ms.p95).toBeLessThan(0.1);
      if (exact.latency_ms.avg !== null) expect(c.latency_ms.avg).toBeCloseTo(exact.latency_ms.avg, 9);
    });
  });

  it('are removed with the retention', async () => {
    const count = async () => Number((await database.pool.query('SELECT count(*) AS n FROM client_report_rollups')).rows[0].n);
    expect(await count()).toBeGreaterThan(0);
    await maintainPartitions(database.pool, { retentionDays: 1, now });
    expect(await count()).toBe(0);
  });
});
