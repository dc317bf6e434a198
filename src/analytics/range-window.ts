/**
 * The step and the rate window of a PromQL range query over a time range.
 *
 * Why the window follows the step: a range query evaluates its expression at
 * from, from + step, …, and `rate(x[w])` (or `histogram_quantile` over
 * `rate(x_bucket[w])`) at each point looks only at the `w` before it. With a
 * fixed `[5m]` and the step of a 7-day range (2016 s), five minutes of every
 * 33.6 are read and a spike in the other 28.6 never shows. So the window
 * covers the whole step, plus one scrape interval so the increase between the
 * last sample of one window and the first of the next is not lost either
 * (Grafana's `$__rate_interval`: max(step + scrape, 4 × scrape)); never less
 * than 4 scrape intervals, so one failed scrape still leaves rate() enough
 * samples; and never less than the 5 minutes the live view and the alert
 * rules use, so a short range is as smooth as they are.
 */

/** Points a range query aims for (the step is the range over this, rounded up). */
export const TARGET_POINTS = 300;
/** The smallest step: the shipped scrape interval, so a short range does not ask for points between samples. */
export const MIN_STEP_S = 15;
/** The smallest window: the live view's and the alert rules' `[5m]`. */
export const MIN_RATE_WINDOW_S = 300;
/** prometheus/prometheus.yml's global scrape_interval. */
export const DEFAULT_SCRAPE_INTERVAL_S = 15;

export interface RangeWindow {
  /** Seconds between points. */
  stepS: number;
  /** Seconds each point's rate or quantile covers, ending at the point. */
  windowS: number;
  /** The window as a PromQL range selector duration, e.g. "2031s". */
  window: string;
}

/** The default step for a range of `spanS` seconds: about TARGET_POINTS points, at least MIN_STEP_S apart. */
export function rangeStepSeconds(spanS: number): number {
  return Math.max(MIN_STEP_S, Math.ceil(spanS / TARGET_POINTS));
}

/** The rate window for points `stepS` apart (see the module comment for why). */
export function rateWindowSeconds(stepS: number, scrapeIntervalS = DEFAULT_SCRAPE_INTERVAL_S): number {
  return Math.ceil(Math.max(MIN_RATE_WINDOW_S, stepS + scrapeIntervalS, 4 * scrapeIntervalS));
}

/** Whole seconds as a PromQL duration ("300s"). */
export function promDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds <= 0) throw new RangeError(`a PromQL duration must be above 0 s, got ${seconds}`);
  return `${Math.ceil(seconds)}s`;
}

/**
 * Step and window of a range query over `spanS` seconds; `stepS` when the
 * caller chose the step (the API's `step` parameter), else the default one.
 */
export function rangeWindow(spanS: number, options: { stepS?: number; scrapeIntervalS?: number } = {}): RangeWindow {
  const stepS = options.stepS ?? rangeStepSeconds(spanS);
  const windowS = rateWindowSeconds(stepS, options.scrapeIntervalS);
  return { stepS, windowS, window: promDuration(windowS) };
}
