/**
 * The statistics against values published for known data sets: Anscombe's
 * quartet (r = 0.816 for all four; R's cor.test on set I), Spearman's worked
 * example (IQ vs hours of television, rho = -29/165), Wilson intervals as R's
 * prop.test(correct = FALSE) gives them; the clustered Wilson interval against
 * its definition evaluated directly over explicit clusters.
 */
import { sampleRankCorrelation } from 'simple-statistics';
import { describe, expect, it } from 'vitest';
import {
  clusteredWilsonInterval,
  correlationPValue,
  effectiveTrials,
  fisherInterval,
  midranks,
  pearson,
  spearman,
  wilsonInterval,
} from '../../../src/analytics/statistics.ts';
import { type Cluster, byDefinition, expectInterval, sumsOf } from './cluster-interval.ts';
import { randomSource } from './synthetic-series.ts';

const anscombeX = [10, 8, 13, 9, 11, 14, 6, 4, 12, 7, 5];
const anscombe = {
  I: [anscombeX, [8.04, 6.95, 7.58, 8.81, 8.33, 9.96, 7.24, 4.26, 10.84, 4.82, 5.68]],
  II: [anscombeX, [9.14, 8.14, 8.74, 8.77, 9.26, 8.1, 6.13, 3.1, 9.13, 7.26, 4.74]],
  III: [anscombeX, [7.46, 6.77, 12.74, 7.11, 7.81, 8.84, 6.08, 5.39, 8.15, 6.42, 5.73]],
  IV: [[8, 8, 8, 8, 8, 8, 8, 19, 8, 8, 8], [6.58, 5.76, 7.71, 8.84, 8.47, 7.04, 5.25, 12.5, 5.56, 7.91, 6.89]],
} as const;

describe('pearson', () => {
  it.each(Object.entries(anscombe))("gives r = 0.816 on Anscombe's set %s", (_name, [x, y]) => {
    expect(Math.abs((pearson([...x], [...y]) as number) - 0.816)).toBeLessThan(0.001);
  });

  it('matches cor.test on Anscombe I: r, t-test p-value and the Fisher-z 95% interval', () => {
    const [x, y] = anscombe.I;
    const r = pearson([...x], [...y]) as number;
    expect(r).toBeCloseTo(0.8164205, 6);
    expect(correlationPValue(r, 11)).toBeCloseTo(0.00217, 5);
    const ci = fisherInterval(r, 11);
    expect(ci?.lower).toBeCloseTo(0.4244, 3);
    expect(ci?.upper).toBeCloseTo(0.9507, 3);
  });

  it('is null when a side is constant or there are fewer than two pairs', () => {
    expect(pearson([1, 1, 1], [1, 2, 3])).toBeNull();
    expect(pearson([1], [2])).toBeNull();
    expect(() => pearson([1, 2], [1])).toThrow(/2 x values but 1 y values/);
  });
});

describe('spearman', () => {
  it("gives rho = -29/165 and p = 0.627188 on the IQ / television example", () => {
    const iq = [106, 100, 86, 101, 99, 103, 97, 113, 112, 110];
    const tv = [7, 27, 2, 50, 28, 29, 20, 12, 6, 17];
    const rho = spearman(iq, tv) as number;
    expect(rho).toBeCloseTo(-29 / 165, 12);
    expect(correlationPValue(rho, iq.length)).toBeCloseTo(0.627188, 5);
  });

  it('uses mid-ranks for ties and is 1 for any monotone relation', () => {
    expect(spearman([1, 2, 3, 4, 5], [1, 4, 9, 16, 1000])).toBeCloseTo(1, 12);
    // Ranks x: 1, 2.5, 2.5, 4; y: 1, 3, 2, 4 → Pearson of the ranks.
    expect(spearman([1, 2, 2, 3], [1, 3, 2, 4])).toBeCloseTo(0.9486832980505138, 12);
  });

  it('ranks as simple-statistics does, to the last bit, with and without ties, and is null when a side is constant', () => {
    expect([...midranks([30, 10, 20, 10, 30, 30])]).toEqual([4, 0.5, 2, 0.5, 4, 4]);
    const random = randomSource(11);
    for (const n of [2, 7, 1000, 20_000]) {
      const x = Array.from({ length: n }, () => random());
      const ties = Array.from({ length: n }, () => Math.floor(random() * 5));
      expect(spearman(x, ties)).toBe(sampleRankCorrelation(x, ties));
      expect(spearman(ties, x.map((v) => v * v))).toBe(sampleRankCorrelation(ties, x.map((v) => v * v)));
    }
    expect(spearman([1, 2, 3], [5, 5, 5])).toBeNull();
  });
});

describe('fisherInterval and correlationPValue', () => {
  it('needs n > 3 (interval) and n > 2 (p-value); perfect correlation has a point interval and p = 0', () => {
    expect(fisherInterval(0.5, 3)).toBeNull();
    expect(correlationPValue(0.5, 2)).toBeNull();
    expect(fisherInterval(1, 10)).toEqual({ lower: 1, upper: 1 });
    expect(correlationPValue(-1, 10)).toBe(0);
  });

  it('widens the Spearman interval by sqrt(1.06)', () => {
    const p = fisherInterval(0.5, 30) as { lower: number; upper: number };
    const s = fisherInterval(0.5, 30, { method: 'spearman' }) as { lower: number; upper: number };
    expect(Math.atanh(0.5) - Math.atanh(s.lower)).toBeCloseTo(Math.sqrt(1.06) * (Math.atanh(0.5) - Math.atanh(p.lower)), 12);
  });
});

describe('wilsonInterval', () => {
  it('matches prop.test(x, n, correct = FALSE)', () => {
    const one = wilsonInterval(1, 10);
    expect(one?.lower).toBeCloseTo(0.01787574, 6);
    expect(one?.upper).toBeCloseTo(0.40415, 5);
    const none = wilsonInterval(0, 10);
    expect(none?.lower).toBe(0);
    expect(none?.upper).toBeCloseTo(0.2775328, 6);
    const all = wilsonInterval(20, 20);
    expect(all?.upper).toBe(1);
    expect(all?.lower).toBeCloseTo(0.8388748, 6);
  });

  it('is null for n = 0 and rejects impossible counts', () => {
    expect(wilsonInterval(0, 0)).toBeNull();
    expect(() => wilsonInterval(3, 2)).toThrow(/3 successes of 2/);
  });
});

const repeat = (n: number, cluster: Cluster): Cluster[] => Array.from({ length: n }, () => cluster);

describe('clusteredWilsonInterval', () => {
  it('is plain Wilson when every cluster holds one attempt', () => {
    for (const [opens, attempts] of [[30, 50], [1, 10], [39, 40], [517, 1000], [1, 2]] as const) {
      const clusters = [...repeat(opens, [1, 1]), ...repeat(attempts - opens, [1, 0])];
      expect(effectiveTrials(sumsOf(clusters))).toBeCloseTo(attempts, 9);
      expectInterval(clusteredWilsonInterval(sumsOf(clusters)), wilsonInterval(opens, attempts)!);
    }
  });

  it('counts k clusters of ten identical outcomes as k trials', () => {
    for (const [good, bad] of [[7, 3], [1, 1], [40, 2], [3, 17]] as const) {
      const clusters = [...repeat(good, [10, 10]), ...repeat(bad, [10, 0])];
      expect(effectiveTrials(sumsOf(clusters))).toBeCloseTo(good + bad, 9);
      expectInterval(clusteredWilsonInterval(sumsOf(clusters)), wilsonInterval(good, good + bad)!);
    }
  });

  it('takes n_eff = A²/Σa² when every attempt succeeds (or fails), whatever the cluster sizes', () => {
    const sizes = [20, 1, 1, 3, 7, 1, 12];
    const A = 45;
    const squares = 400 + 1 + 1 + 9 + 49 + 1 + 144;
    const allOpen = sizes.map((a) => [a, a] as const);
    expect(effectiveTrials(sumsOf(allOpen))).toBeCloseTo(A ** 2 / squares, 12);
    const open = clusteredWilsonInterval(sumsOf(allOpen))!;
    expect(open.upper).toBe(1);
    expectInterval(open, wilsonInterval(A ** 2 / squares, A ** 2 / squares)!);
    // Much wider than 45 independent successes.
    expect(open.lower).toBeLessThan(wilsonInterval(A, A)!.lower - 0.2);
    const allFailed = sizes.map((a) => [a, 0] as const);
    const failed = clusteredWilsonInterval(sumsOf(allFailed))!;
    expect(failed.lower).toBe(0);
    expectInterval(failed, wilsonInterval(0, A ** 2 / squares)!);
  });

  it('matches the residual sum over explicit clusters: one client failing 20 times among 30 that opened once', () => {
    const clusters = [[20, 0] as const, ...repeat(30, [1, 1])];
    // A = 50, p̂ = 0.6, Σr² = 12² + 30·0.4² = 148.8, v = 31/30·148.8/50², n_eff = 1 + 0.24/v.
    const { nEff, interval } = byDefinition(clusters);
    expect(nEff).toBeCloseTo(1 + 0.24 / ((31 / 30) * (148.8 / 2500)), 12);
    expect(nEff).toBeCloseTo(4.902185, 6);
    expect(effectiveTrials(sumsOf(clusters))).toBeCloseTo(nEff, 12);
    const got = clusteredWilsonInterval(sumsOf(clusters))!;
    expectInterval(got, interval);
    const plain = wilsonInterval(30, 50)!;
    expect(got.lower).toBeLessThan(plain.lower - 0.1);
    expect(got.upper).toBeGreaterThan(plain.upper + 0.1);
  });

  it('matches the residual sum over explicit clusters of mixed sizes, opens without attempts, a lone cluster and idle reports', () => {
    const cases: Cluster[][] = [
      [[3, 1], [5, 5], [1, 0], [2, 2], [8, 3], [1, 1]],
      // An open whose attempt was in the previous window: a cluster of its own.
      [[2, 1], [0, 1], [3, 1]],
      // Idle reports neither add clusters nor change anything.
      [[4, 1], [0, 0], [0, 0], [6, 5], [0, 0]],
      // One cluster: no variance estimate, n_eff = A²/Σa² = 1.
      [[20, 5]],
      [[20, 5], [0, 0]],
    ];
    for (const clusters of cases) {
      const { nEff, interval } = byDefinition(clusters);
      expect(effectiveTrials(sumsOf(clusters))).toBeCloseTo(nEff, 12);
      expectInterval(clusteredWilsonInterval(sumsOf(clusters)), interval);
    }
    expect(effectiveTrials(sumsOf([[20, 5], [0, 0]]))).toBe(1);
  });

  it('is never narrower than plain Wilson: clusters more alike than chance give plain Wilson', () => {
    // Every cluster opens exactly half its attempts: residuals 0, deff 0 before the clamp.
    const even = repeat(25, [2, 1]);
    expect(effectiveTrials(sumsOf(even))).toBe(50);
    expect(clusteredWilsonInterval(sumsOf(even))).toEqual(wilsonInterval(25, 50));
    // Independent attempts in clusters of 1–5: the estimated deff falls below 1 about half the time.
    const random = randomSource(7);
    let clamped = 0;
    for (let run = 0; run < 200; run++) {
      const clusters = Array.from({ length: 5 + Math.floor(random() * 40) }, (): Cluster => {
        const a = 1 + Math.floor(random() * 5);
        let s = 0;
        for (let j = 0; j < a; j++) if (random() < 0.8) s++;
        return [a, s];
      });
      const sums = sumsOf(clusters);
      const plain = wilsonInterval(sums.successes, sums.trials)!;
      const got = clusteredWilsonInterval(sums)!;
      expect(got.lower).toBeLessThanOrEqual(plain.lower);
      expect(got.upper).toBeGreaterThanOrEqual(plain.upper);
      expect(effectiveTrials(sums)).toBeLessThanOrEqual(sums.trials);
      if (effectiveTrials(sums) === sums.trials) {
        clamped++;
        expect(got).toEqual(plain);
      }
    }
    expect(clamped).toBeGreaterThan(20);
  });

  it('is plain Wilson from sums of squares that are 0 (rollups made before they were kept)', () => {
    const zero = { clusters: 0, trialsSquared: 0, successesSquared: 0, trialsSuccesses: 0 };
    for (const [successes, trials] of [[30, 50], [0, 20], [20, 20], [1, 1]] as const) {
      expect(effectiveTrials({ successes, trials, ...zero })).toBe(trials);
      expect(clusteredWilsonInterval({ successes, trials, ...zero })).toEqual(wilsonInterval(successes, trials));
    }
    // Sums of squares over only some of the clusters (a range over such rollups and newer rows):
    // the variability of those clusters, never narrower than plain Wilson.
    const clusters = [[20, 0] as const, ...repeat(30, [1, 1])];
    const totals = sumsOf(clusters);
    const plain = wilsonInterval(30, 50)!;
    const coveredOnly = (covered: readonly Cluster[]) => {
      const some = sumsOf(covered);
      return clusteredWilsonInterval({ ...totals, clusters: some.clusters, trialsSquared: some.trialsSquared, successesSquared: some.successesSquared, trialsSuccesses: some.trialsSuccesses })!;
    };
    expect(coveredOnly(clusters.slice(1, 16))).toEqual(plain);
    const withFailing = coveredOnly(clusters.slice(0, 16));
    expect(withFailing.lower).toBeLessThan(plain.lower - 0.1);
    expect(withFailing.upper).toBeGreaterThan(plain.upper + 0.1);
  });

  it('takes non-integer n_eff, is null without attempts and rejects more successes than attempts', () => {
    const interval = wilsonInterval(0.6 * 4.9, 4.9)!;
    expect(interval.lower).toBeGreaterThan(0);
    expect(interval.upper).toBeLessThan(1);
    expect(wilsonInterval(4.9, 4.9)!.upper).toBe(1);
    expect(clusteredWilsonInterval({ successes: 0, trials: 0, clusters: 0, trialsSquared: 0, successesSquared: 0, trialsSuccesses: 0 })).toBeNull();
    expect(() => clusteredWilsonInterval({ successes: 3, trials: 2, clusters: 2, trialsSquared: 2, successesSquared: 5, trialsSuccesses: 3 })).toThrow(/3 successes of 2/);
  });
});
