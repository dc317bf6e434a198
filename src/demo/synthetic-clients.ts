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
import { SessionWindow } from '../../web-sdk/src/report/session-window.ts';
import type { TrackerScope } from '../../web-sdk/src/scope.ts';
import type { MonitorSink } from '../../web-sdk/src/sink.ts';
import { ConnectionTracker } from '../../web-sdk/src/socket/connection-tracker.ts';
import { REGIONS } from './demo-data.ts';

export interface SyntheticClientsOptions {
  wsUrl: string;
  clients: number;
  /** Where reports go (`…/api/ws/client-metrics`); none when absent. */
  reportUrl?: string;
  /** Header the analytics service trusts for the country (TRUSTED_COUNTRY_HEADER). */
  countryHeader?: string;
  reportIntervalMs?: number;
  /** Deterministic choices in tests. */
  random?: () => number;
}

/** What the clients did, counted apart from their reports (tests check the reports against it). */
export interface SyntheticClientsStats {
  connected: number;
  attempts: number;
  opens: number;
  /** Closes by the server's authentication (4401/4403/1008): the "app" signs in again. */
  authRejections: number;
  /** Open connections that ended without the client closing them, as the web SDK counts drops. */
  drops: number;
  reportsSent: number;
  reportErrors: number;
}

/** Closes after which the web SDK does not reconnect (its default policy): the app signs in again. */
const AUTH_CLOSE_CODES = [1008, 4401, 4403];

/** The web SDK's per-page scope, reduced to one sink: the client's report window. */
function windowScope(sink: MonitorSink): TrackerScope {
  return {
    active: true,
    tracer: undefined,
    emit(event, ...args) {
      (sink[event] as ((...a: typeof args) => void) | undefined)?.apply(sink, args);
    },
  };
}

export class SyntheticClients {
  readonly stats: SyntheticClientsStats = { connected: 0, attempts: 0, opens: 0, authRejections: 0, drops: 0, reportsSent: 0, reportErrors: 0 };
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

  /** Closes every connection and sends each client's last report (as a page does when hidden). */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.ticker);
    await Promise.all(this.clients.map((client) => client.stop()));
  }
}

/**
 * One browser tab of the demo app, counted by the web SDK's own code: a
 * ConnectionTracker per logical connection (across reconnections) feeding
 * the SessionWindow that builds the tab's client reports, so the demo's
 * reports mean exactly what a real browser's do.
 */
class SyntheticClient {
  private socket: WebSocket | undefined;
  private readonly region: (typeof REGIONS)[number];
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly window: SessionWindow;
  private readonly scope: TrackerScope;
  private tracker: ConnectionTracker;
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
    const { delayMs } = this.region;
    this.window = new SessionWindow({
      sessionId: randomBytes(12).toString('base64url'),
      app: { name: 'socketscope-demo', version: '1.0.0' },
      network: () => ({ type: 'wifi', effectiveType: delayMs > 120 ? '3g' : '4g', rttMs: delayMs * 2 }),
      pagePath: () => '/dashboard',
    });
    this.scope = windowScope(this.window);
    this.tracker = new ConnectionTracker(this.scope, this.options.wsUrl);
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
    this.tracker.attempt();
    this.stats.attempts++;
    const socket = new WebSocket(url);
    this.socket = socket;
    socket.on('open', () => {
      this.tracker.opened();
      this.stats.opens++;
      this.stats.connected++;
      this.subscribe(socket);
    });
    socket.on('message', (data) => this.onMessage(data.toString()));
    // A failed attempt is counted (as a connect error) by its close; 'error' only keeps ws from throwing.
    socket.on('error', () => {});
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
    // The client's clock is "ahead" by the one-way delay it simulates, so the
    // server's end-to-end latency histogram shows the region's delay.
    this.sendRaw(socket, JSON.stringify({ ...message, sentAt: Date.now() - this.region.delayMs }));
  }

  private sendRaw(socket: WebSocket, text: string): void {
    if (socket.readyState !== WebSocket.OPEN) return;
    socket.send(text);
    this.tracker.sent(text);
  }

  private onMessage(text: string): void {
    this.tracker.received(text);
    const message = JSON.parse(text) as { type?: string; sentAt?: number };
    if (message.type === 'pong' && typeof message.sentAt === 'number') {
      this.scope.emit('rtt', (Date.now() - message.sentAt + this.region.delayMs) / 1000);
    }
  }

  /** Called every second by the demo's driver: the client's "user" acts. */
  tick(): void {
    const socket = this.socket;
    if (!socket || socket.readyState !== WebSocket.OPEN) return;
    const roll = this.random();
    if (roll < 0.25) {
      this.scope.emit('interaction');
      this.send(socket, { type: 'chat', room: `chat-${Math.floor(this.random() * 8)}`, text: `hello from ${this.region.country}` });
    } else if (roll < 0.45) {
      this.send(socket, { type: 'ping', id: ++this.seq });
    } else if (roll < 0.452) {
      // A malformed frame now and then: counted as a parse error by the server.
      this.sendRaw(socket, '{not json');
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
    const wasOpen = this.tracker.isOpen;
    const rejected = AUTH_CLOSE_CODES.includes(code);
    // The client closes only when the demo stops; an authentication close is not retried (the web SDK's default).
    this.tracker.closed(code, this.stopped, !this.stopped && !rejected);
    if (wasOpen) {
      this.stats.connected--;
      if (!this.stopped) this.stats.drops++;
    }
    if (rejected) this.stats.authRejections++;
    if (this.stopped) return;
    if (rejected) {
      // The app signs in again: a new logical connection, whose first attempt is not a reconnect.
      this.tracker = new ConnectionTracker(this.scope, this.options.wsUrl);
    }
    // Exponential backoff with full jitter, capped at 10 s.
    const delay = Math.min(10_000, 500 * 2 ** this.failures++) * (0.5 + this.random() / 2);
    this.later(delay, () => this.connect());
  }

  private async report(): Promise<void> {
    // Each window stands for a page view, so the UX views have vitals for any range the demo ran in.
    const { delayMs } = this.region;
    const vitals = { page_load: this.pageLoadMs, lcp: this.pageLoadMs * 0.8, fcp: this.pageLoadMs * 0.5, ttfb: delayMs * 2 + 40 };
    for (const [name, value] of Object.entries(vitals)) this.scope.emit('vital', name as keyof typeof vitals, Math.round(value));
    this.scope.emit('vital', 'inp', Math.round(60 + delayMs * 0.6 + this.random() * 40));
    this.scope.emit('vital', 'cls', Math.round(this.random() * 10) / 100);
    if (this.random() < 0.02) this.scope.emit('pageError');
    const report = this.window.take();
    if (!this.options.reportUrl || !report) return;
    await this.post(report);
  }

  private async post(report: ClientReport): Promise<void> {
    try {
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (this.options.countryHeader) headers[this.options.countryHeader] = this.region.country;
      const response = await fetch(this.options.reportUrl!, { method: 'POST', headers, body: JSON.stringify(report), signal: AbortSignal.timeout(5_000) });
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
    if (socket && socket.readyState !== WebSocket.CLOSED) {
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
    await this.report();
  }
}
