/**
 * The transport's delivery policy with a scripted fetch and fake timers:
 * batching, bounded queue, bounded retry with backoff, waiting out network
 * errors (offline) without spending retries, Retry-After, 4xx drops, and
 * bodies split to the keepalive budget, page hide included.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { BEACON_HOLD_MS, KEEPALIVE_BUDGET, Transport, keepaliveBytesInFlight, retryAfterMs } from '../src/transport/transport.ts';

interface Call {
  body: string;
  keepalive: boolean;
}

let calls: Call[];
let replies: Array<number | 'network-error' | { status: number; retryAfter: string }>;
/** Every request fails as a network error (the page is offline), replies untouched. */
let offline: boolean;

beforeEach(() => {
  vi.useFakeTimers({ now: 1_000_000 });
  calls = [];
  replies = [];
  offline = false;
  vi.stubGlobal('fetch', (_url: string, init: RequestInit) => {
    calls.push({ body: String(init.body), keepalive: init.keepalive === true });
    const reply = offline ? 'network-error' : (replies.shift() ?? 200);
    if (reply === 'network-error') return Promise.reject(new TypeError('Failed to fetch'));
    const { status, retryAfter } = typeof reply === 'number' ? { status: reply, retryAfter: undefined } : reply;
    return Promise.resolve(new Response(null, { status, headers: retryAfter ? { 'retry-after': retryAfter } : {} }));
  });
});

afterEach(async () => {
  // The keepalive budget is the page's, shared by every transport: each test must give back what it used.
  await vi.advanceTimersByTimeAsync(BEACON_HOLD_MS);
  expect(keepaliveBytesInFlight()).toBe(0);
  vi.useRealTimers();
  vi.unstubAllGlobals();
  vi.restoreAllMocks();
});

const settle = () => vi.advanceTimersByTimeAsync(0);
const backoff = { initialDelayMs: 1000, maxDelayMs: 8000, multiplier: 2, jitter: 0 };

function transport(options: Partial<ConstructorParameters<typeof Transport<number>>[0]> = {}) {
  return new Transport<number>({ url: 'http://127.0.0.1:1/v1', encode: (items) => JSON.stringify(items), maxItems: 5, maxBatch: 3, backoff, ...options });
}

describe('Transport', () => {
  it('sends queued items in batches, one request at a time', async () => {
    const t = transport();
    for (let i = 1; i <= 5; i++) t.push(i);
    t.flush();
    t.flush();
    await settle();
    expect(calls.map((c) => c.body)).toEqual(['[1,2,3]', '[4,5]']);
    expect(t.stats).toEqual({ pending: 0, delivered: 5, dropped: 0, failures: 0, inFlight: 0 });
  });

  it('keeps at most maxItems, dropping the oldest', async () => {
    const t = transport();
    for (let i = 1; i <= 8; i++) t.push(i);
    expect(t.stats).toMatchObject({ pending: 5, dropped: 3 });
    t.flush();
    await settle();
    expect(calls.map((c) => c.body)).toEqual(['[4,5,6]', '[7,8]']);
  });

  it('retries a failed batch with exponential backoff, then drops it after maxRetries; the next batch still waits', async () => {
    const t = transport({ maxRetries: 2 });
    replies = [500, 502, 500];
    t.push(1);
    t.flush();
    await settle();
    expect(calls).toHaveLength(1);
    expect(t.stats).toMatchObject({ pending: 1, failures: 1 });
    t.flush(); // still backing off: nothing is sent
    await vi.advanceTimersByTimeAsync(999);
    expect(calls).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(calls).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1999);
    expect(calls).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1);
    expect(calls).toHaveLength(3);
    expect(t.stats).toMatchObject({ pending: 0, delivered: 0, dropped: 1, failures: 3 });
    // The endpoint is failing: the next batch is not sent at once, but after the grown backoff.
    t.push(2);
    t.flush();
    await vi.advanceTimersByTimeAsync(3999);
    expect(calls).toHaveLength(3);
    await vi.advanceTimersByTimeAsync(1);
    expect(calls.map((c) => c.body)).toEqual(['[1]', '[1]', '[1]', '[2]']);
    expect(t.stats).toMatchObject({ pending: 0, delivered: 1, dropped: 1, failures: 3 });
  });

  /** Simulated milliseconds between the requests of the next `n` network failures. */
  async function gaps(n: number): Promise<number[]> {
    const out: number[] = [];
    for (let i = 0; i < n; i++) {
      const before = calls.length;
      const start = Date.now();
      while (calls.length === before) {
        expect(vi.getTimerCount()).toBeGreaterThan(0); // a retry is scheduled
        await vi.advanceTimersToNextTimerAsync();
      }
      out.push(Date.now() - start);
    }
    return out;
  }

  it('waits out network errors (offline) without spending retries, the backoff growing to maxDelayMs', async () => {
    const t = transport({ maxRetries: 2 });
    offline = true;
    t.push(1);
    t.flush();
    await settle();
    expect(await gaps(7)).toEqual([1000, 2000, 4000, 8000, 8000, 8000, 8000]);
    expect(t.stats).toMatchObject({ pending: 1, dropped: 0, failures: 8 });
    offline = false;
    await vi.advanceTimersToNextTimerAsync();
    expect(t.stats).toMatchObject({ pending: 0, delivered: 1, dropped: 0, failures: 8 });
    // Delivered: the backoff starts over.
    offline = true;
    t.push(2);
    t.flush();
    await settle();
    expect(await gaps(2)).toEqual([1000, 2000]);
  });

  it('delivers every payload of a 5-minute outage once the network is back, within maxItems', async () => {
    // The OTLP transports' settings: a payload every 30 s, 30 kept, 8 per request, 1 s doubling to 60 s.
    const t = new Transport<number>({
      url: 'http://127.0.0.1:1/v1/metrics',
      encode: (items) => JSON.stringify(items),
      maxItems: 30,
      maxBatch: 8,
      backoff: { initialDelayMs: 1000, maxDelayMs: 60_000, multiplier: 2, jitter: 0 },
    });
    offline = true;
    for (let i = 1; i <= 10; i++) {
      t.push(i);
      t.flush();
      await vi.advanceTimersByTimeAsync(30_000);
    }
    // Retries 1, 2, 4, 8, 16, 32 s apart, then once a minute, none dropped (before: dropped after 31 s).
    const outage = calls.length;
    expect(outage).toBe(10);
    offline = false;
    t.push(11);
    t.flush(); // still backing off
    t.push(12);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(calls.slice(outage).map((c) => c.body)).toEqual(['[1,2,3,4,5,6,7,8]', '[9,10,11,12]']);
    expect(t.stats).toMatchObject({ pending: 0, delivered: 12, dropped: 0, failures: 10 });
  });

  it('still drops the oldest beyond maxItems while offline, counting them', async () => {
    const t = transport();
    offline = true;
    for (let i = 1; i <= 3; i++) t.push(i);
    t.flush();
    await settle();
    for (let i = 4; i <= 9; i++) t.push(i);
    await vi.advanceTimersByTimeAsync(600_000);
    expect(t.stats).toMatchObject({ pending: 5, dropped: 4, delivered: 0 });
    offline = false;
    await vi.advanceTimersByTimeAsync(8000);
    expect(calls.slice(-2).map((c) => c.body)).toEqual(['[5,6,7]', '[8,9]']);
    expect(t.stats).toMatchObject({ pending: 0, dropped: 4, delivered: 5 });
  });

  it('resumes at once on the window’s online event instead of waiting out the backoff, until stop()', async () => {
    const window = new EventTarget();
    vi.stubGlobal('addEventListener', window.addEventListener.bind(window));
    vi.stubGlobal('removeEventListener', window.removeEventListener.bind(window));
    const t = transport({ backoff: { ...backoff, maxDelayMs: 60_000 } });
    offline = true;
    t.push(1);
    t.flush();
    await settle();
    await gaps(5); // backing off 32 s now
    offline = false;
    window.dispatchEvent(new Event('online'));
    await settle();
    expect(calls).toHaveLength(7);
    expect(t.stats).toMatchObject({ pending: 0, delivered: 1 });

    // A Retry-After is the endpoint's wish, not the network's: the online event does not cut it short.
    replies = [{ status: 429, retryAfter: '60' }];
    t.push(2);
    t.flush();
    await settle();
    window.dispatchEvent(new Event('online'));
    await settle();
    expect(calls).toHaveLength(8);

    t.stop();
    await vi.advanceTimersByTimeAsync(60_000);
    window.dispatchEvent(new Event('online'));
    await settle();
    expect(calls).toHaveLength(8);
    expect(t.stats.pending).toBe(1);
  });

  it('after stop(), a final flush still in flight that fails is neither re-queued nor retried', async () => {
    const t = transport();
    offline = true;
    t.push(1);
    t.push(2);
    t.flush(true); // as a sink's shutdown(): the final flush, then stop()
    t.stop();
    expect(calls).toHaveLength(1); // the final flush is still attempted once
    await settle();
    expect(vi.getTimerCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(3_600_000);
    expect(calls).toHaveLength(1);
    expect(t.stats).toEqual({ pending: 0, delivered: 0, dropped: 2, failures: 1, inFlight: 0 });
  });

  it('after stop(), sends no further batch when a request in flight completes, and retries none that fails; flush(true) still sends the queue once', async () => {
    const t = transport({ maxItems: 10 });
    replies = [503, 'network-error'];
    for (let i = 1; i <= 6; i++) t.push(i);
    t.flush(); // [1,2,3] in flight; [4,5,6] waits for it
    t.stop();
    await settle();
    expect(vi.getTimerCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(3_600_000);
    expect(calls.map((c) => c.body)).toEqual(['[1,2,3]']);
    expect(t.stats).toEqual({ pending: 3, delivered: 0, dropped: 3, failures: 1, inFlight: 0 });

    t.flush(true); // as the OTLP sink's shutdown: the providers' last export, then the final flush
    await settle();
    await vi.advanceTimersByTimeAsync(3_600_000);
    expect(calls.map((c) => c.body)).toEqual(['[1,2,3]', '[4,5,6]']);
    expect(t.stats).toEqual({ pending: 0, delivered: 0, dropped: 6, failures: 2, inFlight: 0 });
    expect(vi.getTimerCount()).toBe(0);
  });

  it('after stop(), sends nothing a Retry-After still holds, not even at a final flush, nor later: the final flush drops it, counted', async () => {
    const t = transport();
    replies = [{ status: 429, retryAfter: '60' }];
    t.push(1);
    t.flush();
    await settle();
    t.push(2);
    t.stop();
    t.flush(true);
    await vi.advanceTimersByTimeAsync(3_600_000);
    expect(calls).toHaveLength(1);
    expect(vi.getTimerCount()).toBe(0);
    expect(t.stats).toEqual({ pending: 0, delivered: 0, dropped: 2, failures: 1, inFlight: 0 });
  });

  it('waits as long as Retry-After says on 429 and 503', async () => {
    const t = transport();
    replies = [{ status: 429, retryAfter: '30' }, { status: 503, retryAfter: '5' }, 202];
    t.push(1);
    t.flush();
    await settle();
    await vi.advanceTimersByTimeAsync(29_999);
    t.flush(true); // not even a page-hide flush may send before Retry-After
    expect(calls).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(calls).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(5000);
    expect(calls).toHaveLength(3);
    expect(t.stats).toMatchObject({ delivered: 1, failures: 2, pending: 0 });
  });

  it('waits 30 s on a 429 or 503 whose Retry-After it cannot read (not CORS-exposed), without spending retries', async () => {
    const t = transport({ maxRetries: 2 });
    // Ten minutes of rate limiting without a readable Retry-After: far more than maxRetries.
    replies = [...Array.from({ length: 10 }, () => 429), ...Array.from({ length: 10 }, () => 503), 202];
    t.push(1);
    t.flush();
    await settle();
    for (let n = 1; n <= 20; n++) {
      expect(calls).toHaveLength(n);
      t.flush(true); // a page-hide flush waits too
      await vi.advanceTimersByTimeAsync(29_999);
      expect(calls).toHaveLength(n);
      await vi.advanceTimersByTimeAsync(1);
    }
    expect(calls.map((c) => c.body)).toEqual(Array.from({ length: 21 }, () => '[1]'));
    expect(t.stats).toMatchObject({ pending: 0, delivered: 1, dropped: 0, failures: 20 });
  });

  it('keeps the queue bounded while rate limited, and jitters the 30 s wait upwards', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0.5);
    const t = transport({ backoff: { ...backoff, jitter: 0.4 } });
    replies = [429];
    for (let i = 1; i <= 3; i++) t.push(i);
    t.flush();
    await settle();
    for (let i = 4; i <= 9; i++) t.push(i);
    expect(t.stats).toMatchObject({ pending: 5, dropped: 4 });
    await vi.advanceTimersByTimeAsync(35_999); // 30 s · (1 + 0.4 · 0.5)
    expect(calls).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(calls.map((c) => c.body)).toEqual(['[1,2,3]', '[5,6,7]', '[8,9]']);
    expect(t.stats).toMatchObject({ pending: 0, delivered: 5, dropped: 4 });
  });

  it('drops a batch the endpoint rejects (4xx other than 408/429) without retrying', async () => {
    const t = transport();
    replies = [400, 200];
    t.push(1);
    t.push(2);
    t.push(3);
    t.push(4);
    t.flush();
    await settle();
    expect(calls.map((c) => c.body)).toEqual(['[1,2,3]', '[4]']);
    expect(t.stats).toMatchObject({ delivered: 1, dropped: 3, failures: 1 });
  });

  it('on page hide sends everything at once, split to fit the keepalive budget', async () => {
    const big = 'x'.repeat(25 * 1024);
    const t = new Transport<string>({ url: 'http://127.0.0.1:1/v1', encode: (items) => JSON.stringify(items), maxItems: 10, maxBatch: 10 });
    for (let i = 0; i < 5; i++) t.push(big);
    t.flush(true);
    // All requests leave synchronously (the page may be gone a moment later).
    expect(calls.map((c) => (JSON.parse(c.body) as string[]).length)).toEqual([2, 2, 1]);
    expect(calls.every((c) => c.body.length <= KEEPALIVE_BUDGET)).toBe(true);
    // Keepalive bodies in flight may total 64 KB per page: the first batch (50 KB) uses it up,
    // the rest go as ordinary requests (delivered if the page lives on, e.g. only hidden).
    expect(calls.map((c) => c.keepalive)).toEqual([true, false, false]);
    await settle();
    expect(t.stats).toMatchObject({ delivered: 5, pending: 0 });
  });

  it('splits every body to the keepalive budget, so a backlog sent as the page hides goes keepalive as far as the budget allows', async () => {
    // What otlpExport's page-hide flush does: the exporters push the last export and pump (flush()),
    // then everything left goes with flush(true), all in one task.
    const item = 'x'.repeat(25 * 1024);
    const t = new Transport<string>({ url: 'http://127.0.0.1:1/v1', encode: (items) => JSON.stringify(items), maxItems: 30, maxBatch: 8 });
    for (let i = 0; i < 4; i++) t.push(item);
    t.push(item);
    t.flush();
    t.flush(true);
    expect(calls.map((c) => (JSON.parse(c.body) as string[]).length)).toEqual([2, 2, 1]);
    expect(calls.map((c) => c.body.length <= KEEPALIVE_BUDGET)).toEqual([true, true, true]);
    expect(calls.map((c) => c.keepalive)).toEqual([true, false, false]);
    await settle();
    expect(t.stats).toMatchObject({ delivered: 5, pending: 0 });

    // Outside page hide too: one request at a time, each within the budget (keepalive while it lasts).
    for (let i = 0; i < 5; i++) t.push(item);
    t.flush();
    await settle();
    expect(calls.slice(3).map((c) => [(JSON.parse(c.body) as string[]).length, c.keepalive])).toEqual([
      [2, true],
      [2, true],
      [1, true],
    ]);
  });

  it('uses sendBeacon for page-hide flushes when configured, and fetch when the beacon is refused', async () => {
    const beacons: string[] = [];
    let accept = true;
    vi.stubGlobal('navigator', {
      sendBeacon: (_url: string, body: Blob) => {
        void body.text().then((text) => beacons.push(text));
        return accept;
      },
    });
    const t = transport({ beacon: true });
    t.push(1);
    t.flush(true);
    accept = false;
    t.push(2);
    t.flush(true);
    await settle();
    expect(beacons).toEqual(['[1]', '[2]']);
    expect(calls.map((c) => c.body)).toEqual(['[2]']);
    expect(t.stats).toMatchObject({ delivered: 2, pending: 0 });
  });
});

describe('the keepalive budget, shared by the page’s transports', () => {
  const kb = (n: number) => 'x'.repeat(n * 1024);
  const stringTransport = (url: string, beacon = false) =>
    new Transport<string>({ url, encode: (items) => JSON.stringify(items), maxItems: 10, maxBatch: 10, beacon });
  const keepaliveBytes = () => calls.filter((c) => c.keepalive).reduce((sum, c) => sum + c.body.length, 0);

  it('never has more keepalive bytes in flight than the budget, whatever the number of transports', async () => {
    // What a page hide does: metrics, traces and reports flush in the same task.
    const metrics = stringTransport('http://127.0.0.1:1/v1/metrics');
    const traces = stringTransport('http://127.0.0.1:1/v1/traces');
    const reports = stringTransport('http://127.0.0.1:1/api/ws/client-metrics');
    for (const t of [metrics, traces, reports]) {
      t.push(kb(25));
      t.push(kb(25));
      t.flush(true);
    }
    expect(calls).toHaveLength(3);
    expect(calls.map((c) => c.keepalive)).toEqual([true, false, false]);
    expect(keepaliveBytes()).toBeLessThanOrEqual(KEEPALIVE_BUDGET);
    expect(keepaliveBytesInFlight()).toBe(calls[0]!.body.length);

    // Once the keepalive request has settled, its bytes are free again for any transport.
    await settle();
    expect(keepaliveBytesInFlight()).toBe(0);
    traces.push(kb(25));
    traces.flush(true);
    expect(calls.at(-1)?.keepalive).toBe(true);
  });

  it('counts beacons in the same budget: a later keepalive fetch or beacon that does not fit goes without', async () => {
    const beacons: number[] = [];
    vi.stubGlobal('navigator', {
      sendBeacon: (_url: string, body: Blob) => {
        beacons.push(body.size);
        return true;
      },
    });
    const reports = stringTransport('http://127.0.0.1:1/api/ws/client-metrics', true);
    const metrics = stringTransport('http://127.0.0.1:1/v1/metrics');
    reports.push(kb(40));
    reports.flush(true);
    expect(beacons).toHaveLength(1);
    expect(keepaliveBytesInFlight()).toBe(beacons[0]);

    metrics.push(kb(30));
    metrics.flush(true);
    expect(calls.map((c) => c.keepalive)).toEqual([false]);
    // A second beacon would overrun the budget (the browser would refuse it): a fetch instead.
    reports.push(kb(30));
    reports.flush(true);
    expect(beacons).toHaveLength(1);
    expect(calls.map((c) => c.keepalive)).toEqual([false, false]);
    await settle();
    expect(reports.stats).toMatchObject({ delivered: 2, pending: 0 });

    // A beacon's completion is not observable: its bytes count for BEACON_HOLD_MS.
    await vi.advanceTimersByTimeAsync(BEACON_HOLD_MS - 1);
    expect(keepaliveBytesInFlight()).toBe(beacons[0]);
    await vi.advanceTimersByTimeAsync(1);
    expect(keepaliveBytesInFlight()).toBe(0);
    metrics.push(kb(30));
    metrics.flush(true);
    expect(calls.at(-1)?.keepalive).toBe(true);
  });
});

describe('retryAfterMs', () => {
  it('reads delay-seconds and HTTP dates, capped at five minutes', () => {
    const now = Date.parse('2026-11-24T10:00:00Z');
    expect(retryAfterMs('7', now)).toBe(7000);
    expect(retryAfterMs('0.5', now)).toBe(500);
    expect(retryAfterMs('Tue, 24 Nov 2026 10:00:30 GMT', now)).toBe(30_000);
    expect(retryAfterMs('Tue, 24 Nov 2026 09:00:00 GMT', now)).toBe(0);
    expect(retryAfterMs('86400', now)).toBe(300_000);
    expect(retryAfterMs('soon', now)).toBeUndefined();
    expect(retryAfterMs(null, now)).toBeUndefined();
  });
});
