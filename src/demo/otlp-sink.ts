/**
 * A local end for the collector's traces exporter when there is no Tempo (the
 * native demo): an OTLP/gRPC server on 127.0.0.1 that accepts every export,
 * answers it as Tempo would (an empty Export*ServiceResponse, grpc-status 0)
 * and counts what arrived. The shipped collector config stays as it is; only
 * TRACES_OTLP_ENDPOINT points here. Without it the exporter retried against a
 * closed port for five minutes, then reported failed spans, and the demo
 * raised a false OtelCollectorExportFailing.
 *
 * gRPC is @grpc/grpc-js, the maintained Node implementation: it does the
 * HTTP/2 framing, status trailers, and the decompression of `grpc-encoding:
 * gzip` requests (the exporter's default; grpc-js servers accept identity,
 * deflate and gzip without configuration). The three OTLP Export methods are
 * registered with pass-through (de)serializers, so a handler sees the
 * request's protobuf bytes; any other method gets UNIMPLEMENTED from grpc-js.
 *
 * Protobuf: spans are counted with protobufjs's Reader (a maintained wire
 * format reader), walking resource_spans(1) → scope_spans(2) → spans(2) and
 * skipping every other field by its wire type; nothing is kept. A typed
 * decoder was looked for first and no maintained npm package offers one:
 * @opentelemetry/otlp-transformer (0.223.0 here) exports only SDK→OTLP
 * serializers and Export*ServiceResponse parsers (its maintainers keep
 * request decoding out of scope, and anything else is private build/ files);
 * the OpenTelemetry JS packages no longer ship the OTLP .proto files (they
 * write protobuf by hand), and no maintained npm package carrying
 * opentelemetry-proto's .proto files was found, so protobufjs + .proto or
 * @grpc/proto-loader would have had to vendor them. protobufjs 7 is the one
 * grpc-js already brings in (through @grpc/proto-loader).
 *
 * An unknown method is refused by grpc-js before any code of ours runs, so
 * `stats.errors` counts only exports that did not decode; the collector's own
 * `otelcol_exporter_send_failed_spans` counts every refusal.
 */
import { type ServerUnaryCall, type ServiceDefinition, Server, ServerCredentials, type sendUnaryData, status } from '@grpc/grpc-js';
import protobuf from 'protobufjs/minimal.js';

const SERVICES = {
  traces: 'opentelemetry.proto.collector.trace.v1.TraceService',
  metrics: 'opentelemetry.proto.collector.metrics.v1.MetricsService',
  logs: 'opentelemetry.proto.collector.logs.v1.LogsService',
} as const;

/** How long close() lets calls in flight finish before it cuts the connections. */
const SHUTDOWN_GRACE_MS = 1_000;

export interface OtlpSinkStats {
  /** Export calls answered OK. */
  requests: number;
  /** Spans in the trace exports. */
  spans: number;
  /** Export calls refused because their protobuf did not decode (INVALID_ARGUMENT). */
  errors: number;
}

export interface OtlpSink {
  /** host:port for an OTLP/gRPC exporter (no scheme), e.g. 127.0.0.1:41234. */
  endpoint: string;
  port: number;
  readonly stats: OtlpSinkStats;
  close(): Promise<void>;
}

/**
 * Calls `each` with the bytes of every length-delimited field number `field`
 * of one protobuf message, skipping the other fields by their wire type.
 * Throws on a truncated or malformed message.
 */
function eachEmbedded(message: Uint8Array, field: number, each: (bytes: Uint8Array) => void): void {
  const reader = protobuf.Reader.create(message);
  while (reader.pos < reader.len) {
    const tag = reader.uint32();
    const wireType = tag & 7;
    if (tag >>> 3 === field && wireType === 2) each(reader.bytes());
    else reader.skipType(wireType);
  }
}

/** Spans in an ExportTraceServiceRequest: resource_spans(1) → scope_spans(2) → spans(2). */
export function countSpans(request: Uint8Array): number {
  let spans = 0;
  eachEmbedded(request, 1, (resourceSpans) => eachEmbedded(resourceSpans, 2, (scopeSpans) => eachEmbedded(scopeSpans, 2, () => spans++)));
  return spans;
}

/** One OTLP service's Export method, request and response left as protobuf bytes. */
function exportService(service: string): ServiceDefinition {
  const bytes = (buffer: Buffer) => buffer;
  return {
    Export: {
      path: `/${service}/Export`,
      requestStream: false,
      responseStream: false,
      requestSerialize: bytes,
      requestDeserialize: bytes,
      responseSerialize: bytes,
      responseDeserialize: bytes,
    },
  };
}

export async function startOtlpSink(options: { host?: string; port?: number } = {}): Promise<OtlpSink> {
  const server = new Server({
    // Any size, as before grpc-js: the shipped batch processor has no
    // send_batch_max_size, and grpc-js's default 4 MiB cap would refuse (and
    // the exporter count as failed) a large batch the demo has no reason to lose.
    'grpc.max_receive_message_length': -1,
  });
  const stats: OtlpSinkStats = { requests: 0, spans: 0, errors: 0 };
  const empty = Buffer.alloc(0); // An Export*ServiceResponse with no fields.
  for (const [signal, service] of Object.entries(SERVICES)) {
    server.addService(exportService(service), {
      Export: (call: ServerUnaryCall<Buffer, Buffer>, callback: sendUnaryData<Buffer>) => {
        try {
          if (signal === 'traces') stats.spans += countSpans(call.request);
          stats.requests++;
          callback(null, empty);
        } catch (error) {
          stats.errors++;
          callback({ code: status.INVALID_ARGUMENT, details: `ExportTraceServiceRequest: ${(error as Error).message}` });
        }
      },
    });
  }

  const host = options.host ?? '127.0.0.1';
  const address = host.includes(':') ? `[${host}]` : host;
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(`${address}:${options.port ?? 0}`, ServerCredentials.createInsecure(), (error, bound) => {
      if (error) {
        server.forceShutdown();
        reject(error);
      } else resolve(bound);
    });
  });

  let closing: Promise<void> | undefined;
  return {
    endpoint: `${address}:${port}`,
    port,
    stats,
    close: () =>
      (closing ??= new Promise<void>((resolve) => {
        // Exporters keep their connection open and a call may be in flight:
        // shut down gracefully, then cut what is left after a short grace.
        const force = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, SHUTDOWN_GRACE_MS);
        server.tryShutdown(() => {
          clearTimeout(force);
          resolve();
        });
      })),
  };
}
