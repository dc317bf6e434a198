/**
 * Messages between the engine (main thread) and its load workers. Times are
 * absolute milliseconds on the shared clock below; histograms travel in the
 * HDR compressed encoding.
 */
import type { RunBuckets } from './bucket-counts.ts';
import type { ResolvedAddress } from './handshake.ts';

/** `performance.timeOrigin + performance.now()`: comparable across threads of one process. */
export function clock(): number {
  return performance.timeOrigin + performance.now();
}

export interface WorkerInit {
  worker: number;
  url: string;
  headers: Record<string, string>;
  subprotocols: string[];
  handshakeTimeoutMs: number;
  connectConcurrency: number;
  addresses?: ResolvedAddress[];
  /** Connections this worker drives: global index and open time relative to the start. */
  connections: { index: number; openAtMs: number }[];
  totalConnections: number;
  rate: number;
  payloadBytes: number;
  message: string;
  tag: string;
  expectEcho: boolean;
  measureStartMs: number;
  measureEndMs: number;
  drainTimeoutMs: number;
  progressIntervalMs: number;
}

export interface WorkerCounters {
  opened: number;
  failed: number;
  dropped: number;
  /** Connections an abort stopped before they opened (never started, or handshake cut): not failures. */
  abandoned: number;
  open: number;
  /** Most connections open at once on this worker (exact: updated at every open). */
  peakOpen: number;
  /** Slots of the measured window over this worker's connections: what `sent` is with every connection open throughout. */
  planned: number;
  sent: number;
  received: number;
  matched: number;
  lost: number;
  /** Measured sends skipped for backpressure (never written; also counted lost when echoes are expected). */
  skipped: number;
  /**
   * Measured slots counted sent and lost though never written, because their
   * connection opened after the window or was dropped before them (only when
   * echoes are expected).
   */
  unsent: number;
  /** Measured requests still awaiting their echo when the run was aborted: neither received nor lost. */
  inFlight: number;
  /** Every frame written and received, ramp-up, warm-up and drain included: what the live progress rates show. */
  trafficSent: number;
  trafficReceived: number;
  bytesSent: number;
  bytesReceived: number;
  errors: Record<string, number>;
  closeCodes: Record<string, number>;
}

export type ToWorker = { type: 'start'; epoch: number } | { type: 'abort' };

export type FromWorker =
  | { type: 'ready'; worker: number }
  /** `window`: the measured window on the shared clock once it is fixed (it waits for the first connections, see driver.ts), else null. */
  | { type: 'progress'; worker: number; counters: WorkerCounters; interval: string | null; buckets: RunBuckets; window: MeasuredWindow | null }
  | {
      type: 'done';
      worker: number;
      counters: WorkerCounters;
      latency: string;
      connect: string;
      openDelay: string;
      sendLag: string;
      window: MeasuredWindow | null;
    }
  | { type: 'failed'; worker: number; message: string };

export interface MeasuredWindow {
  start: number;
  end: number;
}

export function emptyCounters(): WorkerCounters {
  return {
    opened: 0,
    failed: 0,
    dropped: 0,
    abandoned: 0,
    open: 0,
    peakOpen: 0,
    planned: 0,
    sent: 0,
    received: 0,
    matched: 0,
    lost: 0,
    skipped: 0,
    unsent: 0,
    inFlight: 0,
    trafficSent: 0,
    trafficReceived: 0,
    bytesSent: 0,
    bytesReceived: 0,
    errors: {},
    closeCodes: {},
  };
}
