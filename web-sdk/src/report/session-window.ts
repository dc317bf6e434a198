/**
 * Folds what the sockets and the page report into the client report of the
 * current window: counters are deltas since the previous report; connected
 * and outage time are integrated over the window, so a connection that stays
 * up for hours is counted in every window it spans.
 */
import type { NetworkInfo } from '../attributes.ts';
import type { MonitorSink, OutagePhase, VitalName } from '../sink.ts';
import { LatencyStats } from './latency-stats.ts';
import { type ClientReport, MAX_APP_FIELD, MAX_CLOSE_CODES, MAX_PAGE_PATH, REPORT_SCHEMA_VERSION } from './schema.ts';

export interface WindowContext {
  sessionId: string;
  app?: { name: string; version?: string };
  network(): NetworkInfo | undefined;
  pagePath(): string;
}

const COUNTERS = ['attempts', 'opens', 'drops', 'reconnect_attempts', 'reconnect_successes', 'sent', 'received', 'queued', 'dropped', 'errors', 'interactions'] as const;
type Counters = Record<(typeof COUNTERS)[number], number>;

const zero = (): Counters => Object.fromEntries(COUNTERS.map((key) => [key, 0])) as Counters;

export class SessionWindow implements MonitorSink {
  private counters = zero();
  private pageErrors = 0;
  private closeCodes: Record<string, number> = {};
  private readonly latency = new LatencyStats();
  /** Vitals recorded in this window: each page view's vital is in one report only. */
  private vitals: NonNullable<ClientReport['vitals']> = {};
  private start: number;
  // Integration of connected and outage time: how many are open / down since `tick`.
  private openCount = 0;
  private downCount = 0;
  private tick: number;
  private connectedMs = 0;
  private outageMs = 0;

  constructor(
    private readonly context: WindowContext,
    private readonly now: () => number = Date.now,
  ) {
    this.start = this.tick = now();
  }

  attempt(reconnect: boolean): void {
    this.counters.attempts++;
    if (reconnect) this.counters.reconnect_attempts++;
  }

  opened(_connectS: number, reconnect: boolean): void {
    this.integrate();
    this.openCount++;
    this.counters.opens++;
    if (reconnect) this.counters.reconnect_successes++;
  }

  closed(code: number, drop: boolean): void {
    this.integrate();
    this.openCount = Math.max(0, this.openCount - 1);
    if (drop) this.counters.drops++;
    const key = String(code);
    if (key in this.closeCodes || Object.keys(this.closeCodes).length < MAX_CLOSE_CODES) this.closeCodes[key] = (this.closeCodes[key] ?? 0) + 1;
  }

  outage(phase: OutagePhase): void {
    this.integrate();
    this.downCount = phase === 'start' ? this.downCount + 1 : Math.max(0, this.downCount - 1);
  }

  message(sent: boolean): void {
    if (sent) this.counters.sent++;
    else this.counters.received++;
  }

  queued(): void {
    this.counters.queued++;
  }

  dropped(_reason: string, count: number): void {
    this.counters.dropped += count;
  }

  error(): void {
    this.counters.errors++;
  }

  rtt(seconds: number): void {
    this.latency.add(seconds * 1000);
  }

  vital(name: VitalName, value: number): void {
    const key = name === 'cls' ? 'cls' : (`${name}_ms` as const);
    this.vitals[key] = Math.round(value * (name === 'cls' ? 10_000 : 1)) / (name === 'cls' ? 10_000 : 1);
  }

  interaction(): void {
    this.counters.interactions++;
  }

  pageError(): void {
    this.pageErrors++;
  }

  /** The report for the window ending now, or undefined when nothing happened; starts the next window. */
  take(): ClientReport | undefined {
    this.integrate();
    const end = this.now();
    const c = this.counters;
    const latency = this.latency.take();
    const idle =
      Object.values(c).every((value) => value === 0) &&
      this.pageErrors === 0 &&
      this.connectedMs === 0 &&
      this.outageMs === 0 &&
      latency.count === 0 &&
      Object.keys(this.vitals).length === 0;
    const report: ClientReport = {
      schema_version: REPORT_SCHEMA_VERSION,
      session_id: this.context.sessionId,
      sent_at: new Date(end).toISOString(),
      window_start: new Date(this.start).toISOString(),
      window_end: new Date(end).toISOString(),
      page_path: this.context.pagePath().slice(0, MAX_PAGE_PATH),
      connection: {
        attempts: c.attempts,
        opens: c.opens,
        drops: c.drops,
        reconnect_attempts: c.reconnect_attempts,
        reconnect_successes: c.reconnect_successes,
        outage_ms: Math.round(this.outageMs),
        connected_ms: Math.round(this.connectedMs),
        close_codes: this.closeCodes,
      },
      messages: { sent: c.sent, received: c.received, queued: c.queued, dropped: c.dropped, errors: c.errors },
      latency_ms: latency,
      ux: { interactions: c.interactions, errors: this.pageErrors },
    };
    const app = this.context.app;
    if (app) report.app = { name: app.name.slice(0, MAX_APP_FIELD), ...(app.version ? { version: app.version.slice(0, MAX_APP_FIELD) } : {}) };
    const network = this.context.network();
    if (network) {
      report.network = { type: network.type, effective_type: network.effectiveType };
      if (network.rttMs !== undefined) report.network.rtt_ms = network.rttMs;
      if (network.downlinkMbps !== undefined) report.network.downlink_mbps = network.downlinkMbps;
    }
    if (Object.keys(this.vitals).length > 0) report.vitals = this.vitals;
    this.counters = zero();
    this.pageErrors = 0;
    this.closeCodes = {};
    this.connectedMs = this.outageMs = 0;
    this.vitals = {};
    this.start = end;
    return idle ? undefined : report;
  }

  private integrate(): void {
    const now = this.now();
    const elapsed = Math.max(0, now - this.tick);
    this.connectedMs += this.openCount * elapsed;
    this.outageMs += this.downCount * elapsed;
    this.tick = now;
  }
}
