/**
 * The statistics against values published for known data sets: Anscombe's
 * quartet (r = 0.816 for all four; R's cor.test on set I), Spearman's worked
 * example (IQ vs hours of television, rho = -29/165), Wilson intervals as R's
 * prop.test(correct = FALSE) gives them.
 */
import { describe, expect, it } from 'vitest';
import { correlationPValue, fisherInterval, pearson, spearman, wilsonInterval } from '../../../src/analytics/statistics.ts';

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
