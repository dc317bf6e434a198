/**
 * The service's own traces: one SERVER span per HTTP request, named
 * `METHOD /route/pattern` (semantic conventions), continuing the caller's W3C
 * trace context, so a slow admin page or ingest call can be followed into the
 * service. Only when a tracer is given (`socketscope serve` with an OTLP
 * endpoint): without one nothing runs per request.
 */
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, type Tracer, context, propagation, trace } from '@opentelemetry/api';
import type { Request, RequestHandler } from 'express';

/** The matched route pattern, never the raw URL (bounded metric cardinality, stable span names). */
export function routeOf(req: Request): string | undefined {
  return (req.route as { path?: string } | undefined)?.path;
}

export function traceRequests(tracer: Tracer): RequestHandler {
  return (req, res, next) => {
    const parent = propagation.extract(ROOT_CONTEXT, req.headers);
    // No client.address: the client address is personal data the service does not keep.
    const span = tracer.startSpan(
      req.method,
      { kind: SpanKind.SERVER, attributes: { 'http.request.method': req.method, 'url.path': req.path, 'url.scheme': req.protocol } },
      parent,
    );
    // 'close' comes after 'finish' for a completed response, and alone for one the client aborted.
    res.once('close', () => {
      const route = routeOf(req);
      if (route) {
        span.updateName(`${req.method} ${route}`);
        span.setAttribute('http.route', route);
      }
      span.setAttribute('http.response.status_code', res.statusCode);
      if (res.statusCode >= 500) {
        span.setAttribute('error.type', String(res.statusCode));
        span.setStatus({ code: SpanStatusCode.ERROR });
      } else if (!res.writableFinished) {
        span.setAttribute('error.type', 'aborted');
        span.setStatus({ code: SpanStatusCode.ERROR, message: 'the client closed the connection before the response was sent' });
      }
      span.end();
    });
    context.with(trace.setSpan(parent, span), next);
  };
}
