/**
 * The three ways a ws server is run (standalone, attached to an HTTP server,
 * noServer with handleUpgrade), and 10 000 connect/disconnect cycles that
 * must leave no listener, timer or internal entry behind.
 */
import { createServer } from 'node:http';
import { type AddressInfo, createConnection } from 'node:net';
import { describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { instrumentWebSocketServer } from '../../../src/instrumentation/index.ts';
import { Telemetry, closed, connect, startServer, untilValue } from './harness.ts';

const UPGRADE =
  'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
  'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n';
/** A masked close frame with code 1000 (mask 0000, so the payload reads as is). */
const CLOSE_1000 = Buffer.from([0x88, 0x82, 0, 0, 0, 0, 0x03, 0xe8]);

/**
 * One connect/disconnect over a bare TCP socket: a real WebSocket handshake
 * and close frame, without a client library's cost (so 10 000 cycles fit in
 * seconds).
 */
function rawCycle(port: number, clean: boolean): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host: '127.0.0.1', port }, () => socket.write(UPGRADE));
    socket.once('data', (chunk) => {
      if (!chunk.toString('latin1').startsWith('HTTP/1.1 101')) reject(new Error(`no upgrade: ${chunk.toString('latin1')}`));
      if (clean) socket.write(CLOSE_1000);
      else socket.destroy();
    });
    socket.on('error', reject);
    socket.on('close', () => resolve());
  });
}

async function echoRoundTrip(url: string): Promise<void> {
  const client = await connect(url);
  const echoed = new Promise((resolve) => client.once('message', resolve));
  client.send('ping');
  await echoed;
  const done = closed(client);
  client.close(1000);
  await done;
}

describe('server modes', () => {
  it('instruments a server attached to an HTTP server', async () => {
    const telemetry = new Telemetry();
    const http = createServer((_req, res) => res.end('plain http'));
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    const wss = new WebSocketServer({ server: http, path: '/ws' });
    const handle = instrumentWebSocketServer(wss, { meterProvider: telemetry.meterProvider, tracerProvider: telemetry.tracerProvider, eventLoopDelay: false });
    wss.on('connection', (socket) => socket.on('message', (data) => socket.send(data)));
    const { port } = http.address() as AddressInfo;
    try {
      await echoRoundTrip(`ws://127.0.0.1:${port}/ws`);
      await untilValue(telemetry, 'websocket.server.connection.count', {}, 0);
      expect(await telemetry.value('websocket.server.connection.opened')).toBe(1);
      expect(await telemetry.series('websocket.server.received.messages')).toEqual(['{websocket.frame.type=text,websocket.message.type=_OTHER} 1']);
      // The echo sends the received Buffer back: a binary frame.
      expect(await telemetry.series('websocket.server.sent.messages')).toEqual(['{websocket.frame.type=binary,websocket.message.type=_OTHER} 1']);
      expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toBe('plain http');
    } finally {
      handle.shutdown();
      wss.close();
      await new Promise((resolve) => http.close(resolve));
      await telemetry.shutdown();
    }
  });

  it('instruments a noServer server whose upgrades the application routes', async () => {
    const telemetry = new Telemetry();
    const wss = new WebSocketServer({ noServer: true });
    const handle = instrumentWebSocketServer(wss, {
      meterProvider: telemetry.meterProvider,
      tracerProvider: telemetry.tracerProvider,
      eventLoopDelay: false,
      authenticate: (req) => (req.headers['sec-websocket-protocol'] === 'v1' ? { ok: true, user: 'ann' } : { ok: false, reason: 'invalid_token' }),
    });
    wss.on('connection', (socket) => socket.on('message', (data) => socket.send(data)));
    const http = createServer();
    http.on('upgrade', (req, socket, head) => {
      wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
    });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    const { port } = http.address() as AddressInfo;
    try {
      await expect(connect(`ws://127.0.0.1:${port}/`)).rejects.toMatchObject({ status: 401 });
      const client = new WebSocket(`ws://127.0.0.1:${port}/`, 'v1');
      await new Promise((resolve) => client.once('open', resolve));
      const echoed = new Promise((resolve) => client.once('message', resolve));
      client.send('hi');
      await echoed;
      client.close();
      await untilValue(telemetry, 'websocket.server.connection.count', {}, 0);
      expect(await telemetry.value('websocket.server.connection.opened')).toBe(1);
      expect(await telemetry.series('websocket.server.auth.failures')).toEqual(['{websocket.auth.failure.reason=invalid_token} 1']);
      expect(await telemetry.value('websocket.server.auth.attempts')).toBe(2);
    } finally {
      handle.shutdown();
      wss.close();
      await new Promise((resolve) => http.close(resolve));
      await telemetry.shutdown();
    }
  });

  it('refuses to instrument the same server twice and validates its options', async () => {
    const server = await startServer();
    try {
      expect(() => instrumentWebSocketServer(server.wss)).toThrow('already instrumented');
      expect(() => instrumentWebSocketServer(new WebSocketServer({ noServer: true, clientTracking: false }), { heartbeat: {} })).toThrow('clientTracking');
      expect(() => instrumentWebSocketServer(new WebSocketServer({ noServer: true }), { messageTypes: ['a'.repeat(65)] })).toThrow('invalid type');
      expect(() => instrumentWebSocketServer({} as WebSocketServer)).toThrow('expected a ws 8 WebSocketServer');
    } finally {
      await server.close();
    }
  });
});

describe('leaks', () => {
  it('leaves no listener, timer or internal entry after 10 000 connect/disconnect cycles', async () => {
    const server = await startServer({ heartbeat: { intervalMs: 60_000 }, channels: { allow: ['lobby'] } });
    const { wss, handle, telemetry } = server;
    wss.on('connection', (socket) => {
      handle.rooms.join(socket, 'lobby');
      handle.rooms.join(socket, `private-${Math.random()}`);
    });
    const serverEvents = () => Object.fromEntries(wss.eventNames().map((e) => [String(e), wss.listenerCount(e)]));
    const before = { events: serverEvents(), stats: handle.stats() };

    const cycles = 10_000;
    const concurrency = 50;
    const port = Number(new URL(server.url).port);
    let done = 0;
    const worker = async (): Promise<void> => {
      while (done < cycles) {
        done++;
        // Alternate clean closes and abrupt ones.
        await rawCycle(port, done % 2 === 0);
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    await untilValue(telemetry, 'websocket.server.connection.count', {}, 0);

    expect(await telemetry.value('websocket.server.connection.opened')).toBe(cycles);
    expect(await telemetry.series('websocket.server.connection.closed')).toEqual([
      '{error.type=abnormal_closure,websocket.close_code.class=abnormal} 5000',
      '{websocket.close_code.class=normal} 5000',
    ]);
    expect(serverEvents()).toEqual(before.events);
    expect(handle.stats()).toEqual({ ...before.stats, connections: 0, trackedClients: 0, pendingHandshakes: 0, rooms: 0, subscriptions: 0 });
    expect(handle.stats().timers).toBe(1);
    expect(wss.clients.size).toBe(0);
    // Every server-side socket was released: the sockets hold no listener of ours (there are none to hold).
    await server.close();
    expect(handle.stats()).toMatchObject({ timers: 0, serverListeners: 0 });
  }, 120_000);
});
