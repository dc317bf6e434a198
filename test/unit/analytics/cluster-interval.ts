/**
 * The clustered Wilson interval (src/analytics/statistics.ts) computed the
 * long way over explicit clusters, for the unit and integration tests to
 * check the service against.
 */
import { expect } from 'vitest';
import { type ClusterSums, type Interval, wilsonInterval } from '../../../src/analytics/statistics.ts';

/** A cluster (one client report): [attempts, opens]. */
export type Cluster = readonly [number, number];

/** The additive sums the service reads from rows and rollups. */
export function sumsOf(clusters: readonly Cluster[]): ClusterSums {
  const total = (f: (c: Cluster) => number) => clusters.reduce((sum, c) => sum + f(c), 0);
  return {
    successes: total(([, s]) => s),
    trials: total(([a]) => a),
    clusters: clusters.filter(([a, s]) => a > 0 || s > 0).length,
    trialsSquared: total(([a]) => a * a),
    successesSquared: total(([, s]) => s * s),
    trialsSuccesses: total(([a, s]) => a * s),
  };
}

/**
 * The definition, evaluated the long way over explicit clusters: residuals
 * s_i − p̂·a_i summed one by one, v = k/(k−1)·Σr²/A², n_eff = 1 + p̂(1−p̂)/v at
 * most A; A²/Σa² when p̂ ∈ {0, 1} or k < 2.
 */
export function byDefinition(clusters: readonly Cluster[]): { nEff: number; interval: Interval } {
  const A = clusters.reduce((sum, [a]) => sum + a, 0);
  // Opens are capped at attempts in total only, as the success rate is.
  const p = Math.min(A, clusters.reduce((sum, [, s]) => sum + s, 0)) / A;
  const k = clusters.filter(([a, s]) => a > 0 || s > 0).length;
  let nEff: number;
  if (p === 0 || p === 1 || k < 2) nEff = A ** 2 / clusters.reduce((sum, [a]) => sum + a * a, 0);
  else {
    let squares = 0;
    for (const [a, s] of clusters) squares += (s - p * a) ** 2;
    const v = ((k / (k - 1)) * squares) / A ** 2;
    nEff = 1 + (p * (1 - p)) / v;
  }
  nEff = Math.min(A, nEff);
  return { nEff, interval: wilsonInterval(p * nEff, nEff)! };
}

export function expectInterval(got: Interval | null, want: Interval, digits = 12): void {
  expect(got).not.toBeNull();
  expect(Math.abs(got!.lower - want.lower)).toBeLessThan(10 ** -digits);
  expect(Math.abs(got!.upper - want.upper)).toBeLessThan(10 ** -digits);
}
