/** Round-trip statistics for one report window: exact count, mean and max;
 * p50/p95 from a bounded uniform sample (reservoir), so a chatty socket
 * cannot grow memory. */
export interface LatencySummary {
  count: number;
  avg: number | null;
  p50: number | null;
  p95: number | null;
  max: number | null;
}

export class LatencyStats {
  private sample: number[] = [];
  private count = 0;
  private sum = 0;
  private max = 0;

  constructor(
    private readonly capacity = 512,
    private readonly random: () => number = Math.random,
  ) {}

  add(ms: number): void {
    this.count++;
    this.sum += ms;
    if (ms > this.max) this.max = ms;
    if (this.sample.length < this.capacity) this.sample.push(ms);
    else {
      const slot = Math.floor(this.random() * this.count);
      if (slot < this.capacity) this.sample[slot] = ms;
    }
  }

  /** The window's summary (statistics null without samples); resets for the next window. */
  take(): LatencySummary {
    const { count } = this;
    const sorted = this.sample.sort((a, b) => a - b);
    const stat = (ms: number | undefined): number | null => (count > 0 ? Math.round(ms! * 10) / 10 : null);
    const rank = (q: number) => stat(sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)]);
    const summary: LatencySummary = { count, avg: stat(this.sum / count), p50: rank(0.5), p95: rank(0.95), max: stat(this.max) };
    this.sample = [];
    this.count = this.sum = this.max = 0;
    return summary;
  }
}
