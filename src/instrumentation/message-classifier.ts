/**
 * Message types: the application names them (a classifier or an envelope
 * reader), the allow-list bounds them. A type outside the allow-list folds
 * into `_OTHER`, so a client sending random types cannot create series.
 */
import type { Attributes } from '@opentelemetry/api';
import type { RawData } from 'ws';
import { ATTR_MESSAGE_TYPE, OTHER } from './semconv.ts';
import type { MessageEnvelope } from './types.ts';

export interface MessageTypes {
  /** Allow-listed names, then `_OTHER` last. */
  readonly names: readonly string[];
  readonly other: number;
  /** `{ websocket.message.type }` per index, built once. */
  readonly attrs: readonly Attributes[];
  indexOf(type: string | undefined): number;
}

export const MAX_MESSAGE_TYPES = 64;

export function messageTypes(allowed: readonly string[] = []): MessageTypes {
  const unique = [...new Set(allowed)].filter((name) => name !== OTHER);
  if (unique.length > MAX_MESSAGE_TYPES) throw new Error(`messageTypes: at most ${MAX_MESSAGE_TYPES} types, got ${unique.length}`);
  for (const name of unique) {
    if (typeof name !== 'string' || name.length === 0 || name.length > 64) throw new Error(`messageTypes: invalid type ${JSON.stringify(name)}`);
  }
  const names = [...unique, OTHER];
  const index = new Map(names.map((name, i) => [name, i]));
  const other = names.length - 1;
  return {
    names,
    other,
    attrs: names.map((name) => Object.freeze({ [ATTR_MESSAGE_TYPE]: name })),
    indexOf: (type) => (type === undefined ? other : (index.get(type) ?? other)),
  };
}

export interface JsonEnvelopeFields {
  type?: string;
  sentAt?: string;
  traceparent?: string;
  tracestate?: string;
}

function decode(data: RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data).toString('utf8');
}

/**
 * An envelope reader for JSON text messages such as
 * `{"type":"chat","sentAt":1732406400000,"traceparent":"00-…","data":{…}}`.
 * Field names are configurable; binary frames have no envelope. A text frame
 * that is not a JSON object throws, which the instrumentation counts as a
 * `parse_error`. It parses the message a second time if the application
 * parses it too: for hot paths prefer a `classify` that looks at a prefix.
 */
export function jsonEnvelope(fields: JsonEnvelopeFields = {}): (data: RawData, isBinary: boolean) => MessageEnvelope | undefined {
  const typeKey = fields.type ?? 'type';
  const sentAtKey = fields.sentAt ?? 'sentAt';
  const traceparentKey = fields.traceparent ?? 'traceparent';
  const tracestateKey = fields.tracestate ?? 'tracestate';
  return (data, isBinary) => {
    if (isBinary) return undefined;
    const parsed: unknown = JSON.parse(decode(data));
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new TypeError('message is not a JSON object');
    const record = parsed as Record<string, unknown>;
    const type = record[typeKey];
    const sentAt = record[sentAtKey];
    const traceparent = record[traceparentKey];
    const tracestate = record[tracestateKey];
    return {
      type: typeof type === 'string' ? type : undefined,
      // Present but not a number (an ISO string, say): NaN, so it is counted as an invalid timestamp.
      sentAt: sentAt === undefined || sentAt === null ? undefined : typeof sentAt === 'number' ? sentAt : Number.NaN,
      traceparent: typeof traceparent === 'string' ? traceparent : undefined,
      tracestate: typeof tracestate === 'string' ? tracestate : undefined,
    };
  };
}
