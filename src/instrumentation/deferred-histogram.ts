import type { Attributes, Histogram } from '@opentelemetry/api';

/**
 * Values for a histogram written on the message path and recorded later, in
 * one batch: when the SDK collects (the batch observable callback flushes
 * before the SDK reads its histograms, so no value misses its collection) or
 * when the buffer is full. It keeps the SDK's recording (attribute hashing,
 * map lookups, bucket search: about 1.5 µs and a good deal of code and data
 * to pull into the caches) out of the message path, where the sampled
 * messages would pay for it between the application's own work.
 */
export class DeferredHistogram {
  private readonly values: Float64Array;
  private readonly keys: Uint16Array;
  private length = 0;

  constructor(
    /** Where flush() records (replaceable: a server binds to its Meter after it starts counting). */
    public histogram: Histogram,
    /** The attribute set of each key, built once. */
    private readonly attributes: readonly Attributes[],
    capacity = 1024,
  ) {
    if (attributes.length > 0xffff) throw new RangeError('DeferredHistogram: at most 65 535 attribute sets');
    this.values = new Float64Array(capacity);
    this.keys = new Uint16Array(capacity);
  }

  add(value: number, key: number): void {
    this.values[this.length] = value;
    this.keys[this.length] = key;
    if (++this.length === this.values.length) this.flush();
  }

  flush(): void {
    const count = this.length;
    this.length = 0;
    for (let i = 0; i < count; i++) this.histogram.record(this.values[i]!, this.attributes[this.keys[i]!]);
  }
}
