/**
 * Event-loop delay windows: a read closes the window only when it is old
 * enough, so a second metric reader right after the first sees the same
 * figures instead of an emptied histogram. Reported values are delays, without
 * libuv's sampling interval.
 */
import { describe, expect, it } from 'vitest';
import { type DelayHistogram, EventLoopDelay, MIN_WINDOW_MS, RESOLUTION_MS } from '../../../src/instrumentation/event-loop-delay.ts';

/** Blocks the event loop for `ms` between two ticks of libuv's sampling timer (it measures from its previous tick). */
async function stall(ms: number): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, 50));
  const until = performance.now() + ms;
  while (performance.now() < until);
  await new Promise((resolve) => setTimeout(resolve, 50));
}

describe('EventLoopDelay', () => {
  it('answers the last closed window to reads closer together than the minimum window, then closes a new one', async () => {
    let now = 0;
    const delay = new EventLoopDelay(MIN_WINDOW_MS, () => now);
    try {
      await stall(300);
      const first = delay.read();
      // libuv's timer ticked at most RESOLUTION_MS before the stall began: the interval it recorded
      // across the stall, less the resolution, is at least 300 - 20 ms.
      expect(first?.max).toBeGreaterThanOrEqual(0.28);
      expect(first?.p50).toBeLessThanOrEqual(first?.max as number);

      // A second reader 1 s later: the same window, not the few quiet samples since the first read.
      now += 1_000;
      expect(delay.read()).toBe(first);

      // Quiet until the window is old enough: the next read closes a window without the 300 ms stall.
      await new Promise((resolve) => setTimeout(resolve, 100));
      now += MIN_WINDOW_MS;
      const second = delay.read();
      expect(second).not.toBe(first);
      expect(second?.max).toBeLessThan(0.28);
    } finally {
      delay.stop();
    }
  });

  it('reports the recorded intervals less the sampling resolution, never below 0', () => {
    const ms = 1e6;
    // What libuv records: the interval between two ticks of its timer (resolution + delay), in ns.
    const recorded: Record<number, number> = { 50: RESOLUTION_MS * ms, 99: (RESOLUTION_MS + 5) * ms };
    let enabled = false;
    const histogram: DelayHistogram = {
      count: 3,
      max: (RESOLUTION_MS + 120) * ms,
      percentile: (p: number) => recorded[p] ?? Number.NaN,
      reset: () => {},
      enable: () => (enabled = true),
      disable: () => (enabled = false),
    };
    const delay = new EventLoopDelay(MIN_WINDOW_MS, () => 0, histogram);
    expect(enabled).toBe(true);
    // An idle loop (every tick on time) reads 0, not the 20 ms resolution.
    expect(delay.read()).toEqual({ p50: 0, p99: 0.005, max: 0.12 });
    delay.stop();
    expect(enabled).toBe(false);

    // A timer tick that came a little early (libuv rounds to the millisecond) is no negative delay.
    recorded[50] = (RESOLUTION_MS - 1) * ms;
    expect(new EventLoopDelay(MIN_WINDOW_MS, () => 0, histogram).read()?.p50).toBe(0);
  });

  it('answers undefined until the histogram has a sample', () => {
    const delay = new EventLoopDelay(MIN_WINDOW_MS, () => 0);
    try {
      expect(delay.read()).toBeUndefined();
    } finally {
      delay.stop();
    }
  });
});
