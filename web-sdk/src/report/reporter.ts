/** Sends the session's client report to the analytics service every
 * interval and when the page is hidden (sendBeacon for same-origin URLs). */
import type { SocketScope } from '../scope.ts';
import type { MonitorSink } from '../sink.ts';
import { Transport, type TransportStats } from '../transport/transport.ts';
import { type ClientReport, MAX_REPORTS_PER_BATCH, MAX_WINDOW_MS } from './schema.ts';
import { SessionWindow } from './session-window.ts';

export interface ReportOptions {
  /** Endpoint, absolute or relative to the page, e.g. '/api/ws/client-metrics'. */
  url: string;
  /** Window length and send interval. Default 60 000 ms, at most 900 000 (15 min, the longest window the API takes). */
  intervalMs?: number;
  headers?: Record<string, string>;
  /** Reports kept while the endpoint is unreachable (the oldest go first). Default 60. */
  maxPending?: number;
}

export interface ReporterSink extends MonitorSink {
  readonly stats: TransportStats;
}

export function createReporter(options: ReportOptions, scope: SocketScope): ReporterSink {
  const url = new URL(options.url, location.href);
  const transport = new Transport<ClientReport>({
    url: url.href,
    encode: (reports) => JSON.stringify({ reports }),
    headers: options.headers,
    maxItems: options.maxPending ?? 60,
    maxBatch: MAX_REPORTS_PER_BATCH,
    beacon: url.origin === location.origin,
  });
  const sessionWindow = new SessionWindow({
    sessionId: scope.session.id,
    app: scope.app,
    network: () => scope.network,
    pagePath: () => location.pathname,
  });
  const send = (final: boolean): void => {
    const report = sessionWindow.take();
    if (report) transport.push(report);
    transport.flush(final);
  };
  // A report's window is at most MAX_WINDOW_MS long (the API refuses longer ones).
  const timer = setInterval(() => send(false), Math.min(options.intervalMs ?? 60_000, MAX_WINDOW_MS));
  return Object.assign(sessionWindow, {
    stats: transport.stats,
    flush: send,
    shutdown(): void {
      clearInterval(timer);
      // Stopped first, so the final flush is the last: what it cannot send is dropped, not kept forever.
      transport.stop();
      send(true);
    },
  });
}
