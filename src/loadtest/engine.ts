/**
 * The load engine's main thread: checks the machine can hold the plan,
 * splits connections over worker threads, starts them on one shared clock,
 * aggregates their progress and merges their histograms into the report.
 */
import { assertFdCapacity, ephemeralPortCount } from './fd-limit.ts';
import { createHistogram, mergeEncoded } from './histogram.ts';
import { emptyRunBuckets, type RunBuckets, sumRunBuckets } from './bucket-counts.ts';
import { openTimesMs, resolveLoadPlan, timeline, type LoadTestInput } from './plan.ts';
import { buildReport } from './report.ts';
import { spawnWorker } from './spawn-worker.ts';
import { runTag } from './template.ts';
import type { LoadPlan, LoadProgress, LoadReport, RunOptions } from './types.ts';
import {
  clock,
  emptyCounters,
  type FromWorker,
  type MeasuredWindow,
  type ToWorker,
  type WorkerCounters,
  type WorkerInit,
} from './worker-protocol.ts';

// worker.ts beside engine.ts, worker.js beside the compiled engine.js (dist/).
const WORKER_ENTRY = new URL(`./worker${import.meta.url.slice(import.meta.url.lastIndexOf('.'))}`, import.meta.url);
/** Head start between "go" and the first scheduled open, so every worker starts on time. */
const START_LEAD_MS = 50;
const WORKER_REPORT_MS = 250;

/** Runs a load test described by `input` (a profile and/or explicit options). */
export async function runLoadTest(input: LoadTestInput, options: RunOptions = {}): Promise<LoadReport> {
  return runLoadPlan(resolveLoadPlan(input), options);
}

/** Throws when the machine cannot hold the plan's connections, saying what to change. */
export function assertCapacity(plan: LoadPlan): void {
  const { maxConnections } = timeline(plan);
  assertFdCapacity(maxConnections);
  const ports = ephemeralPortCount();
  if (ports !== null && maxConnections > ports) {
    throw new Error(
      `${maxConnections} connections exceed the ${ports} local ephemeral ports one client address can use towards one server address; widen net.ipv4.ip_local_port_range or split the test over several machines`,
    );
  }
}

/**
 * Runs a resolved plan. Aborting `signal` stops the test early: connections
 * are closed (1001) and the partial report comes back with `aborted: true`.
 */
export async function runLoadPlan(plan: LoadPlan, options: RunOptions = {}): Promise<LoadReport> {
  assertCapacity(plan);
  if (options.signal?.aborted) throw options.signal.reason;
  const line = timeline(plan);
  const opens = openTimesMs(plan);
  const tag = runTag();
  const progressIntervalMs = Math.max(50, options.progressIntervalMs ?? 1_000);
  const workerCount = Math.min(plan.workers, line.maxConnections);

  const inits: WorkerInit[] = Array.from({ length: workerCount }, (_, worker) => ({
    worker,
    url: plan.url,
    headers: plan.headers,
    subprotocols: plan.subprotocols,
    handshakeTimeoutMs: plan.handshakeTimeoutMs,
    connectConcurrency: plan.connectConcurrency,
    ...(plan.addresses ? { addresses: plan.addresses } : {}),
    connections: [],
    totalConnections: line.maxConnections,
    rate: plan.rate,
    payloadBytes: plan.payloadBytes,
    message: plan.message,
    tag,
    expectEcho: plan.expectEcho,
    measureStartMs: line.measureStartMs,
    measureEndMs: line.measureEndMs,
    drainTimeoutMs: plan.drainTimeoutMs,
    // Workers report more often than the display refreshes, so each refresh is at most this stale.
    progressIntervalMs: Math.min(progressIntervalMs, WORKER_REPORT_MS),
  }));
  // Round-robin, so every stage's ramp-up is spread over all workers.
  opens.forEach((openAtMs, index) => (inits[index % workerCount] as WorkerInit).connections.push({ index, openAtMs }));

  const workers = inits.map((init) => spawnWorker(WORKER_ENTRY, init));
  const latest: WorkerCounters[] = inits.map(() => emptyCounters());
  const latestBuckets: RunBuckets[] = inits.map(() => emptyRunBuckets());
  const finals: ({ counters: WorkerCounters; latency: string; connect: string; openDelay: string; sendLag: string } | null)[] = inits.map(() => null);
  const pendingIntervals: string[] = [];
  // Each worker's measured window once it is fixed (it waits for the first connections to open).
  const windows: (MeasuredWindow | null)[] = inits.map(() => null);
  let epoch = Number.POSITIVE_INFINITY;
  let lastTotals = { at: clock(), sent: 0, received: 0 };
  let progressTimer: NodeJS.Timeout | null = null;
  const startedAt = clock();

  const post = (message: ToWorker): void => {
    for (const worker of workers) worker.postMessage(message);
  };
  let abortedAt: number | null = null;
  const onAbort = (): void => {
    abortedAt ??= clock();
    post({ type: 'abort' });
  };

  /** `final`: the sample after the workers finished, whose interval is only the time since the last one, so it shows no rate. */
  const emitProgress = (final = false): void => {
    if (!options.onProgress) {
      pendingIntervals.length = 0;
      return;
    }
    const now = clock();
    const open = latest.reduce((sum, c) => sum + c.open, 0);
    // Rates from all traffic: the measured-window counters read 0/s through ramp-up and warm-up.
    const trafficSent = latest.reduce((sum, c) => sum + c.trafficSent, 0);
    const trafficReceived = latest.reduce((sum, c) => sum + c.trafficReceived, 0);
    const seconds = Math.max((now - lastTotals.at) / 1000, 1e-3);
    let intervalP95Ms: number | null = null;
    if (pendingIntervals.length > 0) {
      const merged = createHistogram();
      mergeEncoded(merged, pendingIntervals.splice(0));
      intervalP95Ms = merged.totalCount > 0 ? merged.getValueAtPercentile(95) / 1000 : null;
      merged.destroy();
    }
    const progress: LoadProgress = {
      phase: phaseAt(now, epoch, measuredWindow(windows, epoch, line), plan.stages[0]?.rampUpS ?? 0, finals),
      elapsedS: Math.max(0, (now - epoch) / 1000),
      open,
      target: line.maxConnections,
      failed: latest.reduce((sum, c) => sum + c.failed, 0),
      dropped: latest.reduce((sum, c) => sum + c.dropped, 0),
      sent: latest.reduce((sum, c) => sum + c.sent, 0),
      received: latest.reduce((sum, c) => sum + c.received, 0),
      errors: latest.reduce((sum, c) => sum + Object.values(c.errors).reduce((a, b) => a + b, 0), 0),
      sentPerS: final ? null : (trafficSent - lastTotals.sent) / seconds,
      receivedPerS: final ? null : (trafficReceived - lastTotals.received) / seconds,
      intervalP95Ms,
      buckets: sumRunBuckets(latestBuckets),
    };
    lastTotals = { at: now, sent: trafficSent, received: trafficReceived };
    options.onProgress(progress);
  };

  try {
    await new Promise<void>((resolve, reject) => {
      let ready = 0;
      let done = 0;
      workers.forEach((worker, i) => {
        worker.on('message', (message: FromWorker) => {
          switch (message.type) {
            case 'ready':
              if (++ready === workers.length) {
                epoch = clock() + START_LEAD_MS;
                post({ type: 'start', epoch });
                progressTimer = setInterval(() => emitProgress(), progressIntervalMs);
                options.signal?.addEventListener('abort', onAbort, { once: true });
                if (options.signal?.aborted) onAbort();
              }
              break;
            case 'progress':
              latest[i] = message.counters;
              latestBuckets[i] = message.buckets;
              windows[i] = message.window;
              if (message.interval) pendingIntervals.push(message.interval);
              break;
            case 'done':
              latest[i] = message.counters;
              windows[i] = message.window;
              finals[i] = {
                counters: message.counters,
                latency: message.latency,
                connect: message.connect,
                openDelay: message.openDelay,
                sendLag: message.sendLag,
              };
              if (++done === workers.length) resolve();
              break;
            case 'failed':
              reject(new Error(`load worker ${message.worker} failed: ${message.message}`));
              break;
          }
        });
        worker.on('error', (error) => reject(new Error(`load worker ${i} crashed: ${error.message}`, { cause: error })));
        worker.on('exit', (code) => {
          if (finals[i] === null) reject(new Error(`load worker ${i} exited (code ${code}) before reporting`));
        });
      });
    });
  } finally {
    if (progressTimer) clearInterval(progressTimer);
    options.signal?.removeEventListener('abort', onAbort);
    await Promise.all(workers.map((worker) => worker.terminate()));
  }
  emitProgress(true);

  const latency = createHistogram();
  const connect = createHistogram();
  const openDelay = createHistogram();
  const sendLag = createHistogram();
  const results = finals.map((f) => f as NonNullable<typeof f>);
  mergeEncoded(latency, results.map((r) => r.latency));
  mergeEncoded(connect, results.map((r) => r.connect));
  mergeEncoded(openDelay, results.map((r) => r.openDelay));
  mergeEncoded(sendLag, results.map((r) => r.sendLag));
  const report = buildReport({
    plan,
    aborted: abortedAt !== null,
    measuredS: measuredSeconds(measuredWindow(windows, epoch, line), abortedAt),
    elapsedS: (clock() - startedAt) / 1000,
    counters: results.map((r) => r.counters),
    perWorker: inits.map((init) => init.connections.length),
    latency,
    connect,
    openDelay,
    sendLag,
  });
  latency.destroy();
  connect.destroy();
  openDelay.destroy();
  sendLag.destroy();
  return report;
}

/**
 * The measured window on the shared clock: from the last worker's start (a
 * worker's window waits for its first connections to open) for the planned
 * length; the planned window until every worker has fixed its own.
 */
function measuredWindow(windows: readonly (MeasuredWindow | null)[], epoch: number, line: { measureStartMs: number; measureEndMs: number }): MeasuredWindow {
  const planned = { start: epoch + line.measureStartMs, end: epoch + line.measureEndMs };
  if (windows.some((w) => w === null)) return planned;
  const start = Math.max(...windows.map((w) => (w as MeasuredWindow).start));
  return { start, end: start + (planned.end - planned.start) };
}

function phaseAt(now: number, epoch: number, window: MeasuredWindow, rampUpS: number, finals: readonly unknown[]): LoadProgress['phase'] {
  if (finals.every((f) => f !== null)) return 'done';
  if (now < epoch) return 'starting';
  if (now < epoch + rampUpS * 1000) return 'ramp-up';
  if (now < window.start) return 'warmup';
  if (now < window.end) return 'measure';
  return 'drain';
}

/** The measured window's length, cut short when the run was aborted inside it. */
function measuredSeconds(window: MeasuredWindow, abortedAt: number | null): number {
  const planned = (window.end - window.start) / 1000;
  if (abortedAt === null) return planned;
  return Math.max(0, Math.min(planned, (abortedAt - window.start) / 1000));
}
