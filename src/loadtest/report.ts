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
  peakOpen: number;
  latency: Histogram;
  connect: Histogram;
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
  const sent = sum(counters, 'sent');
  const received = sum(counters, 'received');
  const lost = sum(counters, 'lost');
  const attempts = target + sent;
  const round3 = (n: number): number => Math.round(n * 1000) / 1000;
  return {
    url: plan.url,
    aborted: input.aborted,
    duration_s: round3(input.measuredS),
    elapsed_s: round3(input.elapsedS),
    connections: { target, opened: sum(counters, 'opened'), failed, dropped, peak_open: Math.max(input.peakOpen, 0) },
    messages: {
      sent,
      received,
      matched: sum(counters, 'matched'),
      lost,
      per_second: input.measuredS > 0 ? round3(received / input.measuredS) : 0,
    },
    bytes: { sent: sum(counters, 'bytesSent'), received: sum(counters, 'bytesReceived') },
    latency_ms: summarize(input.latency),
    connect_ms: summarize(input.connect),
    errors,
    close_codes: closeCodes,
    error_rate: attempts > 0 ? (failed + dropped + lost) / attempts : 0,
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

/** The gates the report breaks, each as a sentence; empty when it passes. */
export function checkGates(report: LoadReport, gates: Gates): string[] {
  const failures: string[] = [];
  if (gates.maxP95Ms !== undefined) {
    if (report.latency_ms.count === 0 && report.plan.rate > 0 && report.plan.expect_echo) {
      failures.push(`no latency was measured (no echo arrived), so p95 <= ${gates.maxP95Ms} ms cannot be shown`);
    } else if (report.latency_ms.p95 > gates.maxP95Ms) {
      failures.push(`p95 latency ${report.latency_ms.p95} ms exceeds --max-p95 ${gates.maxP95Ms} ms`);
    }
  }
  if (gates.maxErrorRate !== undefined && report.error_rate > gates.maxErrorRate) {
    failures.push(`error rate ${formatRate(report.error_rate)} exceeds --max-error-rate ${formatRate(gates.maxErrorRate)}`);
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
    `connections  target ${c.target}  opened ${c.opened}  failed ${c.failed}  dropped ${c.dropped}  peak open ${c.peak_open}`,
    `messages     sent ${m.sent}  received ${m.received}  matched ${m.matched}  lost ${m.lost}  (${m.per_second}/s over ${report.duration_s} s)`,
  ];
  if (l.count > 0) {
    lines.push(`latency ms   p50 ${l.p50}  p90 ${l.p90}  p95 ${l.p95}  p99 ${l.p99}  max ${l.max}  (from each message's intended send time)`);
  } else if (plan.rate > 0) {
    lines.push(
      plan.expect_echo
        ? 'latency ms   none measured: no echo matched a request (does the server echo? else pass --no-echo)'
        : 'latency ms   not measured (--no-echo)',
    );
  }
  if (k.count > 0) lines.push(`connect ms   p50 ${k.p50}  p95 ${k.p95}  p99 ${k.p99}  max ${k.max}`);
  lines.push(`errors       ${counts(report.errors)}`);
  lines.push(`close codes  ${counts(report.close_codes)}`);
  if (report.workers.length > 1) {
    lines.push(`workers      ${report.workers.map((w) => `#${w.worker} ${w.opened}/${w.connections}`).join('  ')}`);
  }
  lines.push(`error rate   ${formatRate(report.error_rate)}   elapsed ${report.elapsed_s} s`);
  return lines.join('\n');
}
