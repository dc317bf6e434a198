/**
 * HDR histograms for latencies. Values are recorded in microseconds with 3
 * significant digits (0.1 % precision at any magnitude); workers ship them to
 * the main thread in the standard compressed encoding, where they are merged.
 */
import * as hdr from 'hdr-histogram-js';
import type { LatencySummary } from './types.ts';

export type Histogram = hdr.Histogram;

export const SIGNIFICANT_DIGITS = 3;

export function createHistogram(): Histogram {
  // Auto-resizing, so a stall of minutes is still recorded exactly rather than clamped.
  return hdr.build({ bitBucketSize: 32, autoResize: true, lowestDiscernibleValue: 1, numberOfSignificantValueDigits: SIGNIFICANT_DIGITS });
}

/** Records a duration given in milliseconds (fractional) as whole microseconds. */
export function recordMs(histogram: Histogram, ms: number): void {
  histogram.recordValue(Math.max(1, Math.round(ms * 1000)));
}

export function encodeHistogram(histogram: Histogram): string {
  return hdr.encodeIntoCompressedBase64(histogram);
}

export function decodeHistogram(encoded: string): Histogram {
  return hdr.decodeFromCompressedBase64(encoded, 32);
}

/** Adds encoded histograms into `into`. */
export function mergeEncoded(into: Histogram, encoded: readonly string[]): void {
  for (const item of encoded) {
    const other = decodeHistogram(item);
    into.add(other);
    other.destroy();
  }
}

const round = (us: number): number => Math.round(us) / 1000;

/**
 * Percentiles in milliseconds, rounded to the microsecond; all zero when
 * nothing was recorded. A percentile reads back as the top of its bucket, so
 * it is capped at the exact maximum.
 */
export function summarize(histogram: Histogram): LatencySummary {
  const count = histogram.totalCount;
  if (count === 0) return { count: 0, p50: 0, p90: 0, p95: 0, p99: 0, max: 0, mean: 0 };
  const max = histogram.maxValue;
  const at = (p: number): number => round(Math.min(histogram.getValueAtPercentile(p), max));
  return { count, p50: at(50), p90: at(90), p95: at(95), p99: at(99), max: round(max), mean: round(histogram.mean) };
}
