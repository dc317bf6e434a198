import { type IntervalHistogram, monitorEventLoopDelay } from 'node:perf_hooks';

export interface EventLoopDelayStats {
  p50: number;
  p99: number;
  max: number;
}

/** Shortest window a read closes: reads closer together than this share the previous window. */
export const MIN_WINDOW_MS = 5_000;

/**
 * Event-loop delay from libuv's sampling histogram (no JS timer of ours), in
 * seconds, over windows that each collection closes. A read closes the
 * current window only when it is at least `minWindowMs` old, and otherwise
 * answers the last closed one: with two metric readers (a Prometheus pull
 * and an OTLP push, say), a read no longer resets the histogram under the
 * other, which would then see only the delays since the first one's read.
 */
export class EventLoopDelay {
  private readonly histogram: IntervalHistogram = monitorEventLoopDelay({ resolution: 20 });
  private last: EventLoopDelayStats | undefined;
  private windowStart: number;

  constructor(
    private readonly minWindowMs = MIN_WINDOW_MS,
    private readonly clock: () => number = () => performance.now(),
  ) {
    this.windowStart = clock();
    this.histogram.enable();
  }

  /** Percentiles of the last closed window; undefined before the first sample. */
  read(): EventLoopDelayStats | undefined {
    const h = this.histogram;
    const now = this.clock();
    if ((this.last === undefined || now - this.windowStart >= this.minWindowMs) && h.count > 0) {
      this.last = { p50: h.percentile(50) / 1e9, p99: h.percentile(99) / 1e9, max: h.max / 1e9 };
      h.reset();
      this.windowStart = now;
    }
    return this.last;
  }

  stop(): void {
    this.histogram.disable();
  }
}
