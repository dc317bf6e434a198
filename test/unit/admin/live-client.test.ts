/**
 * The admin pages' live stream reader (src/admin/client/live-client.ts) in
 * Node, with a scripted server and fake timers: a stream that goes quiet
 * without ending (a laptop that slept, a half-open proxy) is given up after
 * twice the longest the server may stay silent and opened again, keep-alive
 * comments keep it open, and the server's `retry:` is the floor of the
 * reconnect delay (a hello no longer resets it to 1 s).
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type LiveStatus, connectLive, silenceLimitMs } from '../../../src/admin/client/live-client.ts';

interface Connection {
  send(text: string): void;
  end(): void;
  aborted: boolean;
}

/** A fetch whose responses the test writes to; `statuses` answers the first calls with these statuses instead. */
function scriptedServer(statuses: number[] = []) {
  const connections: Connection[] = [];
  const fetch = vi.fn(async (_input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const status = statuses.shift();
    if (status !== undefined) return new Response('{}', { status });
    const encoder = new TextEncoder();
    let controller!: ReadableStreamDefaultController<Uint8Array>;
    const body = new ReadableStream<Uint8Array>({ start: (c) => void (controller = c) });
    const connection: Connection = {
      aborted: false,
      send: (text) => controller.enqueue(encoder.encode(text)),
      end: () => controller.close(),
    };
    init?.signal?.addEventListener('abort', () => {
      connection.aborted = true;
      controller.error(new DOMException('The operation was aborted.', 'AbortError'));
    });
    connections.push(connection);
    return new Response(body, { status: 200, headers: { 'content-type': 'text/event-stream' } });
  });
  return { fetch: fetch as unknown as typeof globalThis.fetch, calls: fetch, connections };
}

const stats = (at: string, n: number) => `id: ${at}\nevent: stats\ndata: ${JSON.stringify({ at, values: { active_connections: n }, error: null })}\n\n`;
const hello = (intervalMs: number, keepaliveMs?: number) => `event: hello\ndata: ${JSON.stringify({ interval_ms: intervalMs, ...(keepaliveMs ? { keepalive_ms: keepaliveMs } : {}) })}\n\n`;

beforeEach(() => {
  vi.useFakeTimers({ now: new Date('2026-03-01T10:00:00Z') });
});

afterEach(() => {
  vi.useRealTimers();
});

describe('silenceLimitMs', () => {
  it('is twice the longer of the snapshot and keep-alive intervals', () => {
    expect(silenceLimitMs()).toBe(30_000);
    expect(silenceLimitMs({ interval_ms: 5_000, keepalive_ms: 15_000 })).toBe(30_000);
    expect(silenceLimitMs({ interval_ms: 60_000, keepalive_ms: 15_000 })).toBe(120_000);
    expect(silenceLimitMs({ interval_ms: 1_000 })).toBe(30_000);
    expect(silenceLimitMs({ interval_ms: -1, keepalive_ms: Number.NaN })).toBe(30_000);
  });
});

describe('connectLive', () => {
  it('gives up a stream that has been silent for twice the keep-alive interval, and reconnects after the server’s retry', async () => {
    const server = scriptedServer();
    const statuses: LiveStatus[] = [];
    const live = connectLive({ fetch: server.fetch, token: () => 'token', expire: () => undefined });
    live.onStatus((s) => statuses.push(s));
    await vi.advanceTimersByTimeAsync(0);
    const first = server.connections[0] as Connection;
    first.send(`retry: 5000\n${hello(5_000, 15_000)}${stats('2026-03-01T10:00:00.000Z', 42)}`);
    await vi.advanceTimersByTimeAsync(0);
    expect(live.last?.values.active_connections).toBe(42);
    expect(live.status).toEqual({ state: 'live', at: '2026-03-01T10:00:00.000Z' });

    // Nothing more arrives: still "live" at 30 s, given up at the first check past it.
    await vi.advanceTimersByTimeAsync(30_000);
    expect(first.aborted).toBe(false);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(first.aborted).toBe(true);
    expect(live.status).toEqual({ state: 'retrying', reason: 'nothing received for 31 s', inMs: 5_000 });
    // The last figures stay, marked as not current by the status.
    expect(live.last?.values.active_connections).toBe(42);

    await vi.advanceTimersByTimeAsync(4_999);
    expect(server.calls).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(server.calls).toHaveBeenCalledTimes(2);
    expect(statuses.map((s) => s.state)).toEqual(['live', 'retrying', 'connecting']);
    (server.connections[1] as Connection).send(`retry: 5000\n${hello(5_000, 15_000)}${stats('2026-03-01T10:00:36.000Z', 57)}`);
    await vi.advanceTimersByTimeAsync(0);
    expect(live.status).toEqual({ state: 'live', at: '2026-03-01T10:00:36.000Z' });
    expect(live.last?.values.active_connections).toBe(57);
    live.stop();
  });

  it('stays connected while keep-alive comments arrive between snapshots', async () => {
    const server = scriptedServer();
    const live = connectLive({ fetch: server.fetch, token: () => 'token', expire: () => undefined });
    await vi.advanceTimersByTimeAsync(0);
    const connection = server.connections[0] as Connection;
    connection.send(`retry: 5000\n${hello(60_000, 15_000)}${stats('2026-03-01T10:00:00.000Z', 1)}`);
    for (let i = 0; i < 20; i++) {
      await vi.advanceTimersByTimeAsync(16_000);
      connection.send(': keep-alive\n\n');
    }
    expect(connection.aborted).toBe(false);
    expect(server.calls).toHaveBeenCalledTimes(1);
    expect(live.status.state).toBe('live');
    live.stop();
    await vi.advanceTimersByTimeAsync(0);
    expect(connection.aborted).toBe(true);
  });

  it('gives up a connection whose response never starts', async () => {
    let signal: AbortSignal | undefined;
    const fetch = vi.fn((_input: RequestInfo | URL, init?: RequestInit) => {
      signal = init?.signal ?? undefined;
      return new Promise<Response>((_resolve, reject) => signal?.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError'))));
    });
    const live = connectLive({ fetch: fetch as unknown as typeof globalThis.fetch, token: () => 'token', expire: () => undefined });
    await vi.advanceTimersByTimeAsync(31_000);
    expect(signal?.aborted).toBe(true);
    expect(live.status).toEqual({ state: 'retrying', reason: 'nothing received for 31 s', inMs: 1_000 });
    live.stop();
  });

  it('backs off from the server’s retry, doubling per failure, and a hello does not reset it', async () => {
    // Two failures first, then a stream that ends right after its hello, twice.
    const server = scriptedServer([503, 503]);
    const retries: number[] = [];
    const live = connectLive({ fetch: server.fetch, token: () => 'token', expire: () => undefined });
    live.onStatus((s) => {
      if (s.state === 'retrying') retries.push(s.inMs);
    });
    await vi.advanceTimersByTimeAsync(0);
    await vi.advanceTimersByTimeAsync(1_000);
    await vi.advanceTimersByTimeAsync(2_000);
    expect(retries).toEqual([1_000, 2_000]);
    // The third attempt connects; the server asks for 5 s; the stream ends before any snapshot.
    const third = server.connections[0] as Connection;
    third.send(`retry: 5000\n${hello(5_000, 15_000)}`);
    third.end();
    await vi.advanceTimersByTimeAsync(0);
    expect(retries).toEqual([1_000, 2_000, 5_000]);
    await vi.advanceTimersByTimeAsync(5_000);
    const fourth = server.connections[1] as Connection;
    fourth.send(`retry: 5000\n${hello(5_000, 15_000)}`);
    fourth.end();
    await vi.advanceTimersByTimeAsync(0);
    // Doubled, not reset to 1 s by the hello.
    expect(retries).toEqual([1_000, 2_000, 5_000, 10_000]);
    await vi.advanceTimersByTimeAsync(10_000);
    // Data flowing resets the delay to the server's retry.
    const fifth = server.connections[2] as Connection;
    fifth.send(`retry: 5000\n${hello(5_000, 15_000)}${stats('2026-03-01T10:00:23.000Z', 3)}`);
    fifth.end();
    await vi.advanceTimersByTimeAsync(0);
    expect(retries).toEqual([1_000, 2_000, 5_000, 10_000, 5_000]);
    expect(live.status).toEqual({ state: 'retrying', reason: 'the live stream ended', inMs: 5_000 });
    live.stop();
  });

  it('signs the page out on 401', async () => {
    const server = scriptedServer([401]);
    let token: string | null = 'token';
    const expired: string[] = [];
    connectLive({
      fetch: server.fetch,
      token: () => token,
      expire: (message) => {
        token = null;
        expired.push(message);
      },
    });
    await vi.advanceTimersByTimeAsync(60_000);
    expect(expired).toEqual(['Your session ended: the admin token was not accepted. Sign in again.']);
    expect(server.calls).toHaveBeenCalledTimes(1);
  });
});
