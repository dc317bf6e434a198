/**
 * Which messages get their per-message histograms (process duration,
 * latency) recorded: every one while the rate stays under `perSecond`, a
 * uniform random sample of about `perSecond` a second above it. A histogram
 * record with attributes costs ~1.5 µs in the JS SDK, as much as ws spends on
 * a small message, so an unbounded rate would cost the app throughput;
 * message counts stay exact (they come from the counters).
 *
 * The caller counts down to the next timed message itself (a decrement of
 * one variable per message is all an untimed message costs) and asks for the
 * next gap after each timed one. Gaps are geometric, so the timed messages
 * are a uniform sample; the rate is re-estimated about once a second from
 * the messages the gaps covered, and at once when a window's budget is spent
 * early (a burst starts, or the rate rose).
 *
 * A gap is drawn from the rate at the time, so when the rate falls (a burst
 * ends) the gap left could take minutes to run out, and only a timed message
 * re-estimates. The server therefore calls overdue() from a timer about once a
 * second (no cost per message): a second without a timed message cuts the gap
 * short and re-estimates from the messages it actually covered.
 */
export class TimingSampler {
  private ratio = 1;
  private windowStart = performance.now();
  /** Messages in this window, up to the last timed one. */
  private seen = 0;
  /** Timed messages in this window. */
  private timed = 0;
  private gap = 1;
  /** performance.now() of the last timed message (or of the last cut). */
  private lastTimed = this.windowStart;

  constructor(readonly perSecond: number) {
    if (!(perSecond > 0)) throw new RangeError(`messageTimingPerSecond must be > 0, got ${perSecond}`);
  }

  /**
   * Called with performance.now() after each timed message; returns how
   * many messages on the next timed one is (1: the very next message).
   */
  next(now: number): number {
    this.seen += this.gap;
    this.timed++;
    this.lastTimed = now;
    if (now - this.windowStart >= 1000 || this.timed > this.perSecond) this.estimate(now);
    this.gap = this.ratio === 1 ? 1 : 1 + Math.floor(Math.log(1 - Math.random()) / Math.log(1 - this.ratio));
    return this.gap;
  }

  /**
   * Called about once a second with the messages left in the countdown;
   * returns the countdown to use. When no message was timed for a second
   * while the countdown still has more than one to go, the messages the gap
   * covered so far are credited, the rate is re-estimated and the countdown
   * becomes 1 (the next message is timed). Otherwise returns `remaining`.
   */
  overdue(now: number, remaining: number): number {
    if (remaining <= 1 || now - this.lastTimed < 1000) return remaining;
    this.seen += this.gap - remaining;
    this.estimate(now);
    this.gap = 1;
    this.lastTimed = now;
    return 1;
  }

  private estimate(now: number): void {
    const elapsed = Math.max(now - this.windowStart, 1);
    const rate = (this.seen * 1000) / elapsed;
    this.ratio = rate <= this.perSecond ? 1 : this.perSecond / rate;
    this.windowStart = now;
    this.seen = 0;
    this.timed = 0;
  }

  /** The current fraction of messages timed (1 = all). */
  get fraction(): number {
    return this.ratio;
  }
}
