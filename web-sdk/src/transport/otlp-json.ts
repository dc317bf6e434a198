/**
 * The shared pieces of OTLP/JSON (opentelemetry-proto's JSON mapping):
 * attribute values, timestamps, resources, and the per-signal transport. Our
 * own encoders replace the OTel web exporters, which would add ~6 KB gzip and
 * a second retry/keepalive policy beside src/transport/transport.ts.
 */
import type { Attributes, AttributeValue, HrTime } from '@opentelemetry/api';
import type { BackoffOptions } from '../backoff.ts';
import { Transport } from './transport.ts';

export type OtlpAnyValue =
  | { stringValue: string }
  | { boolValue: boolean }
  | { intValue: number }
  | { doubleValue: number }
  | { arrayValue: { values: OtlpAnyValue[] } };

export interface OtlpKeyValue {
  key: string;
  value: OtlpAnyValue;
}

function anyValue(value: AttributeValue): OtlpAnyValue {
  if (Array.isArray(value)) return { arrayValue: { values: (value as AttributeValue[]).filter((v) => v != null).map(anyValue) } };
  if (typeof value === 'boolean') return { boolValue: value };
  if (typeof value === 'number') return Number.isInteger(value) ? { intValue: value } : { doubleValue: value };
  return { stringValue: String(value) };
}

export function otlpAttributes(attributes: Attributes): OtlpKeyValue[] {
  const out: OtlpKeyValue[] = [];
  for (const key in attributes) {
    const value = attributes[key];
    if (value != null) out.push({ key, value: anyValue(value) });
  }
  return out;
}

/** HrTime as OTLP's fixed64 nanoseconds, as a decimal string (too large for a JS number). */
export function otlpTime([seconds, nanos]: HrTime): string {
  return seconds === 0 ? String(nanos) : `${seconds}${String(nanos).padStart(9, '0')}`;
}

export interface OtlpTransportOptions {
  url: string;
  headers?: Record<string, string>;
  maxPending: number;
  backoff?: BackoffOptions;
}

/** A transport whose items are OTLP resource entries, posted as `{ [field]: items }`. */
export function otlpTransport(field: 'resourceMetrics' | 'resourceSpans', options: OtlpTransportOptions): Transport<object> {
  return new Transport<object>({
    url: options.url,
    headers: options.headers,
    encode: (items) => JSON.stringify({ [field]: items }),
    maxItems: options.maxPending,
    maxBatch: 8,
    backoff: options.backoff,
  });
}
