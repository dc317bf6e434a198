import { describe, expect, it } from 'vitest';
import { openTimesMs, parseDurationS, parseStages, resolveLoadPlan, timeline } from '../../../src/loadtest/plan.ts';
import { SIZE_PROFILES } from '../../../src/loadtest/profiles.ts';

const url = 'ws://127.0.0.1:8080/ws';

describe('load plans', () => {
  it('takes a profile and lets explicit options override it', () => {
    const medium = resolveLoadPlan({ url, profile: 'medium' });
    expect(medium.stages).toEqual([{ connections: 200, rampUpS: 10, holdS: 5 + 60 }]);
    expect(medium.warmupS).toBe(5);
    expect(medium.rate).toBe(1);
    const custom = resolveLoadPlan({ url, profile: 'heavy', connections: 42, durationS: 7, warmupS: 1, rate: 3, token: 't' });
    expect(custom.stages).toEqual([{ connections: 42, rampUpS: SIZE_PROFILES.heavy.rampUpS, holdS: 8 }]);
    expect(custom.rate).toBe(3);
    expect(custom.headers).toEqual({ authorization: 'Bearer t' });
    expect(Object.values(SIZE_PROFILES).map((p) => p.connections)).toEqual([50, 200, 500, 1000]);
  });

  it('builds the alert drill above 500 and then above 1000 connections, with configurable holds', () => {
    const drill = resolveLoadPlan({ url, profile: 'alert-drill', drill: { warningHoldS: 400, criticalHoldS: 200 } });
    expect(drill.stages).toEqual([
      { connections: 510, rampUpS: 30, holdS: 400 },
      { connections: 1010, rampUpS: 30, holdS: 200 },
    ]);
    const line = timeline(drill);
    expect(line).toEqual({ stageStartsMs: [0, 430_000], measureStartMs: 30_000, measureEndMs: 660_000, maxConnections: 1010 });
    const defaults = resolveLoadPlan({ url, profile: 'alert-drill' });
    // for: 5m and for: 2m, each with a minute to spare.
    expect(defaults.stages.map((s) => s.holdS)).toEqual([360, 180]);
  });

  it('spreads opens evenly over each stage ramp-up', () => {
    const plan = resolveLoadPlan({
      url,
      stages: [
        { connections: 4, rampUpS: 1, holdS: 1 },
        { connections: 6, rampUpS: 0.5, holdS: 1 },
      ],
    });
    expect(openTimesMs(plan)).toEqual([0, 250, 500, 750, 2000, 2250]);
  });

  it('validates at the boundary with messages that name the option', () => {
    expect(() => resolveLoadPlan({ url: 'http://x/' })).toThrow('invalid load test options: url: must be a ws:// or wss:// URL');
    expect(() => resolveLoadPlan({ url, connections: 0 })).toThrow(/connections/);
    expect(() => resolveLoadPlan({ url, warmupS: 20, stages: [{ connections: 1, rampUpS: 0, holdS: 5 }] })).toThrow(
      "warm-up (20 s) is longer than the first stage's hold (5 s)",
    );
    expect(() => resolveLoadPlan({ url, message: 'no id' })).toThrow('--message has no {{id}}');
    expect(resolveLoadPlan({ url, message: 'no id', expectEcho: false }).expectEcho).toBe(false);
    expect(() =>
      resolveLoadPlan({
        url,
        stages: [
          { connections: 5, rampUpS: 0, holdS: 1 },
          { connections: 2, rampUpS: 0, holdS: 1 },
        ],
      }),
    ).toThrow('stages must not lower the connection count');
  });

  it('refuses options another option would silently override', () => {
    const stages = [{ connections: 3, rampUpS: 0, holdS: 1 }];
    expect(() => resolveLoadPlan({ url, stages, connections: 2000, durationS: 1, rampUpS: 0 })).toThrow(
      'invalid load test options: stages set the connections and timing themselves; drop connections, rampUpS, durationS',
    );
    expect(() => resolveLoadPlan({ url, stages, profile: 'heavy' })).toThrow('stages set the connections and timing themselves; drop profile');
    // The drill used to become a plain 2000-connection, 10-second run without a word.
    expect(() => resolveLoadPlan({ url, profile: 'alert-drill', connections: 2000 })).toThrow(
      'invalid load test options: profile alert-drill runs its own stages (510, then 1010 connections); drop connections (set its holds with drill, or give stages instead of the profile)',
    );
    expect(() => resolveLoadPlan({ url, profile: 'alert-drill', durationS: 60 })).toThrow('drop durationS');
    expect(() => resolveLoadPlan({ url, profile: 'medium', drill: { warningHoldS: 90 } })).toThrow('drill holds apply only to profile alert-drill');
    // What each of them still takes.
    expect(resolveLoadPlan({ url, stages, warmupS: 0.5, rate: 2 }).stages).toEqual(stages);
    expect(resolveLoadPlan({ url, profile: 'alert-drill', rate: 2, drill: {} }).rate).toBe(2);
  });

  it('requires a measured window when messages are sent', () => {
    expect(() => resolveLoadPlan({ url, durationS: 0 })).toThrow(
      'invalid load test options: durationS must be above 0 when rate is above 0: nothing would be measured',
    );
    expect(() => resolveLoadPlan({ url, stages: [{ connections: 2, rampUpS: 1, holdS: 1 }], warmupS: 1, rate: 2 })).toThrow(
      "invalid load test options: the stages leave no measured time after the first stage's ramp-up and warm-up, so nothing would be measured; lengthen a hold",
    );
    // Holding connections without messages needs no window.
    expect(resolveLoadPlan({ url, durationS: 0, rate: 0 }).stages).toEqual([{ connections: 10, rampUpS: 0, holdS: 0 }]);
  });

  it('refuses durations past 24 h, which Node timers cannot hold either', () => {
    expect(() => resolveLoadPlan({ url, durationS: 600 * 3600 })).toThrow('invalid load test options: durationS: at most 86400 s (24 h)');
    expect(() => resolveLoadPlan({ url, rampUpS: 86_401 })).toThrow('rampUpS: at most 86400 s (24 h)');
    expect(() => resolveLoadPlan({ url, warmupS: 86_401, durationS: 1 })).toThrow('warmupS: at most 86400 s (24 h)');
    expect(() => resolveLoadPlan({ url, stages: [{ connections: 1, rampUpS: 0, holdS: 86_401 }] })).toThrow('stages.0.holdS: at most 86400 s (24 h)');
    expect(() => resolveLoadPlan({ url, drainTimeoutMs: 86_400_001 })).toThrow('drainTimeoutMs: at most 86400000 ms (24 h)');
    const week = Array.from({ length: 8 }, (_, i) => ({ connections: i + 1, rampUpS: 0, holdS: 86_400 }));
    expect(() => resolveLoadPlan({ url, stages: week })).toThrow('invalid load test options: the stages add up to 192 h; a plan runs at most 168 h');
    expect(resolveLoadPlan({ url, durationS: 86_400 }).stages[0]!.holdS).toBe(86_400);
    expect(parseDurationS('24h')).toBe(86_400);
    expect(() => parseDurationS('600h', '-d/--duration')).toThrow('-d/--duration: "600h" is longer than the 24 h limit');
    expect(() => parseDurationS('86401')).toThrow('duration: "86401" is longer than the 24 h limit');
  });

  it('validates handshake headers, subprotocols and the URL before anything connects', () => {
    expect(() => resolveLoadPlan({ url, headers: { 'bad header': 'x' } })).toThrow('invalid load test options: headers: "bad header" is not a valid header name');
    expect(() => resolveLoadPlan({ url, headers: { 'x-ok': 'a\nb' } })).toThrow('invalid load test options: headers: the value of "x-ok" has characters a header cannot carry');
    expect(() => resolveLoadPlan({ url, subprotocols: ['chat v1'] })).toThrow('invalid load test options: subprotocols: "chat v1" is not a valid subprotocol name (an RFC 6455 token)');
    expect(() => resolveLoadPlan({ url, subprotocols: ['chat', 'chat'] })).toThrow('invalid load test options: subprotocols: "chat" is given twice');
    expect(() => resolveLoadPlan({ url: 'ws://127.0.0.1:8080/ws#frag' })).toThrow('invalid load test options: url: must not contain a fragment (#…)');
    expect(() => resolveLoadPlan({ url, token: 'a\nb' })).toThrow('invalid load test options: token has characters a header cannot carry');
    expect(() => resolveLoadPlan({ url, token: 't', headers: { Authorization: 'Basic x' } })).toThrow(
      'invalid load test options: token sets the Authorization header, so it cannot be combined with headers.Authorization',
    );
    expect(resolveLoadPlan({ url, headers: { 'X-Key': 'v' }, subprotocols: ['chat.v1', 'chat.v2'] })).toMatchObject({
      headers: { 'X-Key': 'v' },
      subprotocols: ['chat.v1', 'chat.v2'],
    });
  });

  it('parses durations and stage lists', () => {
    expect([parseDurationS('30'), parseDurationS('30s'), parseDurationS('500ms'), parseDurationS('5m'), parseDurationS('1h')]).toEqual([30, 30, 0.5, 300, 3600]);
    expect(() => parseDurationS('5 minutes')).toThrow('not a duration: "5 minutes"');
    expect(parseStages('510:30s:6m,1010:30s:3m')).toEqual([
      { connections: 510, rampUpS: 30, holdS: 360 },
      { connections: 1010, rampUpS: 30, holdS: 180 },
    ]);
    expect(() => parseStages('510:30s')).toThrow('not a stage: "510:30s"');
  });
});
