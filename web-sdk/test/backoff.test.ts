import { describe, expect, it } from 'vitest';
import { DEFAULT_BACKOFF, backoffDelay } from '../src/backoff.ts';

const noJitter = { ...DEFAULT_BACKOFF, jitter: 0 };

describe('backoffDelay', () => {
  it('grows exponentially from the initial delay', () => {
    expect([1, 2, 3, 4, 5].map((retry) => backoffDelay(retry, noJitter))).toEqual([500, 1000, 2000, 4000, 8000]);
  });

  it('never exceeds the cap', () => {
    expect([7, 8, 20, 1000].map((retry) => backoffDelay(retry, noJitter))).toEqual([30_000, 30_000, 30_000, 30_000]);
  });

  it('takes up to `jitter` of the delay away, never adds to it', () => {
    const options = { ...DEFAULT_BACKOFF, jitter: 0.5 };
    expect(backoffDelay(3, options, () => 0)).toBe(2000);
    expect(backoffDelay(3, options, () => 0.5)).toBe(1500);
    expect(backoffDelay(3, options, () => 0.999_999)).toBe(1000);
    expect(backoffDelay(100, options, () => 0.999_999)).toBe(15_000);
  });

  it('clamps jitter to [0, 1] and treats retry 0 as the first', () => {
    expect(backoffDelay(2, { ...noJitter, jitter: 5 }, () => 1)).toBe(0);
    expect(backoffDelay(2, { ...noJitter, jitter: -1 }, () => 1)).toBe(1000);
    expect(backoffDelay(0, noJitter)).toBe(500);
  });
});
