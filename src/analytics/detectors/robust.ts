/** Small robust-statistics kernels the detectors run per point (allocation-light). */

/** Median of `values[from..to)` (copies the slice; the input is not reordered). */
export function median(values: ArrayLike<number>, from = 0, to = values.length): number {
  const n = to - from;
  if (n <= 0) return Number.NaN;
  const sorted = new Float64Array(n);
  for (let i = 0; i < n; i++) sorted[i] = values[from + i] as number;
  sorted.sort();
  const mid = n >> 1;
  return n % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** Median of a plain list. */
export function medianOf(values: readonly number[]): number {
  return median(values, 0, values.length);
}

/** Median absolute deviation around the median, scaled by 1.4826 to estimate σ for normal data. */
export function madSigma(values: ArrayLike<number>, from = 0, to = values.length): number {
  const centre = median(values, from, to);
  if (!Number.isFinite(centre)) return Number.NaN;
  const deviations = new Float64Array(to - from);
  for (let i = from; i < to; i++) deviations[i - from] = Math.abs((values[i] as number) - centre);
  return 1.4826 * median(deviations);
}

/** Median of |x| over the range. */
export function medianAbs(values: ArrayLike<number>, from = 0, to = values.length): number {
  const abs = new Float64Array(Math.max(0, to - from));
  for (let i = from; i < to; i++) abs[i - from] = Math.abs(values[i] as number);
  return median(abs);
}

/** Index of the sample whose time is nearest `target` within `tolerance` (times ascending), or -1. */
export function nearestIndex(times: ArrayLike<number>, count: number, target: number, tolerance: number): number {
  let lo = 0;
  let hi = count - 1;
  if (hi < 0) return -1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((times[mid] as number) < target) lo = mid + 1;
    else hi = mid;
  }
  let best = lo;
  if (lo > 0 && Math.abs((times[lo - 1] as number) - target) < Math.abs((times[lo] as number) - target)) best = lo - 1;
  return Math.abs((times[best] as number) - target) <= tolerance ? best : -1;
}
