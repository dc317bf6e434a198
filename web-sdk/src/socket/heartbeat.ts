/**
 * App-level heartbeat: browsers neither expose protocol pings nor their RTT,
 * so the socket sends a ping message the server answers. A missing reply
 * means the connection is dead even if the browser has not noticed (half-open
 * TCP can last minutes): the socket is then closed so it reconnects.
 *
 * The first ping goes one interval after open, so the first frames on the wire are the app's (queued
 * messages, then what its open handler sends): protocols that want an auth or init frame first get it.
 * The default ping is the JSON text `{"type":"ping"}`, which the server SDK's jsonEnvelope() reads as
 * a message of type 'ping' (a bare text frame would count as a parse_error there); the default reply
 * is a JSON message whose `type` is 'pong' (or the text 'pong').
 */
import type { TrackerScope } from '../scope.ts';
import { seconds } from './connection-tracker.ts';

export interface HeartbeatOptions {
  /** Default 15 000 ms. */
  intervalMs?: number;
  /** A reply later than this closes the connection. Default 10 000 ms. */
  timeoutMs?: number;
  /** The ping message. Default '{"type":"ping"}'. */
  message?: string | (() => string);
  /**
   * Recognises the server's reply; replies are not passed on as messages. Default: a JSON text
   * message whose `type` is 'pong' (e.g. `{"type":"pong","id":…}`), or the text 'pong'.
   */
  isPong?: (data: unknown) => boolean;
}

const isPong = (data: unknown): boolean => {
  try {
    // Only text that mentions pong is parsed: other messages cost a substring search.
    return (data as string).includes('pong') && (data === 'pong' || (JSON.parse(data as string) as { type?: unknown }).type === 'pong');
  } catch {
    // Binary data, or not JSON.
    return false;
  }
};

export class Heartbeat {
  private interval: ReturnType<typeof setInterval> | undefined;
  private deadline: ReturnType<typeof setTimeout> | undefined;
  private sentAt = -1;

  constructor(
    private readonly options: HeartbeatOptions,
    /** Receives `rtt` and, on a timeout, `error` (heartbeat_timeout). */
    private readonly scope: TrackerScope | undefined,
    private readonly send: (data: string) => void,
    /** After a timeout: let the dead connection go. */
    private readonly onTimeout: () => void,
  ) {}

  /** Pings every interval from now on: the first one interval after the call (an open), not at once. */
  start(): void {
    this.stop();
    this.interval = setInterval(() => this.beat(), this.options.intervalMs ?? 15_000);
  }

  stop(): void {
    clearInterval(this.interval);
    clearTimeout(this.deadline);
    this.sentAt = -1;
  }

  /** True when `data` is a heartbeat reply (then timed and consumed). */
  handle(data: unknown): boolean {
    if (!(this.options.isPong ?? isPong)(data)) return false;
    if (this.sentAt >= 0) {
      this.scope?.emit('rtt', seconds(this.sentAt));
      clearTimeout(this.deadline);
      this.sentAt = -1;
    }
    return true;
  }

  private beat(): void {
    if (this.sentAt >= 0) return; // the previous ping is still awaiting its reply
    const message = this.options.message ?? '{"type":"ping"}';
    this.sentAt = performance.now();
    this.send(typeof message === 'function' ? message() : message);
    this.deadline = setTimeout(() => {
      this.stop();
      this.scope?.emit('error', 'heartbeat_timeout');
      this.onTimeout();
    }, this.options.timeoutMs ?? 10_000);
  }
}
