/**
 * A WebSocket with the standard API (events, on* handlers, readyState,
 * constants) that reconnects with backoff, queues messages sent while it is
 * not open, optionally measures RTT with a heartbeat, and reports everything
 * to its scope. An explicit wrapper: window.WebSocket is never patched.
 *
 * With reconnection, `open` and `close` fire once per underlying connection
 * (like reconnecting-websocket); readyState is CONNECTING between attempts and
 * CLOSED only after close(), a close the policy does not retry (1008, 4401,
 * 4403 by default: an auth rejection), or when retries run out.
 */
import { type BackoffOptions, DEFAULT_BACKOFF, backoffDelay } from '../backoff.ts';
import { byteLength, utf8Length } from '../byte-length.ts';
import { DEFAULT_QUEUE_LIMITS, MessageQueue, type QueueLimits } from '../queue.ts';
import { type SocketScope, getSocketScope } from '../scope.ts';
import { ConnectionTracker } from './connection-tracker.ts';
import { Heartbeat, type HeartbeatOptions } from './heartbeat.ts';
import { type RequestOptions, RequestTracker, type RequestTrackingOptions, type TrackedRequest, trackRequest } from './requests.ts';

type Data = string | ArrayBufferLike | Blob | ArrayBufferView;

export interface ReconnectOptions extends Partial<BackoffOptions> {
  /** Reconnection attempts since the last stable connection before giving up. Default: unlimited. */
  maxRetries?: number;
  /**
   * A connection that stays open this long is stable: the backoff starts over.
   * One that closes sooner (a server that accepts, then closes) keeps the
   * backoff growing. Default 5000 ms.
   */
  stableAfterMs?: number;
  /**
   * Whether a close the app did not ask for is retried. Default: every code
   * but 1008, 4401 and 4403 (policy violation, unauthorised, forbidden: a new
   * attempt would be rejected the same way). Throwing counts as false.
   */
  shouldReconnect?: (event: CloseEvent) => boolean;
  /**
   * After 1012 (service restart), 1013 or 4429 (try again later), the least delay, randomised to
   * 1–2× so the clients one server turned away do not return together; the backoff delay is added
   * to it. Default 10 000 ms.
   */
  tryAgainLaterMs?: number;
}

/** Close codes not retried by default: the server refused this client, and would again. */
const TERMINAL_CODES = [1008, 4401, 4403];
/** Close codes that ask the client to come back later (tryAgainLaterMs): every client the server had hears them at once. */
const TRY_LATER_CODES = [1012, 1013, 4429];

export interface MonitoredWebSocketOptions {
  /** Scope to report to; default the one initSocketScope() started; null: none. */
  scope?: SocketScope | null;
  /** Default: on, 500 ms doubling to 30 s, 50 % jitter. false: never reconnect. */
  reconnect?: ReconnectOptions | false;
  /** Messages sent while not open; default 100 messages, 1 MiB, 60 s. false: drop them. */
  queue?: Partial<QueueLimits> | false;
  /** App-level heartbeat for RTT and dead-connection detection; off by default (the server must answer). */
  heartbeat?: HeartbeatOptions;
  requests?: RequestTrackingOptions;
  /** An attempt not open after this is abandoned (and retried). Default 10 000 ms. */
  connectTimeoutMs?: number;
  /**
   * Adds the connect span's `traceparent` to the URL's query, so the server
   * SDK's handshake span joins the browser's trace. Default false (the server
   * then sees one URL per attempt).
   */
  propagateOnConnect?: boolean;
  /** WebSocket implementation. Default globalThis.WebSocket. */
  WebSocket?: typeof WebSocket;
}

const HANDLERS = ['open', 'message', 'close', 'error'] as const;

type Listener<K extends keyof WebSocketEventMap> = (this: MonitoredWebSocket, event: WebSocketEventMap[K]) => unknown;

// Typed like WebSocket's, so listeners receive MessageEvent / CloseEvent: declarations only, the
// methods are EventTarget's (an override would ship code that only calls super).
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging -- overloads of EventTarget's methods only.
export interface MonitoredWebSocket {
  addEventListener<K extends keyof WebSocketEventMap>(type: K, listener: Listener<K>, options?: boolean | AddEventListenerOptions): void;
  addEventListener(type: string, listener: EventListenerOrEventListenerObject | null, options?: boolean | AddEventListenerOptions): void;
  removeEventListener<K extends keyof WebSocketEventMap>(type: K, listener: Listener<K>, options?: boolean | EventListenerOptions): void;
  removeEventListener(type: string, listener: EventListenerOrEventListenerObject | null, options?: boolean | EventListenerOptions): void;
}

// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging -- see the interface above.
export class MonitoredWebSocket extends EventTarget {
  declare static readonly CONNECTING: 0;
  declare static readonly OPEN: 1;
  declare static readonly CLOSING: 2;
  declare static readonly CLOSED: 3;
  declare readonly CONNECTING: 0;
  declare readonly OPEN: 1;
  declare readonly CLOSING: 2;
  declare readonly CLOSED: 3;
  declare onopen: ((this: MonitoredWebSocket, event: Event) => unknown) | null;
  declare onmessage: ((this: MonitoredWebSocket, event: MessageEvent) => unknown) | null;
  declare onclose: ((this: MonitoredWebSocket, event: CloseEvent) => unknown) | null;
  declare onerror: ((this: MonitoredWebSocket, event: Event) => unknown) | null;

  private ws: WebSocket | undefined;
  private closing?: boolean;
  private finished?: boolean;
  private retries = 0;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private connectTimer: ReturnType<typeof setTimeout> | undefined;
  private stableTimer: ReturnType<typeof setTimeout> | undefined;
  private type: BinaryType = 'blob';
  private readonly protocols: string | string[] | undefined;
  private readonly tracker: ConnectionTracker;
  private readonly queue: MessageQueue<Data> | undefined;
  private readonly heartbeat: Heartbeat | undefined;
  private readonly requests: RequestTracker;
  private readonly Impl: typeof WebSocket;
  private readonly endpoint: string;

  constructor(
    url: string | URL,
    protocols?: string | string[],
    private readonly options: MonitoredWebSocketOptions = {},
  ) {
    super();
    this.endpoint = String(url);
    this.protocols = protocols;
    this.Impl = options.WebSocket ?? WebSocket;
    const scope = options.scope === undefined ? getSocketScope() : (options.scope ?? undefined);
    this.tracker = new ConnectionTracker(scope, this.endpoint);
    if (options.queue !== false) this.queue = new MessageQueue({ ...DEFAULT_QUEUE_LIMITS, ...options.queue });
    if (options.heartbeat) {
      this.heartbeat = new Heartbeat(
        options.heartbeat,
        scope,
        (ping) => this.ws?.readyState === 1 && this.ws.send(ping),
        () => {
          // A dead connection may take the browser a long time to notice: let it go now and reconnect.
          const ws = this.ws;
          ws?.close(4000, 'heartbeat timeout');
          if (ws) this.onClose(ws, { code: 1006, reason: 'heartbeat timeout', wasClean: false });
        },
      );
    }
    this.requests = new RequestTracker(scope, options.requests);
    this.connect(true);
  }

  get url(): string {
    return this.ws?.url ?? this.endpoint;
  }

  get readyState(): number {
    if (this.finished) return 3;
    if (this.closing) return 2;
    // OPEN, or CLOSING while the server's close handshake (or a connect timeout's) runs; else between attempts.
    const state = this.ws?.readyState;
    return state === 1 || state === 2 ? state : 0;
  }

  get protocol(): string {
    return this.ws?.protocol ?? '';
  }

  get extensions(): string {
    return this.ws?.extensions ?? '';
  }

  /** Bytes buffered by the browser plus bytes waiting in the reconnection queue. */
  get bufferedAmount(): number {
    return (this.ws?.bufferedAmount ?? 0) + (this.queue?.byteLength ?? 0);
  }

  get binaryType(): BinaryType {
    return this.type;
  }

  set binaryType(type: BinaryType) {
    this.type = type;
    if (this.ws) this.ws.binaryType = type;
  }

  /** Sends now when open; otherwise queues (bounded) until the next open. Never throws. */
  send(data: Data): void {
    this.deliver(data);
  }

  /**
   * Sends a JSON request with an id (and trace context) and resolves with the
   * parsed response carrying the same id; rejects with a TimeoutError, or
   * with an AbortError at once when the request cannot be sent (the socket is
   * closing or closed, or its queue is full or off).
   */
  request(message: Record<string, unknown>, options?: RequestOptions): Promise<unknown> {
    const { id, payload, response } = this.requests.prepare(message, options);
    // A request that cannot be sent fails now, not at its timeout.
    if (!this.deliver(payload)) this.requests.cancel(id);
    return response;
  }

  /** Times and traces a request the app encodes and matches itself: put `carrier` in it, call end() on the response. */
  startRequest(name?: string): TrackedRequest {
    return trackRequest(this.tracker.scope, name);
  }

  /**
   * Closes the connection for good: no reconnection; queued messages are dropped. Between attempts
   * it dispatches no close: the app had one for the last connection, as from a native socket.
   */
  close(code?: number, reason?: string): void {
    // Bad arguments throw as on a WebSocket, whatever the state (the native close() checks them first).
    if (code !== undefined && code !== 1000 && !(code >= 3000 && code <= 4999)) throw new DOMException(`close code ${code}`, 'InvalidAccessError');
    if (utf8Length(reason ?? '') > 123) throw new DOMException('close reason > 123 bytes', 'SyntaxError');
    if (this.closing || this.finished) return;
    this.ws?.close(code, reason);
    this.closing = true;
    clearTimeout(this.retryTimer);
    if (!this.ws) this.finish();
  }

  private connect(first?: boolean): void {
    const carrier = this.tracker.attempt();
    let ws: WebSocket;
    try {
      let url = this.endpoint;
      if (this.options.propagateOnConnect && carrier) {
        const parsed = new URL(url, location.href);
        for (const [key, value] of Object.entries(carrier)) parsed.searchParams.set(key, value);
        url = parsed.href;
      }
      ws = new this.Impl(url, this.protocols);
    } catch (error) {
      // A malformed URL throws on the first attempt as a WebSocket would; it cannot start failing later.
      if (first) throw error;
      this.tracker.closed(1006, false, true);
      this.scheduleReconnect();
      return;
    }
    ws.binaryType = this.type;
    this.ws = ws;
    this.connectTimer = setTimeout(() => ws.close(), this.options.connectTimeoutMs ?? 10_000);
    ws.onopen = () => this.onOpen(ws);
    ws.onmessage = (event) => this.onMessage(ws, event);
    ws.onerror = () => {
      if (this.ws !== ws) return;
      if (this.tracker.isOpen) this.tracker.scope?.emit('error', 'socket');
      this.dispatchEvent(new Event('error'));
    };
    ws.onclose = (event) => this.onClose(ws, event);
  }

  private onOpen(ws: WebSocket): void {
    if (this.ws !== ws) return;
    clearTimeout(this.connectTimer);
    // The backoff starts over only once the connection has lasted: a server that accepts and
    // closes at once (an auth rejection, a crash loop) must see the delays grow.
    this.stableTimer = setTimeout(() => (this.retries = 0), this.reconnectOptions().stableAfterMs ?? 5000);
    this.tracker.opened();
    // The first ping goes one interval from now: after the queue and what the app's open handler sends.
    this.heartbeat?.start();
    // Messages queued while disconnected go first: the app sent them before anything its open handler sends.
    if (this.queue?.length) {
      const { fresh, expired } = this.queue.drain(performance.now());
      if (expired > 0) this.tracker.scope?.emit('dropped', 'expired', expired);
      for (const data of fresh) this.transmit(data);
    }
    this.dispatchEvent(new Event('open'));
  }

  private onMessage(ws: WebSocket, event: MessageEvent): void {
    if (this.ws !== ws || this.heartbeat?.handle(event.data)) return;
    this.tracker.received(event.data);
    this.requests.match(event.data);
    this.dispatchEvent(new MessageEvent('message', { data: event.data, origin: event.origin, lastEventId: event.lastEventId }));
  }

  private onClose(ws: WebSocket, { code, reason, wasClean }: Pick<CloseEvent, 'code' | 'reason' | 'wasClean'>): void {
    if (this.ws !== ws) return;
    clearTimeout(this.connectTimer);
    clearTimeout(this.stableTimer);
    this.heartbeat?.stop();
    this.ws = undefined;
    const event = new CloseEvent('close', { code, reason, wasClean });
    const options = this.reconnectOptions();
    const willReconnect = !this.closing && this.options.reconnect !== false && this.retries < (options.maxRetries ?? Infinity) && this.retryAfter(event);
    this.tracker.closed(code, this.closing, willReconnect);
    if (!willReconnect) this.finish();
    this.dispatchEvent(event);
    // The app's close handler may have called close() (which finished, with no socket to close): then no reconnection.
    if (willReconnect && !this.closing) this.scheduleReconnect(code);
  }

  private retryAfter(event: CloseEvent): boolean {
    const should = this.reconnectOptions().shouldReconnect;
    try {
      return should ? should(event) : !TERMINAL_CODES.includes(event.code);
    } catch {
      return false;
    }
  }

  private reconnectOptions(): ReconnectOptions {
    return this.options.reconnect || {};
  }

  private scheduleReconnect(code?: number): void {
    const options = this.reconnectOptions();
    let delay = backoffDelay(++this.retries, { ...DEFAULT_BACKOFF, ...options });
    // The backoff's jitter alone would bring them all back within a few hundred ms of each other.
    if (TRY_LATER_CODES.includes(code as number)) delay += (options.tryAgainLaterMs ?? 10_000) * (1 + Math.random());
    this.retryTimer = setTimeout(() => this.connect(), delay);
  }

  private finish(): void {
    this.finished = true;
    clearTimeout(this.stableTimer);
    this.tracker.abandon();
    const dropped = this.queue?.clear() ?? 0;
    if (dropped > 0) this.tracker.scope?.emit('dropped', 'closed', dropped);
    this.requests.cancel();
  }

  /** Sends, queues or drops (counted); false when dropped. */
  private deliver(data: Data): boolean {
    const scope = this.tracker.scope;
    const ended = this.closing || this.finished;
    if (this.ws?.readyState === 1) this.transmit(data);
    else if (!ended && this.queue?.offer(data, byteLength(data), performance.now())) scope?.emit('queued');
    else {
      scope?.emit('dropped', ended ? 'closed' : 'queue_full', 1);
      return false;
    }
    return true;
  }

  private transmit(data: Data): void {
    try {
      this.ws?.send(data);
      this.tracker.sent(data);
    } catch {
      // send() on an open socket only throws for data it cannot serialise: counted, never thrown into the app.
      this.tracker.scope?.emit('error', 'send');
    }
  }
}

// The constants, on the class and its instances, as WebSocket's (declared above; defined here, as a
// static field would compile to one assignment each).
for (const [index, name] of ['CONNECTING', 'OPEN', 'CLOSING', 'CLOSED'].entries()) {
  for (const target of [MonitoredWebSocket, MonitoredWebSocket.prototype]) Object.defineProperty(target, name, { value: index, enumerable: true });
}
// on<event> handlers behave like the native ones: one internal listener per type, added at the
// first non-null assignment (it keeps that place among the listeners when the handler is replaced),
// removed at null, that calls the current handler. The handler itself is never a listener, so the
// app may also add it with addEventListener, or remove that, independently.
const handlers = new WeakMap<EventTarget, Partial<Record<string, EventListener>>>();
function relay(this: EventTarget, event: Event): void {
  handlers.get(this)?.[event.type]?.call(this, event);
}
for (const type of HANDLERS) {
  Object.defineProperty(MonitoredWebSocket.prototype, `on${type}`, {
    get(this: EventTarget) {
      return handlers.get(this)?.[type] ?? null;
    },
    set(this: EventTarget, handler: unknown) {
      const own = handlers.get(this) ?? {};
      handlers.set(this, own);
      const had = own[type];
      own[type] = typeof handler === 'function' ? (handler as EventListener) : undefined;
      if (!own[type]) this.removeEventListener(type, relay);
      else if (!had) this.addEventListener(type, relay);
    },
  });
}
