/**
 * Server metrics with known values for the admin page tests: counters and
 * histogram buckets that grow at fixed rates, one rate before `shiftAt` and
 * another after, so rate() and histogram_quantile() give exact figures and a
 * date range that crosses the shift gives different ones. The same function
 * backfills Prometheus' TSDB (promtool) up to the start and is served to the
 * live scrape after it, so each series is one continuous line.
 */
import { prometheusName } from '../../../src/catalogue.ts';
import { type ServerMetricName, serverMetric } from '../../../src/instrumentation/catalogue.ts';

const name = (metric: ServerMetricName): string => prometheusName(serverMetric(metric));

interface Phase {
  /** Per second. */
  counters: Record<string, number>;
  /** Cumulative observations per second by bucket bound, per histogram. */
  histograms: Record<string, Array<[number, number]>>;
  connections: number;
}

const OPENED = name('websocket.server.connection.opened');
const CLOSED = name('websocket.server.connection.closed');
const REJECTED = name('websocket.server.connection.rejected');
const RECEIVED = name('websocket.server.received.messages');
const SENT = name('websocket.server.sent.messages');
const ERRORS = name('websocket.server.message.errors');
// Errors of received messages, and sends that failed: the two ratios the alert rules tell apart.
const PARSE_ERRORS = `${ERRORS}{error_type="parse_error"}`;
const SEND_ERRORS = `${ERRORS}{error_type="send_error"}`;
const IO = name('websocket.server.io');
const PING_TIMEOUTS = name('websocket.server.ping.timeouts');
export const CONNECTIONS = name('websocket.server.connection.count');
const LATENCY = name('websocket.server.message.latency');
const PING = name('websocket.server.ping.duration');
const PROCESS = name('websocket.server.process.duration');

/** Before the shift. */
export const EARLIER: Phase = {
  counters: { [OPENED]: 2, [CLOSED]: 2, [REJECTED]: 0.1, [RECEIVED]: 10, [SENT]: 30, [PARSE_ERRORS]: 0.1, [SEND_ERRORS]: 0.2, [`${IO}{network_io_direction="receive"}`]: 1000, [`${IO}{network_io_direction="transmit"}`]: 3000, [PING_TIMEOUTS]: 0 },
  histograms: {
    [LATENCY]: [[0.0025, 0], [0.005, 50], [0.01, 90], [0.025, 99], [0.05, 100]],
    [PING]: [[0.0025, 0], [0.005, 5], [0.01, 10]],
    [PROCESS]: [[0.0005, 0], [0.001, 10], [0.0025, 20]],
  },
  connections: 100,
};

/** After the shift (the last three hours, and now). */
export const RECENT: Phase = {
  counters: { [OPENED]: 4, [CLOSED]: 4, [REJECTED]: 0.5, [RECEIVED]: 20, [SENT]: 60, [PARSE_ERRORS]: 0.4, [SEND_ERRORS]: 0.6, [`${IO}{network_io_direction="receive"}`]: 2000, [`${IO}{network_io_direction="transmit"}`]: 6000, [PING_TIMEOUTS]: 0.05 },
  histograms: {
    // p50 10 ms, p95 38.9 ms, p99 50 ms
    [LATENCY]: [[0.005, 0], [0.01, 50], [0.025, 90], [0.05, 99], [0.075, 100]],
    // p50 10 ms, p95 23.5 ms, p99 24.7 ms
    [PING]: [[0.005, 0], [0.01, 5], [0.025, 10]],
    [PROCESS]: [[0.0005, 0], [0.001, 10], [0.0025, 20]],
  },
  connections: 150,
};

/** Every bucket bound any phase uses, so each series exists in both. */
function bounds(metric: string): number[] {
  return [...new Set([...(EARLIER.histograms[metric] ?? []), ...(RECENT.histograms[metric] ?? [])].map(([le]) => le))].sort((a, b) => a - b);
}

/** Cumulative count at `le` per second in a phase. */
function perSecondAt(phase: Phase, metric: string, le: number): number {
  let cumulative = 0;
  for (const [bound, count] of phase.histograms[metric] ?? []) if (bound <= le) cumulative = count;
  return cumulative;
}

function withLabels(series: string, labels: string): string {
  const brace = series.indexOf('{');
  return brace === -1 ? `${series}{${labels}}` : `${series.slice(0, brace)}{${labels},${series.slice(brace + 1)}`;
}

export interface SeedTimeline {
  /** Samples start here (ms). */
  start: number;
  /** The rates change here (ms). */
  shiftAt: number;
  /** job/instance labels the scrape gives the live target. */
  labels: string;
}

/** Every counter and bucket series' value at time `t` (ms), integrating the phases from `start`. */
export function valuesAt(timeline: SeedTimeline, t: number): Map<string, number> {
  const before = Math.max(0, Math.min(t, timeline.shiftAt) - timeline.start) / 1000;
  const after = Math.max(0, t - timeline.shiftAt) / 1000;
  const out = new Map<string, number>();
  const counterNames = new Set([...Object.keys(EARLIER.counters), ...Object.keys(RECENT.counters)]);
  for (const series of counterNames) {
    out.set(withLabels(series, timeline.labels), (EARLIER.counters[series] ?? 0) * before + (RECENT.counters[series] ?? 0) * after);
  }
  for (const metric of Object.keys(RECENT.histograms)) {
    for (const le of [...bounds(metric), Number.POSITIVE_INFINITY]) {
      const rate = (phase: Phase) => (le === Number.POSITIVE_INFINITY ? perSecondAt(phase, metric, Number.MAX_VALUE) : perSecondAt(phase, metric, le));
      const leText = le === Number.POSITIVE_INFINITY ? '+Inf' : String(le);
      out.set(`${metric}_bucket{${timeline.labels},le="${leText}"}`, rate(EARLIER) * before + rate(RECENT) * after);
    }
    const total = (phase: Phase) => perSecondAt(phase, metric, Number.MAX_VALUE);
    out.set(`${metric}_count{${timeline.labels}}`, total(EARLIER) * before + total(RECENT) * after);
    out.set(`${metric}_sum{${timeline.labels}}`, 0.01 * (total(EARLIER) * before + total(RECENT) * after));
  }
  return out;
}

/** The live target is scraped this often; the last stretch of history is backfilled at the same step. */
export const SCRAPE_INTERVAL_S = 5;

/**
 * OpenMetrics text for `promtool tsdb create-blocks-from openmetrics`: a
 * sample every 15 s in [start, end − 70 min), then every SCRAPE_INTERVAL_S up
 * to `end`. rate() is exact where a window's samples are evenly spaced up to
 * its edges, so the last hour and "now" (live scrapes) read exact rates.
 */
export function backfillText(timeline: SeedTimeline, end: number): string {
  const lines: string[] = [];
  const fine = end - 70 * 60_000;
  for (let t = timeline.start; t < end; t += t < fine ? 15_000 : SCRAPE_INTERVAL_S * 1000) {
    const seconds = (t / 1000).toFixed(3);
    for (const [series, value] of valuesAt(timeline, t)) lines.push(`${series} ${value} ${seconds}`);
    const connections = t < timeline.shiftAt ? EARLIER.connections : RECENT.connections;
    // The gauge stops 10 minutes before the end, so "now" sees only the live target's value.
    if (t < end - 10 * 60_000) lines.push(`${CONNECTIONS}{job="backfill",instance="seed"} ${connections} ${seconds}`);
  }
  // promtool wants each series' samples together and in time order.
  const key = (line: string) => line.slice(0, line.indexOf(' '));
  lines.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
  return `${lines.join('\n')}\n# EOF\n`;
}

/**
 * The scrape page of the live target: the same series at `now`, plus the
 * settable connections gauge, stamped with `now` so each value sits exactly
 * on its line whenever the scrape happens to read it.
 */
export function exposition(timeline: SeedTimeline, now: number, connections: number): string {
  const strip = (series: string) => series.replace(`${timeline.labels},`, '').replace(`{${timeline.labels}}`, '');
  const lines = [...valuesAt(timeline, now)].map(([series, value]) => `${strip(series)} ${value} ${now}`);
  lines.push(`${CONNECTIONS} ${connections} ${now}`);
  return `${lines.join('\n')}\n`;
}
