/**
 * The client report a window produces: the contract's exact shape (schema
 * version 1, snake_case, counters as deltas), drop accounting, and connected
 * and outage time integrated across window boundaries.
 */
import { describe, expect, it } from 'vitest';
import { LatencyStats } from '../src/report/latency-stats.ts';
import { MAX_CLOSE_CODES, REPORT_SCHEMA_VERSION } from '../src/report/schema.ts';
import { SessionWindow } from '../src/report/session-window.ts';

const T0 = Date.parse('2026-11-24T10:00:00.000Z');

function windowAt(network = true) {
  let now = T0;
  const clock = { advance: (ms: number) => (now += ms) };
  const window = new SessionWindow(
    {
      sessionId: 'k3J9abcdefghijklmnop',
      app: { name: 'dashboard', version: '1.4.2' },
      network: () => (network ? { type: 'wifi', effectiveType: '4g', rttMs: 50, downlinkMbps: 10 } : undefined),
      pagePath: () => '/dashboard',
    },
    () => now,
  );
  return { window, clock };
}

describe('SessionWindow', () => {
  it('reports a window in the contract shape, counters as deltas', () => {
    const { window, clock } = windowAt();
    window.attempt(false);
    window.opened(0.05, false);
    window.message(true);
    window.message(true);
    window.message(false);
    window.rtt(0.04);
    window.rtt(0.06);
    clock.advance(10_000);
    window.closed(1006, true);
    window.outage('start');
    window.attempt(true);
    window.queued();
    window.dropped('queue_full', 2);
    window.error();
    clock.advance(4_200);
    window.attempt(true);
    window.opened(0.05, true);
    window.outage('recovered');
    window.vital('lcp', 1800.4);
    window.vital('cls', 0.020_04);
    window.interaction();
    window.pageError();
    clock.advance(800);

    expect(window.take()).toEqual({
      schema_version: REPORT_SCHEMA_VERSION,
      session_id: 'k3J9abcdefghijklmnop',
      sent_at: '2026-11-24T10:00:15.000Z',
      window_start: '2026-11-24T10:00:00.000Z',
      window_end: '2026-11-24T10:00:15.000Z',
      page_path: '/dashboard',
      app: { name: 'dashboard', version: '1.4.2' },
      connection: {
        attempts: 3,
        opens: 2,
        drops: 1,
        reconnect_attempts: 2,
        reconnect_successes: 1,
        outage_ms: 4200,
        connected_ms: 10_800,
        close_codes: { '1006': 1 },
      },
      messages: { sent: 2, received: 1, queued: 1, dropped: 2, errors: 1 },
      latency_ms: { count: 2, avg: 50, p50: 40, p95: 60, max: 60 },
      network: { type: 'wifi', effective_type: '4g', rtt_ms: 50, downlink_mbps: 10 },
      vitals: { lcp_ms: 1800, cls: 0.02 },
      ux: { interactions: 1, errors: 1 },
    });
  });

  it('starts the next window from zero but keeps integrating open connections', () => {
    const { window, clock } = windowAt();
    window.attempt(false);
    window.opened(0.01, false);
    window.vital('ttfb', 120);
    clock.advance(60_000);
    const first = window.take();
    expect(first?.connection.connected_ms).toBe(60_000);
    expect(first?.vitals).toEqual({ ttfb_ms: 120 });
    clock.advance(30_000);
    const second = window.take();
    expect(second?.window_start).toBe('2026-11-24T10:01:00.000Z');
    expect(second?.connection).toEqual({
      attempts: 0,
      opens: 0,
      drops: 0,
      reconnect_attempts: 0,
      reconnect_successes: 0,
      outage_ms: 0,
      connected_ms: 30_000,
      close_codes: {},
    });
    // A vital is a sample of its page view: in the report of the window it came in, and no other.
    expect(second?.vitals).toBeUndefined();
  });

  it('sends a window in which only a vital came in, and a vital in one report only', () => {
    const { window, clock } = windowAt(false);
    window.vital('lcp', 900);
    window.vital('fcp', 300);
    clock.advance(60_000);
    expect(window.take()?.vitals).toEqual({ lcp_ms: 900, fcp_ms: 300 });
    clock.advance(60_000);
    expect(window.take()).toBeUndefined();
    window.vital('inp', 350);
    window.vital('cls', 0.1234);
    expect(window.take()?.vitals).toEqual({ inp_ms: 350, cls: 0.1234 });
  });

  it('sums connected time over several sockets and splits an outage across windows', () => {
    const { window, clock } = windowAt(false);
    window.opened(0.01, false);
    window.opened(0.01, false);
    clock.advance(1000);
    window.closed(1001, true);
    window.outage('start');
    clock.advance(1000);
    const first = window.take();
    expect(first?.connection).toMatchObject({ connected_ms: 3000, outage_ms: 1000, drops: 1, close_codes: { '1001': 1 } });
    expect(first?.network).toBeUndefined();
    clock.advance(500);
    window.outage('abandoned');
    clock.advance(500);
    expect(window.take()?.connection).toMatchObject({ connected_ms: 1000, outage_ms: 500 });
  });

  it('counts app closes as closes, not drops', () => {
    const { window } = windowAt();
    window.opened(0.01, false);
    window.closed(1000, false);
    expect(window.take()?.connection).toMatchObject({ drops: 0, close_codes: { '1000': 1 } });
  });

  it('keeps at most 20 close codes, counting further closes of known codes', () => {
    const { window } = windowAt();
    for (let code = 4000; code < 4030; code++) window.closed(code, true);
    window.closed(4000, true);
    const codes = window.take()?.connection.close_codes ?? {};
    expect(Object.keys(codes)).toHaveLength(MAX_CLOSE_CODES);
    expect(codes['4000']).toBe(2);
    expect(codes['4025']).toBeUndefined();
  });

  it('has nothing to report for an idle window, unless a vital arrived', () => {
    const { window, clock } = windowAt();
    clock.advance(60_000);
    expect(window.take()).toBeUndefined();
    window.vital('cls', 0.1);
    expect(window.take()?.vitals).toEqual({ cls: 0.1 });
    expect(window.take()).toBeUndefined();
  });

  it('reports null latency statistics without samples', () => {
    const { window } = windowAt();
    window.message(true);
    expect(window.take()?.latency_ms).toEqual({ count: 0, avg: null, p50: null, p95: null, max: null });
  });
});

describe('LatencyStats', () => {
  it('computes nearest-rank percentiles on the sample', () => {
    const stats = new LatencyStats();
    for (let ms = 1; ms <= 100; ms++) stats.add(ms);
    expect(stats.take()).toEqual({ count: 100, avg: 50.5, p50: 50, p95: 95, max: 100 });
  });

  it('keeps a bounded sample but exact count, mean and max', () => {
    let seed = 1;
    const random = () => ((seed = (seed * 16_807) % 2_147_483_647) / 2_147_483_647);
    const stats = new LatencyStats(64, random);
    for (let i = 0; i < 10_000; i++) stats.add(i % 100);
    stats.add(5000);
    // Mean (49.5 · 10 000 + 5000) / 10 001 = 49.99…; percentiles from the seeded 64-value sample.
    expect(stats.take()).toEqual({ count: 10_001, avg: 50, p50: 54, p95: 94, max: 5000 });
  });
});
