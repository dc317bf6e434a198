/**
 * A local end for the collector's traces exporter when there is no Tempo (the
 * native demo): an OTLP/gRPC server on 127.0.0.1 that accepts every export,
 * answers it as Tempo would (an empty Export*ServiceResponse, grpc-status 0)
 * and counts what arrived. The shipped collector config stays as it is; only
 * TRACES_OTLP_ENDPOINT points here. Without it the exporter retried against a
 * closed port for five minutes, then reported failed spans, and the demo
 * raised a false OtelCollectorExportFailing.
 *
 * gRPC here is HTTP/2 without TLS (the exporter has `tls.insecure: true`),
 * each message framed as 1 byte "compressed" + 4 bytes length + protobuf,
 * gzip when the request says `grpc-encoding: gzip` (the exporter's default).
 * Spans are counted by walking the protobuf wire format; nothing is kept.
 */
import { type Http2Server, type ServerHttp2Session, type ServerHttp2Stream, createServer } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';

const TRACE_EXPORT = '/opentelemetry.proto.collector.trace.v1.TraceService/Export';
const OTHER_EXPORTS = new Set(['/opentelemetry.proto.collector.metrics.v1.MetricsService/Export', '/opentelemetry.proto.collector.logs.v1.LogsService/Export']);

export interface OtlpSinkStats {
  /** Export calls answered OK. */
  requests: number;
  /** Spans in the trace exports. */
  spans: number;
  /** Calls refused (unknown method, bad framing or protobuf); the exporter counts these as failures. */
  errors: number;
}

export interface OtlpSink {
  /** host:port for an OTLP/gRPC exporter (no scheme), e.g. 127.0.0.1:41234. */
  endpoint: string;
  port: number;
  readonly stats: OtlpSinkStats;
  close(): Promise<void>;
}

/** Reads a base-128 varint at `offset`; returns the value and the next offset. */
function varint(buf: Buffer, offset: number): [number, number] {
  let value = 0;
  let shift = 0;
  for (let i = offset; i < buf.length; i++) {
    const byte = buf[i] as number;
    value += (byte & 0x7f) * 2 ** shift;
    if ((byte & 0x80) === 0) return [value, i + 1];
    shift += 7;
    if (shift > 63) break;
  }
  throw new Error('malformed varint');
}

/** The length-delimited fields number `field` of one protobuf message. */
function embedded(buf: Buffer, field: number): Buffer[] {
  const out: Buffer[] = [];
  let offset = 0;
  while (offset < buf.length) {
    const [key, afterKey] = varint(buf, offset);
    const wireType = key % 8;
    const number = Math.floor(key / 8);
    offset = afterKey;
    switch (wireType) {
      case 0:
        offset = varint(buf, offset)[1];
        break;
      case 1:
        offset += 8;
        break;
      case 5:
        offset += 4;
        break;
      case 2: {
        const [length, start] = varint(buf, offset);
        if (start + length > buf.length) throw new Error('truncated field');
        if (number === field) out.push(buf.subarray(start, start + length));
        offset = start + length;
        break;
      }
      default:
        throw new Error(`unsupported wire type ${wireType}`);
    }
  }
  if (offset !== buf.length) throw new Error('truncated message');
  return out;
}

/** Spans in an ExportTraceServiceRequest: resource_spans(1) → scope_spans(2) → spans(2). */
export function countSpans(request: Buffer): number {
  let spans = 0;
  for (const resourceSpans of embedded(request, 1)) {
    for (const scopeSpans of embedded(resourceSpans, 2)) spans += embedded(scopeSpans, 2).length;
  }
  return spans;
}

/** The protobuf messages of one gRPC request body. */
function messages(body: Buffer, encoding: string | undefined): Buffer[] {
  const out: Buffer[] = [];
  let offset = 0;
  while (offset < body.length) {
    if (offset + 5 > body.length) throw new Error('truncated gRPC frame');
    const compressed = body[offset] === 1;
    const length = body.readUInt32BE(offset + 1);
    const message = body.subarray(offset + 5, offset + 5 + length);
    if (message.length !== length) throw new Error('truncated gRPC message');
    if (compressed && encoding !== 'gzip') throw new Error(`unsupported grpc-encoding ${encoding ?? '(none)'}`);
    out.push(compressed ? gunzipSync(message) : message);
    offset += 5 + length;
  }
  return out;
}

function answer(stream: ServerHttp2Stream, status: number, message?: string): void {
  if (stream.destroyed || stream.closed) return;
  stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
  stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': String(status), ...(message ? { 'grpc-message': encodeURIComponent(message) } : {}) }));
  // OK carries one empty response message (Export*ServiceResponse with no fields).
  stream.end(status === 0 ? Buffer.alloc(5) : undefined);
}

export async function startOtlpSink(options: { host?: string; port?: number } = {}): Promise<OtlpSink> {
  const stats: OtlpSinkStats = { requests: 0, spans: 0, errors: 0 };
  const server: Http2Server = createServer();
  const sessions = new Set<ServerHttp2Session>();
  server.on('session', (session) => {
    sessions.add(session);
    session.once('close', () => sessions.delete(session));
  });
  server.on('stream', (stream, headers) => {
    const path = headers[':path'] ?? '';
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('error', () => undefined);
    stream.on('end', () => {
      if (path !== TRACE_EXPORT && !OTHER_EXPORTS.has(path)) {
        stats.errors++;
        answer(stream, 12, `unknown method ${path}`); // UNIMPLEMENTED
        return;
      }
      try {
        const encoding = headers['grpc-encoding'];
        const bodies = messages(Buffer.concat(chunks), typeof encoding === 'string' ? encoding : undefined);
        if (path === TRACE_EXPORT) for (const body of bodies) stats.spans += countSpans(body);
        stats.requests++;
        answer(stream, 0);
      } catch (error) {
        stats.errors++;
        answer(stream, 3, (error as Error).message); // INVALID_ARGUMENT
      }
    });
  });
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  let closing: Promise<void> | undefined;
  return {
    endpoint: `${host}:${port}`,
    port,
    stats,
    close: () =>
      (closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Exporters keep their HTTP/2 connection open: end the sessions so close() completes.
        for (const session of sessions) session.close();
      })),
  };
}
