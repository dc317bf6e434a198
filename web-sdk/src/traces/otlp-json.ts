/** Spans to OTLP/JSON, behind sdk-trace-base's SpanExporter interface. */
import type { ExportResult } from '@opentelemetry/core';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';
import { otlpAttributes, otlpTime } from '../transport/otlp-json.ts';
import type { Transport } from '../transport/transport.ts';

function encodeSpan(span: ReadableSpan): Record<string, unknown> {
  const context = span.spanContext();
  return {
    traceId: context.traceId,
    spanId: context.spanId,
    parentSpanId: span.parentSpanContext?.spanId,
    traceState: context.traceState?.serialize(),
    name: span.name,
    // OTLP's SpanKind is the API's plus one (0 is UNSPECIFIED).
    kind: span.kind + 1,
    startTimeUnixNano: otlpTime(span.startTime),
    endTimeUnixNano: otlpTime(span.endTime),
    attributes: otlpAttributes(span.attributes),
    events: span.events.map((event) => ({ name: event.name, timeUnixNano: otlpTime(event.time), attributes: otlpAttributes(event.attributes ?? {}) })),
    links: span.links.map((link) => ({ traceId: link.context.traceId, spanId: link.context.spanId, attributes: otlpAttributes(link.attributes ?? {}) })),
    status: { code: span.status.code, message: span.status.message },
  };
}

/** Spans of one export as OTLP ResourceSpans entries (one per resource). */
export function encodeResourceSpans(spans: ReadableSpan[]): object[] {
  const byResource = new Map<ReadableSpan['resource'], Map<string, { scope: object; spans: object[] }>>();
  for (const span of spans) {
    const scopes = byResource.get(span.resource) ?? new Map<string, { scope: object; spans: object[] }>();
    byResource.set(span.resource, scopes);
    const { name, version } = span.instrumentationScope;
    const key = `${name}@${version ?? ''}`;
    const entry = scopes.get(key) ?? { scope: { name, version }, spans: [] };
    scopes.set(key, entry);
    entry.spans.push(encodeSpan(span));
  }
  return [...byResource].map(([resource, scopes]) => ({ resource: { attributes: otlpAttributes(resource.attributes) }, scopeSpans: [...scopes.values()] }));
}

export class OtlpJsonSpanExporter implements SpanExporter {
  constructor(private readonly transport: Transport<object>) {}

  /** Hands the spans to the transport, which owns retries. */
  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    for (const entry of encodeResourceSpans(spans)) this.transport.push(entry);
    this.transport.flush();
    done({ code: 0 });
  }

  async forceFlush(): Promise<void> {}

  async shutdown(): Promise<void> {
    this.transport.stop();
  }
}
