import { describe, expect, it } from 'vitest';
import { assertFdCapacity } from '../../../src/loadtest/fd-limit.ts';
import { createHistogram, decodeHistogram, encodeHistogram, mergeEncoded, recordMs, summarize } from '../../../src/loadtest/histogram.ts';
import { resolveLoadPlan } from '../../../src/loadtest/plan.ts';
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
  const counters = { ...emptyCounters(), opened: 9, failed: 1, sent: 90, received: 88, matched: 88, lost: 2, errors: { 'connect:ECONNRESET': 1 }, closeCodes: { '1000': 9 } };
  const latency = createHistogram();
  for (let i = 1; i <= 100; i++) recordMs(latency, i);
  const report = buildReport({ plan, aborted: false, measuredS: 2, elapsedS: 2.5, counters: [counters], perWorker: [10], peakOpen: 9, latency, connect: createHistogram() });

  it('adds up the counters into the documented shape', () => {
    expect(report.connections).toEqual({ target: 10, opened: 9, failed: 1, dropped: 0, peak_open: 9 });
    expect(report.messages).toEqual({ sent: 90, received: 88, matched: 88, lost: 2, per_second: 44 });
    expect(report.error_rate).toBeCloseTo(3 / 100, 12);
    expect(report.errors).toEqual({ 'connect:ECONNRESET': 1 });
    // Percentiles read back as the top of their HDR bucket: within 0.1 % of the recorded value.
    expect(Math.abs(report.latency_ms.p95 - 95) / 95).toBeLessThanOrEqual(0.001);
  });

  it('fails the gates it breaks, each with a sentence', () => {
    expect(checkGates(report, { maxP95Ms: 200, maxErrorRate: 0.05 })).toEqual([]);
    expect(checkGates(report, { maxP95Ms: 50, maxErrorRate: 0.01 })).toEqual([
      `p95 latency ${report.latency_ms.p95} ms exceeds --max-p95 50 ms`,
      'error rate 3.00 % exceeds --max-error-rate 1.00 %',
    ]);
    const silent = { ...report, latency_ms: summarize(createHistogram()) };
    expect(checkGates(silent, { maxP95Ms: 50 })).toEqual(['no latency was measured (no echo arrived), so p95 <= 50 ms cannot be shown']);
    const l = report.latency_ms;
    expect(formatReport(report)).toContain(`latency ms   p50 ${l.p50}  p90 ${l.p90}  p95 ${l.p95}  p99 ${l.p99}  max ${l.max}`);
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
