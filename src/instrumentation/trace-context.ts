/**
 * W3C trace context from the two places a WebSocket client can put it:
 * the upgrade request (a `traceparent` header from Node clients, or a
 * `traceparent` query parameter, since browsers cannot set WebSocket
 * headers) and a message envelope field. Extraction goes through the
 * globally registered propagator, so the application's choice holds.
 */
import { type Context, ROOT_CONTEXT, type SpanContext, type TextMapGetter, propagation, trace } from '@opentelemetry/api';
import type { IncomingMessage } from 'node:http';

interface Carrier {
  traceparent: string | undefined;
  tracestate: string | undefined;
}

const carrierGetter: TextMapGetter<Carrier> = {
  keys: () => ['traceparent', 'tracestate'],
  get: (carrier, key) => (key === 'traceparent' ? carrier.traceparent : key === 'tracestate' ? carrier.tracestate : undefined),
};

/** A context whose remote parent is the given traceparent (or ROOT_CONTEXT when it is absent or invalid). */
export function contextFromTraceparent(traceparent: string | undefined, tracestate?: string): Context {
  if (!traceparent) return ROOT_CONTEXT;
  return propagation.extract(ROOT_CONTEXT, { traceparent, tracestate }, carrierGetter);
}

/** The handshake's parent context: `traceparent` header first, then the query parameter. */
export function contextFromRequest(request: IncomingMessage): Context {
  if (request.headers.traceparent !== undefined) return propagation.extract(ROOT_CONTEXT, request.headers);
  const url = request.url;
  if (!url || !url.includes('traceparent=')) return ROOT_CONTEXT;
  // Only the query string: parsing the whole request target as a URL throws on some (`//a:99999/?…`), and this runs for anyone.
  const query = url.indexOf('?');
  const params = new URLSearchParams(query === -1 ? '' : url.slice(query + 1));
  return contextFromTraceparent(params.get('traceparent') ?? undefined, params.get('tracestate') ?? undefined);
}

/** The context's remote parent when its sampled flag is set, else undefined. */
export function sampledParent(context: Context): SpanContext | undefined {
  const parent = trace.getSpanContext(context);
  return parent !== undefined && (parent.traceFlags & 1) === 1 ? parent : undefined;
}
