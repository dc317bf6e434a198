import { describe, expect, it } from 'vitest';
import { emptyBuckets, LATENCY_BOUNDARIES_S, recordBucket, sumBuckets } from '../../../src/loadtest/latency-buckets.ts';

describe('latency buckets', () => {
  it('put a value equal to a bound in that bound’s bucket and anything above the last in the overflow', () => {
    expect(LATENCY_BOUNDARIES_S.slice(0, 3)).toEqual([0.001, 0.0025, 0.005]);
    const b = emptyBuckets();
    for (const ms of [0.2, 1, 1.0001, 2.5, 4, 10_001]) recordBucket(b, ms);
    expect(b.counts.length).toBe(LATENCY_BOUNDARIES_S.length + 1);
    expect(b.counts.slice(0, 3)).toEqual([2, 2, 1]);
    expect(b.counts.at(-1)).toBe(1);
    expect(b.counts.reduce((a, n) => a + n, 0)).toBe(6);
    expect(b.count).toBe(6);
    expect(b.sumS).toBeCloseTo((0.2 + 1 + 1.0001 + 2.5 + 4 + 10_001) / 1000, 12);
  });

  it('add up workers bucket by bucket', () => {
    const a = emptyBuckets();
    const b = emptyBuckets();
    recordBucket(a, 0.5);
    recordBucket(b, 0.5);
    recordBucket(b, 30);
    const total = sumBuckets([a, b]);
    expect(total.counts[0]).toBe(2);
    expect(total.counts[LATENCY_BOUNDARIES_S.indexOf(0.05)]).toBe(1);
    expect(total.count).toBe(3);
    expect(total.sumS).toBeCloseTo(0.031, 12);
    expect(a.count).toBe(1);
  });
});
