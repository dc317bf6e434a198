/**
 * Public types of the load generator: what a caller passes in (a resolved
 * plan) and what comes back (the report). The CLI and the admin pages'
 * Testing tab both speak these.
 */
import type { RunBuckets } from './bucket-counts.ts';
import type { ResolvedAddress } from './handshake.ts';

/** One step of the connection plan: ramp up to `connections`, then hold. */
export interface Stage {
  /** Total connections open at the end of this stage's ramp-up (never fewer than the previous stage). */
  connections: number;
  rampUpS: number;
  holdS: number;
}

/** A fully resolved load test: every field has its final value (see `resolveLoadPlan`). */
export interface LoadPlan {
  url: string;
  stages: Stage[];
  /** Seconds at the start of the first hold whose messages are sent but not measured. */
  warmupS: number;
  /** Messages per second per connection (open model); 0 holds connections without sending. */
  rate: number;
  payloadBytes: number;
  /** Message template, see src/loadtest/template.ts for its placeholders. */
  message: string;
  headers: Record<string, string>;
  subprotocols: string[];
  /** Correlate echoes with requests; false for servers that do not echo (then nothing counts as lost). */
  expectEcho: boolean;
  workers: number;
  handshakeTimeoutMs: number;
  /** After the last send, how long to wait for outstanding echoes before counting them lost. */
  drainTimeoutMs: number;
  /** Opening handshakes in flight per worker; more would flood the server's accept queue. */
  connectConcurrency: number;
  /** Connect to these addresses instead of resolving the URL's host (see `pinnedLookup`). */
  addresses?: ResolvedAddress[];
}

export interface LatencySummary {
  count: number;
  p50: number;
  p90: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
}

/** Echo latency: the summary, plus how many of its values are lost messages recorded at a lower bound. */
export interface EchoLatencySummary extends LatencySummary {
  /**
   * Lost measured messages among `count`, each recorded at the time it was
   * given up on (drain timeout, connection closed, abort) minus its intended
   * send time: a lower bound on a latency that never ended.
   */
  lower_bounds: number;
}

export interface WorkerShare {
  worker: number;
  connections: number;
  opened: number;
  failed: number;
}

/** The machine-readable report (`--json`). Latencies in milliseconds. */
export interface LoadReport {
  url: string;
  aborted: boolean;
  /** Length of the measured window (after ramp-up and warm-up), seconds. */
  duration_s: number;
  /** Wall time of the whole run, including ramp-up, warm-up, drain and close. */
  elapsed_s: number;
  connections: {
    target: number;
    opened: number;
    failed: number;
    /** Closed by the server or the network before the test ended. */
    dropped: number;
    /** Aborted runs only: connections not yet open when the run was stopped (not failures). */
    abandoned: number;
    /**
     * Most connections open at the same time: the sum of each worker thread's
     * exact maximum, so an upper bound of the true simultaneous peak (the
     * workers may peak at different moments); exact with one worker.
     */
    peak_open: number;
  };
  messages: {
    /**
     * Slots in the measured window over every target connection (connections
     * x rate x duration, each connection from its first slot in the window): what
     * `sent` is when every connection is open throughout; 0 with rate 0.
     */
    planned: number;
    /**
     * Slots of the measured window this tool was due to send, whether written
     * or not: a connection that opened after the window, or was dropped before
     * a slot, has that slot in `sent`, `unsent` and `lost` (when echoes are expected).
     */
    sent: number;
    received: number;
    /** Echoes matched to a request sent in the measured window. */
    matched: number;
    /** Requests whose echo never arrived (only when echoes are expected), skipped ones included. */
    lost: number;
    /** Sends skipped because more than 8 MB were already queued on the socket (counted in `sent`). */
    skipped: number;
    /**
     * Counted in `sent` and `lost` but never written: their connection was
     * dropped before them, or opened only after the measured window. Only
     * when echoes are expected (without them, such slots stay out of `sent`).
     */
    unsent: number;
    /**
     * Aborted runs only: sent, still awaiting their echo when the run was
     * stopped. Not lost, not in the latency histogram; matched + lost +
     * in_flight = sent.
     */
    in_flight: number;
    per_second: number;
  };
  bytes: { sent: number; received: number };
  latency_ms: EchoLatencySummary;
  /** From starting the handshake to the open event. */
  connect_ms: LatencySummary;
  /** From the connection's intended open time to its open event: connect time plus any wait for a handshake slot. */
  open_delay_ms: LatencySummary;
  /**
   * Each measured message's actual send time minus its intended one: this
   * process's own lateness (timer resolution, a busy event loop, a connection
   * that opened late in the window). It is part of `latency_ms`, so latency
   * minus send lag is roughly what the server and the network took.
   */
  send_lag_ms: LatencySummary;
  errors: Record<string, number>;
  close_codes: Record<string, number>;
  /** (failed + dropped) / (target − abandoned) connections. */
  connection_error_rate: number;
  /** Lost / (sent − in_flight) messages (skipped / sent with --no-echo). */
  message_error_rate: number;
  /** The larger of the two rates: what --max-error-rate is compared with. */
  error_rate: number;
  workers: WorkerShare[];
  plan: { stages: ReportStage[]; warmup_s: number; rate: number; payload_bytes: number; expect_echo: boolean };
}

export interface ReportStage {
  connections: number;
  ramp_up_s: number;
  hold_s: number;
}

/** Live numbers for a progress display; cumulative unless said otherwise. */
export interface LoadProgress {
  phase: 'starting' | 'ramp-up' | 'warmup' | 'measure' | 'drain' | 'done';
  elapsedS: number;
  open: number;
  target: number;
  failed: number;
  /** Connections that opened and then closed before the end of the run. */
  dropped: number;
  sent: number;
  received: number;
  errors: number;
  /**
   * Frames per second written and received over the last progress interval,
   * all traffic (ramp-up, warm-up and drain too, unlike `sent` and `received`);
   * null on the final sample, whose interval is only the time since the last.
   */
  sentPerS: number | null;
  receivedPerS: number | null;
  /** p95 of echoes received in the last interval (warm-up included), ms; null when none arrived. */
  intervalP95Ms: number | null;
  /** Connect times and measured echo latencies so far, on the exported histograms' buckets (all workers). */
  buckets: RunBuckets;
}

export interface RunOptions {
  signal?: AbortSignal;
  onProgress?: (progress: LoadProgress) => void;
  /** Progress period, milliseconds (at least 50). */
  progressIntervalMs?: number;
}
