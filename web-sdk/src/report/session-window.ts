/**
 * Folds what the sockets and the page report into the client report of the
 * current window: counters are deltas since the previous report; connected
 * and outage time are integrated over the window, so a connection that stays
 * up for hours is counted in every window it spans.
 */
import type { NetworkInfo } from '../attributes.ts';
import type { MonitorSink, OutagePhase, VitalName } from '../sink.ts';
import { LatencyStats } from './latency-stats.ts';
import {
  type ClientReport,
  MAX_APP_FIELD,
  MAX_CLOSE_CODES,
  MAX_PAGE_PATH,
  MAX_WINDOW_MS,
  REPORT_SCHEMA_VERSION,
  type WindowCountKind,
  maxCountInWindow,
  maxDurationInWindow,
} from './schema.ts';

export interface WindowContext {
  sessionId: string;
  app?: { name: string; version?: string };
  network(): NetworkInfo | undefined;
  pagePath(): string;
}

// The analytics API refuses a whole batch for one report out of its schema
// (src/api/schemas/client-report.ts), so every report is built within it.

/** Each counter and the kind whose limit for the window (schema.ts) the API checks it against and take() clamps it to. */
const COUNTERS = {
  attempts: 'connection',
  opens: 'connection',
  drops: 'connection',
  reconnect_attempts: 'connection',
  reconnect_successes: 'connection',
  sent: 'messages',
  received: 'messages',
  queued: 'messages',
  dropped: 'messages',
  errors: 'messages',
  interactions: 'interactions',
  page_errors: 'page_errors',
} as const satisfies Record<string, WindowCountKind>;
type Counters = Record<keyof typeof COUNTERS, number>;

const zero = (): Counters => Object.fromEntries(Object.keys(COUNTERS).map((key) => [key, 0])) as Counters;

const MAX_DURATION_MS = 1e12;
/** Bound of CLS and downlink_mbps. */
const MAX_SCORE = 1e6;
const PAGE_PATH = /^\/[^?#]*$/;
/** Non-empty text PostgreSQL can store: no NUL, no unpaired surrogate. */
// eslint-disable-next-line no-control-regex -- NUL is what this pattern exists to reject.
const STORABLE_TEXT = /^(?:[^\u0000\uD800-\uDFFF]|[\uD800-\uDBFF][\uDC00-\uDFFF])+$/;

/** At most `max` UTF-16 units, not splitting a surrogate pair; undefined when empty or not storable. */
function shortText(value: unknown, max: number): string | undefined {
  if (typeof value !== 'string') return undefined;
  let text = value.slice(0, max);
  if (/[\uD800-\uDBFF]$/.test(text)) text = text.slice(0, -1);
  return STORABLE_TEXT.test(text) ? text : undefined;
}

/** Within [0, max]; undefined when not a finite number. */
const bounded = (value: number | undefined, max: number): number | undefined => (Number.isFinite(value) ? Math.min(max, Math.max(0, value!)) : undefined);

export class SessionWindow implements MonitorSink {
  private counters = zero();
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
    // Keys are 4-digit codes in the schema: a library's made-up code counts as a close, under no code.
    if (!/^\d{4}$/.test(key)) return;
    if (key in this.closeCodes || Object.keys(this.closeCodes).length < MAX_CLOSE_CODES) this.closeCodes[key] = (this.closeCodes[key] ?? 0) + 1;
  }

  adopted(): void {
    this.integrate();
    this.openCount++;
  }

  detached(): void {
    this.integrate();
    this.openCount = Math.max(0, this.openCount - 1);
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
    if (Number.isInteger(count) && count > 0) this.counters.dropped += count;
  }

  /** Every type (connect, socket, heartbeat_timeout, send): the report's `messages.errors` is the client's WebSocket errors. */
  error(): void {
    this.counters.errors++;
  }

  rtt(seconds: number): void {
    const ms = bounded(seconds * 1000, MAX_DURATION_MS);
    if (ms !== undefined) this.latency.add(ms);
  }

  vital(name: VitalName, value: number): void {
    const key = name === 'cls' ? 'cls' : (`${name}_ms` as const);
    const bound = bounded(value, name === 'cls' ? MAX_SCORE : MAX_DURATION_MS);
    if (bound !== undefined) this.vitals[key] = Math.round(bound * (name === 'cls' ? 10_000 : 1)) / (name === 'cls' ? 10_000 : 1);
  }

  interaction(): void {
    this.counters.interactions++;
  }

  pageError(): void {
    this.counters.page_errors++;
  }

  /** The report for the window ending now, or undefined when nothing happened; starts the next window. */
  take(): ClientReport | undefined {
    this.integrate();
    const end = this.now();
    // The clock stepped back: an empty window at `end` rather than one that ends before it starts.
    // A window longer than the API takes (a frozen tab, a sleeping laptop): its last MAX_WINDOW_MS.
    const start = Math.min(Math.max(this.start, end - MAX_WINDOW_MS), end);
    const windowMs = end - start;
    const c = this.counters;
    // Each count at most its kind's limit for this window, as the API checks it (a close code's count
    // is of connection events). A limit is at least its burst, so 0 stays 0 and idle stays idle.
    // Reconnects stay within the attempts and opens, as the API requires: each is counted with one
    // (attempt(), opened()), and both are clamped to the same limit.
    for (const counts of [c, this.closeCodes] as Array<Record<string, number>>) {
      for (const key in counts) counts[key] = Math.min(counts[key]!, maxCountInWindow(COUNTERS[key as keyof Counters] ?? 'connection', windowMs));
    }
    const durationLimit = maxDurationInWindow(windowMs);
    const latency = this.latency.take();
    latency.count = Math.min(latency.count, maxCountInWindow('latency', windowMs));
    // Nothing happened: no count, no connected or outage time, no vital.
    const idle = ![...Object.values(c), this.connectedMs, this.outageMs, latency.count, ...Object.keys(this.vitals)].some(Boolean);
    // The rest: the connection counts.
    const { sent, received, queued, dropped, errors, interactions, page_errors, ...connection } = c;
    const report: ClientReport = {
      schema_version: REPORT_SCHEMA_VERSION,
      session_id: this.context.sessionId,
      sent_at: new Date(end).toISOString(),
      window_start: new Date(start).toISOString(),
      window_end: new Date(end).toISOString(),
      page_path: pagePath(this.context.pagePath()),
      connection: {
        ...connection,
        outage_ms: Math.min(durationLimit, Math.round(this.outageMs)),
        connected_ms: Math.min(durationLimit, Math.round(this.connectedMs)),
        close_codes: this.closeCodes,
      },
      messages: { sent, received, queued, dropped, errors },
      latency_ms: latency,
      ux: { interactions, errors: page_errors },
    };
    // An app field left empty (or unstorable) is left out, and the app when nothing of it is left.
    for (const key of ['name', 'version'] as const) {
      const text = shortText(this.context.app?.[key], MAX_APP_FIELD);
      if (text) (report.app ??= {})[key] = text;
    }
    const network = this.context.network();
    if (network) {
      // An estimate the browser does not have (or not a finite number) is undefined: JSON leaves it out.
      report.network = { type: network.type, effective_type: network.effectiveType, rtt_ms: bounded(network.rttMs, MAX_DURATION_MS), downlink_mbps: bounded(network.downlinkMbps, MAX_SCORE) };
    }
    if (Object.keys(this.vitals).length > 0) report.vitals = this.vitals;
    this.counters = zero();
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

/** The page's path as the schema takes it, else '/' (e.g. `srcdoc` in an about:srcdoc frame). */
function pagePath(path: string): string {
  const text = shortText(path, MAX_PAGE_PATH);
  return text && PAGE_PATH.test(text) ? text : '/';
}
