/**
 * The load report: built from the workers' counters and the merged
 * histograms, printed for humans, and checked against CI gates.
 */
import { bump } from './error-class.ts';
import { summarize, type Histogram } from './histogram.ts';
import type { LoadPlan, LoadReport, ReportStage, Stage } from './types.ts';
import type { WorkerCounters } from './worker-protocol.ts';

export interface ReportInput {
  plan: LoadPlan;
  aborted: boolean;
  measuredS: number;
  elapsedS: number;
  counters: WorkerCounters[];
  /** Connections assigned to each worker. */
  perWorker: number[];
  latency: Histogram;
  connect: Histogram;
  openDelay: Histogram;
  sendLag: Histogram;
}

const sum = (items: WorkerCounters[], key: keyof Omit<WorkerCounters, 'errors' | 'closeCodes'>): number =>
  items.reduce((total, c) => total + c[key], 0);

export function buildReport(input: ReportInput): LoadReport {
  const { plan, counters } = input;
  const target = (plan.stages[plan.stages.length - 1] as Stage).connections;
  const errors: Record<string, number> = {};
  const closeCodes: Record<string, number> = {};
  for (const c of counters) {
    for (const [key, n] of Object.entries(c.errors)) bump(errors, key, n);
    for (const [key, n] of Object.entries(c.closeCodes)) bump(closeCodes, key, n);
  }
  const failed = sum(counters, 'failed');
  const dropped = sum(counters, 'dropped');
  const abandoned = sum(counters, 'abandoned');
  const sent = sum(counters, 'sent');
  const received = sum(counters, 'received');
  const lost = sum(counters, 'lost');
  const skipped = sum(counters, 'skipped');
  const inFlight = sum(counters, 'inFlight');
  // Two rates, so neither dilutes the other: a refused connection sends nothing, and a
  // long run's messages would otherwise bury any number of refused connections.
  const attempted = target - abandoned;
  const connectionErrorRate = attempted > 0 ? (failed + dropped) / attempted : 0;
  // With --no-echo nothing is lost, but a skipped send still never reached the server.
  const messageErrors = plan.expectEcho ? lost : skipped;
  // Messages in flight at an abort had no chance to be answered: neither errors nor successes.
  const settled = sent - inFlight;
  const messageErrorRate = settled > 0 ? messageErrors / settled : 0;
  const round3 = (n: number): number => Math.round(n * 1000) / 1000;
  return {
    url: plan.url,
    aborted: input.aborted,
    duration_s: round3(input.measuredS),
    elapsed_s: round3(input.elapsedS),
    // Each worker's exact peak, added up: an upper bound when the workers peak at different moments.
    connections: { target, opened: sum(counters, 'opened'), failed, dropped, abandoned, peak_open: sum(counters, 'peakOpen') },
    messages: {
      planned: sum(counters, 'planned'),
      sent,
      received,
      matched: sum(counters, 'matched'),
      lost,
      skipped,
      unsent: sum(counters, 'unsent'),
      in_flight: inFlight,
      per_second: input.measuredS > 0 ? round3(received / input.measuredS) : 0,
    },
    bytes: { sent: sum(counters, 'bytesSent'), received: sum(counters, 'bytesReceived') },
    // Every lost message is in the histogram at a lower bound (see driver.ts).
    latency_ms: { ...summarize(input.latency), lower_bounds: lost },
    connect_ms: summarize(input.connect),
    open_delay_ms: summarize(input.openDelay),
    send_lag_ms: summarize(input.sendLag),
    errors,
    close_codes: closeCodes,
    connection_error_rate: connectionErrorRate,
    message_error_rate: messageErrorRate,
    error_rate: Math.max(connectionErrorRate, messageErrorRate),
    workers: counters.map((c, worker) => ({ worker, connections: input.perWorker[worker] ?? 0, opened: c.opened, failed: c.failed })),
    plan: {
      stages: plan.stages.map((st) => ({ connections: st.connections, ramp_up_s: st.rampUpS, hold_s: st.holdS })),
      warmup_s: plan.warmupS,
      rate: plan.rate,
      payload_bytes: plan.payloadBytes,
      expect_echo: plan.expectEcho,
    },
  };
}

export interface Gates {
  maxP95Ms?: number;
  maxErrorRate?: number;
}

/** p95 leaves out the slowest 5 %: lose more than that and p95 is one of the messages that never came back. */
const P95_LOST_SHARE = 0.05;

/**
 * The ways the report fails, each as a sentence; empty when it passes. Three
 * checks hold with no gate at all: a run where no connection opened, where a
 * rate was asked for and no message was sent in the measured window, or where
 * echoes were expected and none matched, tested nothing and fails (an aborted
 * run is an interruption, not such a failure).
 */
export function checkGates(report: LoadReport, gates: Gates): string[] {
  const failures: string[] = [];
  const { connections: c, messages: m, plan } = report;
  const attempted = c.target - c.abandoned;
  if (c.opened === 0 && attempted > 0) {
    failures.push(`no connection opened (${c.failed} of ${attempted} failed: ${counts(report.errors)})`);
  } else if (plan.rate > 0 && m.sent === 0 && !report.aborted) {
    // E.g. every handshake ended after the window: nothing measured is not a pass.
    failures.push(`no message was sent in the measured window (rate ${plan.rate}/s per connection): nothing was measured`);
  } else if (plan.expect_echo && plan.rate > 0 && m.sent > 0 && m.matched === 0) {
    failures.push(`no echo matched any of the ${m.sent} messages sent (does the server echo them with their id? else pass --no-echo)`);
  }
  if (gates.maxP95Ms !== undefined) {
    const l = report.latency_ms;
    const cannot = `so p95 <= ${gates.maxP95Ms} ms cannot be shown`;
    if (l.count === 0) {
      const why = plan.rate === 0 ? 'the plan sends no messages (rate 0)' : !plan.expect_echo ? 'echoes are not expected (--no-echo)' : 'no message was sent in the measured window';
      failures.push(`no latency was measured (${why}), ${cannot}`);
    } else if (l.p95 > gates.maxP95Ms) {
      const lower = l.lower_bounds > 0 ? ` (${l.lower_bounds} lost messages counted at the time they were given up on)` : '';
      failures.push(`p95 latency ${l.p95} ms${lower} exceeds --max-p95 ${gates.maxP95Ms} ms`);
    } else if (m.lost > (m.sent - m.in_flight) * P95_LOST_SHARE) {
      const settled = m.sent - m.in_flight;
      failures.push(`${m.lost} of ${settled} messages (${formatRate(m.lost / settled)}) got no echo, more than the 5 % p95 leaves out, ${cannot}`);
    }
  }
  if (gates.maxErrorRate !== undefined) {
    const limit = formatRate(gates.maxErrorRate);
    if (report.connection_error_rate > gates.maxErrorRate) {
      failures.push(
        `connection error rate ${formatRate(report.connection_error_rate)} (${c.failed + c.dropped} of ${attempted} connections failed or dropped) exceeds --max-error-rate ${limit}`,
      );
    }
    if (report.message_error_rate > gates.maxErrorRate) {
      const what = plan.expect_echo ? 'lost' : 'skipped';
      failures.push(
        `message error rate ${formatRate(report.message_error_rate)} (${plan.expect_echo ? m.lost : m.skipped} of ${m.sent - m.in_flight} messages ${what}) exceeds --max-error-rate ${limit}`,
      );
    }
  }
  return failures;
}

function formatRate(rate: number): string {
  return `${(rate * 100).toFixed(rate < 0.001 && rate > 0 ? 4 : 2)} %`;
}

function describeStages(stages: ReportStage[], warmupS: number): string {
  if (stages.length === 1) {
    const s = stages[0] as ReportStage;
    return `${s.connections} connections, ${s.ramp_up_s} s ramp-up, ${warmupS} s warm-up, ${s.hold_s - warmupS} s measured`;
  }
  return stages.map((s) => `${s.connections} conn (ramp ${s.ramp_up_s} s, hold ${s.hold_s} s)`).join(' → ');
}

const counts = (map: Record<string, number>): string =>
  Object.keys(map).length === 0
    ? 'none'
    : Object.entries(map)
        .sort((a, b) => b[1] - a[1])
        .map(([key, n]) => `${key} ×${n}`)
        .join(', ');

/** The human-readable report. */
export function formatReport(report: LoadReport): string {
  const { connections: c, messages: m, latency_ms: l, connect_ms: k, plan } = report;
  const lines = [
    `socketscope load ${report.url}${report.aborted ? '  (ABORTED: partial results)' : ''}`,
    `plan         ${describeStages(plan.stages, plan.warmup_s)}; ${plan.rate} msg/s per connection, ${plan.payload_bytes} B payload`,
    `connections  target ${c.target}  opened ${c.opened}  failed ${c.failed}  dropped ${c.dropped}  peak open ${c.peak_open}${c.abandoned > 0 ? `  abandoned ${c.abandoned} (aborted before they opened)` : ''}`,
    `messages     planned ${m.planned}  sent ${m.sent}  received ${m.received}  matched ${m.matched}  lost ${m.lost}${m.in_flight > 0 ? `  in flight ${m.in_flight} (aborted before their echo)` : ''}${m.skipped > 0 ? `  skipped ${m.skipped} (backpressure)` : ''}  (${m.per_second}/s over ${report.duration_s} s)`,
  ];
  if (m.unsent > 0) {
    lines.push(`             ${m.unsent} of the sent were never written (their connection dropped before them, or opened after the window): lost`);
  }
  if (l.count > 0) {
    lines.push(`latency ms   p50 ${l.p50}  p90 ${l.p90}  p95 ${l.p95}  p99 ${l.p99}  max ${l.max}  (from each message's intended send time)`);
    if (l.lower_bounds > 0) {
      lines.push(`             ${l.lower_bounds} of the ${l.count} are lost messages, counted up to when they were given up on (lower bounds)`);
    }
  } else if (plan.rate > 0) {
    lines.push(
      plan.expect_echo
        ? 'latency ms   none measured: no echo matched a request (does the server echo? else pass --no-echo)'
        : 'latency ms   not measured (--no-echo)',
    );
  }
  const g = report.send_lag_ms;
  if (g.count > 0) {
    lines.push(`send lag ms  p50 ${g.p50}  p99 ${g.p99}  max ${g.max}  (this process sending late: part of the latency above, not the server's)`);
  }
  if (k.count > 0) lines.push(`connect ms   p50 ${k.p50}  p95 ${k.p95}  p99 ${k.p99}  max ${k.max}`);
  const d = report.open_delay_ms;
  if (d.count > 0) lines.push(`open delay   p50 ${d.p50}  p95 ${d.p95}  p99 ${d.p99}  max ${d.max}  (ms from each connection's intended open time)`);
  lines.push(`errors       ${counts(report.errors)}`);
  lines.push(`close codes  ${counts(report.close_codes)}`);
  if (report.workers.length > 1) {
    lines.push(`workers      ${report.workers.map((w) => `#${w.worker} ${w.opened}/${w.connections}`).join('  ')}`);
  }
  lines.push(
    `error rate   connections ${formatRate(report.connection_error_rate)}  messages ${formatRate(report.message_error_rate)}   elapsed ${report.elapsed_s} s`,
  );
  return lines.join('\n');
}
