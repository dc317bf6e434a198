/**
 * A scope that is shut down, or replaced by initSocketScope(), sends its last
 * data once and then leaves nothing behind: with the endpoints unreachable,
 * its transports neither re-queue the failed final flush nor arm a retry
 * timer (they used to retry for the life of the page).
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { otlpExport } from '../src/otel.ts';
import { initSocketScope } from '../src/scope.ts';
import { keepaliveBytesInFlight } from '../src/transport/transport.ts';

let calls: string[];

/** An in-memory sessionStorage. */
function memoryStorage(): Storage {
  const map = new Map<string, string>();
  return { getItem: (key: string) => map.get(key) ?? null, setItem: (key: string, value: string) => void map.set(key, value) } as Storage;
}

beforeEach(() => {
  vi.useFakeTimers({ now: 1_000_000 });
  vi.spyOn(Math, 'random').mockReturnValue(0); // sampled; backoff delays without jitter
  vi.stubGlobal('location', new URL('http://127.0.0.1:8080/app'));
  calls = [];
  // Every endpoint unreachable: each request fails as a network error.
  vi.stubGlobal('fetch', (url: string) => {
    calls.push(new URL(url).pathname);
    return Promise.reject(new TypeError('Failed to fetch'));
  });
});

afterEach(async () => {
  await initSocketScope({ storage: memoryStorage() }).shutdown();
  vi.useRealTimers();
  vi.unstubAllGlobals();
  vi.restoreAllMocks();
});

describe('a scope shut down or replaced while its endpoints are unreachable', () => {
  it('sends its client reports’ final flush once, then nothing more (re-init)', async () => {
    const first = initSocketScope({ storage: memoryStorage(), report: { url: 'http://127.0.0.1:1/api/ws/client-metrics', intervalMs: 1000 } });
    first.emit('attempt', false);
    await vi.advanceTimersByTimeAsync(1000); // the interval's report: fails, waits out the backoff
    expect(calls).toEqual(['/api/ws/client-metrics']);
    const [reporter] = (first as unknown as { sinks: Array<{ stats: object }> }).sinks;

    initSocketScope({ storage: memoryStorage() }); // replaces (and shuts down) the first scope
    await vi.advanceTimersByTimeAsync(0);
    expect(calls).toEqual(['/api/ws/client-metrics', '/api/ws/client-metrics']); // the final flush, once
    await vi.advanceTimersByTimeAsync(3_600_000);
    expect(calls).toHaveLength(2);
    expect(reporter!.stats).toEqual({ pending: 0, delivered: 0, dropped: 1, failures: 2, inFlight: 0 });
    expect(vi.getTimerCount()).toBe(0);
    expect(keepaliveBytesInFlight()).toBe(0);
  });

  it('sends its OTLP metrics’ last export and final flush, then nothing more (shutdown())', async () => {
    const scope = initSocketScope({
      storage: memoryStorage(),
      plugins: [otlpExport({ endpoint: 'http://127.0.0.1:1', serviceName: 'shop-web', metricsIntervalMs: 3_600_000, traces: false })],
    });
    scope.emit('attempt', false);
    const [sink] = (scope as unknown as { sinks: Array<{ stats: { metrics: object } }> }).sinks;
    const done = scope.shutdown();
    await vi.advanceTimersByTimeAsync(0); // the OTel SDK's shutdown waits on a timer
    await done;
    // The provider's last export, which fails before the transport stops (so it is queued again),
    // then the final flush of it, once: its failure is final.
    expect(calls).toEqual(['/v1/metrics', '/v1/metrics']);
    await vi.advanceTimersByTimeAsync(3_600_000);
    expect(calls).toHaveLength(2);
    expect(sink!.stats.metrics).toEqual({ pending: 0, delivered: 0, dropped: 1, failures: 2, inFlight: 0 });
    expect(vi.getTimerCount()).toBe(0);
  });
});
