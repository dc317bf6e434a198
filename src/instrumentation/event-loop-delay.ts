import { type IntervalHistogram, monitorEventLoopDelay } from 'node:perf_hooks';

export interface EventLoopDelayStats {
  p50: number;
  p99: number;
  max: number;
}

/** Shortest window a read closes: reads closer together than this share the previous window. */
export const MIN_WINDOW_MS = 5_000;

/** libuv's sampling interval: every value it records is this interval plus the delay. */
export const RESOLUTION_MS = 20;

/** What EventLoopDelay reads of a histogram (perf_hooks' IntervalHistogram, or a test's). */
export type DelayHistogram = Pick<IntervalHistogram, 'count' | 'max' | 'percentile' | 'reset' | 'enable' | 'disable'>;

/**
 * Event-loop delay from libuv's sampling histogram (no JS timer of ours), in
 * seconds, over windows that each collection closes. A read closes the
 * current window only when it is at least `minWindowMs` old, and otherwise
 * answers the last closed one: with two metric readers (a Prometheus pull
 * and an OTLP push, say), a read no longer resets the histogram under the
 * other, which would then see only the delays since the first one's read.
 *
 * The histogram records the time between two ticks of a timer that repeats
 * every RESOLUTION_MS, so an idle loop reads 20 ms: the resolution is
 * subtracted (at 0 at least) to report the delay itself.
 */
export class EventLoopDelay {
  private last: EventLoopDelayStats | undefined;
  private windowStart: number;

  constructor(
    private readonly minWindowMs = MIN_WINDOW_MS,
    private readonly clock: () => number = () => performance.now(),
    private readonly histogram: DelayHistogram = monitorEventLoopDelay({ resolution: RESOLUTION_MS }),
  ) {
    this.windowStart = clock();
    this.histogram.enable();
  }

  /** Percentiles of the last closed window; undefined before the first sample. */
  read(): EventLoopDelayStats | undefined {
    const h = this.histogram;
    const now = this.clock();
    if ((this.last === undefined || now - this.windowStart >= this.minWindowMs) && h.count > 0) {
      this.last = { p50: delaySeconds(h.percentile(50)), p99: delaySeconds(h.percentile(99)), max: delaySeconds(h.max) };
      h.reset();
      this.windowStart = now;
    }
    return this.last;
  }

  stop(): void {
    this.histogram.disable();
  }
}

/** A recorded interval (nanoseconds) less the sampling resolution, in seconds. */
function delaySeconds(recordedNs: number): number {
  return Math.max(0, recordedNs - RESOLUTION_MS * 1e6) / 1e9;
}
