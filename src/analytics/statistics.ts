/**
 * Correlation and proportion statistics: Pearson and Spearman r (from
 * simple-statistics; Spearman with mid-ranks for ties), Fisher-z confidence
 * intervals, two-sided p-values from Student's t (stdlib), and Wilson
 * score intervals for success rates.
 */
import normalQuantile from '@stdlib/stats-base-dists-normal-quantile';
import tCdf from '@stdlib/stats-base-dists-t-cdf';
import { sampleCorrelation, sampleRankCorrelation } from 'simple-statistics';

/** Two-sided critical value of the standard normal (simple-statistics' probit is only good to 3 digits). */
function critical(level: number): number {
  return normalQuantile(1 - (1 - level) / 2, 0, 1);
}

export interface Interval {
  lower: number;
  upper: number;
}

/** Pearson's r, or null when either side has no variance or n < 2. */
export function pearson(x: readonly number[], y: readonly number[]): number | null {
  if (x.length !== y.length) throw new Error(`pearson: ${x.length} x values but ${y.length} y values`);
  if (x.length < 2) return null;
  const r = sampleCorrelation(x as number[], y as number[]);
  return Number.isFinite(r) ? clampUnit(r) : null;
}

/** Spearman's rho (Pearson r of mid-ranks), or null when either side is constant or n < 2. */
export function spearman(x: readonly number[], y: readonly number[]): number | null {
  if (x.length !== y.length) throw new Error(`spearman: ${x.length} x values but ${y.length} y values`);
  if (x.length < 2) return null;
  const r = sampleRankCorrelation(x as number[], y as number[]);
  return Number.isFinite(r) ? clampUnit(r) : null;
}

function clampUnit(r: number): number {
  return Math.max(-1, Math.min(1, r));
}

/**
 * Confidence interval of a correlation by Fisher's z transform: atanh(r) is
 * about normal with standard error 1/sqrt(n-3) for Pearson; Spearman uses
 * sqrt(1.06/(n-3)) (Fieller, Hartley & Pearson, 1957). Needs n > 3.
 */
export function fisherInterval(r: number, n: number, { level = 0.95, method = 'pearson' }: { level?: number; method?: 'pearson' | 'spearman' } = {}): Interval | null {
  if (n <= 3 || !Number.isFinite(r)) return null;
  if (Math.abs(r) === 1) return { lower: r, upper: r };
  const z = Math.atanh(r);
  const se = Math.sqrt((method === 'spearman' ? 1.06 : 1) / (n - 3));
  const c = critical(level);
  return { lower: Math.tanh(z - c * se), upper: Math.tanh(z + c * se) };
}

/** Two-sided p-value of H0: rho = 0, from t = r·sqrt((n-2)/(1-r²)) with n-2 degrees of freedom. */
export function correlationPValue(r: number, n: number): number | null {
  if (n <= 2 || !Number.isFinite(r)) return null;
  if (Math.abs(r) >= 1) return 0;
  const t = Math.abs(r) * Math.sqrt((n - 2) / (1 - r * r));
  return Math.min(1, 2 * tCdf(-t, n - 2));
}

/** Wilson score interval of a proportion (successes of n trials); null when n = 0. */
export function wilsonInterval(successes: number, n: number, level = 0.95): Interval | null {
  if (n <= 0) return null;
  if (successes < 0 || successes > n) throw new Error(`wilsonInterval: ${successes} successes of ${n}`);
  const z = critical(level);
  const p = successes / n;
  const z2n = (z * z) / n;
  const centre = (p + z2n / 2) / (1 + z2n);
  const half = (z / (1 + z2n)) * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n));
  // Exact bounds at the edges (the formula leaves rounding residue there).
  return { lower: successes === 0 ? 0 : Math.max(0, centre - half), upper: successes === n ? 1 : Math.min(1, centre + half) };
}
