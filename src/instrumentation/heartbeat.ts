/**
 * The heartbeat: one interval for all sockets (never a timer per
 * connection). Each tick terminates the sockets that did not answer the
 * previous ping and pings the rest; the pong's round trip is measured by the
 * instrumentation when it arrives.
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

export function checkHeartbeatInterval(intervalMs: number): void {
  if (!Number.isFinite(intervalMs) || intervalMs < 10) throw new RangeError(`heartbeat intervalMs must be >= 10, got ${intervalMs}`);
}

export class Heartbeat {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly target: HeartbeatTarget,
    readonly intervalMs: number = DEFAULT_HEARTBEAT_INTERVAL_MS,
    private readonly now: () => number = () => performance.now(),
  ) {
    checkHeartbeatInterval(intervalMs);
  }

  get running(): boolean {
    return this.timer !== undefined;
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.tick(), this.intervalMs);
    // A heartbeat alone must not keep the process alive.
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One round: terminate the silent, ping the rest. Public so tests can drive it without waiting. */
  tick(): void {
    const now = this.now();
    for (const socket of this.target.clients()) {
      const state = this.target.stateOf(socket);
      if (!state || socket.readyState !== OPEN) continue;
      if (state.pingSentAt !== 0) {
        this.target.timedOut(socket);
        continue;
      }
      state.pingSentAt = now;
      socket.ping();
      this.target.pinged();
    }
  }
}
