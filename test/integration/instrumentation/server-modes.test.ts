/**
 * The three ways a ws server is run (standalone, attached to an HTTP server,
 * noServer with handleUpgrade), and 10 000 connect/disconnect cycles that
 * must leave no listener, timer or internal entry behind.
 */
import { createHook } from 'node:async_hooks';
import type { EventEmitter } from 'node:events';
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
      expect(() => instrumentWebSocketServer(new WebSocketServer({ noServer: true }), { channels: { topN: 1, maxNamed: 1.5 } })).toThrow('channels.maxNamed');
      expect(() => instrumentWebSocketServer({} as WebSocketServer)).toThrow('expected a WebSocketServer of ws >= 8.5 (one with the WebSocket option)');
    } finally {
      await server.close();
    }
  });
});

/**
 * Every timer (setTimeout / setInterval, ref'd or unref'd, from any module)
 * created while it is on and not yet fired or cleared, seen through
 * async_hooks: the real timers, not what the instrumentation says it owns.
 */
function timerTracker() {
  const live = new Set<number>();
  const hook = createHook({
    init(asyncId, type) {
      if (type === 'Timeout') live.add(asyncId);
    },
    destroy(asyncId) {
      live.delete(asyncId);
    },
  });
  hook.enable();
  return {
    /** Live timers, after letting async_hooks deliver the destroys it queued. */
    async live(): Promise<number[]> {
      for (let i = 0; i < 3; i++) await new Promise((resolve) => setImmediate(resolve));
      return [...live].sort((a, b) => a - b);
    },
    stop: () => hook.disable(),
  };
}

/** The listeners on a server-side ws socket and on its TCP socket, by event. */
function listenerSignature(socket: WebSocket): string {
  const raw = (socket as unknown as { _socket: EventEmitter })._socket;
  const counts = (emitter: EventEmitter) => emitter.eventNames().map((e) => `${String(e)}:${emitter.listenerCount(e)}`);
  return JSON.stringify({ socket: counts(socket), tcp: counts(raw) });
}

describe('leaks', () => {
  it('leaves no listener, timer or internal entry after 10 000 connect/disconnect cycles', async () => {
    // What a connection of a bare ws server carries, to compare ours with.
    const bare = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise((resolve) => bare.once('listening', resolve));
    const bareSignature = new Promise<string>((resolve) => bare.once('connection', (socket) => resolve(listenerSignature(socket))));
    await rawCycle((bare.address() as AddressInfo).port, true);
    const expectedSignature = await bareSignature;
    await new Promise((resolve) => bare.close(resolve));

    const timers = timerTracker();
    const server = await startServer({ heartbeat: { intervalMs: 60_000 }, channels: { allow: ['lobby'] } });
    const { wss, handle, telemetry } = server;
    const signatures = new Set<string>();
    wss.on('connection', (socket) => {
      signatures.add(listenerSignature(socket));
      handle.rooms.join(socket, 'lobby');
      handle.rooms.join(socket, `private-${Math.random()}`);
    });
    const httpServer = (wss as unknown as { _server: EventEmitter })._server;
    const events = (emitter: EventEmitter) => Object.fromEntries(emitter.eventNames().map((e) => [String(e), emitter.listenerCount(e)]));
    const before = { server: events(wss), http: events(httpServer), stats: handle.stats(), timers: await timers.live() };
    // The instrumentation's two (the heartbeat and the timing sampler's check) and the HTTP server's connection check.
    expect(before.stats.timers).toBe(2);
    expect(before.timers).toHaveLength(3);

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
    // Every connection carried exactly the listeners a bare ws connection carries: none of ours.
    expect([...signatures]).toEqual([expectedSignature]);
    expect(events(wss)).toEqual(before.server);
    expect(events(httpServer)).toEqual(before.http);
    expect(handle.stats()).toEqual({ ...before.stats, connections: 0, trackedClients: 0, pendingHandshakes: 0, rooms: 0, subscriptions: 0 });
    expect(wss.clients.size).toBe(0);
    // The same live timers as before the cycles (ws's close timers all cleared, none of ours added).
    expect(await timers.live()).toEqual(before.timers);

    // shutdown() clears exactly the timers stats() counted; closing the server clears the rest.
    handle.shutdown();
    expect(await timers.live()).toHaveLength(before.timers.length - before.stats.timers);
    expect(handle.stats()).toMatchObject({ timers: 0, serverListeners: 0, reporting: false });
    await server.close();
    expect(await timers.live()).toEqual([]);
    timers.stop();
  }, 120_000);
});
