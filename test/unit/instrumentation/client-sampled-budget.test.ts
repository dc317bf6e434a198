/**
 * The budget of message spans a client's sampled traceparent may start
 * (tracing.maxClientSampledMessageSpansPerSecond): the token bucket on an
 * injected clock, and the option's validation. The spans themselves are in
 * test/integration/instrumentation/client-trace-budget.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { instrumentWebSocketServer } from '../../../src/instrumentation/index.ts';
import { TokenBucket } from '../../../src/instrumentation/token-bucket.ts';

/** A bucket on a clock the test moves (milliseconds), and how many of `n` takes it grants. */
function bucketAt(perSecond: number, start = 1_000) {
  let now = start;
  let reads = 0;
  const bucket = new TokenBucket(perSecond, () => {
    reads++;
    return now;
  });
  return {
    bucket,
    advance: (ms: number) => (now += ms),
    setTime: (ms: number) => (now = ms),
    reads: () => reads,
    grants: (n: number) => Array.from({ length: n }, () => bucket.take()).filter(Boolean).length,
  };
}

describe('token bucket', () => {
  it('starts full with a burst of the rate, then grants nothing until time passes', () => {
    const b = bucketAt(5);
    expect(b.bucket.burst).toBe(5);
    expect(b.grants(50)).toBe(5);
    expect(b.grants(10)).toBe(0);
  });

  it('refills at the rate from the clock, never above the burst', () => {
    const b = bucketAt(5);
    expect(b.grants(5)).toBe(5);
    b.advance(200); // 5 a second: one token per 200 ms
    expect(b.grants(3)).toBe(1);
    b.advance(100); // half a token
    expect(b.grants(1)).toBe(0);
    b.advance(100); // the other half
    expect(b.grants(1)).toBe(1);
    b.advance(600);
    expect(b.grants(10)).toBe(3);
    b.advance(60_000); // a quiet minute refills the burst, not 300 tokens
    expect(b.grants(50)).toBe(5);
  });

  it('grants a fractional rate with a burst of one', () => {
    const b = bucketAt(0.5);
    expect(b.bucket.burst).toBe(1);
    expect(b.grants(3)).toBe(1);
    b.advance(1_999);
    expect(b.grants(1)).toBe(0);
    b.advance(1);
    expect(b.grants(3)).toBe(1);
  });

  it('refills nothing when the clock goes backwards, and measures from the new reading', () => {
    const b = bucketAt(5, 10_000);
    expect(b.grants(5)).toBe(5);
    b.setTime(5_000);
    expect(b.grants(1)).toBe(0);
    b.advance(200);
    expect(b.grants(2)).toBe(1);
  });

  it('Infinity always grants and 0 never does, without reading the clock', () => {
    const unlimited = bucketAt(Infinity);
    expect(unlimited.grants(10_000)).toBe(10_000);
    const never = bucketAt(0);
    expect(never.bucket.burst).toBe(0);
    expect(never.grants(100)).toBe(0);
    never.advance(3_600_000);
    expect(never.grants(100)).toBe(0);
    expect(unlimited.reads() + never.reads()).toBe(0);
  });

  it('rejects a negative or NaN rate', () => {
    expect(() => new TokenBucket(-1)).toThrow(RangeError);
    expect(() => new TokenBucket(Number.NaN)).toThrow('perSecond must be >= 0, got NaN');
  });
});

describe('tracing.maxClientSampledMessageSpansPerSecond', () => {
  const instrument = (value: unknown) =>
    instrumentWebSocketServer(new WebSocketServer({ noServer: true }), {
      eventLoopDelay: false,
      tracing: { messages: true, maxClientSampledMessageSpansPerSecond: value as number },
    });

  it('accepts 0, a fraction, a whole number, Infinity and undefined (the default)', () => {
    for (const value of [0, 0.5, 5, 100_000, Infinity, undefined]) {
      const handle = instrument(value);
      expect(handle.stats().connections).toBe(0);
      handle.shutdown();
    }
  });

  it('throws a TypeError for a value that is not a number, a RangeError for a negative number, NaN or -Infinity', () => {
    for (const value of ['100', true, {}, 10n]) expect(() => instrument(value)).toThrow(TypeError);
    expect(() => instrument('100')).toThrow('tracing.maxClientSampledMessageSpansPerSecond must be a number, got string');
    for (const value of [-1, -Infinity, Number.NaN]) expect(() => instrument(value)).toThrow(RangeError);
    expect(() => instrument(-1)).toThrow('tracing.maxClientSampledMessageSpansPerSecond must be a finite number >= 0 or Infinity, got -1');
    expect(() => instrument(Number.NaN)).toThrow('got NaN');
  });
});
