/**
 * Seasonal period of a series from its autocorrelation, for streams whose
 * timestamps do not tell (e.g. sample numbers instead of times) or whose
 * cycle is not a day or a week.
 */

export interface PeriodEstimate {
  /** Period in samples. */
  lag: number;
  /** Autocorrelation at that lag. */
  acf: number;
}

/**
 * The shortest strong autocorrelation peak of `values` (linearly detrended)
 * between minLag and maxLag, or null when there is no clear cycle: the peak
 * must reach `minAcf` and stand `minProminence` above the trough before it.
 */
export function estimatePeriod(
  values: ArrayLike<number>,
  { minLag = 4, maxLag = Math.floor(values.length / 3), minAcf = 0.3, minProminence = 0.15 }: { minLag?: number; maxLag?: number; minAcf?: number; minProminence?: number } = {},
): PeriodEstimate | null {
  const n = values.length;
  if (maxLag < minLag + 2 || n < 3 * minLag) return null;
  // Least-squares line through (i, value): remove it so a trend does not look like a long cycle.
  let sumX = 0;
  let sumY = 0;
  let sumXY = 0;
  let sumXX = 0;
  for (let i = 0; i < n; i++) {
    const y = values[i] as number;
    sumX += i;
    sumY += y;
    sumXY += i * y;
    sumXX += i * i;
  }
  const denominator = n * sumXX - sumX * sumX;
  const slope = denominator === 0 ? 0 : (n * sumXY - sumX * sumY) / denominator;
  const intercept = (sumY - slope * sumX) / n;
  const x = new Float64Array(n);
  let energy = 0;
  for (let i = 0; i < n; i++) {
    const d = (values[i] as number) - (intercept + slope * i);
    x[i] = d;
    energy += d * d;
  }
  if (energy === 0) return null;
  const acf = new Float64Array(maxLag + 2);
  for (let lag = 1; lag <= maxLag + 1 && lag < n; lag++) {
    let sum = 0;
    for (let i = 0; i + lag < n; i++) sum += (x[i] as number) * (x[i + lag] as number);
    // Normalised by the overlap so long lags are not biased towards zero.
    acf[lag] = ((sum / (n - lag)) * n) / energy;
  }
  const peaks: PeriodEstimate[] = [];
  let trough = acf[1] as number;
  for (let lag = 2; lag <= maxLag; lag++) {
    const here = acf[lag] as number;
    trough = Math.min(trough, here);
    if (lag >= minLag && here > (acf[lag - 1] as number) && here >= (acf[lag + 1] as number) && here >= minAcf && here - trough >= minProminence) {
      peaks.push({ lag, acf: here });
      trough = here;
    }
  }
  if (peaks.length === 0) return null;
  const best = Math.max(...peaks.map((p) => p.acf));
  // Multiples of the true period peak too: take the first one nearly as strong as the best.
  return peaks.find((p) => p.acf >= 0.85 * best) ?? null;
}
