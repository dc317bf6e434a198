/**
 * Event-loop delay windows: a read closes the window only when it is old
 * enough, so a second metric reader right after the first sees the same
 * figures instead of an emptied histogram.
 */
import { describe, expect, it } from 'vitest';
import { EventLoopDelay, MIN_WINDOW_MS } from '../../../src/instrumentation/event-loop-delay.ts';

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
      expect(first?.max).toBeGreaterThanOrEqual(0.29);
      expect(first?.p50).toBeLessThanOrEqual(first?.max as number);

      // A second reader 1 s later: the same window, not the few quiet samples since the first read.
      now += 1_000;
      expect(delay.read()).toBe(first);

      // Quiet until the window is old enough: the next read closes a window without the 300 ms stall.
      await new Promise((resolve) => setTimeout(resolve, 100));
      now += MIN_WINDOW_MS;
      const second = delay.read();
      expect(second).not.toBe(first);
      expect(second?.max).toBeLessThan(0.29);
    } finally {
      delay.stop();
    }
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
