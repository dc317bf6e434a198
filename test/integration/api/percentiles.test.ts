/**
 * Percentiles on both read paths over the same seeded reports, on a real
 * PostgreSQL: the raw path (no rolled-up hour in the range) is nearest rank,
 * percentile_disc; once the hour is rolled up, the histogram path answers the
 * middle of the bin holding that same value, within 1.1^½ − 1 (4.9%) of it.
 * Small groups included (the review's cases), values below 1 and zeros.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { geographicDistribution } from '../../../src/analytics/geography.ts';
import { rollUp, rolledSpan } from '../../../src/analytics/rollups.ts';
import { insertClientReports } from '../../../src/analytics/storage/client-reports.ts';
import { type Database, openDatabase } from '../../../src/analytics/storage/database.ts';
import { migrate } from '../../../src/analytics/storage/migrate.ts';
import { ensurePartitions, startOfUtcDay } from '../../../src/analytics/storage/partitions.ts';
import { clientMetricsSummary } from '../../../src/analytics/summary.ts';
import { Stack } from '../../../src/stack/index.ts';
import { storedRow } from './analytics-fixture.ts';

const HOUR = 3_600_000;
const BOUND = Math.sqrt(1.1) - 1;
/** The geometric middle of bin k above 1, (1.1^(k−1), 1.1^k]. */
const middle = (k: number) => Math.sqrt(1.1 ** (k - 1) * 1.1 ** k);
const stack = new Stack('percentiles');
let database: Database;
const now = new Date();
const day = new Date(startOfUtcDay(now).getTime() - 2 * 86_400_000);
// One whole hour two days ago: no raw edges once it is rolled up.
const range = { from: new Date(day.getTime() + 10 * HOUR), to: new Date(day.getTime() + 11 * HOUR) };

const capped = { from: new Date(day.getTime() + 12 * HOUR), to: new Date(day.getTime() + 13 * HOUR) };

// Ten reports, DE the first five, FR the rest.
const P95 = [20, 25, 30, 35, 40, 45, 50, 55, 60, 400];
const P50 = [100, 200];
const LCP = [1000, 1100, 1200, 1300, 1400, 1500, 1600, 1700, 1800, 1900];

beforeAll(async () => {
  const postgres = await stack.postgres();
  database = await openDatabase({ databaseUrl: postgres.url, dataDir: stack.runDir });
  await migrate(database.pool);
  await ensurePartitions(database.pool, { from: day, daysAhead: 3 });
  const rows = P95.map((p95, i) =>
    storedRow(new Date(range.from.getTime() + (i + 1) * 60_000), `percentile-session-${i}`, {
      country: i < 5 ? 'DE' : 'FR',
      latency_count: 1,
      latency_avg_ms: p95,
      latency_p50_ms: P50[i] ?? null,
      latency_p95_ms: p95,
      latency_max_ms: Math.max(p95, P50[i] ?? 0),
      lcp_ms: LCP[i]!,
      inp_ms: i < 3 ? 0.3 : null,
      cls: i < 4 ? 0 : null,
      fcp_ms: i === 0 ? 1e-6 : null,
      ttfb_ms: i === 0 ? 1 : null,
    }),
  );
  await insertClientReports(database, rows);
  // Another hour: three reports whose p50 = p95 = max = 81 ms, in the bin (1.1^46, 1.1^47] with its middle at 84.1 ms.
  await insertClientReports(
    database,
    [1, 2, 3].map((i) =>
      storedRow(new Date(capped.from.getTime() + i * 60_000), `capped-session-${i}`, { country: 'NL', latency_count: 1, latency_avg_ms: 81, latency_p50_ms: 81, latency_p95_ms: 81, latency_max_ms: 81 }),
    ),
  );
});

afterAll(async () => {
  await database?.close();
  await stack.stop();
});

describe('percentiles on the raw and the rolled-up path', () => {
  it('are percentile_disc from raw rows and the middle of the same value’s bin from histograms, within 4.9%', async () => {
    expect(await rolledSpan(database.pool, range)).toBeNull();
    const raw = await clientMetricsSummary(database.pool, range);
    const rawGeo = await geographicDistribution(database.pool, range, 1);
    // Nearest rank: row ⌈q·n⌉ of the sorted values (percentile_cont gave 247, 150 and 1675 here).
    expect(raw.latency_ms).toMatchObject({ p50: 100, p95: 400 });
    expect(raw.vitals_p75).toEqual({ lcp_ms: 1700, inp_ms: 0.3, cls: 0, fcp_ms: 1e-6, ttfb_ms: 1, page_load_ms: null });
    expect(rawGeo.countries.map((c) => [c.country, c.latency_ms.p50, c.latency_ms.p95])).toEqual([
      ['DE', 100, 40],
      ['FR', null, 400],
    ]);

    await rollUp(database.pool, now);
    expect(await rolledSpan(database.pool, range)).not.toBeNull();
    const rolled = await clientMetricsSummary(database.pool, range);
    const rolledGeo = await geographicDistribution(database.pool, range, 1);
    // 400 is in bin 63, 100 in 49, 1700 in 79, 40 in 39; 0.3 in (1.1^−13, 1.1^−12]; 1 in (1.1^−1, 1];
    // 10^−6 in the bin from 0 to 1.1^−120; zeros in the zero bin.
    expect(rolled.latency_ms.p95).toBe(middle(63));
    expect(rolled.latency_ms.p50).toBe(middle(49));
    expect(rolled.vitals_p75).toEqual({
      lcp_ms: middle(79),
      inp_ms: middle(-12),
      cls: 0,
      fcp_ms: 1.1 ** -120 / 2,
      ttfb_ms: middle(0),
      page_load_ms: null,
    });
    expect(rolledGeo.countries.map((c) => [c.country, c.latency_ms.p50, c.latency_ms.p95])).toEqual([
      ['DE', middle(49), middle(39)],
      ['FR', null, middle(63)],
    ]);

    // The documented bound between the two paths (an absolute 5.5·10^−6 below 1.1·10^−5).
    const pairs: Array<[number | null, number | null]> = [
      [rolled.latency_ms.p50, raw.latency_ms.p50],
      [rolled.latency_ms.p95, raw.latency_ms.p95],
      ...(Object.keys(raw.vitals_p75) as Array<keyof typeof raw.vitals_p75>).map((k): [number | null, number | null] => [rolled.vitals_p75[k], raw.vitals_p75[k]]),
      ...rolledGeo.countries.flatMap((c, i): Array<[number | null, number | null]> => [
        [c.latency_ms.p50, rawGeo.countries[i]!.latency_ms.p50],
        [c.latency_ms.p95, rawGeo.countries[i]!.latency_ms.p95],
      ]),
    ];
    for (const [estimate, exact] of pairs) {
      if (exact === null) expect(estimate).toBeNull();
      else if (exact < 1.1 ** -120) expect(Math.abs(estimate! - exact)).toBeLessThanOrEqual(1.1 ** -120 / 2);
      else expect(Math.abs(estimate! - exact)).toBeLessThanOrEqual(BOUND * exact);
    }
  });

  it('from histograms never exceed the exact maximum the rollups keep', async () => {
    // Rolled up by the test before (it rolls every hour up to now).
    expect(await rolledSpan(database.pool, capped)).not.toBeNull();
    expect(middle(47)).toBeCloseTo(84.1, 1);
    const summary = await clientMetricsSummary(database.pool, capped);
    expect(summary.latency_ms).toMatchObject({ p50: 81, p95: 81, max: 81 });
    const geography = await geographicDistribution(database.pool, capped, 1);
    expect(geography.countries.map((c) => [c.country, c.latency_ms.p50, c.latency_ms.p95])).toEqual([['NL', 81, 81]]);
  });
});
