/**
 * Synthetic clients that behave like browsers of the demo app: they connect
 * (some with bad tokens), subscribe, chat, ping for RTT, drop and reconnect
 * with backoff, sometimes stop answering heartbeats, and POST client reports
 * from a pretend country with that country's network delay. They give every
 * dashboard, alert and analytics view of the demo something real to show.
 */
import { randomBytes } from 'node:crypto';
import WebSocket from 'ws';
import type { ClientReport } from '../../web-sdk/src/report/schema.ts';
import { REPORT_SCHEMA_VERSION } from '../../web-sdk/src/report/schema.ts';
import { REGIONS } from './demo-data.ts';

export interface SyntheticClientsOptions {
  wsUrl: string;
  clients: number;
  /** Where reports go (`…/api/ws/client-metrics`); none when absent. */
  reportUrl?: string;
  /** Header the analytics service trusts for the country (TRUSTED_COUNTRY_HEADER). */
  countryHeader?: string;
  reportIntervalMs?: number;
  /** Deterministic runs in tests. */
  random?: () => number;
}

export interface SyntheticClientsStats {
  connected: number;
  opens: number;
  authFailures: number;
  drops: number;
  reportsSent: number;
  reportErrors: number;
}

interface Window {
  start: number;
  attempts: number;
  opens: number;
  drops: number;
  reconnectAttempts: number;
  reconnectSuccesses: number;
  outageMs: number;
  connectedMs: number;
  closeCodes: Record<string, number>;
  sent: number;
  received: number;
  errors: number;
  rtts: number[];
  interactions: number;
}

function newWindow(now: number): Window {
  return { start: now, attempts: 0, opens: 0, drops: 0, reconnectAttempts: 0, reconnectSuccesses: 0, outageMs: 0, connectedMs: 0, closeCodes: {}, sent: 0, received: 0, errors: 0, rtts: [], interactions: 0 };
}

function percentile(sorted: number[], q: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? null;
}

export type CloseKind = 'drop' | 'auth' | 'clean' | 'failed';

/**
 * One client's connection in report windows, counted as the web SDK's
 * SessionWindow counts it: connected and outage time are charged to the
 * window they fall in (a connection or an outage still going at a window's
 * end up to that end, and from the next window's start on after it), so
 * no stretch of time is counted twice; a drop is the close of a connection
 * that had opened, so an attempt that never opened (1006 from a refused
 * handshake) is an attempt and not a drop; an outage runs from the close
 * of an open connection to the next open, across failed attempts.
 */
export class ConnectionLedger {
  private current: Window;
  private openedAt: number | null = null;
  private downSince: number | null = null;
  private hasConnected = false;

  constructor(now: number) {
    this.current = newWindow(now);
  }

  /** The window being counted (messages, latencies and interactions go straight into it). */
  get window(): Window {
    return this.current;
  }

  attempt(): void {
    this.current.attempts++;
    if (this.hasConnected) this.current.reconnectAttempts++;
  }

  opened(now: number): void {
    const w = this.current;
    if (this.downSince !== null) w.outageMs += now - Math.max(this.downSince, w.start);
    this.downSince = null;
    this.openedAt = now;
    w.opens++;
    if (this.hasConnected) w.reconnectSuccesses++;
    this.hasConnected = true;
  }

  /**
   * The socket closed with `code`; `reconnecting`: another attempt follows, so a
   * close of an open connection starts an outage. Says what the close was.
   */
  closed(now: number, code: number, reconnecting: boolean): CloseKind {
    if (this.openedAt === null) return 'failed';
    const w = this.current;
    w.connectedMs += now - Math.max(this.openedAt, w.start);
    this.openedAt = null;
    w.closeCodes[String(code)] = (w.closeCodes[String(code)] ?? 0) + 1;
    if (reconnecting) this.downSince = now;
    if (code >= 4400 && code < 4500) return 'auth';
    if (code === 1000) return 'clean';
    w.drops++;
    return 'drop';
  }

  /** Ends the window at `now`, charging what is still going up to it, and starts the next one. */
  take(now: number): Window {
    const w = this.current;
    if (this.openedAt !== null) w.connectedMs += now - Math.max(this.openedAt, w.start);
    if (this.downSince !== null) w.outageMs += now - Math.max(this.downSince, w.start);
    this.current = newWindow(now);
    return w;
  }
}

export class SyntheticClients {
  readonly stats: SyntheticClientsStats = { connected: 0, opens: 0, authFailures: 0, drops: 0, reportsSent: 0, reportErrors: 0 };
  private readonly clients: SyntheticClient[] = [];
  private stopped = false;
  private ticker: NodeJS.Timeout | undefined;

  constructor(private readonly options: SyntheticClientsOptions) {}

  start(): void {
    const random = this.options.random ?? Math.random;
    for (let i = 0; i < this.options.clients; i++) {
      const client = new SyntheticClient(i, this.options, this.stats, random);
      this.clients.push(client);
      // Stagger the first connections over a few seconds, as real traffic arrives.
      setTimeout(() => !this.stopped && client.connect(), Math.floor(random() * 3_000)).unref();
    }
    this.ticker = setInterval(() => {
      for (const client of this.clients) client.tick();
    }, 1_000);
    this.ticker.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.ticker);
    await Promise.all(this.clients.map((client) => client.stop()));
  }
}

class SyntheticClient {
  private socket: WebSocket | undefined;
  private readonly region: (typeof REGIONS)[number];
  private readonly sessionId = randomBytes(12).toString('base64url');
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly ledger: ConnectionLedger;
  private failures = 0;
  private stopped = false;
  private seq = 0;
  private readonly pageLoadMs: number;

  constructor(
    private readonly index: number,
    private readonly options: SyntheticClientsOptions,
    private readonly stats: SyntheticClientsStats,
    private readonly random: () => number,
  ) {
    let pick = random();
    this.region = REGIONS[REGIONS.length - 1] as (typeof REGIONS)[number];
    for (const region of REGIONS) {
      if ((pick -= region.weight) <= 0) {
        this.region = region;
        break;
      }
    }
    // Slower networks load pages more slowly: the UX correlation has a real signal.
    this.pageLoadMs = 700 + this.region.delayMs * 9 + random() * 400;
    this.ledger = new ConnectionLedger(Date.now());
    this.every(this.options.reportIntervalMs ?? 15_000, () => void this.report());
  }

  private every(ms: number, fn: () => void): void {
    const timer = setInterval(fn, ms);
    timer.unref();
    this.timers.add(timer);
  }

  private later(ms: number, fn: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      fn();
    }, ms);
    timer.unref();
    this.timers.add(timer);
  }

  private token(): string {
    // About one connection attempt in ten fails authentication, for every reason.
    const roll = this.random();
    if (roll < 0.04) return 'not-a-valid-token';
    if (roll < 0.07) return 'expired-demo-token';
    if (roll < 0.09) return '';
    return `demo-token-${this.index % 50}`;
  }

  connect(): void {
    if (this.stopped) return;
    const token = this.token();
    const url = token ? `${this.options.wsUrl}?token=${encodeURIComponent(token)}` : this.options.wsUrl;
    this.ledger.attempt();
    const socket = new WebSocket(url);
    this.socket = socket;
    socket.on('open', () => {
      this.ledger.opened(Date.now());
      this.stats.opens++;
      this.stats.connected++;
      this.subscribe(socket);
    });
    socket.on('message', (data) => this.onMessage(data.toString()));
    socket.on('error', () => {
      this.ledger.window.errors++;
    });
    socket.on('close', (code) => this.onClose(socket, code));
  }

  private subscribe(socket: WebSocket): void {
    const rooms = ['prices'];
    if (this.random() < 0.5) rooms.push('news');
    rooms.push(`chat-${Math.floor(this.random() * 8)}`);
    for (const room of rooms) this.send(socket, { type: 'subscribe', room });
    this.failures = 0;
  }

  private send(socket: WebSocket, message: Record<string, unknown>): void {
    if (socket.readyState !== WebSocket.OPEN) return;
    // The client's clock is "ahead" by the one-way delay it simulates, so the
    // server's end-to-end latency histogram shows the region's delay.
    socket.send(JSON.stringify({ ...message, sentAt: Date.now() - this.region.delayMs }));
    this.ledger.window.sent++;
  }

  private onMessage(text: string): void {
    this.ledger.window.received++;
    const message = JSON.parse(text) as { type?: string; sentAt?: number };
    if (message.type === 'pong' && typeof message.sentAt === 'number') {
      this.ledger.window.rtts.push(Date.now() - message.sentAt + this.region.delayMs);
    }
  }

  /** Called every second by the demo's driver: the client's "user" acts. */
  tick(): void {
    const socket = this.socket;
    if (!socket || socket.readyState !== WebSocket.OPEN) return;
    const roll = this.random();
    if (roll < 0.25) {
      this.ledger.window.interactions++;
      this.send(socket, { type: 'chat', room: `chat-${Math.floor(this.random() * 8)}`, text: `hello from ${this.region.country}` });
    } else if (roll < 0.45) {
      this.send(socket, { type: 'ping', id: ++this.seq });
    } else if (roll < 0.452) {
      // A malformed frame now and then: counted as a parse error by the server.
      socket.send('{not json');
      this.ledger.window.sent++;
    } else if (roll < 0.456) {
      // The network drops: no close frame.
      socket.terminate();
    } else if (roll < 0.4575) {
      // A frozen tab: stops reading, so heartbeats time out and the server terminates it.
      socket.pause();
    }
  }

  private onClose(socket: WebSocket, code: number): void {
    if (socket !== this.socket) return;
    const kind = this.ledger.closed(Date.now(), code, !this.stopped);
    if (kind !== 'failed') this.stats.connected--;
    if (kind === 'auth') this.stats.authFailures++;
    if (kind === 'drop') this.stats.drops++;
    if (this.stopped) return;
    // Exponential backoff with full jitter, capped at 10 s.
    const delay = Math.min(10_000, 500 * 2 ** this.failures++) * (0.5 + this.random() / 2);
    this.later(delay, () => this.connect());
  }

  private async report(): Promise<void> {
    const now = Date.now();
    const window = this.ledger.take(now);
    if (!this.options.reportUrl || window.attempts + window.sent + window.received === 0) return;
    const rtts = window.rtts.sort((a, b) => a - b);
    const report: ClientReport = {
      schema_version: REPORT_SCHEMA_VERSION,
      session_id: this.sessionId,
      sent_at: new Date(now).toISOString(),
      window_start: new Date(window.start).toISOString(),
      window_end: new Date(now).toISOString(),
      page_path: '/dashboard',
      app: { name: 'socketscope-demo', version: '1.0.0' },
      connection: {
        attempts: window.attempts,
        opens: window.opens,
        drops: window.drops,
        reconnect_attempts: window.reconnectAttempts,
        reconnect_successes: window.reconnectSuccesses,
        outage_ms: Math.round(window.outageMs),
        connected_ms: Math.round(window.connectedMs),
        close_codes: window.closeCodes,
      },
      messages: { sent: window.sent, received: window.received, queued: 0, dropped: 0, errors: window.errors },
      latency_ms: {
        count: rtts.length,
        avg: rtts.length ? rtts.reduce((a, b) => a + b, 0) / rtts.length : null,
        p50: percentile(rtts, 0.5),
        p95: percentile(rtts, 0.95),
        max: rtts.length ? (rtts[rtts.length - 1] ?? null) : null,
      },
      network: { type: 'wifi', effective_type: this.region.delayMs > 120 ? '3g' : '4g', rtt_ms: this.region.delayMs * 2 },
      vitals: {
        page_load_ms: Math.round(this.pageLoadMs),
        lcp_ms: Math.round(this.pageLoadMs * 0.8),
        fcp_ms: Math.round(this.pageLoadMs * 0.5),
        ttfb_ms: Math.round(this.region.delayMs * 2 + 40),
        inp_ms: Math.round(60 + this.region.delayMs * 0.6 + this.random() * 40),
        cls: Math.round(this.random() * 10) / 100,
      },
      ux: { interactions: window.interactions, errors: this.random() < 0.02 ? 1 : 0 },
    };
    try {
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (this.options.countryHeader) headers[this.options.countryHeader] = this.region.country;
      const response = await fetch(this.options.reportUrl, { method: 'POST', headers, body: JSON.stringify(report), signal: AbortSignal.timeout(5_000) });
      await response.body?.cancel();
      if (response.ok) this.stats.reportsSent++;
      else this.stats.reportErrors++;
    } catch {
      this.stats.reportErrors++;
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    const socket = this.socket;
    if (!socket || socket.readyState === WebSocket.CLOSED) return;
    await new Promise<void>((resolve) => {
      socket.once('close', () => resolve());
      if (socket.readyState === WebSocket.CONNECTING) socket.terminate();
      else socket.close(1000, 'demo stopping');
      setTimeout(() => {
        socket.terminate();
        resolve();
      }, 1_000).unref();
    });
  }
}
