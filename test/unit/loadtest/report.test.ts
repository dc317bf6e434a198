import { describe, expect, it } from 'vitest';
import { assertFdCapacity } from '../../../src/loadtest/fd-limit.ts';
import { createHistogram, decodeHistogram, encodeHistogram, mergeEncoded, recordMs, summarize } from '../../../src/loadtest/histogram.ts';
import { resolveLoadPlan } from '../../../src/loadtest/plan.ts';
import { formatProgress } from '../../../src/loadtest/progress.ts';
import { buildReport, checkGates, formatReport } from '../../../src/loadtest/report.ts';
import { emptyCounters } from '../../../src/loadtest/worker-protocol.ts';

describe('HDR histograms across workers', () => {
  it('merges encoded worker histograms into exact percentiles within 3 significant digits', () => {
    // Worker A records 1..500 ms, worker B 501..1000 ms: merged, percentile p is p * 10 ms.
    const a = createHistogram();
    const b = createHistogram();
    for (let ms = 1; ms <= 1000; ms++) recordMs(ms <= 500 ? a : b, ms);
    const merged = createHistogram();
    mergeEncoded(merged, [encodeHistogram(a), encodeHistogram(b)]);
    const s = summarize(merged);
    expect(s.count).toBe(1000);
    for (const [value, exact] of [[s.p50, 500], [s.p90, 900], [s.p95, 950], [s.p99, 990], [s.max, 1000]] as const) {
      expect(Math.abs(value - exact) / exact).toBeLessThanOrEqual(0.001);
    }
    expect(decodeHistogram(encodeHistogram(a)).totalCount).toBe(500);
  });

  it('keeps a stall of minutes instead of clamping it', () => {
    const h = createHistogram();
    recordMs(h, 0.05);
    recordMs(h, 10 * 60_000);
    const s = summarize(h);
    expect(Math.abs(s.max - 600_000) / 600_000).toBeLessThanOrEqual(0.001);
    expect(summarize(createHistogram())).toEqual({ count: 0, p50: 0, p90: 0, p95: 0, p99: 0, max: 0, mean: 0 });
  });
});

describe('report and gates', () => {
  const plan = resolveLoadPlan({ url: 'ws://127.0.0.1:1/', connections: 10, durationS: 2, rate: 5 });
  const counters = {
    ...emptyCounters(),
    opened: 9,
    failed: 1,
    peakOpen: 9,
    planned: 100,
    sent: 90,
    received: 88,
    matched: 88,
    lost: 2,
    errors: { 'connect:ECONNRESET': 1 },
    closeCodes: { '1000': 9 },
  };
  const latency = createHistogram();
  for (let i = 1; i <= 100; i++) recordMs(latency, i);
  const base = { aborted: false, measuredS: 2, elapsedS: 2.5, perWorker: [10], connect: createHistogram(), openDelay: createHistogram(), sendLag: createHistogram() };
  const report = buildReport({ ...base, plan, counters: [counters], latency });

  it('adds up the counters into the documented shape', () => {
    expect(report.connections).toEqual({ target: 10, opened: 9, failed: 1, dropped: 0, abandoned: 0, peak_open: 9 });
    expect(report.messages).toEqual({ planned: 100, sent: 90, received: 88, matched: 88, lost: 2, skipped: 0, unsent: 0, in_flight: 0, per_second: 44 });
    expect(report.connection_error_rate).toBe(1 / 10);
    expect(report.message_error_rate).toBe(2 / 90);
    expect(report.error_rate).toBe(1 / 10);
    expect(report.errors).toEqual({ 'connect:ECONNRESET': 1 });
    // Percentiles read back as the top of their HDR bucket: within 0.1 % of the recorded value.
    expect(Math.abs(report.latency_ms.p95 - 95) / 95).toBeLessThanOrEqual(0.001);
    expect(report.latency_ms.lower_bounds).toBe(2);
    expect(report.open_delay_ms).toEqual({ count: 0, p50: 0, p90: 0, p95: 0, p99: 0, max: 0, mean: 0 });
    expect(report.send_lag_ms).toEqual({ count: 0, p50: 0, p90: 0, p95: 0, p99: 0, max: 0, mean: 0 });
  });

  it('adds up the workers\' exact peaks of open connections (an upper bound of the simultaneous peak)', () => {
    const two = buildReport({ ...base, perWorker: [5, 5], plan, counters: [{ ...counters, peakOpen: 5 }, { ...counters, peakOpen: 4 }], latency });
    expect(two.connections.peak_open).toBe(9);
  });

  it('reports the send lag next to the latency, and the messages never written', () => {
    const sendLag = createHistogram();
    for (let i = 1; i <= 100; i++) recordMs(sendLag, i / 100);
    const r = buildReport({ ...base, sendLag, plan, counters: [{ ...counters, unsent: 2 }], latency });
    expect(r.send_lag_ms.count).toBe(100);
    for (const [value, exact] of [[r.send_lag_ms.p50, 0.5], [r.send_lag_ms.p99, 0.99], [r.send_lag_ms.max, 1]] as const) {
      expect(Math.abs(value - exact) / exact).toBeLessThanOrEqual(0.001);
    }
    const text = formatReport(r);
    expect(text).toContain(`send lag ms  p50 ${r.send_lag_ms.p50}  p99 ${r.send_lag_ms.p99}  max ${r.send_lag_ms.max}  (this process sending late`);
    expect(text).toContain('messages     planned 100  sent 90  received 88');
    expect(text).toContain('2 of the sent were never written (their connection dropped before them, or opened after the window): lost');
    // Nothing sent late to show, no line.
    expect(formatReport(report)).not.toContain('send lag');
  });

  it('fails the gates it breaks, each with a sentence', () => {
    expect(checkGates(report, { maxP95Ms: 200, maxErrorRate: 0.1 })).toEqual([]);
    expect(checkGates(report, { maxP95Ms: 50, maxErrorRate: 0.01 })).toEqual([
      `p95 latency ${report.latency_ms.p95} ms (2 lost messages counted at the time they were given up on) exceeds --max-p95 50 ms`,
      'connection error rate 10.00 % (1 of 10 connections failed or dropped) exceeds --max-error-rate 1.00 %',
      'message error rate 2.22 % (2 of 90 messages lost) exceeds --max-error-rate 1.00 %',
    ]);
    const silent = { ...report, latency_ms: { ...summarize(createHistogram()), lower_bounds: 0 } };
    expect(checkGates(silent, { maxP95Ms: 50 })).toEqual(['no latency was measured (no message was sent in the measured window), so p95 <= 50 ms cannot be shown']);
    const l = report.latency_ms;
    expect(formatReport(report)).toContain(`latency ms   p50 ${l.p50}  p90 ${l.p90}  p95 ${l.p95}  p99 ${l.p99}  max ${l.max}`);
    expect(formatReport(report)).toContain('2 of the 100 are lost messages, counted up to when they were given up on (lower bounds)');
    expect(formatReport(report)).toContain('error rate   connections 10.00 %  messages 2.22 %');
  });

  it('does not let messages dilute refused connections: half refused fails a 1 % gate however long the run', () => {
    // 10 connections, 5 refused; the 5 that opened sent 1,000 messages each, all echoed.
    const long = resolveLoadPlan({ url: 'ws://127.0.0.1:1/', connections: 10, durationS: 1000, rate: 1 });
    const halfRefused = { ...emptyCounters(), opened: 5, failed: 5, sent: 5000, received: 5000, matched: 5000, errors: { 'connect:ECONNREFUSED': 5 } };
    const r = buildReport({ ...base, measuredS: 1000, plan: long, counters: [halfRefused], latency });
    // The old single rate: (5 + 0) / (10 + 5000) < 0.1 %.
    expect(r.connection_error_rate).toBe(0.5);
    expect(r.message_error_rate).toBe(0);
    expect(r.error_rate).toBe(0.5);
    expect(checkGates(r, { maxErrorRate: 0.01 })).toEqual(['connection error rate 50.00 % (5 of 10 connections failed or dropped) exceeds --max-error-rate 1.00 %']);

    // And the other way round: every connection held, 2 % of the messages lost.
    const lossy = { ...emptyCounters(), opened: 10, sent: 1000, received: 980, matched: 980, lost: 20 };
    const m = buildReport({ ...base, plan: long, counters: [lossy], latency });
    expect([m.connection_error_rate, m.message_error_rate, m.error_rate]).toEqual([0, 0.02, 0.02]);
    expect(checkGates(m, { maxErrorRate: 0.01 })).toEqual(['message error rate 2.00 % (20 of 1000 messages lost) exceeds --max-error-rate 1.00 %']);
    expect(checkGates(m, { maxErrorRate: 0.02 })).toEqual([]);

    // Dropped connections count against the connections they were.
    const dropping = { ...emptyCounters(), opened: 10, dropped: 3, sent: 1000, received: 1000, matched: 1000 };
    expect(buildReport({ ...base, plan: long, counters: [dropping], latency }).connection_error_rate).toBe(0.3);
  });

  it('counts sends skipped for backpressure as message errors even without echoes', () => {
    const noEcho = resolveLoadPlan({ url: 'ws://127.0.0.1:1/', connections: 2, durationS: 10, rate: 5, expectEcho: false });
    const skipping = { ...emptyCounters(), opened: 2, sent: 100, skipped: 3, errors: { 'send:backpressure': 3 } };
    const r = buildReport({ ...base, plan: noEcho, counters: [skipping], latency: createHistogram() });
    expect(r.messages).toMatchObject({ sent: 100, lost: 0, skipped: 3 });
    expect(r.message_error_rate).toBe(0.03);
    expect(checkGates(r, { maxErrorRate: 0.01 })).toEqual(['message error rate 3.00 % (3 of 100 messages skipped) exceeds --max-error-rate 1.00 %']);
  });

  it('fails the p95 gate when more than 5 % of the messages never came back, whatever the recorded p95', () => {
    // 100 messages, all recorded at 1..100 µs: the lost ones were given up on early (their connection closed).
    const fast = createHistogram();
    for (let i = 1; i <= 100; i++) recordMs(fast, i / 1000);
    const withLost = (lost: number) =>
      buildReport({ ...base, plan, counters: [{ ...emptyCounters(), opened: 10, sent: 100, received: 100 - lost, matched: 100 - lost, lost }], latency: fast });
    expect(checkGates(withLost(5), { maxP95Ms: 50 })).toEqual([]);
    expect(checkGates(withLost(6), { maxP95Ms: 50 })).toEqual([
      '6 of 100 messages (6.00 %) got no echo, more than the 5 % p95 leaves out, so p95 <= 50 ms cannot be shown',
    ]);
  });

  it('fails a run that opened nothing, or matched no echo, with no gate given', () => {
    const refused = buildReport({ ...base, plan, counters: [{ ...emptyCounters(), failed: 10, errors: { 'connect:ECONNREFUSED': 10 } }], latency: createHistogram() });
    expect(checkGates(refused, {})).toEqual(['no connection opened (10 of 10 failed: connect:ECONNREFUSED ×10)']);
    const unanswered = buildReport({ ...base, plan, counters: [{ ...emptyCounters(), opened: 10, sent: 100, lost: 100 }], latency });
    expect(checkGates(unanswered, {})).toEqual(['no echo matched any of the 100 messages sent (does the server echo them with their id? else pass --no-echo)']);
    // Without echoes expected, messages that get no answer are fine.
    const noEcho = resolveLoadPlan({ url: 'ws://127.0.0.1:1/', connections: 10, durationS: 2, rate: 5, expectEcho: false });
    expect(checkGates(buildReport({ ...base, plan: noEcho, counters: [{ ...emptyCounters(), opened: 10, sent: 100 }], latency: createHistogram() }), {})).toEqual([]);
    // An abort before anything opened is an interruption, not a failure.
    const abortedEarly = buildReport({ ...base, aborted: true, plan, counters: [{ ...emptyCounters(), abandoned: 10 }], latency: createHistogram() });
    expect(abortedEarly.connection_error_rate).toBe(0);
    expect(checkGates(abortedEarly, {})).toEqual([]);
  });
});

describe('nothing measured, and aborted runs', () => {
  const plan = resolveLoadPlan({ url: 'ws://127.0.0.1:1/', connections: 5, durationS: 2, rate: 10 });
  const base = { aborted: false, measuredS: 2, elapsedS: 2.5, perWorker: [5], connect: createHistogram(), openDelay: createHistogram(), sendLag: createHistogram() };

  it('fails a run that opened connections but sent nothing in the measured window, with or without echoes and gates', () => {
    // The handshakes finished after the window: 100 messages were due, none was measured.
    const r = buildReport({ ...base, plan, counters: [{ ...emptyCounters(), opened: 5 }], latency: createHistogram() });
    const nothing = 'no message was sent in the measured window (rate 10/s per connection): nothing was measured';
    expect(checkGates(r, {})).toEqual([nothing]);
    expect(checkGates(r, { maxErrorRate: 0 })).toEqual([nothing]);
    const noEcho = resolveLoadPlan({ url: 'ws://127.0.0.1:1/', connections: 5, durationS: 2, rate: 10, expectEcho: false });
    expect(checkGates(buildReport({ ...base, plan: noEcho, counters: [{ ...emptyCounters(), opened: 5 }], latency: createHistogram() }), {})).toEqual([nothing]);
    // Holding connections only (rate 0) sends nothing by design; an abort is an interruption.
    const hold = resolveLoadPlan({ url: 'ws://127.0.0.1:1/', connections: 5, durationS: 2, rate: 0 });
    expect(checkGates(buildReport({ ...base, plan: hold, counters: [{ ...emptyCounters(), opened: 5 }], latency: createHistogram() }), { maxErrorRate: 0 })).toEqual([]);
    expect(checkGates(buildReport({ ...base, aborted: true, plan, counters: [{ ...emptyCounters(), opened: 5 }], latency: createHistogram() }), {})).toEqual([]);
  });

  it('keeps messages in flight at an abort out of lost and out of the error rates', () => {
    const fast = createHistogram();
    for (let i = 1; i <= 80; i++) recordMs(fast, 1);
    const counters = { ...emptyCounters(), opened: 5, sent: 100, received: 80, matched: 80, lost: 0, inFlight: 20 };
    const r = buildReport({ ...base, aborted: true, plan, counters: [counters], latency: fast });
    expect(r.messages).toEqual({ planned: 0, sent: 100, received: 80, matched: 80, lost: 0, skipped: 0, unsent: 0, in_flight: 20, per_second: 40 });
    expect(r.latency_ms).toMatchObject({ count: 80, lower_bounds: 0 });
    expect(r.message_error_rate).toBe(0);
    expect(checkGates(r, { maxP95Ms: 50, maxErrorRate: 0 })).toEqual([]);
    expect(formatReport(r)).toContain('messages     planned 0  sent 100  received 80  matched 80  lost 0  in flight 20 (aborted before their echo)');
    // Lost among the settled ones only: 5 lost of 80 answered or lost, not of 100.
    const lossy = buildReport({ ...base, aborted: true, plan, counters: [{ ...counters, received: 75, matched: 75, lost: 5 }], latency: fast });
    expect(lossy.message_error_rate).toBe(5 / 80);
  });
});

describe('progress line', () => {
  it('prints all traffic rates, and a dash where a sample has no rate (the final one)', () => {
    const p = {
      phase: 'warmup' as const,
      elapsedS: 3,
      open: 4,
      target: 4,
      failed: 0,
      dropped: 0,
      sent: 0,
      received: 0,
      errors: 0,
      sentPerS: 80,
      receivedPerS: 79.6,
      intervalP95Ms: 1.5,
      buckets: { latency: { counts: [], sumS: 0, count: 0 }, handshake: { counts: [], sumS: 0, count: 0 } },
    };
    expect(formatProgress(p)).toBe('[   3 s warmup ]  open 4/4  failed 0  sent 80/s  recv 80/s  p95 1.50 ms  errors 0');
    expect(formatProgress({ ...p, phase: 'done', sentPerS: null, receivedPerS: null })).toBe(
      '[   3 s done   ]  open 4/4  failed 0  sent –/s  recv –/s  p95 1.50 ms  errors 0',
    );
  });
});

describe('file descriptor check', () => {
  it('passes under the soft limit and says how to raise it otherwise', () => {
    expect(() => assertFdCapacity(900, { soft: 1024, hard: 4096 })).not.toThrow();
    expect(() => assertFdCapacity(1000, { soft: 1024, hard: 4096 })).toThrow(
      '1000 connections need about 1064 open files, but the soft limit (ulimit -n) is 1024; raise it in this shell with `ulimit -n 4096` (the hard limit is 4096), then run again',
    );
    expect(() => assertFdCapacity(10_000, { soft: 1024, hard: 4096 })).toThrow('the hard limit is 4096 too: as root run `ulimit -n 65536`');
  });
});
