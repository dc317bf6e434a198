import type { Meter, MeterProvider, Tracer, TracerProvider } from '@opentelemetry/api';
import type { IncomingMessage } from 'node:http';
import type { RawData, WebSocket } from 'ws';
import type { AuthFailureReason, MessageErrorType } from './semconv.ts';
import type { Heartbeat } from './heartbeat.ts';
import type { BroadcastData, Rooms } from './rooms.ts';

/** What the envelope hook reads from a received message (all optional). */
export interface MessageEnvelope {
  /** Application message type; folded to `_OTHER` unless it is in `messageTypes`. */
  type?: string | undefined;
  /** Client send time, milliseconds since the Unix epoch, for `websocket.server.message.latency`. */
  sentAt?: number | undefined;
  /** W3C `traceparent` the client put in the envelope; continues the client's trace. */
  traceparent?: string | undefined;
  tracestate?: string | undefined;
}

export type AuthDecision =
  | { ok: true; user?: string | undefined; tenant?: string | undefined }
  | { ok: false; reason: AuthFailureReason | (string & {}); message?: string | undefined };

export type Authenticate = (request: IncomingMessage) => AuthDecision | Promise<AuthDecision>;

export interface HeartbeatOptions {
  /** Ping every socket this often; a socket that has not answered the previous ping by then is terminated. Default 30 000. */
  intervalMs?: number;
}

export interface ChannelOptions {
  /** Channels that get their own `websocket.channel` series; every other channel is `_OTHER`. */
  allow?: readonly string[];
  /** Besides the allow-list, the N largest channels at each collection get their own series. Default 0. */
  topN?: number;
  /**
   * Most distinct channel names the top N may ever give a series to, over the
   * server's lifetime (the allow-list is not counted). A name that leaves the
   * top N keeps its series (reported 0 once it is no longer named), so with
   * rooms that come and go the series would otherwise grow without bound. Once
   * the cap is reached, only names that already have a series can be in the
   * top N; every other channel is `_OTHER`. Default 10 × topN, at most 1 000.
   */
  maxNamed?: number;
}

export interface TracingOptions {
  /** A short SERVER span per upgrade request (never one per connection lifetime). Default true. */
  handshake?: boolean;
  /**
   * Fraction of received messages (0–1) that get a `process` span when the
   * envelope carries no sampled `traceparent`. Default 0: only messages whose
   * envelope continues a sampled client trace get a span.
   */
  messageSampleRatio?: number;
  /** Create message spans at all (needs `envelope` for trace continuation). Default false. */
  messages?: boolean;
  /**
   * Most message spans a second this server starts *because the client's
   * `traceparent` said sampled*: a token bucket per server (this many tokens
   * a second, a burst of as many, at least 1). The sampled flag comes from
   * the client, that is from the internet, so without a cap one client that
   * sets it on every message decides how many spans the app creates and
   * exports.
   *
   * Once the budget is spent, such a message is treated like one without
   * trace context: `messageSampleRatio` decides, and a span it samples is a
   * new root span (not in the client's trace) with a link to the client's
   * span after the handshake link. Each such message is counted in
   * `websocket.server.message.trace_context.refused`. Messages whose
   * `traceparent` is not sampled never use the budget; handshake spans are
   * not capped (one per upgrade request, bounded by the connection rate).
   *
   * Default 100 (the `messageTimingPerSecond` default): above what honest
   * clients' sampled traces need on one server (a client samples a fraction
   * of its user actions, each a few messages), and at about 6 µs and 800
   * bytes of OTLP per span, under 0.1% of a core and ~80 kB/s to the trace
   * backend however hard a client floods. `Infinity` turns the cap off; 0
   * never continues a client's sampled trace in a message span. A finite
   * number >= 0 or `Infinity`; fractions work (0.5: one every 2 s).
   */
  maxClientSampledMessageSpansPerSecond?: number;
}

export interface InstrumentWebSocketServerOptions {
  /**
   * Where metrics go. Default: the global MeterProvider. The metrics API has
   * no proxy provider: when none is registered yet, the server counts anyway
   * and binds to the global provider at the first upgrade request (or
   * sampler tick, about once a second) after one is registered, and
   * `diag.warn`s once (see docs/server-sdk.md, start-up order).
   */
  meterProvider?: MeterProvider;
  tracerProvider?: TracerProvider;
  /** A meter to use instead of one from `meterProvider` (the OTel Instrumentation class passes its own). */
  meter?: Meter;
  /** A tracer to use instead of one from `tracerProvider`. */
  tracer?: Tracer;
  /** Message types that get their own `websocket.message.type` series; anything else is `_OTHER`. */
  messageTypes?: readonly string[];
  /**
   * Classifies a received message cheaply (e.g. by its first bytes) into a
   * message type. Ignored when `envelope` is set (the envelope's `type` wins).
   */
  classify?: (data: RawData, isBinary: boolean) => string | undefined;
  /**
   * Reads the envelope of a received message: type, client send time and
   * trace context. Throwing counts a `parse_error`; the message is still
   * delivered to the application. See `jsonEnvelope()`.
   */
  envelope?: (data: RawData, isBinary: boolean) => MessageEnvelope | undefined;
  /**
   * Per-message histograms (process duration, latency) record every message
   * up to this rate and a uniform sample of about this many a second above
   * it; counts stay exact. `Infinity` records every message. Default 100 (6 000 samples a minute, plenty for quantiles).
   */
  messageTimingPerSecond?: number;
  /** Latency samples above this are dropped and counted as `too_large`. Default 300 s. */
  maxLatencySeconds?: number;
  /** Decides on every upgrade request before `ws` completes it. */
  authenticate?: Authenticate;
  /**
   * A hook that has not decided after this long refuses the upgrade with 503
   * (`authenticator_error`), so a stuck identity provider cannot pile up
   * half-open sockets. Default 10 000 ms.
   */
  authTimeoutMs?: number;
  /**
   * How a failed authentication is answered: `http` (default) rejects the
   * upgrade with 401/403/429; `close` completes it and closes at once with
   * 4401/4403/4429/1008 and the reason, which browsers can read (they hide
   * HTTP statuses of failed upgrades).
   */
  rejectWith?: 'http' | 'close';
  /** Built-in heartbeat: one timer for all sockets; false (default) to bring your own. */
  heartbeat?: HeartbeatOptions | false;
  /** Series per channel for subscription and broadcast metrics. */
  channels?: ChannelOptions;
  tracing?: TracingOptions;
  /**
   * Reverse proxies in front of the server whose `X-Forwarded-For` entries are trusted, for the
   * handshake span's `client.address`: `true` is one proxy (the header's rightmost entry, the one
   * that proxy appended), a number is that many proxies (the entry that many hops away, counting
   * the TCP peer as hop 0, as Express's `trust proxy` with a number; the leftmost entry when the
   * header has fewer). The entries left of them are whatever the client sent and are never used.
   * Default false (0): the TCP peer's address.
   */
  trustProxy?: boolean | number;
  /** Heap cost of one idle `ws` connection, the base of `websocket.server.connection.memory`. Default 2 700 bytes (bare ws 8.23 on Node 20 measured about 2 660, see docs/benchmarks.md). */
  connectionBaseBytes?: number;
  /** Report `nodejs.eventloop.delay.*` (one libuv histogram per Meter, while a server that wants it is instrumented). Default true. */
  eventLoopDelay?: boolean;
}

/** What the instrumentation keeps about one open connection, for the application. */
export interface ConnectionInfo {
  user: string | undefined;
  tenant: string | undefined;
  /** Milliseconds since the connection opened. */
  ageMs: number;
}

/** Internal sizes, exposed so leak tests can assert nothing grows. */
export interface InstrumentationStats {
  /** Open connections the instrumentation counts (per-socket states created minus closed). */
  connections: number;
  /** Of the server's `clients`, how many have per-socket state (equals `connections` with clientTracking). */
  trackedClients: number;
  /** Upgrade requests in flight (authenticating or upgrading). */
  pendingHandshakes: number;
  /** Live timers the instrumentation owns for this server (heartbeat interval, timing sampler check). */
  timers: number;
  /** Listeners the instrumentation added to the server (and its HTTP server). */
  serverListeners: number;
  rooms: number;
  subscriptions: number;
  /** True while this server's values are part of its Meter's report: bound to a Meter, not shut down, server not closed. */
  reporting: boolean;
}

export interface WebSocketServerInstrumentation {
  readonly rooms: Rooms;
  /** The built-in heartbeat, when `heartbeat` was configured (`tick()` starts one round now; over more than 256 sockets it continues in slices). */
  readonly heartbeat: Heartbeat | undefined;
  /** Sends with a known message type (counted under it); `binary` as in `rooms.broadcast()`. */
  send(socket: WebSocket, data: BroadcastData, type: string, options?: { binary?: boolean }): void;
  /** Counts an error the application detected (e.g. `validation_error`). */
  recordMessageError(type: MessageErrorType): void;
  /** What authentication said about this socket's user and tenant. */
  connectionInfo(socket: WebSocket): ConnectionInfo | undefined;
  stats(): InstrumentationStats;
  /**
   * Removes every listener, timer and patch, and releases this server's part
   * of the report (its counters keep their last values, its connections and
   * subscriptions drop out of the gauges); sockets stay open. Idempotent.
   */
  shutdown(): void;
}
