/**
 * GET /admin/api/live: Server-Sent Events with a `stats` event per live
 * snapshot. The pages read it with fetch (EventSource cannot send the
 * Authorization header). A comment line after 15 s without an event keeps
 * proxies from closing an idle stream and tells the page the connection
 * still works (the hello event names both intervals, so the page knows how
 * long a silence means a dead connection); the stream ends once the HTTP server stops
 * listening, so a shutdown does not wait out the drain timeout for it.
 */
import type { Server } from 'node:http';
import type { RequestHandler } from 'express';
import type { LiveSnapshot, LiveStatsSource } from './live-stats.ts';

export const KEEPALIVE_MS = 15_000;
const SHUTDOWN_CHECK_MS = 1_000;

export function sseEvent(event: string, data: unknown, id?: string): string {
  return `${id ? `id: ${id}\n` : ''}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

export function liveStreamHandler(source: LiveStatsSource, intervalMs: number): RequestHandler {
  return (req, res) => {
    res.status(200);
    res.setHeader('content-type', 'text/event-stream; charset=utf-8');
    res.setHeader('cache-control', 'no-store');
    // nginx and similar proxies buffer responses unless told otherwise.
    res.setHeader('x-accel-buffering', 'no');
    res.flushHeaders();
    res.write(`retry: ${Math.max(1000, intervalMs)}\n`);
    res.write(sseEvent('hello', { interval_ms: intervalMs, keepalive_ms: KEEPALIVE_MS }));

    // net.Server sets socket.server; it tells us when the service is shutting down.
    const server = (req.socket as unknown as { server?: Server }).server;
    let lastWrite = Date.now();
    const write = (chunk: string): void => {
      lastWrite = Date.now();
      res.write(chunk);
    };
    const unsubscribe = source.subscribe((snapshot: LiveSnapshot) => write(sseEvent('stats', snapshot, snapshot.at)));
    const housekeeping = setInterval(() => {
      if (server && !server.listening) {
        res.end();
        return;
      }
      if (Date.now() - lastWrite >= KEEPALIVE_MS) write(': keep-alive\n\n');
    }, SHUTDOWN_CHECK_MS);
    housekeeping.unref();
    const cleanup = (): void => {
      clearInterval(housekeeping);
      unsubscribe();
    };
    res.once('close', cleanup);
  };
}
