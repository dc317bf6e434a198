/**
 * The heartbeat: one interval for all sockets (never a timer per
 * connection). Each round terminates the sockets that did not answer the
 * previous ping and pings the rest; the pong's round trip is measured by the
 * instrumentation when it arrives.
 *
 * A round over many sockets runs in slices (`sliceSize` sockets, then the
 * rest after a setImmediate), so the pongs of the sockets already pinged are
 * read while it goes on rather than after the whole loop, and each socket's
 * ping is timed from just before its own `ping()`. A socket is visited once a
 * round, in the order of `clients()`; a tick that comes while a round is still
 * going starts none (that round's sockets are checked by the next one), so
 * "pinged and silent until its next visit" stays the test of a dead peer.
 */
import type { WebSocket } from 'ws';
import type { ConnectionState } from './connection-state.ts';

export interface HeartbeatTarget {
  /** The sockets to ping (the server's `clients`). */
  clients(): Iterable<WebSocket>;
  stateOf(socket: WebSocket): ConnectionState | undefined;
  pinged(): void;
  timedOut(socket: WebSocket): void;
}

const OPEN = 1;
export const DEFAULT_HEARTBEAT_INTERVAL_MS = 30_000;
/**
 * Sockets visited before the round yields to I/O. A ping is one small write (a few µs to tens of
 * µs with its syscall), so a slice is a few milliseconds at most: about what a pong waits for the
 * round to let it be read.
 */
export const DEFAULT_HEARTBEAT_SLICE = 256;

export function checkHeartbeatInterval(intervalMs: number): void {
  if (!Number.isFinite(intervalMs) || intervalMs < 10) throw new RangeError(`heartbeat intervalMs must be >= 10, got ${intervalMs}`);
}

export class Heartbeat {
  private timer: NodeJS.Timeout | undefined;
  /** The clients the round in progress has yet to visit; undefined between rounds. */
  private round: Iterator<WebSocket> | undefined;
  /** The next slice of the round in progress. */
  private slice: NodeJS.Immediate | undefined;

  constructor(
    private readonly target: HeartbeatTarget,
    readonly intervalMs: number = DEFAULT_HEARTBEAT_INTERVAL_MS,
    private readonly now: () => number = () => performance.now(),
    readonly sliceSize: number = DEFAULT_HEARTBEAT_SLICE,
  ) {
    checkHeartbeatInterval(intervalMs);
    if (!Number.isInteger(sliceSize) || sliceSize < 1) throw new RangeError(`heartbeat sliceSize must be an integer >= 1, got ${sliceSize}`);
  }

  get running(): boolean {
    return this.timer !== undefined;
  }

  /** True while a round is still visiting sockets (in slices). */
  get inRound(): boolean {
    return this.round !== undefined;
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.tick(), this.intervalMs);
    // A heartbeat alone must not keep the process alive.
    this.timer.unref();
  }

  /** Stops the interval and the round in progress, if any. */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (this.slice !== undefined) clearImmediate(this.slice);
    this.slice = undefined;
    this.round = undefined;
  }

  /**
   * Starts one round now: terminate the silent, ping the rest. The first slice runs before this
   * returns (with up to `sliceSize` sockets, the whole round). Public so tests can drive it
   * without waiting. Does nothing while a round is still in progress.
   */
  tick(): void {
    if (this.round !== undefined) return;
    this.round = this.target.clients()[Symbol.iterator]();
    this.runSlice();
  }

  private readonly runSlice = (): void => {
    this.slice = undefined;
    const round = this.round;
    if (round === undefined) return;
    try {
      for (let visited = 0; visited < this.sliceSize; visited++) {
        const next = round.next();
        if (next.done) {
          this.round = undefined;
          return;
        }
        this.visit(next.value);
      }
    } catch (error) {
      // Whatever threw (an application's listener run by terminate(), say) ends this round, not the heartbeat.
      this.round = undefined;
      throw error;
    }
    this.slice = setImmediate(this.runSlice);
  };

  private visit(socket: WebSocket): void {
    const state = this.target.stateOf(socket);
    if (!state || socket.readyState !== OPEN) return;
    if (state.pingSentAt !== 0) {
      this.target.timedOut(socket);
      return;
    }
    // Timed from just before its own ping, not from the start of the round.
    state.pingSentAt = this.now();
    socket.ping();
    this.target.pinged();
  }
}
