/**
 * What flows from the sockets and the page to the exporters (collect → send):
 * each monitored socket and the page signals call these on every sink of the
 * scope; the client report, the OTel metrics and anything a plugin adds are
 * sinks. Durations are seconds, except vitals, which keep web-vitals' units
 * (milliseconds; CLS is a score).
 */
import type { DropReason, ErrorType, RequestOutcome, VitalRating } from './attributes.ts';
export type { VitalRating } from './attributes.ts';

export type VitalName = 'lcp' | 'inp' | 'cls' | 'fcp' | 'ttfb' | 'page_load';
export type OutagePhase = 'start' | 'recovered' | 'abandoned';

export interface MonitorSink {
  /** A connection attempt starts; `reconnect` when it follows a drop or a failed attempt. */
  attempt?(reconnect: boolean): void;
  /** The attempt opened after `connectS`. */
  opened?(connectS: number, reconnect: boolean): void;
  /** An established connection ended; `drop` when the app did not close it. */
  closed?(code: number, drop: boolean, connectedS: number): void;
  /** Monitoring began on a connection already open (monitor() of an open socket): it counts as open, but no open happened. */
  adopted?(): void;
  /**
   * Monitoring of an open connection stopped (monitor().detach()): it no longer counts as open,
   * yet it did not end, so it is neither a close nor a drop.
   */
  detached?(): void;
  /** An outage (time without the connection the app wants) starts or ends, after `durationS`. */
  outage?(phase: OutagePhase, durationS: number): void;
  message?(sent: boolean, bytes: number): void;
  queued?(): void;
  dropped?(reason: DropReason, count: number): void;
  error?(type: ErrorType): void;
  rtt?(seconds: number): void;
  request?(seconds: number, outcome: RequestOutcome): void;
  vital?(name: VitalName, value: number, rating?: VitalRating): void;
  interaction?(): void;
  pageError?(): void;
  /** Send what is buffered; `final` when the page is being hidden or unloaded. */
  flush?(final: boolean): void | Promise<void>;
  shutdown?(): Promise<void> | void;
}

export type SinkEvent = Exclude<keyof MonitorSink, 'flush' | 'shutdown'>;
