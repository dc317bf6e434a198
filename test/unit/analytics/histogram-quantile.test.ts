/**
 * Percentiles from the rollup histograms against the raw path's definition
 * (percentile_disc: the value at rank ⌈q·n⌉): the estimate is the geometric
 * middle of the bin holding that rank, so within 1.1^½ − 1 of the value; the
 * zero bin gives 0, and a legacy bin 0 (every value in [0, 1], rollups made
 * before the fine bins) keeps its meaning.
 */
import { describe, expect, it } from 'vitest';
import { HISTOGRAM_METRICS, LEGACY_UNIT_BIN, TINY_BIN, ZERO_BIN, binBounds, emptyGroup, histogramQuantile } from '../../../src/analytics/rollups.ts';

const BOUND = Math.sqrt(1.1) - 1;
const id = (name: string) => HISTOGRAM_METRICS.find((m) => m.name === name)!.id;

/** The bin binSql puts a value in, computed the same way (ln ratios, ceil). */
function binOf(value: number): number {
  if (value <= 0) return ZERO_BIN;
  const k = Math.ceil(Math.log(value) / Math.log(1.1));
  return value <= 1 ? Math.max(k - 1, TINY_BIN) : Math.min(k, 300);
}

function groupOf(metric: string, bins: Array<[number, number]>) {
  const group = emptyGroup('', '');
  group.histograms.set(id(metric), new Map(bins));
  return group;
}

function histogramOf(metric: string, values: number[]) {
  const bins = new Map<number, number>();
  for (const v of values) bins.set(binOf(metric === 'cls' ? v * 1000 : v), (bins.get(binOf(metric === 'cls' ? v * 1000 : v)) ?? 0) + 1);
  return groupOf(metric, [...bins]);
}

/** percentile_disc as PostgreSQL computes it: row ⌈q·n⌉ (at least the first) of the sorted values. */
function percentileDisc(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(1, Math.ceil(q * sorted.length)) - 1]!;
}

describe('histogramQuantile', () => {
  it('answers the middle of the bin holding the nearest-rank value, for small groups too', () => {
    // The review's cases, which the rank-interpolated estimate got 386.8, 106.7, 0.5 and 0.75.
    const p95 = histogramQuantile(histogramOf('latency_p95', [20, 25, 30, 35, 40, 45, 50, 55, 60, 400]), 'latency_p95', 0.95);
    expect(p95).toBe(Math.sqrt(1.1 ** 62 * 1.1 ** 63));
    expect(p95).toBeCloseTo(386.41, 2);
    expect(histogramQuantile(histogramOf('latency_p50', [100, 200]), 'latency_p50', 0.5)).toBe(Math.sqrt(1.1 ** 48 * 1.1 ** 49));
    expect(histogramQuantile(histogramOf('inp', [0.3, 0.3, 0.3]), 'inp', 0.5)).toBe(Math.sqrt(1.1 ** -13 * 1.1 ** -12));
    expect(histogramQuantile(histogramOf('lcp', [0, 0, 0, 0]), 'lcp', 0.75)).toBe(0);
    expect(histogramQuantile(histogramOf('cls', [0, 0, 0]), 'cls', 0.75)).toBe(0);
    // Exactly 1 is in bin −1, (1/1.1, 1].
    expect(histogramQuantile(histogramOf('ttfb', [1]), 'ttfb', 0.75)).toBe(Math.sqrt(1.1 ** -1));
    // Below 1.1^−120 (about 1.1e−5): one bin from 0, answered by its middle.
    expect(histogramQuantile(histogramOf('fcp', [1e-6]), 'fcp', 0.75)).toBe(1.1 ** -120 / 2);
    expect(histogramQuantile(emptyGroup('', ''), 'lcp', 0.75)).toBeNull();
  });

  it('stays within 1.1^½ − 1 (4.9%) of percentile_disc over values from 10^−4 to 10^6 and every quantile used', () => {
    let seed = 7;
    const random = () => ((seed = (seed * 48271) % 2147483647) / 2147483647);
    let worst = 0;
    for (let trial = 0; trial < 300; trial++) {
      const n = 1 + Math.floor(random() * 40);
      const values = Array.from({ length: n }, () => (random() < 0.1 ? 0 : 10 ** (random() * 10 - 4)));
      for (const q of [0.5, 0.75, 0.95]) {
        const exact = percentileDisc(values, q);
        const estimate = histogramQuantile(histogramOf('latency_p95', values), 'latency_p95', q)!;
        if (exact === 0) expect(estimate).toBe(0);
        else worst = Math.max(worst, Math.abs(estimate - exact) / exact);
      }
    }
    expect(worst).toBeLessThanOrEqual(BOUND + 1e-12);
    expect(worst).toBeGreaterThan(0.04);
  });

  it('selects the rank with PostgreSQL’s float arithmetic: ⌈0.95·20⌉ is row 19, ⌈0.5·2⌉ row 1', () => {
    // Bins 10 and 20 hold 19 and 1 values: rank 19 is the last in bin 10.
    expect(histogramQuantile(groupOf('latency_p95', [[10, 19], [20, 1]]), 'latency_p95', 0.95)).toBe(Math.sqrt(1.1 ** 9 * 1.1 ** 10));
    expect(histogramQuantile(groupOf('latency_p95', [[10, 18], [20, 2]]), 'latency_p95', 0.95)).toBe(Math.sqrt(1.1 ** 19 * 1.1 ** 20));
    expect(histogramQuantile(groupOf('latency_p50', [[5, 1], [6, 1]]), 'latency_p50', 0.5)).toBe(Math.sqrt(1.1 ** 4 * 1.1 ** 5));
    // q = 0 is the first value (percentile_disc's rank 1).
    expect(histogramQuantile(groupOf('latency_p50', [[5, 1], [6, 1]]), 'latency_p50', 0)).toBe(Math.sqrt(1.1 ** 4 * 1.1 ** 5));
  });

  it('reads a legacy bin 0 (all of [0, 1], rollups made before the fine bins) as its middle, ordered after the fine bins', () => {
    expect(binBounds(LEGACY_UNIT_BIN)).toEqual({ lower: 0, upper: 1 });
    expect(histogramQuantile(groupOf('latency_p50', [[LEGACY_UNIT_BIN, 3]]), 'latency_p50', 0.5)).toBe(0.5);
    // New rollups of the same hour range below it: rank 1 is in the fine bins, rank 4 in the legacy one.
    const mixed = groupOf('latency_p50', [[LEGACY_UNIT_BIN, 2], [-13, 2]]);
    expect(histogramQuantile(mixed, 'latency_p50', 0.25)).toBe(Math.sqrt(1.1 ** -13 * 1.1 ** -12));
    expect(histogramQuantile(mixed, 'latency_p50', 1)).toBe(0.5);
    expect(binBounds(ZERO_BIN)).toEqual({ lower: 0, upper: 0 });
    expect(binBounds(TINY_BIN)).toEqual({ lower: 0, upper: 1.1 ** -120 });
  });
});
