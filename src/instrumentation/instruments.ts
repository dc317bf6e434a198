/**
 * The instruments, created once per Meter from the catalogue, and the plain
 * number cells the hot path writes to. Counters on the per-message path are
 * asynchronous: the socket code only increments a cell, and one batch
 * callback reports every cell when the SDK collects. A synchronous `add()`
 * with attributes costs about 1.5 µs in the JS SDK (it hashes the attribute
 * set with JSON.stringify on every call); a cell increment costs nanoseconds.
 *
 * Several servers in one process (several noServer paths, graphql-ws next to
 * the app) share one Meter. The SDK keeps one value per attribute set of an
 * asynchronous instrument per collection, the last observed, so two callbacks
 * observing the same set would overwrite each other. Hence one set of
 * observable instruments and one batch callback per Meter (MeterInstruments),
 * which sums every live server's cells for each attribute set.
 */
import { type Attributes, type BatchObservableResult, type Histogram, type Meter, type Observable, createNoopMeter } from '@opentelemetry/api';
import { type ServerMetricName, instrumentOptions, serverMetric } from './catalogue.ts';
import { CLOSE_CODE_CLASSES, CLOSE_ERROR_TYPES, type CloseCodeClass, type CloseErrorType } from './close-codes.ts';
import {
  ATTR_AUTH_FAILURE_REASON,
  ATTR_CLOSE_CODE_CLASS,
  ATTR_ERROR_TYPE,
  ATTR_FRAME_TYPE,
  ATTR_MESSAGE_TYPE,
  ATTR_NETWORK_IO_DIRECTION,
  AUTH_FAILURE_REASONS,
  type AuthFailureReason,
  FRAME_TYPES,
  LATENCY_ANOMALIES,
  type LatencyAnomaly,
  MESSAGE_ERROR_TYPES,
  type MessageErrorType,
  OTHER,
  REJECTION_TYPES,
  type RejectionType,
} from './semconv.ts';
import { DeferredHistogram } from './deferred-histogram.ts';
import { EventLoopDelay } from './event-loop-delay.ts';
import type { MessageTypes } from './message-classifier.ts';

const EMPTY: Attributes = Object.freeze({});

/** One frozen attribute object per value, so every observation reuses it. */
function attributeSets<T extends string>(key: string, values: readonly T[]): Record<T, Attributes> {
  const sets = {} as Record<T, Attributes>;
  for (const value of values) sets[value] = Object.freeze({ [key]: value });
  return sets;
}

function indexOf<T extends string>(values: readonly T[]): Record<T, number> {
  const index = {} as Record<T, number>;
  values.forEach((value, i) => (index[value] = i));
  return index;
}

export const REJECTION_INDEX = indexOf(REJECTION_TYPES);
export const AUTH_REASON_INDEX = indexOf(AUTH_FAILURE_REASONS);
export const MESSAGE_ERROR_INDEX = indexOf(MESSAGE_ERROR_TYPES);
export const LATENCY_ANOMALY_INDEX = indexOf(LATENCY_ANOMALIES);
const CLOSE_CLASS_INDEX = indexOf(CLOSE_CODE_CLASSES);
const CLOSE_ERROR_INDEX = indexOf(CLOSE_ERROR_TYPES);

// Attribute objects built once for the process, shared by every server.
const CLOSE_CLASS_ATTRS = attributeSets(ATTR_CLOSE_CODE_CLASS, CLOSE_CODE_CLASSES);
const REJECTION_ATTRS = attributeSets(ATTR_ERROR_TYPE, REJECTION_TYPES);
const REJECTION_ATTR_LIST = REJECTION_TYPES.map((t) => REJECTION_ATTRS[t]);
const AUTH_REASON_ATTRS = attributeSets(ATTR_AUTH_FAILURE_REASON, AUTH_FAILURE_REASONS);
const AUTH_REASON_ATTR_LIST = AUTH_FAILURE_REASONS.map((r) => AUTH_REASON_ATTRS[r]);
const MESSAGE_ERROR_ATTR_LIST = MESSAGE_ERROR_TYPES.map((t) => Object.freeze({ [ATTR_ERROR_TYPE]: t }) as Attributes);
const LATENCY_ANOMALY_ATTR_LIST = LATENCY_ANOMALIES.map((t) => Object.freeze({ [ATTR_ERROR_TYPE]: t }) as Attributes);
const IO_ATTRS: readonly Attributes[] = [Object.freeze({ [ATTR_NETWORK_IO_DIRECTION]: 'receive' }), Object.freeze({ [ATTR_NETWORK_IO_DIRECTION]: 'transmit' })];
/** [close class][error type + 1], flattened like ServerInstruments.closed. */
const CLOSED_ATTRS: readonly Attributes[] = CLOSE_CODE_CLASSES.flatMap((closeClass) => [
  CLOSE_CLASS_ATTRS[closeClass],
  ...CLOSE_ERROR_TYPES.map((errorType) => Object.freeze({ [ATTR_CLOSE_CODE_CLASS]: closeClass, [ATTR_ERROR_TYPE]: errorType }) as Attributes),
]);

/** Sources a server's report reads besides its cells (live sockets, rooms). */
export interface ObservedState {
  /** Wire bytes of the sockets still open: [received, transmitted]. */
  liveBytes(): readonly [number, number];
  subscriptions(observe: (value: number, attributes: Attributes) => void): void;
  rooms(): number;
  /** Open connections and their estimated bytes (base cost plus buffers); undefined without clientTracking. */
  memory(): { connections: number; bytes: number } | undefined;
}

/** Takes one observation of one server; the Meter's callback sums them per attribute set. */
export type Observe = (observable: Observable, value: number, attributes: Attributes) => void;

interface Point {
  readonly attributes: Attributes;
  value: number;
}
type Sums = Map<Observable, Map<string, Point>>;

const KEYS = new WeakMap<Attributes, string>();
/** An attribute set's identity, computed once per (frozen, reused) attribute object. */
function keyOf(attributes: Attributes): string {
  let key = KEYS.get(attributes);
  if (key === undefined) {
    key = JSON.stringify(Object.entries(attributes).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    KEYS.set(attributes, key);
  }
  return key;
}

function add(sums: Sums, observable: Observable, value: number, attributes: Attributes): void {
  let points = sums.get(observable);
  if (points === undefined) {
    points = new Map();
    sums.set(observable, points);
  }
  const key = keyOf(attributes);
  const point = points.get(key);
  if (point === undefined) points.set(key, { attributes, value });
  else point.value += value;
}

const SHARED = new WeakMap<Meter, MeterInstruments>();

/**
 * The instruments of one Meter and the one batch callback that reports every
 * server instrumented with it. Synchronous instruments (histograms) are
 * additive by nature; the observable ones are summed here:
 * - a counter keeps counting what a server counted after that server is
 *   released (its last values are carried), so totals never go down;
 * - an up-down counter or gauge drops the released server's part, and an
 *   attribute set nobody reports any more (a server gone, a channel out of
 *   the top N) is reported as 0 once: the JS SDK re-exports the last value of
 *   an asynchronous series that is no longer observed (forever, with
 *   cumulative temporality), so without the 0 it would stay at its last value.
 */
export class MeterInstruments {
  /** The instruments of a Meter, created (and its callback registered) on first use. */
  static of(meter: Meter): MeterInstruments {
    let shared = SHARED.get(meter);
    if (shared === undefined) {
      shared = new MeterInstruments(meter);
      SHARED.set(meter, shared);
    }
    return shared;
  }

  readonly connectionDuration: Histogram;
  readonly connectionSubscriptions: Histogram;
  readonly handshakeDuration: Histogram;
  readonly pingDuration: Histogram;
  readonly broadcastDuration: Histogram;
  readonly broadcastRecipients: Histogram;
  readonly processDuration: Histogram;
  readonly messageLatency: Histogram;

  readonly count: Observable;
  readonly opened: Observable;
  readonly closed: Observable;
  readonly rejected: Observable;
  readonly attempts: Observable;
  readonly failures: Observable;
  readonly received: Observable;
  readonly sent: Observable;
  readonly io: Observable;
  readonly anomalies: Observable;
  readonly errors: Observable;
  readonly traceContextRefused: Observable;
  readonly pings: Observable;
  readonly timeouts: Observable;
  readonly subscriptions: Observable;
  readonly rooms: Observable;
  private readonly memory: Observable;
  private readonly delayP50: Observable;
  private readonly delayP99: Observable;
  private readonly delayMax: Observable;

  private readonly sources = new Set<ServerInstruments>();
  private readonly counters: ReadonlySet<Observable>;
  /** Observables whose attribute sets report 0 once when nobody reports them any more. */
  private readonly dropToZero: readonly Observable[];
  /** Counters: a released server's last values, carried so totals never go down. */
  private readonly carried: Sums = new Map();
  /** Attribute sets of the dropToZero observables reported at the last collection. */
  private readonly reported = new Map<Observable, Map<string, Attributes>>();
  /** One libuv delay histogram for the process, while a server that wants it is attached. */
  private eventLoop: EventLoopDelay | undefined;
  private eventLoopUsers = 0;

  private constructor(meter: Meter) {
    const histogram = (name: ServerMetricName): Histogram => {
      const def = serverMetric(name);
      return meter.createHistogram(def.name, instrumentOptions(def));
    };
    this.connectionDuration = histogram('websocket.server.connection.duration');
    this.connectionSubscriptions = histogram('websocket.server.connection.subscriptions');
    this.handshakeDuration = histogram('websocket.server.handshake.duration');
    this.pingDuration = histogram('websocket.server.ping.duration');
    this.broadcastDuration = histogram('websocket.server.broadcast.duration');
    this.broadcastRecipients = histogram('websocket.server.broadcast.recipients');
    this.processDuration = histogram('websocket.server.process.duration');
    this.messageLatency = histogram('websocket.server.message.latency');

    const observables: Observable[] = [];
    const counters = new Set<Observable>();
    const observable = (name: ServerMetricName): Observable => {
      const def = serverMetric(name);
      const options = { unit: def.unit, description: def.description };
      const created =
        def.instrument === 'counter'
          ? meter.createObservableCounter(def.name, options)
          : def.instrument === 'updowncounter'
            ? meter.createObservableUpDownCounter(def.name, options)
            : meter.createObservableGauge(def.name, options);
      observables.push(created);
      if (def.instrument === 'counter') counters.add(created);
      return created;
    };
    this.count = observable('websocket.server.connection.count');
    this.opened = observable('websocket.server.connection.opened');
    this.closed = observable('websocket.server.connection.closed');
    this.rejected = observable('websocket.server.connection.rejected');
    this.attempts = observable('websocket.server.auth.attempts');
    this.failures = observable('websocket.server.auth.failures');
    this.received = observable('websocket.server.received.messages');
    this.sent = observable('websocket.server.sent.messages');
    this.io = observable('websocket.server.io');
    this.anomalies = observable('websocket.server.message.latency_anomalies');
    this.errors = observable('websocket.server.message.errors');
    this.traceContextRefused = observable('websocket.server.message.trace_context.refused');
    this.pings = observable('websocket.server.ping.sent');
    this.timeouts = observable('websocket.server.ping.timeouts');
    this.subscriptions = observable('websocket.server.subscription.count');
    this.rooms = observable('websocket.server.room.count');
    this.memory = observable('websocket.server.connection.memory');
    this.delayP50 = observable('nodejs.eventloop.delay.p50');
    this.delayP99 = observable('nodejs.eventloop.delay.p99');
    this.delayMax = observable('nodejs.eventloop.delay.max');
    this.counters = counters;
    // Event-loop delay is the process's, not a sum of servers: left out (a reader that
    // collects twice in a row finds no samples the second time; its last value stands).
    this.dropToZero = [this.count, this.subscriptions, this.rooms, this.memory];
    // Registered once for the Meter's life; with no server attached it reports the carried counters.
    meter.addBatchObservableCallback((result) => this.collect(result), observables);
  }

  attach(source: ServerInstruments, eventLoopDelay: boolean): void {
    if (this.sources.has(source)) return;
    this.sources.add(source);
    if (eventLoopDelay && this.eventLoopUsers++ === 0) this.eventLoop = new EventLoopDelay();
  }

  /** Removes a server: its counters' last values are carried, the rest of its part drops out. */
  detach(source: ServerInstruments, eventLoopDelay: boolean): void {
    if (!this.sources.delete(source)) return;
    source.report(this, (observable, value, attributes) => {
      if (this.counters.has(observable) && value !== 0) add(this.carried, observable, value, attributes);
    });
    if (eventLoopDelay && --this.eventLoopUsers === 0) {
      this.eventLoop?.stop();
      this.eventLoop = undefined;
    }
  }

  private collect(result: BatchObservableResult): void {
    const sums: Sums = new Map();
    const observe: Observe = (observable, value, attributes) => add(sums, observable, value, attributes);
    let connections = 0;
    let bytes = 0;
    let memoryReported = false;
    for (const source of this.sources) {
      source.report(this, observe);
      const memory = source.memory();
      if (memory !== undefined) {
        memoryReported = true;
        connections += memory.connections;
        bytes += memory.bytes;
      }
    }
    for (const [observable, points] of this.carried) for (const point of points.values()) add(sums, observable, point.value, point.attributes);
    // Memory per connection is a mean over every server's connections, not a sum of means.
    if (memoryReported) add(sums, this.memory, connections === 0 ? 0 : bytes / connections, EMPTY);

    for (const [observable, points] of sums) for (const point of points.values()) result.observe(observable, point.value, point.attributes);
    for (const observable of this.dropToZero) {
      const now = sums.get(observable);
      const before = this.reported.get(observable);
      if (before !== undefined) for (const [key, attributes] of before) if (!now?.has(key)) result.observe(observable, 0, attributes);
      const keys = new Map<string, Attributes>();
      if (now !== undefined) for (const [key, point] of now) keys.set(key, point.attributes);
      this.reported.set(observable, keys);
    }

    const delay = this.eventLoop?.read();
    if (delay) {
      result.observe(this.delayP50, delay.p50, EMPTY);
      result.observe(this.delayP99, delay.p99, EMPTY);
      result.observe(this.delayMax, delay.max, EMPTY);
    }
  }
}

const NOOP_HISTOGRAM: Histogram = createNoopMeter().createHistogram('socketscope.unbound');

/**
 * One server's cells, written by its socket code, and its part of the
 * Meter's report. Until bound to a Meter (see instrumentWebSocketServer: the
 * global MeterProvider may be registered after the server is instrumented),
 * the cells count and the histograms go nowhere.
 */
export class ServerInstruments {
  connectionDuration: Histogram = NOOP_HISTOGRAM;
  connectionSubscriptions: Histogram = NOOP_HISTOGRAM;
  handshakeDuration: Histogram = NOOP_HISTOGRAM;
  pingDuration: Histogram = NOOP_HISTOGRAM;
  broadcastDuration: Histogram = NOOP_HISTOGRAM;
  broadcastRecipients: Histogram = NOOP_HISTOGRAM;
  /** process.duration and message.latency by message type index, recorded at collection (see DeferredHistogram). */
  readonly processDurations: DeferredHistogram;
  readonly messageLatencies: DeferredHistogram;

  // Cells written by the socket code, read by the Meter's batch callback.
  active = 0;
  opened = 0;
  authAttempts = 0;
  pingsSent = 0;
  pingTimeouts = 0;
  /** Messages with a sampled client traceparent that the client-sampled span budget refused. */
  traceContextRefused = 0;
  /** Wire bytes of sockets that already closed: [received, transmitted]. */
  readonly closedBytes = new Float64Array(2);
  /** [frame type][message type], flattened. */
  readonly received: Float64Array;
  readonly sent: Float64Array;
  readonly rejected = new Float64Array(REJECTION_TYPES.length);
  readonly authFailures = new Float64Array(AUTH_FAILURE_REASONS.length);
  readonly messageErrors = new Float64Array(MESSAGE_ERROR_TYPES.length);
  readonly latencyAnomalies = new Float64Array(LATENCY_ANOMALIES.length);
  /** [close class][error type + 1] (0 = no error.type), flattened. */
  readonly closed = new Float64Array(CLOSE_CODE_CLASSES.length * (CLOSE_ERROR_TYPES.length + 1));

  readonly closeClassAttrs = CLOSE_CLASS_ATTRS;
  readonly rejectionAttrs = REJECTION_ATTRS;
  private readonly messageAttrs: Attributes[] = [];

  private meter: MeterInstruments | undefined;
  private released = false;

  constructor(
    private readonly types: MessageTypes,
    /** Whether this server wants `nodejs.eventloop.delay.*` (the Meter runs one histogram while any does). */
    private readonly eventLoopDelay: boolean,
    private readonly state: ObservedState,
  ) {
    const cells = FRAME_TYPES.length * types.names.length;
    this.received = new Float64Array(cells);
    this.sent = new Float64Array(cells);
    for (const frame of FRAME_TYPES) {
      for (const type of types.names) this.messageAttrs.push(Object.freeze({ [ATTR_FRAME_TYPE]: frame, [ATTR_MESSAGE_TYPE]: type }));
    }
    this.processDurations = new DeferredHistogram(NOOP_HISTOGRAM, types.attrs);
    this.messageLatencies = new DeferredHistogram(NOOP_HISTOGRAM, types.attrs);
  }

  /** True once bound to a Meter (also after release). */
  get bound(): boolean {
    return this.meter !== undefined;
  }

  /** True while its values are part of its Meter's report. */
  get reporting(): boolean {
    return this.meter !== undefined && !this.released;
  }

  /** Starts reporting to this Meter's instruments (once; not after release). */
  bind(meter: Meter): void {
    if (this.meter !== undefined || this.released) return;
    const shared = MeterInstruments.of(meter);
    this.connectionDuration = shared.connectionDuration;
    this.connectionSubscriptions = shared.connectionSubscriptions;
    this.handshakeDuration = shared.handshakeDuration;
    this.pingDuration = shared.pingDuration;
    this.broadcastDuration = shared.broadcastDuration;
    this.broadcastRecipients = shared.broadcastRecipients;
    this.processDurations.histogram = shared.processDuration;
    this.messageLatencies.histogram = shared.messageLatency;
    this.meter = shared;
    shared.attach(this, this.eventLoopDelay);
  }

  /** Stops reporting: the counters keep their last values, the rest of this server's part drops out. Idempotent. */
  release(): void {
    if (this.released) return;
    this.released = true;
    this.meter?.detach(this, this.eventLoopDelay);
    this.processDurations.flush();
    this.messageLatencies.flush();
  }

  /** This server's observations for one collection (and the deferred histograms, recorded now). */
  report(instruments: MeterInstruments, observe: Observe): void {
    this.processDurations.flush();
    this.messageLatencies.flush();
    observe(instruments.count, this.active, EMPTY);
    observe(instruments.opened, this.opened, EMPTY);
    // Series appear once they have a value, so a dashboard shows only what happened.
    reportCells(observe, instruments.closed, this.closed, CLOSED_ATTRS, true);
    // Failure counters over a fixed, small set of reasons start at 0: a series
    // first scraped with its burst already counted shows no increase(), so
    // rate-based alerts would miss exactly the first incident.
    reportCells(observe, instruments.rejected, this.rejected, REJECTION_ATTR_LIST, false);
    observe(instruments.attempts, this.authAttempts, EMPTY);
    reportCells(observe, instruments.failures, this.authFailures, AUTH_REASON_ATTR_LIST, false);
    reportCells(observe, instruments.received, this.received, this.messageAttrs, true);
    reportCells(observe, instruments.sent, this.sent, this.messageAttrs, true);
    const [liveIn, liveOut] = this.state.liveBytes();
    observe(instruments.io, this.closedBytes[0]! + liveIn, IO_ATTRS[0]!);
    observe(instruments.io, this.closedBytes[1]! + liveOut, IO_ATTRS[1]!);
    reportCells(observe, instruments.anomalies, this.latencyAnomalies, LATENCY_ANOMALY_ATTR_LIST, false);
    reportCells(observe, instruments.errors, this.messageErrors, MESSAGE_ERROR_ATTR_LIST, false);
    // From 0, like the failure counters: the first refusals must show as an increase().
    observe(instruments.traceContextRefused, this.traceContextRefused, EMPTY);
    observe(instruments.pings, this.pingsSent, EMPTY);
    observe(instruments.timeouts, this.pingTimeouts, EMPTY);
    this.state.subscriptions((value, attributes) => observe(instruments.subscriptions, value, attributes));
    observe(instruments.rooms, this.state.rooms(), EMPTY);
  }

  memory(): { connections: number; bytes: number } | undefined {
    return this.state.memory();
  }

  /** Flattened index of a (frame type, message type) cell. */
  messageCell(isBinary: boolean, typeIndex: number): number {
    return (isBinary ? this.types.names.length : 0) + typeIndex;
  }

  countClosed(closeClass: CloseCodeClass, errorType: CloseErrorType | undefined): void {
    const row = CLOSE_CLASS_INDEX[closeClass] * (CLOSE_ERROR_TYPES.length + 1);
    this.closed[row + (errorType === undefined ? 0 : CLOSE_ERROR_INDEX[errorType] + 1)]! += 1;
  }

  countRejected(type: RejectionType): void {
    this.rejected[REJECTION_INDEX[type]]! += 1;
  }

  countAuthFailure(reason: AuthFailureReason): void {
    this.authFailures[AUTH_REASON_INDEX[reason]]! += 1;
  }

  countMessageError(type: MessageErrorType): void {
    // Applications call this too (recordMessageError): an unknown type from untyped code is _OTHER.
    this.messageErrors[MESSAGE_ERROR_INDEX[type] ?? MESSAGE_ERROR_INDEX[OTHER]]! += 1;
  }

  countLatencyAnomaly(type: LatencyAnomaly): void {
    this.latencyAnomalies[LATENCY_ANOMALY_INDEX[type]]! += 1;
  }
}

function reportCells(observe: Observe, observable: Observable, cells: Float64Array, attrs: readonly Attributes[], skipZero: boolean): void {
  for (let i = 0; i < cells.length; i++) {
    const value = cells[i]!;
    if (value > 0 || !skipZero) observe(observable, value, attrs[i]!);
  }
}
