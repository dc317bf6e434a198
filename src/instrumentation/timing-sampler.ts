/**
 * Which messages get their per-message histograms (process duration,
 * latency) recorded: every one while the rate stays under `perSecond`, a
 * uniform random sample of about `perSecond` a second above it. A histogram
 * record with attributes costs ~1.5 µs in the JS SDK, as much as ws spends on
 * a small message, so an unbounded rate would cost the app throughput;
 * message counts stay exact (they come from the counters).
 *
 * Sampling draws the gap to the next sampled message (geometric), so an
 * unsampled message costs a decrement, not a random number.
 */
export class TimingSampler {
  private ratio = 1;
  private windowStart = performance.now();
  private seen = 0;
  /** Messages to let pass before the next sampled one. */
  private skip = 0;

  constructor(readonly perSecond: number) {
    if (!(perSecond > 0)) throw new RangeError(`messageTimingPerSecond must be > 0, got ${perSecond}`);
  }

  /** Called once per message. */
  sample(): boolean {
    this.seen++;
    if (this.skip > 0) {
      this.skip--;
      return false;
    }
    if (this.ratio === 1) {
      if (this.seen <= this.perSecond) return true;
      // The budget is spent before the window ended: the rate is above it, start sampling now.
      this.estimate(performance.now());
      if (this.ratio === 1) return true;
    }
    this.skip = Math.floor(Math.log(1 - Math.random()) / Math.log(1 - this.ratio));
    return true;
  }

  /** Called with performance.now() after a sampled message; re-estimates the ratio about once a second (so a falling rate is noticed). */
  sampled(now: number): void {
    if (now - this.windowStart >= 1000) this.estimate(now);
  }

  private estimate(now: number): void {
    const elapsed = Math.max(now - this.windowStart, 1);
    const rate = (this.seen * 1000) / elapsed;
    this.ratio = rate <= this.perSecond ? 1 : this.perSecond / rate;
    if (this.ratio === 1) this.skip = 0;
    this.windowStart = now;
    this.seen = 0;
  }

  /** The current fraction of messages recorded (1 = all). */
  get fraction(): number {
    return this.ratio;
  }
}
