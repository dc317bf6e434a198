/** Reconnection delays: exponential growth, a cap, and jitter so a fleet of
 * browsers dropped by one server restart does not reconnect in lockstep. */
export interface BackoffOptions {
  /** Delay before the first retry. */
  initialDelayMs: number;
  /** Upper bound of any delay. */
  maxDelayMs: number;
  /** Growth factor per consecutive failed attempt. */
  multiplier: number;
  /** Fraction (0–1) of the delay that is randomised away: the delay lies in [d·(1−jitter), d]. */
  jitter: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { initialDelayMs: 500, maxDelayMs: 30_000, multiplier: 2, jitter: 0.5 };

/** Delay before retry number `retry` (1 for the first retry after a failure). */
export function backoffDelay(retry: number, options: BackoffOptions, random: () => number = Math.random): number {
  const exponential = options.initialDelayMs * options.multiplier ** Math.max(0, retry - 1);
  const capped = Math.min(options.maxDelayMs, exponential);
  const jitter = Math.min(1, Math.max(0, options.jitter));
  return Math.round(capped * (1 - jitter * random()));
}
