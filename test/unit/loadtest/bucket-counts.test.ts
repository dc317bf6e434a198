import { describe, expect, it } from 'vitest';
import { ECHO_LATENCY, HANDSHAKE } from '../../../src/loadtest/bucket-counts.ts';

describe('bucket counts', () => {
  it('put a value equal to a bound in that bound’s bucket and anything above the last in the overflow', () => {
    expect(ECHO_LATENCY.boundariesS.slice(0, 3)).toEqual([0.001, 0.0025, 0.005]);
    const b = ECHO_LATENCY.empty();
    for (const ms of [0.2, 1, 1.0001, 2.5, 4, 10_001]) ECHO_LATENCY.record(b, ms);
    expect(b.counts.length).toBe(ECHO_LATENCY.boundariesS.length + 1);
    expect(b.counts.slice(0, 3)).toEqual([2, 2, 1]);
    expect(b.counts.at(-1)).toBe(1);
    expect(b.counts.reduce((a, n) => a + n, 0)).toBe(6);
    expect(b.count).toBe(6);
    expect(b.sumS).toBeCloseTo((0.2 + 1 + 1.0001 + 2.5 + 4 + 10_001) / 1000, 12);
  });

  it('add up workers bucket by bucket', () => {
    const a = ECHO_LATENCY.empty();
    const b = ECHO_LATENCY.empty();
    ECHO_LATENCY.record(a, 0.5);
    ECHO_LATENCY.record(b, 0.5);
    ECHO_LATENCY.record(b, 30);
    const total = ECHO_LATENCY.sum([a, b]);
    expect(total.counts[0]).toBe(2);
    expect(total.counts[ECHO_LATENCY.boundariesS.indexOf(0.05)]).toBe(1);
    expect(total.count).toBe(3);
    expect(total.sumS).toBeCloseTo(0.031, 12);
    expect(a.count).toBe(1);
  });

  it('use each metric’s own boundaries from the catalogue', () => {
    expect(HANDSHAKE.boundariesS[0]).toBe(0.0005);
    const h = HANDSHAKE.empty();
    HANDSHAKE.record(h, 0.5);
    expect(h.counts[0]).toBe(1);
    expect(h.counts.length).toBe(HANDSHAKE.boundariesS.length + 1);
  });
});
