/**
 * Latencies as explicit-bucket counts on the catalogue's boundaries, kept by
 * each worker beside its HDR histograms so `--otlp` can export real
 * histograms: Prometheus can then add up workers and runs and take any
 * quantile over any window, which a percentile gauge cannot.
 */
import { type LoadMetricName, loadMetric } from './catalogue.ts';

/** Cumulative since the run started: one count per bucket (one more than the boundaries), their sum in seconds. */
export interface BucketCounts {
  counts: number[];
  sumS: number;
  count: number;
}

/** One histogram's bucket layout (OTLP explicit buckets: a value equal to a bound falls in that bound's bucket). */
export class BucketLayout {
  /** Upper bounds, seconds. */
  readonly boundariesS: readonly number[];
  private readonly boundariesMs: readonly number[];

  constructor(readonly metric: LoadMetricName) {
    this.boundariesS = loadMetric(metric).buckets!;
    this.boundariesMs = this.boundariesS.map((s) => s * 1000);
  }

  empty(): BucketCounts {
    return { counts: new Array<number>(this.boundariesS.length + 1).fill(0), sumS: 0, count: 0 };
  }

  record(into: BucketCounts, ms: number): void {
    let i = 0;
    while (i < this.boundariesMs.length && ms > this.boundariesMs[i]!) i++;
    into.counts[i]!++;
    into.sumS += ms / 1000;
    into.count++;
  }

  /** The sum of several workers' counts. */
  sum(parts: readonly BucketCounts[]): BucketCounts {
    const total = this.empty();
    for (const part of parts) {
      part.counts.forEach((n, i) => (total.counts[i]! += n));
      total.sumS += part.sumS;
      total.count += part.count;
    }
    return total;
  }
}

/** Echo latency of the measured messages (the report's latency population). */
export const ECHO_LATENCY = new BucketLayout('socketscope.load.latency');
/** Time to open each connection (the report's connect_ms population). */
export const HANDSHAKE = new BucketLayout('socketscope.load.handshake.duration');

/** What a worker reports and the engine adds up: one set of counts per layout. */
export interface RunBuckets {
  latency: BucketCounts;
  handshake: BucketCounts;
}

export function emptyRunBuckets(): RunBuckets {
  return { latency: ECHO_LATENCY.empty(), handshake: HANDSHAKE.empty() };
}

export function sumRunBuckets(parts: readonly RunBuckets[]): RunBuckets {
  return { latency: ECHO_LATENCY.sum(parts.map((p) => p.latency)), handshake: HANDSHAKE.sum(parts.map((p) => p.handshake)) };
}
