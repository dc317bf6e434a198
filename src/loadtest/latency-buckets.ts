/**
 * Echo latencies as explicit-bucket counts on the catalogue's boundaries,
 * kept by each worker beside its HDR histogram so `--otlp` can export a real
 * histogram: Prometheus can then add up workers and runs and take any
 * quantile over any window, which a percentile gauge cannot.
 */
import { loadMetric } from './catalogue.ts';

/** Upper bounds in seconds; a value equal to a bound falls in that bound's bucket (OTLP explicit buckets). */
export const LATENCY_BOUNDARIES_S: readonly number[] = loadMetric('socketscope.load.latency').buckets!;

/** Cumulative since the run started: one count per bucket (one more than the boundaries), their sum in seconds. */
export interface BucketCounts {
  counts: number[];
  sumS: number;
  count: number;
}

export function emptyBuckets(): BucketCounts {
  return { counts: new Array<number>(LATENCY_BOUNDARIES_S.length + 1).fill(0), sumS: 0, count: 0 };
}

const BOUNDARIES_MS = LATENCY_BOUNDARIES_S.map((s) => s * 1000);

export function recordBucket(into: BucketCounts, ms: number): void {
  let i = 0;
  while (i < BOUNDARIES_MS.length && ms > BOUNDARIES_MS[i]!) i++;
  into.counts[i]!++;
  into.sumS += ms / 1000;
  into.count++;
}

/** The sum of several workers' counts. */
export function sumBuckets(parts: readonly BucketCounts[]): BucketCounts {
  const total = emptyBuckets();
  for (const part of parts) {
    part.counts.forEach((n, i) => (total.counts[i]! += n));
    total.sumS += part.sumS;
    total.count += part.count;
  }
  return total;
}
