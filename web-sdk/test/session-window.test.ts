/**
 * The client report a window produces: the contract's exact shape (schema
 * version 1, snake_case, counters as deltas), drop accounting, and connected
 * and outage time integrated across window boundaries.
 */
import { describe, expect, it } from 'vitest';
import { clientReportBatchSchema } from '../../src/api/schemas/client-report.ts';
import { LatencyStats } from '../src/report/latency-stats.ts';
import { type ClientReport, MAX_CLOSE_CODES, MAX_WINDOW_MS, REPORT_SCHEMA_VERSION, maxCountInWindow, maxDurationInWindow } from '../src/report/schema.ts';
import { SessionWindow, type WindowContext } from '../src/report/session-window.ts';

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

describe('SessionWindow reports the analytics API accepts', () => {
  /** A window with a test clock and the given context, as the browser could produce it. */
  function edgeWindow(context: Partial<WindowContext> = {}) {
    let now = T0;
    const window = new SessionWindow({ sessionId: 'k3J9abcdefghijklmnop', network: () => undefined, pagePath: () => '/', ...context }, () => now);
    window.interaction();
    return { window, clock: { advance: (ms: number) => (now += ms) } };
  }

  it('ends a window where it started when the clock stepped back, and starts the next one there', () => {
    const { window, clock } = edgeWindow();
    clock.advance(-5000);
    expect(window.take()).toMatchObject({ window_start: '2026-11-24T09:59:55.000Z', window_end: '2026-11-24T09:59:55.000Z' });
    window.interaction();
    clock.advance(1000);
    expect(window.take()).toMatchObject({ window_start: '2026-11-24T09:59:55.000Z', window_end: '2026-11-24T09:59:56.000Z' });
  });

  it('omits an empty app name, and the app when nothing of it is left', () => {
    expect(edgeWindow({ app: { name: '', version: '1.4.2' } }).window.take()?.app).toEqual({ version: '1.4.2' });
    expect(edgeWindow({ app: { name: '' } }).window.take()).not.toHaveProperty('app');
  });

  it('cuts app fields to 64 UTF-16 units without splitting a surrogate pair', () => {
    const name = 'a' + '😀'.repeat(40);
    expect(edgeWindow({ app: { name } }).window.take()?.app).toEqual({ name: 'a' + '😀'.repeat(31) });
  });

  it('reports a page path the schema would refuse as /, and cuts a long one at 256 UTF-16 units whole', () => {
    const paths = ['srcdoc', 'about:srcdoc', '', '/a?b', '/a#b', '/a\0b', '/\uD800x', '/' + 'x'.repeat(300), '/' + '😀'.repeat(200)];
    const reported = paths.map((path) => edgeWindow({ pagePath: () => path }).window.take()?.page_path);
    expect(reported).toEqual(['/', '/', '/', '/', '/', '/', '/', '/' + 'x'.repeat(255), '/' + '😀'.repeat(127)]);
  });

  it('keeps numbers within the schema’s ranges and leaves out close codes it would refuse', () => {
    const network = { type: 'wifi', effectiveType: '4g', rttMs: Number.NaN, downlinkMbps: 1e9 } as const;
    const { window } = edgeWindow({ network: () => network });
    window.dropped('queue_full', 3e9);
    window.closed(0, true);
    window.closed(10_000, true);
    window.closed(1006, true);
    window.rtt(Number.NaN);
    window.rtt(-1);
    window.vital('lcp', -5);
    window.vital('inp', Number.POSITIVE_INFINITY);
    window.vital('cls', 2e6);
    const report = window.take();
    // A zero-length window: the messages' burst.
    expect(report?.messages.dropped).toBe(100_000);
    expect(report?.connection).toMatchObject({ drops: 3, close_codes: { '1006': 1 } });
    expect(report?.latency_ms).toEqual({ count: 1, avg: 0, p50: 0, p95: 0, max: 0 });
    expect(report?.network).toEqual({ type: 'wifi', effective_type: '4g', downlink_mbps: 1e6 });
    expect(report?.vitals).toEqual({ lcp_ms: 0, cls: 1e6 });
  });

  it('builds edge-case reports the server’s schema accepts in one batch', () => {
    const reports = [
      (() => {
        const { window, clock } = edgeWindow({ app: { name: '' }, pagePath: () => 'srcdoc' });
        clock.advance(-60_000);
        return window.take();
      })(),
      (() => {
        const { window } = edgeWindow({
          app: { name: '😀'.repeat(40), version: '' },
          pagePath: () => '/' + '😀'.repeat(200),
          network: () => ({ type: 'cell', effectiveType: '2g', rttMs: -1, downlinkMbps: Number.POSITIVE_INFINITY }),
        });
        window.dropped('expired', 1e10);
        window.closed(999, true);
        window.rtt(Number.NaN);
        window.vital('ttfb', -1);
        return window.take();
      })(),
    ];
    expect(reports.every((report) => report !== undefined)).toBe(true);
    expect(clientReportBatchSchema.safeParse({ reports }).error?.issues).toBeUndefined();
  });
});

describe('SessionWindow reports within the API’s per-window bounds', () => {
  /** Reports the analytics API refuses nothing of (its schema, in one batch as the SDK sends them). */
  const issues = (...reports: Array<ClientReport | undefined>) => {
    expect(reports.every((report) => report !== undefined)).toBe(true);
    return clientReportBatchSchema.safeParse({ reports }).error?.issues;
  };
  const repeat = (n: number, fn: () => void) => {
    for (let i = 0; i < n; i++) fn();
  };

  it('shares its bounds with the API: burst plus rate per second of a window of at most 15 minutes', () => {
    expect(MAX_WINDOW_MS).toBe(900_000);
    expect([0, 60_000, 900_000, 7_200_000].map((ms) => maxCountInWindow('connection', ms))).toEqual([60, 660, 9_060, 9_060]);
    expect(['latency', 'messages', 'interactions', 'page_errors'].map((kind) => maxCountInWindow(kind as 'latency', 60_000))).toEqual([660, 700_000, 1_400, 7_000]);
    expect([0, 60_000, 900_000].map(maxDurationInWindow)).toEqual([1_000, 601_000, 9_001_000]);
  });

  it('clamps every count past its bound to exactly the bound for the window', () => {
    const { window, clock } = windowAt();
    repeat(700, () => window.attempt(false));
    repeat(700, () => window.opened(0.01, false));
    repeat(661, () => window.closed(1006, true));
    window.closed(1000, false);
    repeat(700_001, () => window.message(true));
    repeat(700_001, () => window.message(false));
    repeat(700_001, () => window.queued());
    window.dropped('queue_full', 1e10);
    repeat(700_001, () => window.error());
    repeat(661, () => window.rtt(0.05));
    repeat(1_401, () => window.interaction());
    repeat(7_001, () => window.pageError());
    clock.advance(60_000);
    const report = window.take();
    expect(report?.connection).toEqual({
      attempts: 660,
      opens: 660,
      drops: 660,
      reconnect_attempts: 0,
      reconnect_successes: 0,
      outage_ms: 0,
      connected_ms: 601_000,
      close_codes: { '1006': 660, '1000': 1 },
    });
    expect(report?.messages).toEqual({ sent: 700_000, received: 700_000, queued: 700_000, dropped: 700_000, errors: 700_000 });
    expect(report?.latency_ms).toEqual({ count: 660, avg: 50, p50: 50, p95: 50, max: 50 });
    expect(report?.ux).toEqual({ interactions: 1_400, errors: 7_000 });
    expect(issues(report)).toBeUndefined();
    // Under the bound, nothing moves: the next window counts what came in it.
    repeat(3, () => window.attempt(true));
    clock.advance(1_000);
    expect(window.take()?.connection).toMatchObject({ attempts: 3, reconnect_attempts: 3 });
  });

  it('keeps reconnects within the attempts and opens when all of them are clamped', () => {
    const { window, clock } = windowAt();
    repeat(50, () => window.attempt(false));
    repeat(5_000, () => window.attempt(true));
    repeat(20, () => window.opened(0.01, false));
    repeat(2_000, () => window.opened(0.01, true));
    clock.advance(10_000);
    const clamped = window.take();
    // A 10 s window: 60 + 10 × 10 connection events of each kind.
    expect(clamped?.connection).toMatchObject({ attempts: 160, opens: 160, reconnect_attempts: 160, reconnect_successes: 160 });
    repeat(100, () => window.attempt(false));
    repeat(65, () => window.attempt(true));
    window.opened(0.01, true);
    clock.advance(1_000);
    const partly = window.take();
    // Attempts clamped to 70, reconnect attempts (65) under it and kept.
    expect(partly?.connection).toMatchObject({ attempts: 70, opens: 1, reconnect_attempts: 65, reconnect_successes: 1 });
    expect(issues(clamped, partly)).toBeUndefined();
  });

  it('caps connected and outage time at ten sockets over the window plus a second', () => {
    const { window, clock } = windowAt();
    repeat(11, () => window.opened(0.01, false));
    repeat(12, () => window.outage('start'));
    clock.advance(60_000);
    const first = window.take();
    expect(first?.connection).toMatchObject({ connected_ms: 601_000, outage_ms: 601_000 });
    repeat(11, () => window.closed(1000, false));
    repeat(12, () => window.outage('recovered'));
    window.opened(0.01, false);
    clock.advance(30_000);
    // One socket: its time as it is.
    const second = window.take();
    expect(second?.connection).toMatchObject({ connected_ms: 30_000, outage_ms: 0 });
    expect(issues(first, second)).toBeUndefined();
  });

  it('reports a window longer than 15 minutes (a frozen tab, a sleeping laptop) as its last 15 minutes', () => {
    const { window, clock } = windowAt();
    window.opened(0.01, false);
    window.opened(0.01, false);
    repeat(10_000, () => window.attempt(true));
    clock.advance(2 * 3_600_000);
    const report = window.take();
    expect(report).toMatchObject({ window_start: '2026-11-24T11:45:00.000Z', window_end: '2026-11-24T12:00:00.000Z', sent_at: '2026-11-24T12:00:00.000Z' });
    // Bounded as a 15-minute window: 60 + 10 × 900 attempts; two sockets' two hours at 10 × 900 s + 1 s.
    expect(report?.connection).toMatchObject({ attempts: 9_060, opens: 2, reconnect_attempts: 9_060, connected_ms: 9_001_000 });
    // The next window starts where this one ended.
    clock.advance(60_000);
    const next = window.take();
    expect(next).toMatchObject({ window_start: '2026-11-24T12:00:00.000Z', window_end: '2026-11-24T12:01:00.000Z' });
    expect(next?.connection.connected_ms).toBe(120_000);
    expect(issues(report, next)).toBeUndefined();
    // Exactly 15 minutes is kept whole.
    window.interaction();
    clock.advance(MAX_WINDOW_MS);
    expect(window.take()).toMatchObject({ window_start: '2026-11-24T12:01:00.000Z', window_end: '2026-11-24T12:16:00.000Z' });
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
