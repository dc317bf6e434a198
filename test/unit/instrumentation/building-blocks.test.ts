import { describe, expect, it } from 'vitest';
import { AUTH_CLOSE_CODE, AUTH_HTTP_STATUS, authFailureReason, checkDecision } from '../../../src/instrumentation/auth.ts';
import { closeCodeClass, closeErrorType } from '../../../src/instrumentation/close-codes.ts';
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
  it('records everything under the budget, then about the budget per second', () => {
    const sampler = new TimingSampler(100);
    const first = Array.from({ length: 100 }, () => sampler.sample());
    expect(first.every(Boolean)).toBe(true);
    // The 101st message within the same second spends the budget: sampling starts at once.
    let sampled = 0;
    for (let i = 0; i < 100_000; i++) if (sampler.sample()) sampled++;
    expect(sampler.fraction).toBeLessThan(1);
    expect(sampled).toBeLessThan(100_000 * sampler.fraction * 1.5 + 50);
    // The busy second ends; then traffic drops to 10 a second: back to recording everything.
    const t0 = performance.now();
    sampler.sampled(t0 + 1000);
    expect(sampler.fraction).toBeLessThan(0.01);
    for (let i = 0; i < 10; i++) sampler.sample();
    sampler.sampled(t0 + 2100);
    expect(sampler.fraction).toBe(1);
    expect(() => new TimingSampler(0)).toThrow(RangeError);
  });
});
