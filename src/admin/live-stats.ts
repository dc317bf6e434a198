/**
 * Live connection statistics for the admin pages: one poller per service
 * that runs the live PromQL queries every interval while at least one page
 * listens, and hands each snapshot to every listener (so ten open pages cost
 * one set of queries, and none cost nothing).
 */
import type { PrometheusClient } from '../analytics/prometheus.ts';
import { type Unavailable, needsPrometheus } from '../api/unavailable.ts';
import { LIVE_QUERIES } from './performance-queries.ts';

export interface LiveSnapshot {
  at: string;
  /** Query id → current value; null when Prometheus has no data for it. */
  values: Record<string, number | null>;
  /** Set when Prometheus could not be asked; the values are then all null. */
  error: { code: string; message: string } | null;
}

type Listener = (snapshot: LiveSnapshot) => void;

export interface LiveStatsSource {
  subscribe(listener: Listener): () => void;
  readonly listeners: number;
  close(): void;
}

interface LoggerLike {
  warn(obj: object, message: string): void;
}

/** `unavailable`: why Prometheus is absent when the one starting the service knows (the demo: not installed), said instead of "set PROMETHEUS_URL". */
export async function readLiveSnapshot(prometheus: PrometheusClient | undefined, now = new Date(), unavailable?: Unavailable): Promise<LiveSnapshot> {
  const nulls = Object.fromEntries(LIVE_QUERIES.map((q) => [q.id, null]));
  if (!prometheus) {
    return { at: now.toISOString(), values: nulls, error: { code: 'prometheus_not_configured', message: needsPrometheus('live statistics need', unavailable) } };
  }
  try {
    const results = await Promise.all(LIVE_QUERIES.map((q) => prometheus.query(q.expr, now)));
    const values: Record<string, number | null> = {};
    LIVE_QUERIES.forEach((q, i) => {
      const value = results[i]?.[0]?.value;
      values[q.id] = value !== undefined && Number.isFinite(value) ? value : null;
    });
    return { at: now.toISOString(), values, error: null };
  } catch (error) {
    return { at: now.toISOString(), values: nulls, error: { code: 'prometheus_unavailable', message: (error as Error).message } };
  }
}

export function createLiveStats(prometheus: PrometheusClient | undefined, intervalMs: number, log: LoggerLike, unavailable?: Unavailable): LiveStatsSource {
  const listeners = new Set<Listener>();
  let timer: NodeJS.Timeout | undefined;
  let last: LiveSnapshot | undefined;
  let running = false;
  let closed = false;

  const tick = async (): Promise<void> => {
    // A slow Prometheus must not pile up overlapping rounds.
    if (running) return;
    running = true;
    try {
      const snapshot = await readLiveSnapshot(prometheus, new Date(), unavailable);
      if (snapshot.error && snapshot.error.code !== last?.error?.code) log.warn({ error: snapshot.error }, 'admin live statistics: Prometheus query failed');
      last = snapshot;
      for (const listener of listeners) {
        try {
          listener(snapshot);
        } catch (error) {
          log.warn({ err: error }, 'admin live statistics: a listener failed');
        }
      }
    } finally {
      running = false;
    }
  };
  const stop = (): void => {
    clearInterval(timer);
    timer = undefined;
    last = undefined;
  };

  return {
    subscribe(listener) {
      if (closed) throw new Error('live statistics are closed');
      listeners.add(listener);
      if (last) listener(last);
      if (!timer) {
        timer = setInterval(() => void tick(), intervalMs);
        timer.unref();
        void tick();
      }
      return () => {
        listeners.delete(listener);
        if (listeners.size === 0) stop();
      };
    },
    get listeners() {
      return listeners.size;
    },
    close() {
      closed = true;
      listeners.clear();
      stop();
    },
  };
}
