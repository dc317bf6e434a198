/** SocketTracer on an OTel tracer: a CLIENT span per connection attempt and per marked request. */
import { SpanKind, SpanStatusCode, context, type Span, type Tracer } from '@opentelemetry/api';
import type { RequestSpan, SocketTracer } from './socket-tracer.ts';

function handle(span: Span): RequestSpan {
  const { traceId, spanId, traceFlags, traceState } = span.spanContext();
  const carrier: Record<string, string> = { traceparent: `00-${traceId}-${spanId}-0${traceFlags & 1}` };
  const state = traceState?.serialize();
  if (state) carrier.tracestate = state;
  return {
    carrier,
    end(error) {
      if (error) span.setStatus({ code: SpanStatusCode.ERROR, message: error });
      span.end();
    },
  };
}

/** Server address attributes without the URL's path or query (which may carry tokens). */
function serverAttributes(url: string): Record<string, string | number> {
  try {
    const parsed = new URL(url, location.href);
    const secure = parsed.protocol === 'wss:' || parsed.protocol === 'https:';
    return {
      'server.address': parsed.hostname,
      'server.port': Number(parsed.port) || (secure ? 443 : 80),
      'url.scheme': secure ? 'wss' : 'ws',
    };
  } catch {
    // An unparseable URL fails the connection itself; the span just lacks the address.
    return {};
  }
}

export function createSocketTracer(tracer: Tracer): SocketTracer {
  return {
    connect(url, attempt) {
      return handle(
        tracer.startSpan('websocket connect', {
          kind: SpanKind.CLIENT,
          attributes: { ...serverAttributes(url), 'websocket.reconnect.attempt': attempt },
        }),
      );
    },
    request(name): RequestSpan {
      // Child of the app's active span when it runs its own OTel context manager; a new trace otherwise.
      return handle(tracer.startSpan(`request ${name}`, { kind: SpanKind.CLIENT, attributes: { 'websocket.request.name': name } }, context.active()));
    },
  };
}
