/**
 * Request/response messages the app marks: timed (websocket.client.request.duration),
 * traced (a span whose W3C trace context rides in the message envelope so the
 * server SDK continues the trace), and, through MonitoredWebSocket.request(),
 * matched to their response by an id field.
 */
import type { RequestOutcome } from '../attributes.ts';
import type { TrackerScope } from '../scope.ts';

export interface RequestTrackingOptions {
  /** Envelope field carrying the request id, echoed by the server in the response. Default 'id'. */
  idField?: string;
  /** Default 10 000 ms. */
  timeoutMs?: number;
  /**
   * Envelope field that gets the send time (epoch ms) unless the message has it, so the server
   * SDK's `websocket.server.message.latency` covers requests. Default 'sentAt'; false: none.
   */
  sentAtField?: string | false;
  /**
   * Puts the trace context into the outgoing envelope. Default: top-level
   * `traceparent` (and `tracestate`) fields. false: no propagation.
   */
  inject?: false | ((envelope: Record<string, unknown>, carrier: Record<string, string>) => Record<string, unknown>);
}

export interface RequestOptions {
  /** Low-cardinality request kind, e.g. 'subscribe' (the span name). Default 'request'. */
  name?: string;
  timeoutMs?: number;
}

export interface TrackedRequest {
  /** W3C trace context to put into the message (empty without tracing). */
  readonly carrier: Record<string, string>;
  /** Records the outcome; later calls are ignored. */
  end(outcome?: RequestOutcome): void;
}

interface Pending {
  request: TrackedRequest;
  resolve(response: unknown): void;
  reject(reason: unknown): void;
  timer: ReturnType<typeof setTimeout>;
}

/** Times and traces one request the app sends and matches itself. */
export function trackRequest(scope: TrackerScope | undefined, name = 'request'): TrackedRequest {
  const start = performance.now();
  const span = scope?.tracer?.request(name);
  let ended = false;
  return {
    carrier: span?.carrier ?? {},
    end(outcome = 'ok') {
      if (ended) return;
      ended = true;
      scope?.emit('request', (performance.now() - start) / 1000, outcome);
      span?.end(outcome === 'ok' ? undefined : outcome);
    },
  };
}

export class RequestTracker {
  private readonly pending = new Map<string, Pending>();
  private readonly prefix = Math.random().toString(36).slice(2, 8);
  private seq = 0;

  constructor(
    private readonly scope: TrackerScope | undefined,
    private readonly options: RequestTrackingOptions = {},
  ) {}

  /** Builds the JSON envelope of a request and the promise of its response. */
  prepare(message: Record<string, unknown>, options: RequestOptions = {}): { id: string; payload: string; response: Promise<unknown> } {
    const id = `${this.prefix}-${++this.seq}`;
    const request = trackRequest(this.scope, options.name);
    let envelope: Record<string, unknown> = { ...message, [this.options.idField ?? 'id']: id };
    const sentAtField = this.options.sentAtField ?? 'sentAt';
    if (sentAtField !== false && envelope[sentAtField] === undefined) envelope[sentAtField] = Date.now();
    const inject = this.options.inject ?? ((target, carrier) => Object.assign(target, carrier));
    if (inject && request.carrier.traceparent) envelope = inject(envelope, request.carrier);
    const response = new Promise<unknown>((resolve, reject) => {
      const timeoutMs = options.timeoutMs ?? this.options.timeoutMs ?? 10_000;
      const timer = setTimeout(() => {
        this.pending.delete(id);
        request.end('timeout');
        reject(new DOMException(`${options.name ?? 'request'} had no response within ${timeoutMs} ms`, 'TimeoutError'));
      }, timeoutMs);
      this.pending.set(id, { request, resolve, reject, timer });
    });
    return { id, payload: JSON.stringify(envelope), response };
  }

  /** Settles the request a received message answers; costs nothing while none is pending. */
  match(data: unknown): void {
    if (this.pending.size === 0 || typeof data !== 'string') return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(data);
    } catch {
      // Not JSON, so not a response to a request of ours.
      return;
    }
    const id = (parsed as Record<string, unknown> | null)?.[this.options.idField ?? 'id'];
    const pending = typeof id === 'string' ? this.pending.get(id) : undefined;
    if (!pending) return;
    this.pending.delete(id as string);
    clearTimeout(pending.timer);
    pending.request.end((parsed as { error?: unknown }).error == null ? 'ok' : 'error');
    pending.resolve(parsed);
  }

  /** Rejects the pending request `id` (it could not be sent), or every pending request (the socket was closed for good). */
  cancel(id?: string): void {
    for (const [key, pending] of this.pending) {
      if (id && key !== id) continue;
      this.pending.delete(key);
      clearTimeout(pending.timer);
      pending.request.end('error');
      pending.reject(new DOMException(id ? 'the request could not be sent' : 'the socket was closed', 'AbortError'));
    }
  }
}
