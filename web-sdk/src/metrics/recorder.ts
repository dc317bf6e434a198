/** Records what the sockets and the page report into the catalogue's instruments. */
import type { Attributes } from '@opentelemetry/api';
import { closeCodeClass, type DropReason, type ErrorType, type IoDirection, type RequestOutcome } from '../attributes.ts';
import { ATTR, type ClientMetricKey } from '../catalogue.ts';
import type { SocketScope } from '../scope.ts';
import type { MonitorSink, OutagePhase, VitalName, VitalRating } from '../sink.ts';
import type { ClientInstruments } from './instruments.ts';

export class MetricsRecorder implements MonitorSink {
  constructor(
    private readonly instruments: ClientInstruments,
    private readonly scope: SocketScope,
  ) {}

  attempt(reconnect: boolean): void {
    const network = this.network();
    this.add('attempts', 1, network);
    if (reconnect) this.add('reconnectAttempts', 1, network);
  }

  opened(connectS: number, reconnect: boolean): void {
    const network = this.network();
    this.add('opened', 1, network);
    if (reconnect) this.add('reconnectSuccesses', 1, network);
    if (connectS >= 0) this.add('connectDuration', connectS, network);
  }

  closed(code: number, drop: boolean, connectedS: number): void {
    const codeClass = { [ATTR.closeCodeClass]: closeCodeClass(code) };
    this.add('closed', 1, codeClass);
    this.add('connectionDuration', connectedS, codeClass);
    if (drop) this.add('drops', 1, { ...codeClass, ...this.network() });
  }

  outage(phase: OutagePhase, durationS: number): void {
    if (phase === 'recovered') this.add('outageDuration', durationS, this.network());
  }

  message(sent: boolean, bytes: number): void {
    this.add(sent ? 'sent' : 'received', 1);
    this.add('io', bytes, { [ATTR.ioDirection]: (sent ? 'transmit' : 'receive') satisfies IoDirection });
  }

  queued(): void {
    this.add('queued', 1);
  }

  dropped(reason: DropReason, count: number): void {
    this.add('dropped', count, { [ATTR.dropReason]: reason });
  }

  error(type: ErrorType): void {
    this.add('errors', 1, { [ATTR.errorType]: type });
  }

  rtt(seconds: number): void {
    this.add('rtt', seconds, this.network());
  }

  request(seconds: number, outcome: RequestOutcome): void {
    this.add('requestDuration', seconds, { [ATTR.requestOutcome]: outcome });
  }

  vital(name: VitalName, value: number, rating?: VitalRating): void {
    // web-vitals reports milliseconds (CLS is a score); the catalogue's durations are seconds.
    this.add(name, name === 'cls' ? value : value / 1000, rating ? { [ATTR.vitalRating]: rating } : {});
  }

  interaction(): void {
    this.add('interactions', 1);
  }

  pageError(): void {
    this.add('pageErrors', 1);
  }

  private add(key: ClientMetricKey, value: number, attributes: Attributes = {}): void {
    const instrument = this.instruments[key];
    if ('record' in instrument) instrument.record(value, attributes);
    else instrument.add(value, attributes);
  }

  private network(): Attributes {
    const { type, effectiveType } = this.scope.network;
    return { [ATTR.connectionType]: type, [ATTR.effectiveType]: effectiveType };
  }
}
