/**
 * A client's sampled traceparent cannot make the server trace every message:
 * tracing.maxClientSampledMessageSpansPerSecond caps the message spans it
 * starts as children of client-sampled traces (per server), the rest fall
 * back to messageSampleRatio as root spans linked to the client's span, and
 * websocket.server.message.trace_context.refused counts them. A real ws
 * server and clients; the clock the budget refills from (performance.now) is
 * frozen by vitest's fake timers, so the counts are exact on any machine.
 */
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { WebSocket } from 'ws';
import { type InstrumentWebSocketServerOptions, jsonEnvelope } from '../../../src/instrumentation/index.ts';
import { type TestServer, connect, startServer, untilValue } from './harness.ts';

const CLIENT_TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
/** The client span of message i (16 hex digits, distinct per message). */
const clientSpan = (i: number): string => `00f067aa0ba9${i.toString(16).padStart(4, '0')}`;
const REFUSED = 'websocket.server.message.trace_context.refused';
const CHAT = { 'websocket.frame.type': 'text', 'websocket.message.type': 'chat' };

let server: TestServer | undefined;
/** Messages the server received so far, over every client of the current test. */
let sent = 0;

beforeEach(() => {
  // Only performance.now() is simulated (ws, the harness and the SDK keep their real timers).
  vi.useFakeTimers({ toFake: ['performance'] });
  sent = 0;
});
afterEach(async () => {
  vi.useRealTimers();
  await server?.close();
  server = undefined;
});

function start(tracing: InstrumentWebSocketServerOptions['tracing']): Promise<TestServer> {
  return startServer({ messageTypes: ['chat'], envelope: jsonEnvelope(), tracing: { messages: true, ...tracing } });
}

/** Sends messages `from` … `from + count - 1`, each with its own client span in CLIENT_TRACE, and waits until the server has them all. */
async function sendTraced(client: WebSocket, from: number, count: number, flags = '01'): Promise<void> {
  for (let i = from; i < from + count; i++) client.send(JSON.stringify({ type: 'chat', traceparent: `00-${CLIENT_TRACE}-${clientSpan(i)}-${flags}` }));
  sent += count;
  await untilValue(server!.telemetry, 'websocket.server.received.messages', CHAT, sent);
}

function processSpans(): ReadableSpan[] {
  return server!.telemetry.spans.getFinishedSpans().filter((span) => span.name === 'process chat');
}

function handshakeSpans(): ReadableSpan[] {
  return server!.telemetry.spans.getFinishedSpans().filter((span) => span.name === 'websocket.handshake');
}

/** What a span hangs off and links to, in one comparable line. */
function lineage(span: ReadableSpan): string {
  const parent = span.parentSpanContext ? `${span.parentSpanContext.traceId}/${span.parentSpanContext.spanId}` : 'root';
  const inClientTrace = span.spanContext().traceId === CLIENT_TRACE ? 'client trace' : 'own trace';
  const links = span.links.map((l) => `${l.context.traceId}/${l.context.spanId}`).join(' ');
  return `${inClientTrace} parent=${parent} links=${links}`;
}

function handshakeLink(): string {
  const [handshake] = handshakeSpans();
  return `${handshake!.spanContext().traceId}/${handshake!.spanContext().spanId}`;
}

const childOfClient = (i: number, handshake: string): string => `client trace parent=${CLIENT_TRACE}/${clientSpan(i)} links=${handshake}`;
const rootLinkedToClient = (i: number, handshake: string): string => `own trace parent=root links=${handshake} ${CLIENT_TRACE}/${clientSpan(i)}`;
const range = (from: number, count: number): number[] => Array.from({ length: count }, (_, k) => from + k);

describe('client-sampled trace context budget', () => {
  it('continues only the budget of client-sampled messages (5 of 50) and traces none of the rest with messageSampleRatio 0', async () => {
    server = await start({ maxClientSampledMessageSpansPerSecond: 5 });
    const client = await connect(server.url);
    await sendTraced(client, 0, 50);
    const handshake = handshakeLink();
    expect(processSpans().map(lineage)).toEqual(range(0, 5).map((i) => childOfClient(i, handshake)));
    expect(await server.telemetry.value(REFUSED)).toBe(45);
    client.close();
  });

  it('gives the refused messages root spans linked to the client span when messageSampleRatio samples them', async () => {
    server = await start({ maxClientSampledMessageSpansPerSecond: 5, messageSampleRatio: 1 });
    const client = await connect(server.url);
    await sendTraced(client, 0, 50);
    const handshake = handshakeLink();
    const spans = processSpans();
    expect(spans.map(lineage)).toEqual([...range(0, 5).map((i) => childOfClient(i, handshake)), ...range(5, 45).map((i) => rootLinkedToClient(i, handshake))]);
    // Each root span starts a trace of its own.
    expect(new Set(spans.slice(5).map((span) => span.spanContext().traceId)).size).toBe(45);
    expect(await server.telemetry.value(REFUSED)).toBe(45);
    client.close();
  });

  it('refills the budget at its rate (5 a second: one per 200 ms), up to a burst of 5', async () => {
    server = await start({ maxClientSampledMessageSpansPerSecond: 5 });
    const client = await connect(server.url);
    await sendTraced(client, 0, 10);
    expect(processSpans()).toHaveLength(5);
    expect(await server.telemetry.value(REFUSED)).toBe(5);

    vi.advanceTimersByTime(200);
    await sendTraced(client, 10, 3);
    expect(processSpans()).toHaveLength(6);
    expect(processSpans()[5]!.parentSpanContext?.spanId).toBe(clientSpan(10));
    expect(await server.telemetry.value(REFUSED)).toBe(7);

    vi.advanceTimersByTime(10_000);
    await sendTraced(client, 13, 10);
    const handshake = handshakeLink();
    expect(processSpans().map(lineage)).toEqual([...range(0, 5), 10, ...range(13, 5)].map((i) => childOfClient(i, handshake)));
    expect(await server.telemetry.value(REFUSED)).toBe(12);
    client.close();
  });

  it('is one budget per server: a client that spends it leaves none for another', async () => {
    server = await start({ maxClientSampledMessageSpansPerSecond: 5 });
    const greedy = await connect(server.url);
    const other = await connect(server.url);
    await sendTraced(greedy, 0, 20);
    await sendTraced(other, 100, 3);
    expect(processSpans().map((span) => span.parentSpanContext?.spanId)).toEqual(range(0, 5).map(clientSpan));
    expect(await server.telemetry.value(REFUSED)).toBe(18);
    greedy.close();
    other.close();
  });

  it('spends nothing on unsampled traceparents and counts nothing for them', async () => {
    server = await start({ maxClientSampledMessageSpansPerSecond: 5 });
    const client = await connect(server.url);
    await sendTraced(client, 0, 20, '00');
    expect(processSpans()).toEqual([]);
    expect(await server.telemetry.value(REFUSED)).toBe(0);
    await sendTraced(client, 20, 6);
    expect(processSpans().map((span) => span.parentSpanContext?.spanId)).toEqual(range(20, 5).map(clientSpan));
    expect(await server.telemetry.value(REFUSED)).toBe(1);
    client.close();
  });

  it('defaults to 100 a second', async () => {
    server = await start({});
    const client = await connect(server.url);
    await sendTraced(client, 0, 150);
    const spans = processSpans();
    expect(spans).toHaveLength(100);
    expect(spans.every((span, i) => span.spanContext().traceId === CLIENT_TRACE && span.parentSpanContext?.spanId === clientSpan(i))).toBe(true);
    expect(await server.telemetry.value(REFUSED)).toBe(50);
    client.close();
  });

  it('Infinity continues every client-sampled message', async () => {
    server = await start({ maxClientSampledMessageSpansPerSecond: Infinity });
    const client = await connect(server.url);
    await sendTraced(client, 0, 300);
    const spans = processSpans();
    expect(spans).toHaveLength(300);
    expect(spans.every((span, i) => span.spanContext().traceId === CLIENT_TRACE && span.parentSpanContext?.spanId === clientSpan(i))).toBe(true);
    expect(await server.telemetry.value(REFUSED)).toBe(0);
    client.close();
  });

  it('0 never continues a client-sampled trace: messageSampleRatio alone decides, in root spans', async () => {
    server = await start({ maxClientSampledMessageSpansPerSecond: 0, messageSampleRatio: 1 });
    const client = await connect(server.url);
    await sendTraced(client, 0, 3);
    const handshake = handshakeLink();
    expect(processSpans().map(lineage)).toEqual(range(0, 3).map((i) => rootLinkedToClient(i, handshake)));
    expect(await server.telemetry.value(REFUSED)).toBe(3);
    client.close();
  });
});
