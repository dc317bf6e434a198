/**
 * The step and rate window of range queries (src/analytics/range-window.ts):
 * each point's rate covers at least the step before it plus a scrape interval,
 * so nothing between two points goes unread; never below 5 minutes or four
 * scrape intervals. The API's server queries and the admin performance endpoint ask Prometheus with it.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MIN_RATE_WINDOW_S, promDuration, rangeStepSeconds, rangeWindow, rateWindowSeconds } from '../../../src/analytics/range-window.ts';
import { QUANTILE_QUERIES, quantileQueries } from '../../../src/admin/performance-queries.ts';
import { MIN_TIMED_PER_SECOND, SERVER_QUERIES, serverQueries } from '../../../src/analytics/server-queries.ts';
import { type AdminRouterServer, startAdminRouter } from '../../helpers/admin-router.ts';

const HOUR = 3600;
const DAY = 24 * HOUR;

describe('range step and rate window', () => {
  it('aims for 300 points, at least 15 s apart', () => {
    expect(rangeStepSeconds(HOUR)).toBe(15);
    expect(rangeStepSeconds(6 * HOUR)).toBe(72);
    expect(rangeStepSeconds(7 * DAY)).toBe(2016);
    expect(rangeStepSeconds(30 * DAY)).toBe(8640);
    expect(rangeStepSeconds(30 * DAY + 1)).toBe(8641);
  });

  it('covers the step plus one scrape interval, never less than 5 minutes or 4 scrape intervals', () => {
    expect(MIN_RATE_WINDOW_S).toBe(300);
    expect(rateWindowSeconds(15)).toBe(300);
    expect(rateWindowSeconds(285)).toBe(300);
    expect(rateWindowSeconds(286)).toBe(301);
    expect(rateWindowSeconds(2016)).toBe(2031);
    expect(rateWindowSeconds(8640)).toBe(8655);
    // A slow scrape: four of them, or the step plus one.
    expect(rateWindowSeconds(15, 120)).toBe(480);
    expect(rateWindowSeconds(600, 120)).toBe(720);
    expect(rateWindowSeconds(60, 5)).toBe(300);
  });

  it('gives both for a range, or the window of a step the caller chose', () => {
    expect(rangeWindow(HOUR)).toEqual({ stepS: 15, windowS: 300, window: '300s' });
    expect(rangeWindow(7 * DAY)).toEqual({ stepS: 2016, windowS: 2031, window: '2031s' });
    expect(rangeWindow(30 * DAY)).toEqual({ stepS: 8640, windowS: 8655, window: '8655s' });
    expect(rangeWindow(HOUR, { stepS: 3600 })).toEqual({ stepS: 3600, windowS: 3615, window: '3615s' });
    expect(rangeWindow(HOUR, { scrapeIntervalS: 60 })).toEqual({ stepS: 15, windowS: 300, window: '300s' });
  });

  it('writes whole seconds as a PromQL duration', () => {
    expect(promDuration(300)).toBe('300s');
    expect(promDuration(2030.2)).toBe('2031s');
    expect(() => promDuration(0)).toThrow(RangeError);
  });

  it("builds the API's server queries with the window; instant values and anomaly streams read 5 minutes", () => {
    const windowed = serverQueries('2031s').filter((q) => q.expr.includes('rate('));
    expect(windowed.map((q) => q.id)).toEqual(SERVER_QUERIES.filter((q) => q.expr.includes('rate(')).map((q) => q.id));
    // 12 rates and quantiles, and the message error and send failure ratios.
    expect(windowed.length).toBe(14);
    expect(windowed.every((q) => q.expr.includes('[2031s]') && !q.expr.includes('[5m]'))).toBe(true);
    expect(SERVER_QUERIES.filter((q) => q.expr.includes('rate(')).every((q) => q.expr.includes('[5m]'))).toBe(true);
    expect(serverQueries('2031s').find((q) => q.id === 'message_latency_p95_seconds')?.expr).toBe(
      'max(histogram_quantile(0.95, sum by (job, instance, le) (rate(websocket_server_message_latency_seconds_bucket[2031s]))) and on (job, instance) (sum by (job, instance) (rate(websocket_server_message_latency_seconds_count[2031s])) >= 0.1))',
    );
  });

  it("counts a process's sampled quantile only at the alert's volume guard", () => {
    const rules = readFileSync(new URL('../../../prometheus/rules/websocket-server.yml', import.meta.url), 'utf8');
    expect(rules).toContain(`and on (job, instance) instance:websocket_server_message_latency_seconds_count:rate5m >= ${MIN_TIMED_PER_SECOND}\n`);
  });

  it('builds the admin quantile queries with the window; the live ones read 5 minutes', () => {
    const queries = quantileQueries('2031s');
    // Sampled per process: the slowest process's quantile. Every heartbeat is timed: one quantile over all.
    expect(queries.find((q) => q.id === 'message_latency_p50_seconds')?.expr).toBe(
      'max(histogram_quantile(0.5, sum by (job, instance, le) (rate(websocket_server_message_latency_seconds_bucket[2031s]))) and on (job, instance) (sum by (job, instance) (rate(websocket_server_message_latency_seconds_count[2031s])) >= 0.1))',
    );
    expect(queries.find((q) => q.id === 'ping_duration_p99_seconds')?.expr).toBe('histogram_quantile(0.99, sum by (le) (rate(websocket_server_ping_duration_seconds_bucket[2031s])))');
    expect(QUANTILE_QUERIES.every((q) => q.expr.includes('_bucket[5m]'))).toBe(true);
  });
});

describe('GET /admin/api/performance', () => {
  const TOKEN = 'range-window-test-token-0123456789';
  const calls: Array<{ expr: string; from: string; to: string; step: number }> = [];
  let server: AdminRouterServer;

  beforeAll(async () => {
    server = await startAdminRouter(TOKEN, {
      async queryRange(expr: string, from: Date, to: Date, step: number) {
        calls.push({ expr, from: from.toISOString(), to: to.toISOString(), step });
        return [{ metric: {}, points: [{ timestamp: from.getTime(), value: 0.25 }] }];
      },
    });
  });

  afterAll(async () => {
    await server?.close();
  });

  it('asks for 7 days with a 2016 s step and each quantile over the 2031 s before its point', async () => {
    const from = '2026-01-01T00:00:00.000Z';
    const to = '2026-01-08T00:00:00.000Z';
    const response = await fetch(`${server.url}/admin/api/performance?from=${from}&to=${to}`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { step_s: number; window_s: number; series: Array<{ id: string; points: unknown[] }> };
    expect([body.step_s, body.window_s]).toEqual([2016, 2031]);
    expect(body.series).toHaveLength(9);
    expect(body.series[0]).toEqual({ id: 'message_latency_p50_seconds', unit: 's', points: [[from, 0.25]] });
    expect(calls).toHaveLength(9);
    for (const call of calls) {
      expect(call).toMatchObject({ from, to, step: 2016 });
      expect(call.expr).toMatch(/_bucket\[2031s\]\)\)\)$|_count\[2031s\]\)\) >= 0\.1\)\)$/);
      expect(call.expr).not.toContain('[5m]');
    }
  });
});
