/**
 * The life of one logical connection (across reconnections) told to the
 * scope's sinks: attempts, opens, drops, outages, messages, and a span per
 * connection attempt. Shared by MonitoredWebSocket and monitor().
 */
import { byteLength } from '../byte-length.ts';
import type { TrackerScope } from '../scope.ts';
import type { RequestSpan } from '../traces/socket-tracer.ts';

/** Seconds since `from` (a performance.now() time). */
export const seconds = (from: number): number => (performance.now() - from) / 1000;

export class ConnectionTracker {
  private attempts = 0;
  /** Consecutive attempts since the connection was last open (the span's attempt number). */
  private retry = 0;
  private reconnecting = false;
  private attemptAt = -1;
  private openedAt = -1;
  private downAt = -1;
  /** An attempt is under way (not yet open or failed). */
  private pending?: boolean;
  private span: RequestSpan | undefined;

  constructor(
    readonly scope: TrackerScope | undefined,
    private readonly url: string,
  ) {}

  get isOpen(): boolean {
    return this.openedAt >= 0;
  }

  /**
   * A connection attempt starts; `timed` false when its start is not
   * observable (another library's reconnect). Returns the attempt span's trace context.
   */
  attempt(timed = true): Record<string, string> | undefined {
    this.reconnecting = this.attempts++ > 0;
    if (this.reconnecting) this.retry++;
    this.attemptAt = timed ? performance.now() : -1;
    this.pending = true;
    this.scope?.emit('attempt', this.reconnecting);
    this.span = this.scope?.tracer?.connect(this.url, this.retry);
    return this.span?.carrier;
  }

  /** Starts tracking a socket that was already open when monitoring began. */
  adopt(): void {
    this.attempts = 1;
    this.openedAt = performance.now();
    this.scope?.emit('adopted');
  }

  opened(): void {
    this.pending = false;
    this.openedAt = performance.now();
    this.retry = 0;
    this.scope?.emit('opened', this.attemptAt >= 0 ? seconds(this.attemptAt) : -1, this.reconnecting);
    if (this.downAt >= 0) this.endOutage('recovered');
    this.span?.end();
    this.span = undefined;
  }

  /**
   * The socket closed. `byApp`: the app asked for it. `willReconnect`: another
   * attempt follows, so a drop starts an outage.
   */
  closed(code: number, byApp: boolean | undefined, willReconnect: boolean | undefined): void {
    if (this.openedAt >= 0) {
      this.scope?.emit('closed', code, !byApp, seconds(this.openedAt));
      this.openedAt = -1;
      if (!byApp && willReconnect) {
        this.downAt = performance.now();
        this.scope?.emit('outage', 'start', 0);
      }
    } else if (this.pending) {
      // The attempt failed before the handshake completed.
      if (!byApp) this.scope?.emit('error', 'connect');
      this.span?.end(byApp ? 'closed by the app before opening' : `connection failed (close code ${code})`);
      this.span = undefined;
    }
    this.pending = false;
    if (!willReconnect) this.abandon();
  }

  /**
   * Monitoring stops (monitor().detach()): an open connection leaves the sinks' open count
   * without a close, a pending attempt's span ends with its outcome unknown (no error), and an
   * outage in progress ends unrecovered, since nothing will be observed any more.
   */
  detach(): void {
    if (this.openedAt >= 0) {
      this.openedAt = -1;
      this.scope?.emit('detached');
    }
    this.span?.end();
    this.span = undefined;
    this.pending = false;
    this.abandon();
  }

  /** No further attempt will be made: an outage in progress ends unrecovered. */
  abandon(): void {
    if (this.downAt >= 0) this.endOutage('abandoned');
  }

  sent(data: unknown): void {
    if (this.scope?.active) this.scope.emit('message', true, byteLength(data));
  }

  received(data: unknown): void {
    if (this.scope?.active) this.scope.emit('message', false, byteLength(data));
  }

  private endOutage(phase: 'recovered' | 'abandoned'): void {
    this.scope?.emit('outage', phase, seconds(this.downAt));
    this.downAt = -1;
  }
}
