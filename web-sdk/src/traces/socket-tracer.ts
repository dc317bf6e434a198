/** The tracing hooks a socket calls; the OTel export implements them
 * (./otel-tracer.ts), so the core carries no tracing SDK. */
export interface SpanHandle {
  /** Ends the span; with `error`, marks it failed with that description. */
  end(error?: string): void;
}

export interface RequestSpan extends SpanHandle {
  /** W3C trace context to propagate: `traceparent` and, when set, `tracestate`. */
  carrier: Record<string, string>;
}

export interface SocketTracer {
  /** A span per connection attempt; `attempt` is 0 for the first connection, n for the n-th reconnection try. */
  connect(url: string, attempt: number): RequestSpan;
  /** A span per request message the app marks. */
  request(name: string): RequestSpan;
}
