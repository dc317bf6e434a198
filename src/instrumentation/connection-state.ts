import type { SpanContext } from '@opentelemetry/api';
import type { CloseErrorType } from './close-codes.ts';

/**
 * Everything the instrumentation keeps about one open connection, in one
 * small object held in a symbol-keyed slot of the instrumentation's own
 * socket subclass (so it dies with the socket): no closures, no listeners,
 * no timers per connection.
 */
export class ConnectionState {
  /** performance.now() at open. */
  readonly openedAt: number;
  /** performance.now() when the outstanding heartbeat ping was sent; 0 when none is outstanding. */
  pingSentAt = 0;
  /** Why the connection failed, when we know before it closes (heartbeat, protocol error). */
  closeError: CloseErrorType | undefined = undefined;
  /** Channels joined through the rooms helper; created on the first join. */
  channels: Set<string> | undefined = undefined;
  peakSubscriptions = 0;
  /** Transmitted bytes last reported for this socket (the report never goes below it). */
  transmitted = 0;

  constructor(
    openedAt: number,
    /** Only allocated when authentication or message tracing has something to keep. */
    readonly identity: ConnectionIdentity | undefined,
  ) {
    this.openedAt = openedAt;
  }
}

export interface ConnectionIdentity {
  readonly user: string | undefined;
  readonly tenant: string | undefined;
  /** The handshake span, linked from message spans (kept only when message tracing is on). */
  readonly handshake: SpanContext | undefined;
}
