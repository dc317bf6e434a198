/**
 * The live statistics stream (GET /admin/api/live, Server-Sent Events) read
 * with fetch, because EventSource cannot send the Authorization header.
 * eventsource-parser does the SSE framing; this reconnects with backoff and
 * reports its state, and a 401 signs the page out.
 *
 * A stream can go quiet without ending (a laptop that slept, a half-open
 * proxy connection): the server writes at least every keep-alive interval
 * (its hello says how often), so after twice that with nothing received the
 * connection is given up and opened again, and the page says the numbers are
 * stale instead of "Live".
 */
import { createParser } from 'eventsource-parser';
import type { LiveSnapshot } from '../live-stats.ts';
import { RequestError, session } from './http.ts';

export type { LiveSnapshot };
export type LiveStatus = { state: 'connecting' } | { state: 'live'; at: string } | { state: 'retrying'; reason: string; inMs: number };

export interface LiveClient {
  /** Returns a function that removes the listener. */
  onSnapshot(listener: (snapshot: LiveSnapshot) => void): () => void;
  onStatus(listener: (status: LiveStatus) => void): () => void;
  readonly last: LiveSnapshot | null;
  /** The latest status, for views rendered after it was reported. */
  readonly status: LiveStatus;
  stop(): void;
}

export interface LiveOptions {
  path?: string;
  /** For tests; the page's own fetch, token and sign-out by default. */
  fetch?: typeof fetch;
  token?: () => string | null;
  expire?: (message: string) => void;
}

/** The first reconnect delay when the server names none (its `retry:` field). */
const DEFAULT_RETRY_MS = 1_000;
const MAX_BACKOFF_MS = 30_000;
/** What src/admin/live-stream.ts does when its hello does not say: a snapshot every 5 s, a keep-alive comment after 15 s without one. */
const DEFAULT_INTERVAL_MS = 5_000;
const DEFAULT_KEEPALIVE_MS = 15_000;
/** How often the silence is checked. */
const WATCH_MS = 1_000;

interface Hello {
  interval_ms?: number;
  keepalive_ms?: number;
}

/** Silence after which a stream is given up: twice the longest the server may stay quiet. */
export function silenceLimitMs(hello: Hello = {}): number {
  const positive = (v: unknown, fallback: number): number => (typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : fallback);
  return 2 * Math.max(positive(hello.interval_ms, DEFAULT_INTERVAL_MS), positive(hello.keepalive_ms, DEFAULT_KEEPALIVE_MS));
}

export function connectLive(options: LiveOptions = {}): LiveClient {
  const path = options.path ?? '/admin/api/live';
  const fetchStream = options.fetch ?? ((input, init) => fetch(input, init));
  const token = options.token ?? (() => session.token);
  const expire = options.expire ?? ((message: string) => session.expire(message));
  const snapshotListeners = new Set<(s: LiveSnapshot) => void>();
  const statusListeners = new Set<(s: LiveStatus) => void>();
  const controller = new AbortController();
  let last: LiveSnapshot | null = null;
  // The server's `retry:` is the floor of the delay; failures in a row double it, data flowing resets it.
  let baseRetryMs = DEFAULT_RETRY_MS;
  let retryMs = baseRetryMs;
  let silenceLimit = silenceLimitMs();
  let current: LiveStatus = { state: 'connecting' };
  const status = (s: LiveStatus): void => {
    current = s;
    statusListeners.forEach((l) => l(s));
  };

  const once = async (): Promise<void> => {
    const bearer = token();
    if (!bearer) return expire('Sign in to continue.');
    status({ state: 'connecting' });
    // One controller per connection: the silence check gives up this one, stop() every one.
    const attempt = new AbortController();
    const stopAttempt = (): void => attempt.abort();
    controller.signal.addEventListener('abort', stopAttempt, { once: true });
    let lastReceived = Date.now();
    let silentFor = 0;
    const watchdog = setInterval(() => {
      const silent = Date.now() - lastReceived;
      if (silent > silenceLimit) {
        silentFor = silent;
        attempt.abort();
      }
    }, WATCH_MS);
    try {
      const response = await fetchStream(path, { headers: { authorization: `Bearer ${bearer}`, accept: 'text/event-stream' }, signal: attempt.signal, cache: 'no-store' });
      if (response.status === 401) return expire('Your session ended: the admin token was not accepted. Sign in again.');
      if (!response.ok || !response.body) throw new RequestError(response.status, `http_${response.status}`, `live stream answered ${response.status}`);
      const parser = createParser({
        onEvent(event) {
          if (event.event === 'hello') silenceLimit = silenceLimitMs(JSON.parse(event.data) as Hello);
          if (event.event !== 'stats') return;
          const snapshot = JSON.parse(event.data) as LiveSnapshot;
          last = snapshot;
          retryMs = baseRetryMs;
          status({ state: 'live', at: snapshot.at });
          snapshotListeners.forEach((l) => l(snapshot));
        },
        onRetry(ms) {
          baseRetryMs = ms;
          retryMs = Math.max(retryMs, ms);
        },
      });
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        // Keep-alive comments count: they prove the connection still carries data.
        lastReceived = Date.now();
        parser.feed(value);
      }
      throw new Error('the live stream ended');
    } catch (error) {
      if (silentFor > 0 && !controller.signal.aborted) throw new Error(`nothing received for ${Math.round(silentFor / 1000)} s`);
      throw error;
    } finally {
      clearInterval(watchdog);
      controller.signal.removeEventListener('abort', stopAttempt);
    }
  };

  const loop = async (): Promise<void> => {
    while (!controller.signal.aborted && token()) {
      try {
        await once();
        if (!token()) return;
      } catch (error) {
        if (controller.signal.aborted) return;
        const reason = error instanceof Error ? error.message : String(error);
        status({ state: 'retrying', reason, inMs: retryMs });
        await new Promise((resolve) => setTimeout(resolve, retryMs));
        retryMs = Math.min(retryMs * 2, MAX_BACKOFF_MS);
      }
    }
  };
  void loop();

  return {
    onSnapshot(listener) {
      snapshotListeners.add(listener);
      return () => snapshotListeners.delete(listener);
    },
    onStatus(listener) {
      statusListeners.add(listener);
      return () => statusListeners.delete(listener);
    },
    get last() {
      return last;
    },
    get status() {
      return current;
    },
    stop() {
      controller.abort();
    },
  };
}
