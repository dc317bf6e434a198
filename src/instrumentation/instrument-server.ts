/**
 * `instrumentWebSocketServer(wss, options)`: metrics, spans, heartbeat, auth
 * and rooms for one `ws` 8 server (standalone, attached to an HTTP server, or
 * `noServer` with `handleUpgrade`).
 *
 * How it hooks in, without a listener or closure per connection:
 * - `wss.handleUpgrade` gets an instance-level wrapper (ws calls it through
 *   `this` for attached servers; noServer apps call it themselves): handshake
 *   span, authentication, rejections.
 * - `wss.options.WebSocket`, the class ws instantiates per connection, is
 *   replaced by a subclass whose `emit` and `send` count messages, time the
 *   application's listeners, measure pongs and see the close.
 * Per-socket state is one small object in a symbol slot of that subclass
 * (it dies with the socket, like a WeakMap entry, without the table); counters are number
 * cells reported by the Meter's batch observable callback, summed with every
 * other server's on the same Meter (see instruments.ts).
 */
import {
  type Attributes,
  type Context,
  type Link,
  ROOT_CONTEXT,
  type Span,
  type SpanContext,
  SpanKind,
  SpanStatusCode,
  type Tracer,
  context as otelContext,
  createNoopMeter,
  diag,
  type Meter,
  metrics,
  trace,
} from '@opentelemetry/api';
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { Duplex } from 'node:stream';
import type { RawData, WebSocket, WebSocketServer } from 'ws';
import { AUTH_CLOSE_CODE, AUTH_HTTP_STATUS, authFailureReason, checkDecision, refuseUpgrade } from './auth.ts';
import { closeCodeClass, closeErrorType } from './close-codes.ts';
import { ConnectionState } from './connection-state.ts';
import { clientAddress, trustedHops } from './forwarded.ts';
import { checkHeartbeatInterval, DEFAULT_HEARTBEAT_INTERVAL_MS, Heartbeat } from './heartbeat.ts';
import { ServerInstruments } from './instruments.ts';
import { messageTypes } from './message-classifier.ts';
import { type BroadcastData, Rooms, type SendData, sendable } from './rooms.ts';
import { SCOPE_NAME, SCOPE_VERSION } from './scope.ts';
import {
  ATTR_AUTH_FAILURE_REASON,
  ATTR_AUTH_OUTCOME,
  ATTR_CLIENT_ADDRESS,
  ATTR_ERROR_TYPE,
  ATTR_FRAME_TYPE,
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_MESSAGE_TYPE,
  ATTR_MESSAGING_MESSAGE_BODY_SIZE,
  ATTR_MESSAGING_OPERATION_NAME,
  ATTR_MESSAGING_OPERATION_TYPE,
  ATTR_MESSAGING_SYSTEM,
  ATTR_NETWORK_PEER_ADDRESS,
  ATTR_NETWORK_PEER_PORT,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
  ATTR_URL_PATH,
  ATTR_URL_SCHEME,
  ATTR_USER_AGENT_ORIGINAL,
  type AuthFailureReason,
  type MessageErrorType,
  MESSAGING_SYSTEM,
  type RejectionType,
} from './semconv.ts';
import { TimingSampler } from './timing-sampler.ts';
import { TokenBucket } from './token-bucket.ts';
import { contextFromRequest, contextFromTraceparent, sampledParent } from './trace-context.ts';
import type { AuthDecision, ConnectionInfo, InstrumentWebSocketServerOptions, MessageEnvelope, WebSocketServerInstrumentation } from './types.ts';

const OPEN = 1;
const EMPTY: Attributes = Object.freeze({});
const INSTRUMENTED = Symbol.for('socketscope.instrumented');
/** A valid Sec-WebSocket-Key, as ws checks it. */
const WS_KEY = /^[+/0-9A-Za-z]{22}==$/;

type StateSlot = Record<symbol, ConnectionState | undefined>;
/** Default base cost of one idle ws connection on the heap (bench/instrumentation.ts measures it). */
const DEFAULT_CONNECTION_BASE_BYTES = 2700;
const DEFAULT_MAX_LATENCY_SECONDS = 300;
const DEFAULT_TIMING_PER_SECOND = 100;
/**
 * Default budget of message spans a second started because the client's traceparent said
 * sampled (tracing.maxClientSampledMessageSpansPerSecond). The same 100 a second as the timing
 * sampler: above what honest clients' own sampling asks of one server (they sample a fraction
 * of user actions, each a few messages), while a client that flags every message sampled gets
 * at most 100 spans a second out of the app. A message span costs about 6 µs to start, end and
 * serialize as OTLP JSON (~800 bytes; OTel JS 2.x SDK measured on one core), so 100 a second
 * is under 0.1% of a core and ~80 kB/s to the backend, where a 10 000 msg/s flood would be
 * 6% and ~8 MB/s.
 */
const DEFAULT_CLIENT_SAMPLED_SPANS_PER_SECOND = 100;
const DEFAULT_AUTH_TIMEOUT_MS = 10_000;
/** setTimeout's largest delay. */
const MAX_TIMER_MS = 2 ** 31 - 1;
/** How often the timing sampler's countdown is checked (see TimingSampler.overdue). */
const SAMPLER_CHECK_MS = 1000;

let warnedNoMeterProvider = false;

/**
 * The Meter the options name, or the global provider's; undefined while the
 * global one is the API's no-op (the SDK not started yet: the metrics API,
 * unlike the trace API, has no proxy provider that would catch up later).
 */
function resolveMeter(options: InstrumentWebSocketServerOptions): Meter | undefined {
  if (options.meter) return options.meter;
  if (options.meterProvider) return options.meterProvider.getMeter(SCOPE_NAME, SCOPE_VERSION);
  const meter = metrics.getMeter(SCOPE_NAME, SCOPE_VERSION);
  return meter === createNoopMeter() ? undefined : meter;
}

type UpgradeCallback = (socket: WebSocket, request: IncomingMessage) => void;
type HandleUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer, callback: UpgradeCallback) => void;
type SocketClass = new (...args: never[]) => WebSocket;
type Emit = (this: WebSocket, event: string | symbol, ...args: unknown[]) => boolean;
type Send = (this: WebSocket, data: unknown, options?: unknown, callback?: unknown) => void;

interface ServerInternals {
  options: { WebSocket: SocketClass };
  [INSTRUMENTED]?: boolean;
}

/** ws keeps the net.Socket on `_socket` (also after close) and the receiver's buffer on `_receiver`. */
interface SocketInternals {
  _socket?: { bytesRead?: number; bytesWritten?: number; writableLength?: number } | null;
  _receiver?: { _bufferedBytes?: number };
}

/**
 * Bytes a socket has transmitted, as reported: what Node handed to the kernel, never less than
 * the last report. net.Socket's `bytesWritten` also counts what still waits in the socket's
 * write buffer (a slow client's backlog), and drops to what was dispatched to libuv once the
 * socket is destroyed and that backlog discarded: alone it would make the counter go down.
 * `bytesWritten - writableLength` leaves out the buffer and the write in progress while the
 * socket is open. After a destroy it is everything dispatched, and Node dispatches a stalled
 * client's whole backlog as one write as soon as the previous one completes: so a socket that
 * ended abnormally (1006: no close handshake, destroyed) is not read again at its close
 * (onClose), and the heartbeat reads it just before terminating it.
 */
function transmittedBytes(socket: WebSocket, state: ConnectionState): number {
  const raw = (socket as unknown as SocketInternals)._socket;
  const handed = (raw?.bytesWritten ?? 0) - (raw?.writableLength ?? 0);
  if (handed > state.transmitted) state.transmitted = handed;
  return state.transmitted;
}

/** instrumentWebSocketServer on a server that already has a handle (the registered instrumentation leaves such a server alone, quietly). */
export class AlreadyInstrumentedError extends Error {
  constructor() {
    super('instrumentWebSocketServer: this server is already instrumented');
    this.name = 'AlreadyInstrumentedError';
  }
}

export function instrumentWebSocketServer(wss: WebSocketServer, options: InstrumentWebSocketServerOptions = {}): WebSocketServerInstrumentation {
  const server = wss as unknown as Omit<WebSocketServer, 'options'> & ServerInternals;
  if (typeof server.handleUpgrade !== 'function' || !server.options || typeof server.options.WebSocket !== 'function') {
    // options.WebSocket (the class the server builds its sockets from, which we subclass) came in ws 8.5.0.
    throw new TypeError('instrumentWebSocketServer: expected a WebSocketServer of ws >= 8.5 (one with the WebSocket option)');
  }
  if (server[INSTRUMENTED]) throw new AlreadyInstrumentedError();
  if (options.heartbeat && !server.clients) throw new Error('instrumentWebSocketServer: the heartbeat needs clientTracking: true');
  const maxLatency = options.maxLatencySeconds ?? DEFAULT_MAX_LATENCY_SECONDS;
  if (!(maxLatency > 0)) throw new RangeError('maxLatencySeconds must be > 0');
  const sampleRatio = options.tracing?.messageSampleRatio ?? 0;
  if (!(sampleRatio >= 0 && sampleRatio <= 1)) throw new RangeError('tracing.messageSampleRatio must be within 0..1');
  const clientSampledPerSecond: unknown = options.tracing?.maxClientSampledMessageSpansPerSecond ?? DEFAULT_CLIENT_SAMPLED_SPANS_PER_SECOND;
  if (typeof clientSampledPerSecond !== 'number') {
    throw new TypeError(`tracing.maxClientSampledMessageSpansPerSecond must be a number, got ${typeof clientSampledPerSecond}`);
  }
  if (!(clientSampledPerSecond >= 0)) {
    throw new RangeError(`tracing.maxClientSampledMessageSpansPerSecond must be a finite number >= 0 or Infinity, got ${clientSampledPerSecond}`);
  }

  // Every option is checked before anything is patched or registered: a throw leaves the server as it was.
  const heartbeatInterval = options.heartbeat ? (options.heartbeat.intervalMs ?? DEFAULT_HEARTBEAT_INTERVAL_MS) : undefined;
  if (heartbeatInterval !== undefined) checkHeartbeatInterval(heartbeatInterval);
  const authTimeoutMs = options.authTimeoutMs ?? DEFAULT_AUTH_TIMEOUT_MS;
  if (!(authTimeoutMs > 0 && authTimeoutMs <= MAX_TIMER_MS)) throw new RangeError(`authTimeoutMs must be within 1..${MAX_TIMER_MS}, got ${authTimeoutMs}`);
  const proxyHops = trustedHops(options.trustProxy);

  const tracer: Tracer = options.tracer ?? (options.tracerProvider ?? trace.getTracerProvider()).getTracer(SCOPE_NAME, SCOPE_VERSION);
  const traceHandshakes = options.tracing?.handshake ?? true;
  const traceMessages = options.tracing?.messages ?? false;
  const rejectWith = options.rejectWith ?? 'http';
  const baseBytes = options.connectionBaseBytes ?? DEFAULT_CONNECTION_BASE_BYTES;
  const types = messageTypes(options.messageTypes);
  const classify = options.classify;
  const readEnvelope = options.envelope;
  const authenticate = options.authenticate;

  const sampler = new TimingSampler(options.messageTimingPerSecond ?? DEFAULT_TIMING_PER_SECOND);
  /** Message spans this server may still start as children of a client-sampled traceparent (see messageSpan). */
  const clientSampledBudget = new TokenBucket(clientSampledPerSecond);
  // Per-socket state lives in one slot on our own socket subclass (see below): a property load
  // on the hot path instead of a WeakMap lookup, and no table entry per connection. The slot's
  // key is this call's own: after shutdown() the server can be instrumented again while sockets
  // of this instrumentation are still open, and the next one must not see (ping, count, put in
  // its rooms) their state, which this one's emit still owns.
  const STATE = Symbol('socketscope.connection');
  const states = {
    get: (socket: WebSocket): ConnectionState | undefined => (socket as unknown as StateSlot)[STATE],
    has: (socket: WebSocket): boolean => (socket as unknown as StateSlot)[STATE] !== undefined,
    set: (socket: WebSocket, state: ConnectionState): void => {
      (socket as unknown as StateSlot)[STATE] = state;
    },
    delete: (socket: WebSocket): void => {
      if (STATE in socket) (socket as unknown as StateSlot)[STATE] = undefined;
    },
  };
  let active = true;
  /** The server emitted 'close': it takes no more upgrades; its part of the report is released once its connections are gone. */
  let serverClosed = false;
  let pendingHandshakes = 0;
  /** Message type of the send in progress (set by the typed send helpers, reset after). */
  let sendType = types.other;

  const clients = (): Iterable<WebSocket> => server.clients ?? [];
  /** Sends one message counted under the message type `typeIndex` (binary undefined: ws decides by the data's type). */
  const sendTyped = (socket: WebSocket, data: SendData, typeIndex: number, binary: boolean | undefined): void => {
    sendType = typeIndex;
    try {
      if (binary === undefined) socket.send(data);
      else socket.send(data, { binary });
    } finally {
      sendType = types.other;
    }
  };

  // Before anything is registered: it validates options.channels.
  const rooms = new Rooms(
    {
      stateOf: (socket) => states.get(socket),
      typeIndex: (type) => types.indexOf(type),
      sendTyped,
      broadcastDone(seconds, recipients, channelAttrs) {
        if (!active) return;
        instruments.broadcastDuration.record(seconds, channelAttrs);
        instruments.broadcastRecipients.record(recipients, channelAttrs);
      },
    },
    options.channels,
  );

  const instruments = new ServerInstruments(types, options.eventLoopDelay !== false, {
    liveBytes() {
      let received = 0;
      let transmitted = 0;
      for (const socket of clients()) {
        const state = states.get(socket);
        if (state === undefined) continue;
        received += (socket as unknown as SocketInternals)._socket?.bytesRead ?? 0;
        transmitted += transmittedBytes(socket, state);
      }
      return [received, transmitted];
    },
    subscriptions: (observe) => rooms.observe(observe),
    rooms: () => rooms.roomCount,
    memory() {
      if (!server.clients) return undefined;
      let connections = 0;
      let buffered = 0;
      for (const socket of server.clients) {
        if (!states.has(socket)) continue;
        connections++;
        buffered += socket.bufferedAmount + ((socket as unknown as SocketInternals)._receiver?._bufferedBytes ?? 0);
      }
      return { connections, bytes: connections * baseBytes + buffered };
    },
  });

  /** Binds the instruments to their Meter once there is one; false while the global provider is still the no-op. */
  function bindMeter(): boolean {
    if (instruments.bound) return true;
    const meter = resolveMeter(options);
    if (meter === undefined) return false;
    instruments.bind(meter);
    return true;
  }
  if (!bindMeter() && !warnedNoMeterProvider) {
    warnedNoMeterProvider = true;
    diag.warn(
      'socketscope: instrumentWebSocketServer() was called before a global MeterProvider was registered, so there is nowhere to report metrics yet. ' +
        'The server counts anyway and binds to the global provider at the first upgrade request after one is registered. ' +
        'Start the OpenTelemetry SDK before instrumenting servers, or pass { meterProvider } (docs/server-sdk.md, start-up order).',
    );
  }

  // --- per-connection lifecycle -------------------------------------------------

  function onOpen(socket: WebSocket, decision: AuthDecision | undefined, handshake: Span | undefined): void {
    const user = decision?.ok ? decision.user : undefined;
    const tenant = decision?.ok ? decision.tenant : undefined;
    const link = traceMessages && handshake ? handshake.spanContext() : undefined;
    const identity = user !== undefined || tenant !== undefined || link !== undefined ? { user, tenant, handshake: link } : undefined;
    states.set(socket, new ConnectionState(performance.now(), identity));
    instruments.opened++;
    instruments.active++;
  }

  function onClose(socket: WebSocket, state: ConnectionState, code: number): void {
    states.delete(socket);
    instruments.active--;
    const closeClass = closeCodeClass(code);
    const errorType = state.closeError ?? (code === 1006 ? 'abnormal_closure' : undefined);
    instruments.countClosed(closeClass, errorType);
    instruments.connectionDuration.record((performance.now() - state.openedAt) / 1000, instruments.closeClassAttrs[closeClass]);
    if (rooms.used) instruments.connectionSubscriptions.record(state.peakSubscriptions, EMPTY);
    rooms.leaveAll(socket, state);
    instruments.closedBytes[0]! += (socket as unknown as SocketInternals)._socket?.bytesRead ?? 0;
    // At least what was reported while it was open, so the total never goes down. After a clean close
    // (the peer answered our close frame, sent after the data) everything dispatched reached it; after an
    // abnormal one the destroyed socket would count a backlog that never left: the last reading stands.
    instruments.closedBytes[1]! += code === 1006 ? state.transmitted : transmittedBytes(socket, state);
    // The last connection of a closed server (one without clientTracking closes before them).
    if (serverClosed && instruments.active === 0) instruments.release();
  }

  function recordLatency(sentAt: unknown, typeIndex: number, timed: boolean): void {
    if (typeof sentAt !== 'number' || !Number.isFinite(sentAt) || sentAt <= 0) {
      instruments.countLatencyAnomaly('invalid_timestamp');
      return;
    }
    let seconds = (Date.now() - sentAt) / 1000;
    if (seconds < 0) {
      // Client clock ahead of ours: the true latency is small but unknown.
      instruments.countLatencyAnomaly('negative_clamped');
      seconds = 0;
    } else if (seconds > maxLatency) {
      instruments.countLatencyAnomaly('too_large');
      return;
    }
    if (timed) instruments.messageLatencies.add(seconds, typeIndex);
  }

  /**
   * The message's span, if it gets one. A sampled client traceparent makes it a child of the
   * client's span while the client-sampled budget lasts; after that (and without trace context,
   * or with an unsampled one) messageSampleRatio decides, and a refused client-sampled message
   * gets a root span linked to the client's span: the client cannot put more than the budget of
   * server spans into traces it chose. No traceparent: nothing is allocated before the ratio.
   */
  function messageSpan(state: ConnectionState, envelope: MessageEnvelope | undefined, typeIndex: number, isBinary: boolean, size: number): Span | undefined {
    let parent: Context = ROOT_CONTEXT;
    let refused: SpanContext | undefined;
    if (envelope?.traceparent) {
      const remote = contextFromTraceparent(envelope.traceparent, envelope.tracestate);
      const sampled = sampledParent(remote);
      if (sampled === undefined) parent = remote;
      else if (clientSampledBudget.take()) return startMessageSpan(state, remote, undefined, typeIndex, isBinary, size);
      else {
        instruments.traceContextRefused++;
        refused = sampled;
      }
    }
    if (!(sampleRatio > 0 && Math.random() < sampleRatio)) return undefined;
    return startMessageSpan(state, parent, refused, typeIndex, isBinary, size);
  }

  /** A `process <type>` span under `parent`, linked to the handshake and, when given, to the client span it was refused as a child of. */
  function startMessageSpan(
    state: ConnectionState,
    parent: Context,
    refused: SpanContext | undefined,
    typeIndex: number,
    isBinary: boolean,
    size: number,
  ): Span {
    const handshake = state.identity?.handshake;
    const links: Link[] = handshake ? [{ context: handshake }] : [];
    if (refused !== undefined) links.push({ context: refused });
    const typeName = types.names[typeIndex]!;
    return tracer.startSpan(
      `process ${typeName}`,
      {
        kind: SpanKind.CONSUMER,
        links,
        attributes: {
          [ATTR_MESSAGING_SYSTEM]: MESSAGING_SYSTEM,
          [ATTR_MESSAGING_OPERATION_TYPE]: 'process',
          [ATTR_MESSAGING_OPERATION_NAME]: 'process',
          [ATTR_MESSAGE_TYPE]: typeName,
          [ATTR_FRAME_TYPE]: isBinary ? 'binary' : 'text',
          [ATTR_MESSAGING_MESSAGE_BODY_SIZE]: size,
        },
      },
      parent,
    );
  }

  // --- the socket subclass: emit and send ---------------------------------------------

  const Base = server.options.WebSocket;
  const baseEmit = Base.prototype.emit as Emit;
  const baseSend = Base.prototype.send as Send;

  const typeCount = types.names.length;
  const received = instruments.received;
  /** No envelope, classifier or message spans: a message needs nothing but its count, unless it is timed. */
  const countOnly = readEnvelope === undefined && classify === undefined && !traceMessages;
  const textOther = instruments.messageCell(false, types.other);
  const binaryOther = instruments.messageCell(true, types.other);
  /** Messages until the next timed one (see TimingSampler); reset by recordProcessing. */
  let countdown = 1;

  function onMessage(socket: WebSocket, state: ConnectionState, data: RawData, isBinary: boolean): boolean {
    let typeIndex = types.other;
    let envelope: MessageEnvelope | undefined;
    if (readEnvelope !== undefined) {
      try {
        envelope = readEnvelope(data, isBinary);
        typeIndex = types.indexOf(envelope?.type);
      } catch {
        instruments.countMessageError('parse_error');
      }
    } else if (classify !== undefined) {
      try {
        typeIndex = types.indexOf(classify(data, isBinary));
      } catch {
        instruments.countMessageError('parse_error');
      }
    }
    received[isBinary ? typeCount + typeIndex : typeIndex]! += 1;
    // Count-only messages get here only when the countdown has run out (instrumentedEmit).
    const timed = countOnly || --countdown === 0;
    if (envelope !== undefined && envelope.sentAt !== undefined) recordLatency(envelope.sentAt, typeIndex, timed);
    if (traceMessages) return tracedMessage(socket, state, data, isBinary, envelope, typeIndex, timed);
    if (!timed) return emitMessage(socket, data, isBinary);
    const start = performance.now();
    try {
      return emitMessage(socket, data, isBinary);
    } finally {
      recordProcessing(start, typeIndex);
    }
  }

  /** The application's listeners, with what they throw counted. */
  function emitMessage(socket: WebSocket, data: RawData, isBinary: boolean): boolean {
    try {
      return baseEmit.call(socket, 'message', data, isBinary);
    } catch (error) {
      instruments.countMessageError('processing_error');
      throw error;
    }
  }

  function recordProcessing(start: number, typeIndex: number): void {
    const end = performance.now();
    instruments.processDurations.add((end - start) / 1000, typeIndex);
    countdown = sampler.next(end);
  }

  function tracedMessage(
    socket: WebSocket,
    state: ConnectionState,
    data: RawData,
    isBinary: boolean,
    envelope: MessageEnvelope | undefined,
    typeIndex: number,
    timed: boolean,
  ): boolean {
    const span = messageSpan(state, envelope, typeIndex, isBinary, rawSize(data));
    const start = timed ? performance.now() : 0;
    try {
      return span
        ? otelContext.with(trace.setSpan(otelContext.active(), span), baseEmit, socket, 'message', data, isBinary)
        : baseEmit.call(socket, 'message', data, isBinary);
    } catch (error) {
      instruments.countMessageError('processing_error');
      if (span) {
        span.recordException(error as Error);
        span.setStatus({ code: SpanStatusCode.ERROR });
        span.setAttribute(ATTR_ERROR_TYPE, 'processing_error');
      }
      throw error;
    } finally {
      if (timed) recordProcessing(start, typeIndex);
      span?.end();
    }
  }

  function instrumentedEmit(this: WebSocket, event: string | symbol, first?: unknown, second?: unknown): boolean {
    const state = states.get(this);
    if (state !== undefined && !active) {
      // After shutdown() nothing is counted, but a socket still leaves its rooms when it closes.
      if (event === 'close') {
        try {
          // eslint-disable-next-line prefer-rest-params -- as below
          return baseEmit.apply(this, arguments as unknown as [string | symbol, ...unknown[]]);
        } finally {
          states.delete(this);
          rooms.leaveAll(this, state);
        }
      }
    } else if (state !== undefined) {
      if (event === 'message') {
        // The hot path, kept this small on purpose: on a busy server every extra step here
        // costs several times its hot-loop weight in cache misses (docs/benchmarks.md).
        if (countOnly && --countdown !== 0) {
          received[second ? binaryOther : textOther]! += 1;
          return emitMessage(this, first as RawData, second as boolean);
        }
        return onMessage(this, state, first as RawData, second as boolean);
      }
      if (event === 'pong') {
        if (state.pingSentAt !== 0) {
          instruments.pingDuration.record((performance.now() - state.pingSentAt) / 1000, EMPTY);
          state.pingSentAt = 0;
        }
      } else if (event === 'close') {
        // The application's close listeners run first: they may still ask for the socket's
        // connection info and channels ("user X left room Y").
        try {
          // eslint-disable-next-line prefer-rest-params -- as below
          return baseEmit.apply(this, arguments as unknown as [string | symbol, ...unknown[]]);
        } finally {
          onClose(this, state, first as number);
        }
      } else if (event === 'error') {
        state.closeError ??= closeErrorType(first);
      }
    }
    // eslint-disable-next-line prefer-rest-params -- forward exactly what ws emitted, without an array per call
    return baseEmit.apply(this, arguments as unknown as [string | symbol, ...unknown[]]);
  }

  function instrumentedSend(this: WebSocket, data: unknown, sendOptions?: unknown): void {
    if (active && states.has(this)) {
      if (this.readyState !== OPEN) {
        instruments.countMessageError('send_error');
      } else {
        const binary = (sendOptions as { binary?: boolean } | undefined)?.binary ?? typeof data !== 'string';
        instruments.sent[instruments.messageCell(binary, sendType)]! += 1;
      }
    }
    // eslint-disable-next-line prefer-rest-params -- keep ws's own argument handling (options or callback)
    return baseSend.apply(this, arguments as unknown as [unknown]);
  }

  const Instrumented = class extends (Base as unknown as new (...args: unknown[]) => object) {
    // Declared in the constructor so every socket has the slot from birth (one hidden class).
    [STATE]: ConnectionState | undefined = undefined;
  };
  Object.defineProperty(Instrumented, 'name', { value: Base.name });
  Object.defineProperty(Instrumented.prototype, 'emit', { value: instrumentedEmit, writable: true, configurable: true });
  Object.defineProperty(Instrumented.prototype, 'send', { value: instrumentedSend, writable: true, configurable: true });
  server.options.WebSocket = Instrumented as unknown as SocketClass;

  // --- the handshake ------------------------------------------------------------------

  const originalHandleUpgrade = server.handleUpgrade as unknown as HandleUpgrade;
  /** The server's own handleUpgrade before ours (an application's wrapper, say): shutdown() puts it back. */
  const ownHandleUpgrade = Object.getOwnPropertyDescriptor(server, 'handleUpgrade');

  /**
   * The handshake's span and the context the application's code runs in during the handshake
   * (authenticate(), the connection callback); tracing trouble (a propagator that throws on a
   * client's header) never fails the upgrade.
   */
  function handshakeSpan(request: IncomingMessage): { span: Span; context: Context } | undefined {
    if (!traceHandshakes) return undefined;
    try {
      const parent = contextFromRequest(request);
      const span = startHandshakeSpan(request, parent);
      return { span, context: trace.setSpan(parent, span) };
    } catch (error) {
      diag.error('socketscope: could not start the handshake span', error);
      return undefined;
    }
  }

  function startHandshakeSpan(request: IncomingMessage, parent: Context): Span {
    const raw = request.socket;
    const peer = raw.remoteAddress;
    const attributes: Attributes = {
      [ATTR_HTTP_REQUEST_METHOD]: request.method ?? 'GET',
      [ATTR_URL_PATH]: pathOf(request.url),
      [ATTR_URL_SCHEME]: (raw as Partial<TLSSocket>).encrypted ? 'https' : 'http',
      [ATTR_SERVER_PORT]: raw.localPort,
      [ATTR_NETWORK_PEER_ADDRESS]: peer,
      [ATTR_NETWORK_PEER_PORT]: raw.remotePort,
      [ATTR_CLIENT_ADDRESS]: clientAddress(peer, request.headers['x-forwarded-for'], proxyHops),
    };
    const host = request.headers.host;
    if (host) attributes[ATTR_SERVER_ADDRESS] = host.replace(/:\d+$/, '');
    const agent = request.headers['user-agent'];
    if (agent) attributes[ATTR_USER_AGENT_ORIGINAL] = agent;
    return tracer.startSpan('websocket.handshake', { kind: SpanKind.SERVER, attributes }, parent);
  }

  /**
   * ws's own first checks of an upgrade request (ws 8 handleUpgrade: method, Upgrade header,
   * key, version, then shouldHandle). A request failing them is ws's to refuse (400/405), so it
   * must not reach authenticate() and count as an authentication attempt answered 401.
   */
  function wsWouldHandle(request: IncomingMessage): boolean {
    if (request.method !== 'GET') return false;
    if (request.headers.upgrade?.toLowerCase() !== 'websocket') return false;
    const key = request.headers['sec-websocket-key'];
    if (key === undefined || !WS_KEY.test(key)) return false;
    const version = Number(request.headers['sec-websocket-version']);
    if (version !== 13 && version !== 8) return false;
    return Boolean(server.shouldHandle(request));
  }

  const handleUpgrade: HandleUpgrade = function (this: unknown, request, socket, head, callback) {
    if (!active || serverClosed) return originalHandleUpgrade.call(server, request, socket, head, callback);
    // Before anything is counted: an application's shouldHandle() that throws leaves nothing pending.
    const authenticating = authenticate !== undefined && wsWouldHandle(request);
    if (!instruments.bound) bindMeter();
    const start = performance.now();
    pendingHandshakes++;
    const traced = handshakeSpan(request);
    const span = traced?.span;
    let settled = false;

    // Set only once authenticate() runs, but read by settle() and upgrade() on every path.
    // eslint-disable-next-line prefer-const
    let authTimer: NodeJS.Timeout | undefined;

    const settle = (rejection: RejectionType | undefined, status: number, failure?: AuthFailureReason): void => {
      settled = true;
      pendingHandshakes--;
      clearTimeout(authTimer);
      socket.removeListener('close', onEarlyClose);
      // After shutdown() (an async authenticate() that was still deciding) nothing is recorded; the span still ends.
      if (active) {
        instruments.handshakeDuration.record((performance.now() - start) / 1000, rejection ? instruments.rejectionAttrs[rejection] : EMPTY);
        if (rejection) instruments.countRejected(rejection);
      }
      if (span) {
        if (status !== 0) span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, status);
        if (failure) span.setAttribute(ATTR_AUTH_FAILURE_REASON, failure);
        if (rejection) span.setAttribute(ATTR_ERROR_TYPE, rejection);
        // As HTTP server spans: a refusal the client caused (401, 403, 429, a client that left) leaves the status unset.
        if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR, message: failure ?? rejection });
        span.end();
      }
    };
    // The client left, or ws refused the upgrade (bad headers, verifyClient, server closing).
    const onEarlyClose = (): void => {
      if (!settled) settle('handshake_failed', 0);
    };
    // Already closed (the client left while a noServer app awaited something of its own before
    // calling handleUpgrade): its 'close' has been emitted, so no listener would settle it. ws destroys it.
    if (socket.destroyed || !socket.readable || !socket.writable) {
      settle('handshake_failed', 0);
      return originalHandleUpgrade.call(server, request, socket, head, callback);
    }
    socket.once('close', onEarlyClose);
    // Node takes its own 'error' listener off the socket before 'upgrade', and ws adds one only
    // in handleUpgrade: while authenticate() runs, a client's reset would be an uncaught 'error'.
    // The close that follows settles the handshake. It stays on a refused socket (which is closing anyway).
    const onSocketError = (): void => {};

    /**
     * Hands the request to ws, never inside authenticate()'s try or promise: what ws and the
     * application's code throw here (verifyClient, handleProtocols, 'headers' listeners, the
     * connection callback) is theirs, not an authenticator error, and it is thrown on as it would
     * be without us: from handleUpgrade() when this runs inside it (`inCall`), else on the next
     * tick, an uncaught exception rather than an unhandled rejection.
     */
    const upgrade = (decision: AuthDecision | undefined, inCall: boolean): void => {
      clearTimeout(authTimer);
      socket.removeListener('error', onSocketError);
      let answered = false;
      try {
        originalHandleUpgrade.call(server, request, socket, head, (ws, req) => {
          // ws wrote the 101 just before calling back.
          answered = true;
          if (decision && !decision.ok) {
            const reason = authFailureReason(decision.reason);
            if (!settled) settle('authentication_failed', 101, reason);
            ws.close(AUTH_CLOSE_CODE[reason], reason);
            return;
          }
          // After shutdown() ws builds the socket from the restored class: the application gets it, untracked.
          const tracked = active && !settled && ws instanceof Instrumented;
          if (!settled) settle(undefined, 101);
          if (tracked) onOpen(ws, decision, span);
          if (traced) otelContext.with(traced.context, callback, undefined, ws, req);
          else callback(ws, req);
        });
      } catch (error) {
        if (!answered) {
          // ws threw before the 101: nobody else answers or closes this socket. The server's own code failed.
          if (!settled) {
            span?.recordException(error as Error);
            span?.setStatus({ code: SpanStatusCode.ERROR, message: 'handshake_failed' });
            settle('handshake_failed', 0);
          }
          socket.destroy();
        }
        if (inCall) throw error;
        process.nextTick(() => {
          throw error;
        });
      }
    };

    if (!authenticating) {
      upgrade(undefined, true);
      return;
    }
    instruments.authAttempts++;
    /** The decision to upgrade with, or undefined when the handshake is refused (or already settled). */
    const decide = (raw: unknown): AuthDecision | undefined => {
      if (settled) return undefined;
      let decision: AuthDecision;
      try {
        decision = checkDecision(raw);
      } catch (error) {
        fail(error);
        return undefined;
      }
      span?.setAttribute(ATTR_AUTH_OUTCOME, decision.ok ? 'success' : 'failure');
      if (decision.ok) return decision;
      const reason = authFailureReason(decision.reason);
      instruments.countAuthFailure(reason);
      if (rejectWith === 'close') return decision;
      const status = AUTH_HTTP_STATUS[reason];
      settle('authentication_failed', status, reason);
      refuseUpgrade(socket, status, decision.message ?? reason);
      return undefined;
    };
    const fail = (error: unknown, status = 500): void => {
      if (settled) return;
      diag.error('socketscope: authenticate() failed', error);
      span?.recordException(error as Error);
      settle('authenticator_error', status);
      refuseUpgrade(socket, status, 'authentication unavailable');
    };
    socket.on('error', onSocketError);
    authTimer = setTimeout(() => fail(new Error(`authenticate() did not decide within ${authTimeoutMs} ms`), 503), authTimeoutMs);
    let result: unknown;
    try {
      result = traced ? otelContext.with(traced.context, authenticate, undefined, request) : authenticate(request);
    } catch (error) {
      fail(error);
      return;
    }
    if (result && typeof (result as Promise<unknown>).then === 'function') {
      (result as Promise<unknown>).then((raw) => {
        const decision = decide(raw);
        if (decision) upgrade(decision, false);
      }, fail);
      return;
    }
    const decision = decide(result);
    if (decision) upgrade(decision, true);
  };
  Object.defineProperty(server, 'handleUpgrade', { value: handleUpgrade, writable: true, configurable: true });

  // --- heartbeat, shutdown, handle -----------------------------------------------------

  const heartbeat = options.heartbeat
    ? new Heartbeat(
        {
          clients,
          stateOf: (socket) => states.get(socket),
          pinged: () => instruments.pingsSent++,
          timedOut(socket) {
            const state = states.get(socket);
            if (state) {
              state.closeError = 'heartbeat_timeout';
              // What reached the kernel, read while the socket is still open (see transmittedBytes).
              transmittedBytes(socket, state);
            }
            instruments.pingTimeouts++;
            socket.terminate();
          },
        },
        heartbeatInterval,
      )
    : undefined;
  heartbeat?.start();

  // No timed message for a second with gaps left to count: the rate the gap was drawn for is gone (a burst ended).
  let samplerCheck: NodeJS.Timeout | undefined = Number.isFinite(sampler.perSecond)
    ? setInterval(() => {
        if (!instruments.bound) bindMeter();
        countdown = sampler.overdue(performance.now(), countdown);
      }, SAMPLER_CHECK_MS)
    : undefined;
  samplerCheck?.unref();
  const stopTimers = (): void => {
    heartbeat?.stop();
    if (samplerCheck !== undefined) clearInterval(samplerCheck);
    samplerCheck = undefined;
  };

  // A closed server needs no timers, and its part of the report goes once its connections are gone
  // (ws emits 'close' after the last one with clientTracking): its counters keep their last values.
  const onServerClose = (): void => {
    serverClosed = true;
    stopTimers();
    if (instruments.active === 0) instruments.release();
  };
  wss.once('close', onServerClose);
  server[INSTRUMENTED] = true;

  function shutdown(): void {
    if (!active) return;
    active = false;
    stopTimers();
    instruments.release();
    wss.removeListener('close', onServerClose);
    if (server.options.WebSocket === (Instrumented as unknown as SocketClass)) server.options.WebSocket = Base;
    // Ours only: a wrapper put over ours later stays (ours passes through from now on), and one ours wrapped comes back.
    if (Object.getOwnPropertyDescriptor(server, 'handleUpgrade')?.value === handleUpgrade) {
      if (ownHandleUpgrade) Object.defineProperty(server, 'handleUpgrade', ownHandleUpgrade);
      else delete (server as { handleUpgrade?: unknown }).handleUpgrade;
    }
    delete server[INSTRUMENTED];
  }

  return {
    rooms,
    heartbeat,
    send(socket: WebSocket, data: BroadcastData, type: string, sendOptions?: { binary?: boolean }): void {
      sendTyped(socket, sendable(data), types.indexOf(type), sendOptions?.binary);
    },
    recordMessageError(type: MessageErrorType): void {
      if (active) instruments.countMessageError(type);
    },
    connectionInfo(socket: WebSocket): ConnectionInfo | undefined {
      const state = states.get(socket);
      return state && { user: state.identity?.user, tenant: state.identity?.tenant, ageMs: performance.now() - state.openedAt };
    },
    stats() {
      let connections = 0;
      for (const socket of clients()) if (states.has(socket)) connections++;
      return {
        connections: instruments.active,
        trackedClients: connections,
        pendingHandshakes,
        timers: (heartbeat?.running ? 1 : 0) + (samplerCheck !== undefined ? 1 : 0),
        serverListeners: wss.listeners('close').includes(onServerClose) ? 1 : 0,
        rooms: rooms.roomCount,
        subscriptions: rooms.subscriptionCount,
        reporting: instruments.reporting,
      };
    },
    shutdown,
  };
}

function rawSize(data: RawData): number {
  if (Array.isArray(data)) return data.reduce((sum, chunk) => sum + chunk.length, 0);
  // binaryType 'blob' (ws >= 8.18) delivers binary messages as a Blob, which @types/ws's RawData leaves out.
  if ((data as unknown) instanceof Blob) return (data as unknown as Blob).size;
  return data.byteLength;
}

function pathOf(url: string | undefined): string {
  if (!url) return '/';
  const query = url.indexOf('?');
  // The query may carry tokens: never record it.
  return query === -1 ? url : url.slice(0, query);
}
