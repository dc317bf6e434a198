/**
 * Instrumenting a server again while connections of an earlier instrumentation
 * are still open (instrumentWebSocketServer after shutdown(), or the
 * Instrumentation class's disable() then enable()): each instrumentation sees
 * only the sockets it opened. As with a server instrumented for the first time
 * while it has clients, the earlier sockets stay open and untracked by the new
 * one (not pinged, counted, put in its rooms or measured), and they still
 * leave the earlier instrumentation's rooms when they close.
 */
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { createRequire } from 'node:module';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket, type WebSocketServer } from 'ws';
import { type WebSocketServerInstrumentation, instrumentWebSocketServer } from '../../../src/instrumentation/index.ts';
import { WsServerInstrumentation } from '../../../src/instrumentation/instrumentation.ts';
import { waitFor } from '../../../src/stack/ports.ts';
import { type TestServer, Telemetry, closed, connect, startServer, untilValue } from './harness.ts';

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** The server side of the connection that opens next. */
function nextConnection(wss: WebSocketServer): Promise<WebSocket> {
  return new Promise((resolve) => wss.once('connection', resolve));
}

/** Runs `rounds` heartbeat rounds, each once the previous round's pongs (`answering` of them) were measured. */
async function heartbeatRounds(telemetry: Telemetry, handle: WebSocketServerInstrumentation, rounds: number, answering: number, measuredBefore: number): Promise<void> {
  for (let round = 1; round <= rounds; round++) {
    handle.heartbeat!.tick();
    const expected = measuredBefore + round * answering;
    await waitFor(`${expected} pongs`, async () => (await telemetry.histogram('websocket.server.ping.duration'))?.count === expected);
  }
}

describe('instrumenting a server again after shutdown()', () => {
  it("leaves the earlier instrumentation's open sockets to it: not pinged, not terminated, not counted, and they leave only its rooms", async () => {
    server = await startServer({ heartbeat: { intervalMs: 60_000 } });
    const { wss, telemetry } = server;
    const first = server.handle;
    const joined = nextConnection(wss);
    const old = await connect(server.url);
    const oldSocket = await joined;
    expect(first.rooms.join(oldSocket, 'lobby')).toBe(true);
    await heartbeatRounds(telemetry, first, 1, 1, 0);
    first.shutdown();

    const second = instrumentWebSocketServer(wss, { meterProvider: telemetry.meterProvider, heartbeat: { intervalMs: 60_000 }, eventLoopDelay: false });
    server.handle = second;
    expect(second.stats()).toMatchObject({ connections: 0, trackedClients: 0 });
    expect(second.rooms.join(oldSocket, 'lobby')).toBe(false);
    expect(second.connectionInfo(oldSocket)).toBeUndefined();
    const freshJoined = nextConnection(wss);
    const fresh = await connect(server.url);
    expect(second.rooms.join(await freshJoined, 'lobby')).toBe(true);
    expect(second.stats()).toMatchObject({ connections: 1, trackedClients: 1, rooms: 1, subscriptions: 1 });

    // Three rounds of the new heartbeat: only the new socket is pinged; the old one, which
    // answers its pings to the earlier instrumentation's emit, is never taken for dead.
    await heartbeatRounds(telemetry, second, 3, 1, 1);
    expect(await telemetry.value('websocket.server.ping.sent')).toBe(1 + 3);
    expect(await telemetry.value('websocket.server.ping.timeouts')).toBe(0);
    expect(old.readyState).toBe(WebSocket.OPEN);
    expect(await telemetry.value('websocket.server.connection.count')).toBe(1);
    expect(await telemetry.value('websocket.server.room.count')).toBe(1);
    expect(await telemetry.value('websocket.server.subscription.count', { 'websocket.channel': '_OTHER' })).toBe(1);

    // The old socket closes: it leaves the earlier instrumentation's room; the new one's counts stay.
    const oldGone = closed(old);
    old.close();
    await oldGone;
    await waitFor('the old room to empty', async () => first.rooms.size('lobby') === 0);
    expect(first.stats()).toMatchObject({ rooms: 0, subscriptions: 0 });
    expect(second.stats()).toMatchObject({ connections: 1, trackedClients: 1, rooms: 1, subscriptions: 1 });
    expect(second.rooms.size('lobby')).toBe(1);
    expect(await telemetry.value('websocket.server.connection.count')).toBe(1);
    expect(await telemetry.series('websocket.server.connection.closed')).toEqual([]);

    fresh.close();
    await untilValue(telemetry, 'websocket.server.connection.count', {}, 0);
    expect(await telemetry.series('websocket.server.connection.closed')).toEqual(['{websocket.close_code.class=no_status} 1']);
    expect(second.stats()).toMatchObject({ connections: 0, trackedClients: 0, rooms: 0, subscriptions: 0 });
    expect(await telemetry.value('websocket.server.room.count')).toBe(0);
    expect(await telemetry.value('websocket.server.connection.opened')).toBe(2);
  });
});

describe('WsServerInstrumentation disable() then enable()', () => {
  it('keeps the connections opened before working: the server instrumented again neither pings nor counts them', async () => {
    const telemetry = new Telemetry();
    const instrumentation = new WsServerInstrumentation({ heartbeat: { intervalMs: 60_000 }, eventLoopDelay: false });
    const unregister = registerInstrumentations({ instrumentations: [instrumentation], meterProvider: telemetry.meterProvider, tracerProvider: telemetry.tracerProvider });
    const ws = createRequire(import.meta.url)('ws') as typeof import('ws');
    const wss = new ws.WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise((resolve) => wss.once('listening', resolve));
    const url = `ws://127.0.0.1:${(wss.address() as { port: number }).port}`;
    // The handle the instrumentation made for this server (private; a test needs its heartbeat).
    const handleOf = (): WebSocketServerInstrumentation =>
      (instrumentation as unknown as { handles: Map<WebSocketServer, { handle: WebSocketServerInstrumentation }> }).handles.get(wss)!.handle;
    try {
      const before = await connect(url);
      await heartbeatRounds(telemetry, handleOf(), 1, 1, 0);

      instrumentation.disable();
      instrumentation.enable();
      const after = await connect(url);
      await untilValue(telemetry, 'websocket.server.connection.count', {}, 1);
      expect(handleOf().stats()).toMatchObject({ connections: 1, trackedClients: 1 });
      await heartbeatRounds(telemetry, handleOf(), 3, 1, 1);
      expect(await telemetry.value('websocket.server.ping.sent')).toBe(1 + 3);
      expect(await telemetry.value('websocket.server.ping.timeouts')).toBe(0);
      expect([before.readyState, after.readyState]).toEqual([WebSocket.OPEN, WebSocket.OPEN]);

      const beforeGone = closed(before);
      before.close();
      await beforeGone;
      expect(await telemetry.value('websocket.server.connection.count')).toBe(1);
      expect(await telemetry.series('websocket.server.connection.closed')).toEqual([]);
      after.close();
      await untilValue(telemetry, 'websocket.server.connection.count', {}, 0);
      expect(await telemetry.series('websocket.server.connection.closed')).toEqual(['{websocket.close_code.class=no_status} 1']);
    } finally {
      unregister();
      for (const client of wss.clients) client.terminate();
      await new Promise((resolve) => wss.close(resolve));
      await telemetry.shutdown();
    }
  });
});
