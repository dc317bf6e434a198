/**
 * The plausibility bounds of a client report (src/api/schemas/client-report.ts):
 * one public report cannot carry more than a busy page could send in its
 * window, so it cannot move fleet-wide figures (attempts 2147483647 with no
 * open would take the success rate to about 0). Exact limits and the 400
 * details that name them.
 */
import { describe, expect, it } from 'vitest';
import {
  MAX_WINDOW_MS,
  clientReportSchema,
  maxCountInWindow,
  maxDurationInWindow,
} from '../../../src/api/schemas/client-report.ts';

function report(overrides: { window_start?: string; connection?: Record<string, unknown>; messages?: Record<string, number>; ux?: Record<string, number>; latency_ms?: Record<string, unknown> } = {}) {
  return {
    schema_version: 1,
    session_id: 'bounds-session-0001',
    sent_at: '2026-11-24T10:00:00.000Z',
    window_start: overrides.window_start ?? '2026-11-24T09:59:00.000Z',
    window_end: '2026-11-24T10:00:00.000Z',
    page_path: '/',
    connection: { attempts: 1, opens: 1, drops: 0, reconnect_attempts: 0, reconnect_successes: 0, outage_ms: 0, connected_ms: 60_000, close_codes: {}, ...overrides.connection },
    messages: { sent: 10, received: 20, queued: 0, dropped: 0, errors: 0, ...overrides.messages },
    latency_ms: overrides.latency_ms ?? { count: 0, avg: null, p50: null, p95: null, max: null },
    ux: { interactions: 1, errors: 0, ...overrides.ux },
  };
}

const issues = (body: unknown) => {
  const parsed = clientReportSchema.safeParse(body);
  return parsed.success ? [] : parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
};

describe('client report bounds', () => {
  it('scale with the window: a burst plus a rate per second, the window capped at 15 minutes', () => {
    expect(MAX_WINDOW_MS).toBe(900_000);
    expect([0, 1_000, 60_000, 900_000, 3_600_000].map((ms) => maxCountInWindow('connection', ms))).toEqual([60, 70, 660, 9_060, 9_060]);
    expect(maxCountInWindow('latency', 60_000)).toBe(660);
    expect(maxCountInWindow('messages', 60_000)).toBe(700_000);
    expect(maxCountInWindow('interactions', 60_000)).toBe(1_400);
    expect(maxCountInWindow('page_errors', 60_000)).toBe(7_000);
    // Ten sockets' worth of connected (or outage) time, and a second of slack.
    expect([0, 60_000, 900_000].map(maxDurationInWindow)).toEqual([1_000, 601_000, 9_001_000]);
  });

  it('accept a report at every bound', () => {
    expect(
      issues(
        report({
          connection: { attempts: 660, opens: 660, drops: 660, reconnect_attempts: 660, reconnect_successes: 660, connected_ms: 601_000, outage_ms: 601_000, close_codes: { '1006': 660 } },
          messages: { sent: 700_000, received: 700_000, queued: 700_000, dropped: 700_000, errors: 700_000 },
          latency_ms: { count: 660, avg: 40, p50: 38, p95: 80, max: 100 },
          ux: { interactions: 1_400, errors: 7_000 },
        }),
      ),
    ).toEqual([]);
    expect(issues(report({ window_start: '2026-11-24T09:45:00.000Z', connection: { attempts: 9_060, opens: 0, connected_ms: 9_001_000 } }))).toEqual([]);
  });

  it('refuse the report that would move the fleet’s success rate, naming the bound', () => {
    expect(issues(report({ connection: { attempts: 2_147_483_647, opens: 0 } }))).toEqual([
      { path: 'connection.attempts', message: 'at most 660 in a window of 60 s (60 + 10 per second), not 2147483647' },
    ]);
  });

  it('refuse a window over 15 minutes once, and bound its counts as if it were 15 minutes', () => {
    expect(issues(report({ window_start: '2026-11-24T09:44:59.999Z' }))).toEqual([
      { path: 'window_end', message: 'the window (window_end − window_start) must be at most 15 minutes, not 900.001 s' },
    ]);
    expect(issues(report({ window_start: '2026-11-24T08:00:00.000Z', connection: { attempts: 9_061, opens: 9_061 } }))).toEqual([
      { path: 'window_end', message: 'the window (window_end − window_start) must be at most 15 minutes, not 7200 s' },
      { path: 'connection.attempts', message: 'at most 9060 in a window of 7200 s (60 + 10 per second), not 9061' },
      { path: 'connection.opens', message: 'at most 9060 in a window of 7200 s (60 + 10 per second), not 9061' },
    ]);
  });

  it('refuse every count, close code and duration past its bound, and reconnects beyond attempts and opens', () => {
    expect(
      issues(
        report({
          connection: { attempts: 2, opens: 1, drops: 661, reconnect_attempts: 3, reconnect_successes: 2, connected_ms: 601_001, outage_ms: 1e9, close_codes: { '1000': 1, '1006': 661 } },
          messages: { errors: 700_001 },
          latency_ms: { count: 661, avg: 40, p50: 38, p95: 80, max: 100 },
          ux: { interactions: 1_401, errors: 7_001 },
        }),
      ),
    ).toEqual([
      { path: 'connection.drops', message: 'at most 660 in a window of 60 s (60 + 10 per second), not 661' },
      { path: 'latency_ms.count', message: 'at most 660 in a window of 60 s (60 + 10 per second), not 661' },
      { path: 'messages.errors', message: 'at most 700000 in a window of 60 s (100000 + 10000 per second), not 700001' },
      { path: 'ux.interactions', message: 'at most 1400 in a window of 60 s (200 + 20 per second), not 1401' },
      { path: 'ux.errors', message: 'at most 7000 in a window of 60 s (1000 + 100 per second), not 7001' },
      { path: 'connection.close_codes.1006', message: 'at most 660 closes in a window of 60 s, not 661' },
      { path: 'connection.connected_ms', message: 'at most 601000 (10 sockets × the window of 60 s + 1000 ms), not 601001' },
      { path: 'connection.outage_ms', message: 'at most 601000 (10 sockets × the window of 60 s + 1000 ms), not 1000000000' },
      { path: 'connection.reconnect_attempts', message: 'must not exceed attempts (a reconnect attempt is counted as an attempt too)' },
      { path: 'connection.reconnect_successes', message: 'must not exceed opens (a reconnect success is counted as an open too)' },
    ]);
  });

  it('hold the latency percentiles within each other and the maximum', () => {
    expect(issues(report({ latency_ms: { count: 3, avg: 50, p50: 50, p95: 80, max: 80 } }))).toEqual([]);
    expect(issues(report({ latency_ms: { count: 3, avg: 50, p50: 90, p95: 80, max: 85 } }))).toEqual([
      { path: 'latency_ms.p50', message: 'must not exceed p95 (80), not 90' },
      { path: 'latency_ms.p50', message: 'must not exceed max (85), not 90' },
    ]);
    expect(issues(report({ latency_ms: { count: 3, avg: 50, p50: 50, p95: 81, max: 80 } }))).toEqual([{ path: 'latency_ms.p95', message: 'must not exceed max (80), not 81' }]);
  });

  it('give a zero-length window (two reports in one millisecond) the burst and a second of time', () => {
    const instant = { window_start: '2026-11-24T10:00:00.000Z' };
    expect(issues(report({ ...instant, connection: { attempts: 60, opens: 60, connected_ms: 1_000 } }))).toEqual([]);
    expect(issues(report({ ...instant, connection: { attempts: 61, opens: 60, connected_ms: 1_001 } })).map((i) => i.path)).toEqual(['connection.attempts', 'connection.connected_ms']);
  });
});
