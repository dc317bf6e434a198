/**
 * Correlation and proportion statistics: Pearson and Spearman r (from
 * simple-statistics; Spearman with mid-ranks for ties), Fisher-z confidence
 * intervals, two-sided p-values from Student's t (stdlib), and Wilson
 * score intervals for success rates, plain or over clustered trials.
 */
import normalQuantile from '@stdlib/stats-base-dists-normal-quantile';
import tCdf from '@stdlib/stats-base-dists-t-cdf';
import { sampleCorrelation } from 'simple-statistics';

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

/**
 * Mid-ranks of `values` in input order (0-based; tied values share the average of the ranks they
 * span), as simple-statistics' sampleRankCorrelation ranks them, without an array per value: its
 * ranking took 0.4 s of a 50 000-session UX correlation per pair, blocking the event loop.
 */
export function midranks(values: readonly number[]): Float64Array {
  const n = values.length;
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  order.sort((a, b) => values[a]! - values[b]!);
  const ranks = new Float64Array(n);
  let i = 0;
  while (i < n) {
    let j = i;
    while (j + 1 < n && values[order[j + 1]!] === values[order[i]!]) j++;
    const rank = (i + j) / 2;
    for (let k = i; k <= j; k++) ranks[order[k]!] = rank;
    i = j + 1;
  }
  return ranks;
}

/** Spearman's rho (Pearson r of mid-ranks), or null when either side is constant or n < 2. */
export function spearman(x: readonly number[], y: readonly number[]): number | null {
  if (x.length !== y.length) throw new Error(`spearman: ${x.length} x values but ${y.length} y values`);
  if (x.length < 2) return null;
  const r = sampleCorrelation(midranks(x) as unknown as number[], midranks(y) as unknown as number[]);
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

/**
 * Sums over the clusters i (client reports) of a proportion whose trials come
 * in clusters: a_i trials (attempts), s_i successes (opens). All additive, so
 * they can be summed over rows, rollups and groups in any order.
 */
export interface ClusterSums {
  /** S = Σ s_i, at most `trials`. */
  successes: number;
  /** A = Σ a_i. */
  trials: number;
  /**
   * k: the clusters that carry a trial or a success (a_i > 0 or s_i > 0). A cluster with
   * neither adds nothing to the residuals; counting it would only shrink k/(k−1) and hide
   * k < 2 (see rollups.ts, CLUSTER_SUMS_SQL, for the service's choice).
   */
  clusters: number;
  /** Σ a_i². */
  trialsSquared: number;
  /** Σ s_i². */
  successesSquared: number;
  /** Σ a_i·s_i. */
  trialsSuccesses: number;
}

/**
 * Effective number of independent trials of a clustered proportion p̂ = S/A,
 * A / deff; null when A = 0. The variance of p̂ is the ratio estimator's
 * linearised (Taylor, cluster-robust) variance with the clusters as primary
 * units (Cochran, Sampling Techniques, 3rd ed. 1977, ch. 6 ratio estimators;
 * Wolter, Introduction to Variance Estimation, 2007, ch. 6):
 *
 *     v = k/(k−1) · Σ(s_i − p̂·a_i)² / A²,  Σ(s_i − p̂a_i)² = Σs_i² − 2p̂·Σa_i s_i + p̂²·Σa_i²
 *
 * and the design effect (Kish, Survey Sampling, 1965) is that variance over
 * the one of A independent trials, deff = v / (σ̂²/A), with the unit variance
 * p(1−p) estimated without bias as σ̂² = p̂(1−p̂) + v (under any design
 * E[p̂(1−p̂)] = p(1−p) − Var(p̂); for independent trials σ̂² is the familiar
 * A/(A−1)·p̂(1−p̂)). Hence n_eff = A/deff = 1 + p̂(1−p̂)/v. With p̂(1−p̂)
 * alone in the denominator (n_eff = p̂(1−p̂)/v, Korn & Graubard, Survey
 * Methodology 24, 1998) the k/(k−1) factor is left unmatched and costs one
 * trial: A − 1 for one trial per cluster, k − 1 for k clusters of identical
 * outcomes, where the exact answers are A and k.
 *
 * When p̂ is 0 or 1 every residual is 0 (or, with successes capped at the
 * trials in total, v is meaningless) and v says nothing: every outcome is
 * the same, as under perfect correlation within clusters, so each cluster
 * counts as one outcome of weight a_i: Var(p̂) = p(1−p)·Σa_i²/A², deff =
 * Σa_i²/A, n_eff = A²/Σa_i² (the form of Kish's effective sample size of
 * unequal weights). So too with k < 2, where there is no variance estimate.
 *
 * deff is clamped to ≥ 1: never narrower than independent trials. Sums of
 * squares that are all 0 (rollups made before they were kept) give v = 0 and
 * Σa_i² = 0, which the clamp turns into plain Wilson. Sums that cover only
 * some of the clusters (a range over such rollups and newer rows) measure the
 * variability of those clusters alone, understating it roughly by the share
 * of attempts left out, and are never narrower than plain Wilson either.
 */
export function effectiveTrials({ successes, trials, clusters, trialsSquared, successesSquared, trialsSuccesses }: ClusterSums): number | null {
  if (trials <= 0) return null;
  if (successes < 0 || successes > trials) throw new Error(`effectiveTrials: ${successes} successes of ${trials}`);
  const p = successes / trials;
  let deff: number;
  if (p === 0 || p === 1 || clusters < 2) deff = trialsSquared / trials;
  else {
    // Rounding may leave a residual sum just below 0 where it is 0.
    const residuals = Math.max(0, successesSquared - 2 * p * trialsSuccesses + p * p * trialsSquared);
    const v = ((clusters / (clusters - 1)) * residuals) / (trials * trials);
    deff = (trials * v) / (p * (1 - p) + v);
  }
  return trials / Math.max(1, deff);
}

/**
 * Wilson score interval of a clustered proportion: Wilson's with n_eff =
 * effectiveTrials(sums) trials and p̂·n_eff successes (both usually not
 * integers); null when there are no trials. Clusters of one trial each give
 * plain Wilson; k clusters of identical outcomes give Wilson over k trials.
 */
export function clusteredWilsonInterval(sums: ClusterSums, level = 0.95): Interval | null {
  const n = effectiveTrials(sums);
  if (n === null) return null;
  const p = sums.successes / sums.trials;
  // p̂·n ≤ n in floating point for p̂ ≤ 1; min() keeps wilsonInterval's check satisfied regardless.
  return wilsonInterval(Math.min(n, p * n), n, level);
}
