/**
 * Periodic background work (anomaly detection, partition maintenance): runs
 * a task now and then every interval, never two runs of one task at once,
 * timers unref'd so they never keep the process alive. stop() aborts the
 * signal every run is given and waits for a running task to finish: a task
 * passes the signal to what it waits on (HTTP calls) and checks it between
 * steps, so a shutdown does not wait out its timeouts one after another.
 * With a tracer, each run is a root span.
 */
import { SpanKind, SpanStatusCode, type Tracer } from '@opentelemetry/api';

export interface TaskStatus {
  name: string;
  interval_ms: number;
  running: boolean;
  runs: number;
  last_started_at: string | null;
  last_duration_ms: number | null;
  /** Null when the last run succeeded; a run that stop() cut short: `aborted: ` and why. */
  last_error: string | null;
  /** What the last successful run returned (an object of counts; any other value as `{ value }`). */
  last_result: Record<string, unknown> | null;
}

function asResult(value: unknown): Record<string, unknown> | null {
  if (value === undefined || value === null) return null;
  return typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : { value };
}

export interface TaskLog {
  info(obj: object, message: string): void;
  error(obj: object, message: string): void;
}

export interface SchedulerOptions {
  /** Each run becomes a root span `scheduled NAME`. */
  tracer?: Tracer;
  /** Called after each run (metrics). */
  onRun?(name: string, ok: boolean, seconds: number): void;
}

/** The reason stop() aborts running tasks with. */
export class TaskAbortedError extends Error {
  constructor() {
    super('the scheduler is stopping');
    this.name = 'TaskAbortedError';
  }
}

/**
 * A scheduled task: `signal` is aborted (reason TaskAbortedError) when the scheduler stops. A run that
 * then rejects with that reason (as fetch and throwIfAborted do) is reported aborted, not failed.
 */
export type Task = (signal: AbortSignal) => Promise<unknown>;

interface Entry {
  status: TaskStatus;
  run: () => Promise<void>;
  timer?: NodeJS.Timeout;
  current?: Promise<void>;
}

export class Scheduler {
  private readonly tasks = new Map<string, Entry>();
  private stopped = false;
  private readonly abort = new AbortController();

  constructor(
    private readonly log: TaskLog,
    private readonly options: SchedulerOptions = {},
  ) {}

  /** Runs `task` in a span `scheduled NAME` when tracing is on. */
  private traced<T>(name: string, task: () => Promise<T>): Promise<T> {
    const tracer = this.options.tracer;
    if (!tracer) return task();
    return tracer.startActiveSpan(`scheduled ${name}`, { kind: SpanKind.INTERNAL, root: true, attributes: { 'socketscope.task': name } }, async (span) => {
      try {
        return await task();
      } catch (error) {
        span.recordException(error as Error);
        span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message });
        throw error;
      } finally {
        span.end();
      }
    });
  }

  /** Schedules `task` every `intervalMs` (0: runs once, now); the first run starts immediately. */
  every(name: string, intervalMs: number, task: Task): void {
    const status: TaskStatus = { name, interval_ms: intervalMs, running: false, runs: 0, last_started_at: null, last_duration_ms: null, last_error: null, last_result: null };
    const entry: Entry = { status, run: async () => undefined };
    this.tasks.set(name, entry);
    entry.run = async () => {
      if (this.stopped || entry.status.running) return;
      entry.status.running = true;
      const started = Date.now();
      entry.status.last_started_at = new Date(started).toISOString();
      let ok = false;
      const signal = this.abort.signal;
      try {
        entry.status.last_result = asResult(await this.traced(name, () => task(signal)));
        entry.status.last_error = null;
        ok = true;
        this.log.info({ task: name, duration_ms: Date.now() - started, result: entry.status.last_result }, `${name} done`);
      } catch (error) {
        if (signal.aborted && error === signal.reason) {
          // What a task cut short throws (fetch given the signal, throwIfAborted); any other error is its own failure.
          entry.status.last_error = `aborted: ${(signal.reason as Error).message}`;
          this.log.info({ task: name, duration_ms: Date.now() - started, err: error }, `${name} aborted`);
        } else {
          entry.status.last_error = (error as Error).message;
          this.log.error({ task: name, err: error }, `${name} failed`);
        }
      } finally {
        entry.status.running = false;
        entry.status.runs++;
        entry.status.last_duration_ms = Date.now() - started;
        this.options.onRun?.(name, ok, entry.status.last_duration_ms / 1000);
      }
    };
    // A tick while a run is in progress skips it: it must not replace `current` (what stop() and
    // runNow() wait for) with a run that returned at once.
    const tick = () => {
      this.start(entry);
    };
    tick();
    if (intervalMs > 0) {
      entry.timer = setInterval(tick, intervalMs);
      entry.timer.unref();
    }
  }

  /** Starts a run unless one is in progress; returns the run in progress. */
  private start(entry: Entry): Promise<void> {
    if (!entry.current) {
      const current = entry.run().finally(() => {
        if (entry.current === current) entry.current = undefined;
      });
      entry.current = current;
    }
    return entry.current;
  }

  /** Runs a task now (and waits for it), after the run in progress if there is one; used by tests and admin actions. */
  async runNow(name: string): Promise<void> {
    const entry = this.tasks.get(name);
    if (!entry) throw new Error(`no task named ${name}`);
    await entry.current;
    await this.start(entry);
  }

  status(): TaskStatus[] {
    return [...this.tasks.values()].map((t) => ({ ...t.status }));
  }

  /** Names of the tasks with a run in progress. */
  running(): string[] {
    return [...this.tasks.values()].filter((t) => t.current).map((t) => t.status.name);
  }

  /** No more runs; aborts the signal of the runs in progress and waits for them to return. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const entry of this.tasks.values()) clearInterval(entry.timer);
    if (!this.abort.signal.aborted) this.abort.abort(new TaskAbortedError());
    await Promise.all([...this.tasks.values()].map((t) => t.current));
  }
}
