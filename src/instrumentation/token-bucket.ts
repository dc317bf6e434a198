/**
 * A token bucket without a timer: `perSecond` tokens a second, holding at
 * most `burst` (`perSecond`, at least 1), full at the start. take() refills
 * it from the time elapsed since the previous call, read from `clock`
 * (milliseconds, monotonic: performance.now() unless a test injects one), so
 * an idle bucket costs nothing and a busy one two numbers and a subtraction
 * per call.
 *
 * `Infinity` always grants and 0 never does; neither reads the clock.
 */
export class TokenBucket {
  readonly burst: number;
  private tokens: number;
  /** Clock reading of the previous take(); -Infinity before the first, so the first finds the bucket full. */
  private last = -Infinity;

  constructor(
    readonly perSecond: number,
    private readonly clock: () => number = () => performance.now(),
  ) {
    if (!(perSecond >= 0)) throw new RangeError(`TokenBucket: perSecond must be >= 0, got ${perSecond}`);
    this.burst = perSecond === 0 ? 0 : Math.max(perSecond, 1);
    this.tokens = this.burst;
  }

  /** Takes one token if there is one; false when the bucket is empty. */
  take(): boolean {
    if (this.perSecond === Infinity) return true;
    if (this.perSecond === 0) return false;
    const now = this.clock();
    const elapsed = now - this.last;
    this.last = now;
    // A clock that went backwards refills nothing (and the next call measures from the new reading).
    if (elapsed > 0) this.tokens = Math.min(this.burst, this.tokens + (elapsed * this.perSecond) / 1000);
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
