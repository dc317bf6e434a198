import { afterEach, describe, expect, it, vi } from 'vitest';
import { AUTH_CLOSE_CODE, AUTH_HTTP_STATUS, authFailureReason, checkDecision } from '../../../src/instrumentation/auth.ts';
import { closeCodeClass, closeErrorType } from '../../../src/instrumentation/close-codes.ts';
import { DeferredHistogram } from '../../../src/instrumentation/deferred-histogram.ts';
import { jsonEnvelope, messageTypes } from '../../../src/instrumentation/message-classifier.ts';
import { TimingSampler } from '../../../src/instrumentation/timing-sampler.ts';

describe('close codes', () => {
  it('folds codes into bounded classes', () => {
    expect([1000, 1001, 1002, 1003, 1005, 1006, 1007, 1008, 1009, 1011, 1012, 1013, 1015, 3001, 4403, 999, 2000].map(closeCodeClass)).toEqual([
      'normal',
      'going_away',
      'protocol_error',
      'protocol_error',
      'no_status',
      'abnormal',
      'protocol_error',
      'policy_violation',
      'message_too_big',
      'internal_error',
      'unavailable',
      'unavailable',
      'abnormal',
      'registered',
      'application',
      '_OTHER',
      '_OTHER',
    ]);
  });

  it('keeps known ws error codes and folds the rest', () => {
    expect(closeErrorType(Object.assign(new Error('x'), { code: 'WS_ERR_INVALID_UTF8' }))).toBe('WS_ERR_INVALID_UTF8');
    expect(closeErrorType(Object.assign(new Error('x'), { code: 'ECONNRESET' }))).toBe('_OTHER');
    expect(closeErrorType(undefined)).toBe('_OTHER');
  });
});

describe('auth', () => {
  it('maps reasons to HTTP statuses and close codes, folding unknown reasons', () => {
    expect(authFailureReason('expired_token')).toBe('expired_token');
    expect(authFailureReason('user 42 is banned')).toBe('_OTHER');
    expect(AUTH_HTTP_STATUS).toEqual({ missing_token: 401, invalid_token: 401, expired_token: 401, forbidden_origin: 403, rate_limited: 429, _OTHER: 403 });
    expect(AUTH_CLOSE_CODE.rate_limited).toBe(4429);
  });

  it('validates what an authenticator returned', () => {
    expect(checkDecision({ ok: true, user: 'a' })).toEqual({ ok: true, user: 'a' });
    expect(() => checkDecision({ ok: false })).toThrow('without a reason');
    expect(() => checkDecision('yes')).toThrow('must return');
  });
});

describe('message types', () => {
  it('allow-lists types and folds everything else into _OTHER', () => {
    const types = messageTypes(['chat', 'presence', 'chat']);
    expect(types.names).toEqual(['chat', 'presence', '_OTHER']);
    expect([types.indexOf('chat'), types.indexOf('presence'), types.indexOf('user-42'), types.indexOf(undefined)]).toEqual([0, 1, 2, 2]);
    expect(types.attrs[1]).toEqual({ 'websocket.message.type': 'presence' });
    expect(() => messageTypes(Array.from({ length: 65 }, (_, i) => `t${i}`))).toThrow('at most 64');
  });

  it('reads a JSON envelope with configurable fields, and throws on a non-object', () => {
    const read = jsonEnvelope({ type: 'kind', sentAt: 'ts' });
    expect(read(Buffer.from('{"kind":"chat","ts":5,"traceparent":"00-a-b-01"}'), false)).toEqual({
      type: 'chat',
      sentAt: 5,
      traceparent: '00-a-b-01',
      tracestate: undefined,
    });
    expect(read(Buffer.from('{"kind":7}'), false)).toEqual({ type: undefined, sentAt: undefined, traceparent: undefined, tracestate: undefined });
    expect(read(Buffer.from([1, 2]), true)).toBeUndefined();
    expect(() => read(Buffer.from('[1]'), false)).toThrow('not a JSON object');
    expect(() => read(Buffer.from('nope'), false)).toThrow(SyntaxError);
  });
});

describe('timing sampler', () => {
  afterEach(() => vi.restoreAllMocks());

  interface Clock {
    now: number;
    countdown: number;
    /** When the server's once-a-second check runs next (SAMPLER_CHECK_MS in instrument-server.ts). */
    nextCheck: number;
    lastTimed: number;
    /** Longest stretch of simulated time without a timed message. */
    longestSilence: number;
  }

  /**
   * Feeds `seconds` of messages at `perSecond`, counting down to each timed one
   * as the server does, with the server's check every simulated second; returns
   * how many were timed.
   */
  function feed(sampler: TimingSampler, clock: Clock, perSecond: number, seconds: number): number {
    let timed = 0;
    for (let i = 0; i < perSecond * seconds; i++) {
      clock.now += 1000 / perSecond;
      while (clock.nextCheck <= clock.now) {
        clock.countdown = sampler.overdue(clock.nextCheck, clock.countdown);
        clock.nextCheck += 1000;
      }
      if (--clock.countdown === 0) {
        timed++;
        clock.longestSilence = Math.max(clock.longestSilence, clock.now - clock.lastTimed);
        clock.lastTimed = clock.now;
        clock.countdown = sampler.next(clock.now);
      }
    }
    return timed;
  }

  it('times every message under the budget, about the budget per second above it, and every message again within seconds of traffic falling', () => {
    // The gap's mean, every time: 1 + floor(-1 / ln(1 - ratio)).
    vi.spyOn(Math, 'random').mockReturnValue(1 - Math.exp(-1));
    // The sampler's first window starts at 0 on the simulated clock: the run is the same on every machine.
    const now = vi.spyOn(performance, 'now').mockReturnValue(0);
    const sampler = new TimingSampler(100);
    now.mockRestore();
    const clock: Clock = { now: 0, countdown: 1, nextCheck: 1000, lastTimed: 0, longestSilence: 0 };
    expect(feed(sampler, clock, 50, 3)).toBe(150);
    expect(sampler.fraction).toBe(1);
    // A burst: the budget is spent within milliseconds, sampling starts at once.
    const burst = feed(sampler, clock, 102_400, 2);
    expect(sampler.fraction).toBeLessThan(0.002);
    // The budget's 100 before the first estimate, then 100 a second for two seconds (202: gaps round down).
    expect(burst).toBe(302);
    // Traffic drops to 10 a second. The gap left from the burst (735 messages, 73 s at this
    // rate; without the check the next timed message came minutes later) is cut at the first
    // check, one second in: that message is timed and the rate re-estimated over the window
    // that still holds the burst's tail (a third of the messages); the next estimate, at the
    // end of that one-second window, sees 10 a second and every message is timed again.
    clock.longestSilence = 0;
    const perSecond = [1, 2, 3, 4].map(() => feed(sampler, clock, 10, 1));
    expect(perSecond).toEqual([1, 3, 9, 10]);
    expect(sampler.fraction).toBe(1);
    // Never longer than the check interval plus one message without a timed message.
    expect(clock.longestSilence).toBeLessThanOrEqual(1100);
    expect(feed(sampler, clock, 10, 100)).toBe(1000);
    expect(() => new TimingSampler(0)).toThrow(RangeError);
  });

  it('leaves the countdown alone while messages are timed, or with at most one message to go', () => {
    const now = vi.spyOn(performance, 'now').mockReturnValue(0);
    const sampler = new TimingSampler(100);
    now.mockRestore();
    expect(sampler.next(500)).toBe(1);
    // Timed 500 ms ago: not overdue.
    expect(sampler.overdue(1000, 40)).toBe(40);
    // One message to go: nothing to cut.
    expect(sampler.overdue(5000, 1)).toBe(1);
    expect(sampler.overdue(5000, 40)).toBe(1);
  });
});

describe('deferred histogram', () => {
  it('records nothing on add, every value with its attribute set on flush, and flushes by itself when full', () => {
    const recorded: Array<[number, unknown]> = [];
    const histogram = { record: (value: number, attributes?: unknown) => void recorded.push([value, attributes]) };
    const attributes = [{ type: 'a' }, { type: 'b' }];
    const deferred = new DeferredHistogram(histogram, attributes, 3);
    deferred.add(0.5, 1);
    deferred.add(0.25, 0);
    expect(recorded).toEqual([]);
    deferred.flush();
    expect(recorded).toEqual([
      [0.5, attributes[1]],
      [0.25, attributes[0]],
    ]);
    deferred.flush();
    expect(recorded).toHaveLength(2);
    for (const value of [1, 2, 3]) deferred.add(value, 0);
    expect(recorded.map(([value]) => value)).toEqual([0.5, 0.25, 1, 2, 3]);
  });
});
