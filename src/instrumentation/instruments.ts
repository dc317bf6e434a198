/**
 * The instruments, created once from the catalogue, and the plain number
 * cells the hot path writes to. Counters on the per-message path are
 * asynchronous: the socket code only increments a cell, and one batch
 * callback reports every cell when the SDK collects. A synchronous `add()`
 * with attributes costs about 1.5 µs in the JS SDK (it hashes the attribute
 * set with JSON.stringify on every call); a cell increment costs nanoseconds.
 */
import type { Attributes, BatchObservableResult, Histogram, Meter, Observable, ObservableCounter, ObservableGauge, ObservableUpDownCounter } from '@opentelemetry/api';
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

/** Sources the batch callback reads besides the cells (live sockets, rooms, runtime). */
export interface ObservedState {
  /** Wire bytes of the sockets still open: [received, transmitted]. */
  liveBytes(): readonly [number, number];
  subscriptions(observe: (value: number, attributes: Attributes) => void): void;
  rooms(): number;
  memoryPerConnection(): number | undefined;
  eventLoopDelay(): { p50: number; p99: number; max: number } | undefined;
}

export class ServerInstruments {
  readonly connectionDuration: Histogram;
  readonly connectionSubscriptions: Histogram;
  readonly handshakeDuration: Histogram;
  readonly pingDuration: Histogram;
  readonly broadcastDuration: Histogram;
  readonly broadcastRecipients: Histogram;
  /** process.duration and message.latency by message type index, recorded at collection (see DeferredHistogram). */
  readonly processDurations: DeferredHistogram;
  readonly messageLatencies: DeferredHistogram;

  // Cells written by the socket code, read by the batch callback.
  active = 0;
  opened = 0;
  authAttempts = 0;
  pingsSent = 0;
  pingTimeouts = 0;
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

  // Attribute objects built once.
  readonly rejectionAttrs = attributeSets(ATTR_ERROR_TYPE, REJECTION_TYPES);
  readonly closeClassAttrs = attributeSets(ATTR_CLOSE_CODE_CLASS, CLOSE_CODE_CLASSES);
  private readonly authReasonAttrs = attributeSets(ATTR_AUTH_FAILURE_REASON, AUTH_FAILURE_REASONS);
  private readonly messageErrorAttrs = attributeSets(ATTR_ERROR_TYPE, MESSAGE_ERROR_TYPES);
  private readonly latencyAnomalyAttrs = attributeSets(ATTR_ERROR_TYPE, LATENCY_ANOMALIES);
  private readonly ioAttrs = [Object.freeze({ [ATTR_NETWORK_IO_DIRECTION]: 'receive' }), Object.freeze({ [ATTR_NETWORK_IO_DIRECTION]: 'transmit' })];
  private readonly closedAttrs: Attributes[] = [];
  private readonly messageAttrs: Attributes[] = [];

  private readonly observables: Observable[] = [];
  private readonly callback: (result: BatchObservableResult) => void;

  constructor(
    private readonly meter: Meter,
    private readonly types: MessageTypes,
    private readonly state: ObservedState,
  ) {
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

    const cells = FRAME_TYPES.length * types.names.length;
    this.received = new Float64Array(cells);
    this.sent = new Float64Array(cells);
    for (const frame of FRAME_TYPES) {
      for (const type of types.names) this.messageAttrs.push(Object.freeze({ [ATTR_FRAME_TYPE]: frame, [ATTR_MESSAGE_TYPE]: type }));
    }
    for (const closeClass of CLOSE_CODE_CLASSES) {
      this.closedAttrs.push(this.closeClassAttrs[closeClass]);
      for (const errorType of CLOSE_ERROR_TYPES) {
        this.closedAttrs.push(Object.freeze({ [ATTR_CLOSE_CODE_CLASS]: closeClass, [ATTR_ERROR_TYPE]: errorType }));
      }
    }

    const counter = (name: ServerMetricName): ObservableCounter => this.observe(name, (def) => meter.createObservableCounter(def.name, def));
    const upDown = (name: ServerMetricName): ObservableUpDownCounter => this.observe(name, (def) => meter.createObservableUpDownCounter(def.name, def));
    const gauge = (name: ServerMetricName): ObservableGauge => this.observe(name, (def) => meter.createObservableGauge(def.name, def));

    const count = upDown('websocket.server.connection.count');
    const opened = counter('websocket.server.connection.opened');
    const closed = counter('websocket.server.connection.closed');
    const rejected = counter('websocket.server.connection.rejected');
    const attempts = counter('websocket.server.auth.attempts');
    const failures = counter('websocket.server.auth.failures');
    const received = counter('websocket.server.received.messages');
    const sent = counter('websocket.server.sent.messages');
    const io = counter('websocket.server.io');
    const anomalies = counter('websocket.server.message.latency.anomalies');
    const errors = counter('websocket.server.message.errors');
    const pings = counter('websocket.server.ping.sent');
    const timeouts = counter('websocket.server.ping.timeouts');
    const subscriptions = upDown('websocket.server.subscription.count');
    const rooms = upDown('websocket.server.room.count');
    const memory = gauge('websocket.server.connection.memory');
    const delayP50 = gauge('nodejs.eventloop.delay.p50');
    const delayP99 = gauge('nodejs.eventloop.delay.p99');
    const delayMax = gauge('nodejs.eventloop.delay.max');

    // Series appear once they have a value, so a dashboard shows only what happened.
    const nonZero = (result: BatchObservableResult, observable: Observable, cellsToReport: Float64Array, attrs: readonly Attributes[]) => {
      for (let i = 0; i < cellsToReport.length; i++) {
        const value = cellsToReport[i]!;
        if (value > 0) result.observe(observable, value, attrs[i]);
      }
    };
    // Failure counters over a fixed, small set of reasons start at 0: a series
    // first scraped with its burst already counted shows no increase(), so
    // rate-based alerts would miss exactly the first incident.
    const all = (result: BatchObservableResult, observable: Observable, cellsToReport: Float64Array, attrs: readonly Attributes[]) => {
      for (let i = 0; i < cellsToReport.length; i++) result.observe(observable, cellsToReport[i]!, attrs[i]);
    };
    const rejectionAttrList = REJECTION_TYPES.map((t) => this.rejectionAttrs[t]);
    const reasonAttrList = AUTH_FAILURE_REASONS.map((r) => this.authReasonAttrs[r]);
    const errorAttrList = MESSAGE_ERROR_TYPES.map((t) => this.messageErrorAttrs[t]);
    const anomalyAttrList = LATENCY_ANOMALIES.map((t) => this.latencyAnomalyAttrs[t]);

    this.processDurations = new DeferredHistogram(histogram('websocket.server.process.duration'), types.attrs);
    this.messageLatencies = new DeferredHistogram(histogram('websocket.server.message.latency'), types.attrs);
    this.callback = (result) => {
      this.processDurations.flush();
      this.messageLatencies.flush();
      result.observe(count, this.active, EMPTY);
      result.observe(opened, this.opened, EMPTY);
      nonZero(result, closed, this.closed, this.closedAttrs);
      all(result, rejected, this.rejected, rejectionAttrList);
      result.observe(attempts, this.authAttempts, EMPTY);
      all(result, failures, this.authFailures, reasonAttrList);
      nonZero(result, received, this.received, this.messageAttrs);
      nonZero(result, sent, this.sent, this.messageAttrs);
      const [liveIn, liveOut] = this.state.liveBytes();
      result.observe(io, this.closedBytes[0]! + liveIn, this.ioAttrs[0]);
      result.observe(io, this.closedBytes[1]! + liveOut, this.ioAttrs[1]);
      all(result, anomalies, this.latencyAnomalies, anomalyAttrList);
      all(result, errors, this.messageErrors, errorAttrList);
      result.observe(pings, this.pingsSent, EMPTY);
      result.observe(timeouts, this.pingTimeouts, EMPTY);
      this.state.subscriptions((value, attributes) => result.observe(subscriptions, value, attributes));
      result.observe(rooms, this.state.rooms(), EMPTY);
      const perConnection = this.state.memoryPerConnection();
      if (perConnection !== undefined) result.observe(memory, perConnection, EMPTY);
      const delay = this.state.eventLoopDelay();
      if (delay) {
        result.observe(delayP50, delay.p50, EMPTY);
        result.observe(delayP99, delay.p99, EMPTY);
        result.observe(delayMax, delay.max, EMPTY);
      }
    };
    meter.addBatchObservableCallback(this.callback, this.observables);
  }

  private observe<T extends Observable>(name: ServerMetricName, create: (def: { name: string; description: string; unit: string }) => T): T {
    const observable = create(serverMetric(name));
    this.observables.push(observable);
    return observable;
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

  shutdown(): void {
    this.processDurations.flush();
    this.messageLatencies.flush();
    this.meter.removeBatchObservableCallback(this.callback, this.observables);
  }
}
