import { type IntervalHistogram, monitorEventLoopDelay } from 'node:perf_hooks';

/**
 * Event-loop delay from libuv's sampling histogram (no JS timer of ours),
 * reported in seconds per collection interval and reset after each read.
 */
export class EventLoopDelay {
  private readonly histogram: IntervalHistogram = monitorEventLoopDelay({ resolution: 20 });

  constructor() {
    this.histogram.enable();
  }

  /** Percentiles since the previous read; undefined before the first sample. */
  read(): { p50: number; p99: number; max: number } | undefined {
    const h = this.histogram;
    if (h.count === 0) return undefined;
    const result = { p50: h.percentile(50) / 1e9, p99: h.percentile(99) / 1e9, max: h.max / 1e9 };
    h.reset();
    return result;
  }

  stop(): void {
    this.histogram.disable();
  }
}
