/** The OTel instruments, created from the catalogue (names, units, bucket advice live only there). */
import { type Counter, type Histogram, type Meter, ValueType } from '@opentelemetry/api';
import { CLIENT_METRIC, type ClientMetricKey } from '../catalogue.ts';

export type ClientInstruments = Record<ClientMetricKey, Counter | Histogram>;

export function createInstruments(meter: Meter): ClientInstruments {
  const instruments = {} as ClientInstruments;
  for (const [key, definition] of Object.entries(CLIENT_METRIC) as Array<[ClientMetricKey, (typeof CLIENT_METRIC)[ClientMetricKey]]>) {
    const { name, unit, description, buckets } = definition;
    instruments[key] =
      definition.instrument === 'histogram'
        ? meter.createHistogram(name, { unit, description, advice: buckets ? { explicitBucketBoundaries: [...buckets] } : undefined })
        : // The catalogue's client metrics are counters or histograms (see catalogue.ts); counts are integers.
          meter.createCounter(name, { unit, description, valueType: ValueType.INT });
  }
  return instruments;
}
