/**
 * The live statistics stream (GET /admin/api/live, Server-Sent Events) read
 * with fetch, because EventSource cannot send the Authorization header.
 * eventsource-parser does the SSE framing; this reconnects with backoff and
 * reports its state, and a 401 signs the page out.
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
  stop(): void;
}

const MAX_BACKOFF_MS = 30_000;

export function connectLive(path = '/admin/api/live'): LiveClient {
  const snapshotListeners = new Set<(s: LiveSnapshot) => void>();
  const statusListeners = new Set<(s: LiveStatus) => void>();
  const controller = new AbortController();
  let last: LiveSnapshot | null = null;
  let retryMs = 1_000;
  const status = (s: LiveStatus): void => statusListeners.forEach((l) => l(s));

  const once = async (): Promise<void> => {
    const token = session.token;
    if (!token) return session.expire('Sign in to continue.');
    status({ state: 'connecting' });
    const response = await fetch(path, { headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' }, signal: controller.signal, cache: 'no-store' });
    if (response.status === 401) return session.expire('Your session ended: the admin token was not accepted. Sign in again.');
    if (!response.ok || !response.body) throw new RequestError(response.status, `http_${response.status}`, `live stream answered ${response.status}`);
    const parser = createParser({
      onEvent(event) {
        if (event.event === 'hello') retryMs = 1_000;
        if (event.event !== 'stats') return;
        const snapshot = JSON.parse(event.data) as LiveSnapshot;
        last = snapshot;
        status({ state: 'live', at: snapshot.at });
        snapshotListeners.forEach((l) => l(snapshot));
      },
      onRetry(ms) {
        retryMs = ms;
      },
    });
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      parser.feed(value);
    }
    throw new Error('the live stream ended');
  };

  const loop = async (): Promise<void> => {
    while (!controller.signal.aborted && session.token) {
      try {
        await once();
        if (!session.token) return;
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
    stop() {
      controller.abort();
    },
  };
}
