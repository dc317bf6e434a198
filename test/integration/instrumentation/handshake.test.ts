/**
 * The handshake wrapper at its edges: what ws and the application's own
 * callbacks throw during an (authenticated) upgrade, requests ws refuses by
 * itself, a socket that closed before handleUpgrade, an upgrade that
 * completes after shutdown(), the trace context the application's code runs
 * in, and what shutdown() puts back.
 */
import { SpanStatusCode, context, trace } from '@opentelemetry/api';
import { InMemorySpanExporter, NodeTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-node';
import { type IncomingMessage, type Server, createServer } from 'node:http';
import { type AddressInfo, createConnection } from 'node:net';
import type { Duplex } from 'node:stream';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer, type ServerOptions } from 'ws';
import { type InstrumentWebSocketServerOptions, type WebSocketServerInstrumentation, instrumentWebSocketServer } from '../../../src/instrumentation/index.ts';
import { waitFor } from '../../../src/stack/ports.ts';
import { type TestServer, Telemetry, closed, connect, startServer, untilValue } from './harness.ts';

const KEY = 'dGhlIHNhbXBsZSBub25jZQ==';
const UPGRADE_HEADERS = `Host: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ${KEY}\r\n\r\n`;

let server: TestServer | undefined;
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  await server?.close();
  server = undefined;
});

/** A raw request (request line and headers as given); resolves with everything the server wrote before it closed. */
function rawRequest(port: number, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host: '127.0.0.1', port }, () => socket.write(request));
    let text = '';
    socket.on('data', (chunk) => (text += chunk.toString('latin1')));
    socket.on('close', () => resolve(text));
    socket.on('error', reject);
  });
}

/** How a client's upgrade ends: 'open', `HTTP <status>`, or `error` (the server closed without a response). */
function outcome(url: string, protocols?: string): Promise<string> {
  return new Promise((resolve) => {
    const client = new WebSocket(url, protocols);
    client.once('open', () => {
      resolve('open');
      client.close();
    });
    client.once('unexpected-response', (_req, res) => {
      resolve(`HTTP ${res.statusCode}`);
      client.terminate();
    });
    client.once('error', () => resolve('error'));
  });
}

function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** The next uncaught exception (our listener also tells vitest it is expected). */
function nextUncaught(): Promise<unknown> {
  return new Promise((resolve) => process.once('uncaughtException', resolve));
}

interface NoServerApp {
  wss: WebSocketServer;
  handle: WebSocketServerInstrumentation;
  telemetry: Telemetry;
  url: string;
  /** What the application's call of wss.handleUpgrade() threw. */
  thrown: unknown[];
}

/**
 * A noServer ws server whose upgrades the application routes from its HTTP
 * server, as ws documents it; `route` replaces that routing.
 */
async function startNoServer(
  options: InstrumentWebSocketServerOptions,
  serverOptions: ServerOptions = {},
  route?: (app: NoServerApp, request: IncomingMessage, socket: Duplex, head: Buffer) => void,
): Promise<NoServerApp> {
  const telemetry = new Telemetry();
  const wss = new WebSocketServer({ noServer: true, ...serverOptions });
  const handle = instrumentWebSocketServer(wss, { meterProvider: telemetry.meterProvider, tracerProvider: telemetry.tracerProvider, eventLoopDelay: false, ...options });
  const http: Server = createServer();
  const app: NoServerApp = { wss, handle, telemetry, url: '', thrown: [] };
  // Upgraded sockets are no longer the HTTP server's to close.
  const sockets = new Set<Duplex>();
  http.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    sockets.add(socket);
    if (route) return route(app, request, socket, head);
    try {
      wss.handleUpgrade(request, socket, head, (ws) => wss.emit('connection', ws, request));
    } catch (error) {
      app.thrown.push(error);
    }
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  app.url = `ws://127.0.0.1:${(http.address() as AddressInfo).port}`;
  cleanups.push(async () => {
    for (const client of wss.clients) client.terminate();
    handle.shutdown();
    await new Promise((resolve) => wss.close(resolve));
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => http.close(resolve));
    await telemetry.shutdown();
  });
  return app;
}

describe("errors of ws and of the application's callbacks during an authenticated upgrade", () => {
  it('a throwing connection callback after a sync authenticate() is thrown to the caller of handleUpgrade, not swallowed', async () => {
    const app = await startNoServer({ authenticate: () => ({ ok: true }) });
    const bug = new Error('connection handler bug');
    app.wss.on('connection', () => {
      throw bug;
    });
    expect(await outcome(app.url)).toBe('open');
    expect(app.thrown).toEqual([bug]);
    // The connection did open (the 101 went out before the callback): counted as such, no rejection.
    await untilValue(app.telemetry, 'websocket.server.connection.opened', {}, 1);
    expect(await app.telemetry.series('websocket.server.connection.rejected')).toEqual([]);
    expect(app.handle.stats().pendingHandshakes).toBe(0);
  });

  it('a throwing handleProtocols after a sync authenticate() is handshake_failed, closes the socket and is thrown to the caller', async () => {
    const bug = new Error('handleProtocols bug');
    const app = await startNoServer(
      { authenticate: () => ({ ok: true }) },
      {
        handleProtocols: () => {
          throw bug;
        },
      },
    );
    // ws threw before it answered: the socket is closed without a response (it was a 500 and an authenticator_error).
    expect(await outcome(app.url, 'v1')).toBe('error');
    expect(app.thrown).toEqual([bug]);
    expect(await app.telemetry.series('websocket.server.connection.rejected')).toEqual(['{error.type=handshake_failed} 1']);
    expect(await app.telemetry.value('websocket.server.connection.opened')).toBe(0);
    expect(app.handle.stats().pendingHandshakes).toBe(0);
    const [span] = app.telemetry.spans.getFinishedSpans();
    expect(span?.attributes).toMatchObject({ 'error.type': 'handshake_failed', 'websocket.auth.outcome': 'success' });
    // The server's own code failed: an error span with the exception.
    expect(span?.status).toEqual({ code: SpanStatusCode.ERROR, message: 'handshake_failed' });
    expect(span?.events.map((e) => e.attributes?.['exception.message'])).toEqual(['handleProtocols bug']);
  });

  it('a throwing verifyClient without authenticate() is handshake_failed too: the socket is closed, not left open', async () => {
    const bug = new Error('verifyClient bug');
    const app = await startNoServer(
      {},
      {
        verifyClient: () => {
          throw bug;
        },
      },
    );
    expect(await outcome(app.url)).toBe('error');
    expect(app.thrown).toEqual([bug]);
    expect(await app.telemetry.series('websocket.server.connection.rejected')).toEqual(['{error.type=handshake_failed} 1']);
    expect(app.handle.stats().pendingHandshakes).toBe(0);
  });

  it('a throwing handleProtocols after an async authenticate() is an uncaught exception (not an unhandled rejection), and the client is answered', async () => {
    const bug = new Error('handleProtocols bug');
    server = await startServer(
      { authenticate: async () => ({ ok: true }) },
      {
        handleProtocols: () => {
          throw bug;
        },
      },
    );
    const uncaught = nextUncaught();
    expect(await outcome(server.url, 'v1')).toBe('error');
    expect(await uncaught).toBe(bug);
    expect(await server.telemetry.series('websocket.server.connection.rejected')).toEqual(['{error.type=handshake_failed} 1']);
    expect(server.handle.stats().pendingHandshakes).toBe(0);
  });

  it('a throwing connection listener after an async authenticate() is an uncaught exception; the connection stays open and counted', async () => {
    server = await startServer({ authenticate: async () => ({ ok: true }) });
    const bug = new Error('connection handler bug');
    server.wss.on('connection', () => {
      throw bug;
    });
    const uncaught = nextUncaught();
    const client = await connect(server.url);
    expect(await uncaught).toBe(bug);
    await untilValue(server.telemetry, 'websocket.server.connection.count', {}, 1);
    expect(await server.telemetry.series('websocket.server.connection.rejected')).toEqual([]);
    client.close();
  });
});

describe('requests ws refuses by itself never reach authenticate()', () => {
  it('answers a wrong path, a non-GET method, a missing key and an unsupported version as ws does, counting no authentication', async () => {
    let calls = 0;
    server = await startServer(
      {
        authenticate: () => {
          calls++;
          return { ok: false, reason: 'missing_token' };
        },
      },
      { path: '/ws' },
    );
    const port = Number(new URL(server.url).port);
    const replies = await Promise.all([
      rawRequest(port, `GET /elsewhere HTTP/1.1\r\n${UPGRADE_HEADERS}`),
      rawRequest(port, `POST /ws HTTP/1.1\r\n${UPGRADE_HEADERS}`),
      rawRequest(port, 'GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n\r\n'),
      rawRequest(port, `GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 12\r\nSec-WebSocket-Key: ${KEY}\r\n\r\n`),
      rawRequest(port, `GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: h2c\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ${KEY}\r\n\r\n`),
    ]);
    expect(replies.map((reply) => reply.split('\r\n', 1)[0])).toEqual([
      'HTTP/1.1 400 Bad Request',
      'HTTP/1.1 405 Method Not Allowed',
      'HTTP/1.1 400 Bad Request',
      'HTTP/1.1 400 Bad Request',
      'HTTP/1.1 400 Bad Request',
    ]);
    await untilValue(server.telemetry, 'websocket.server.connection.rejected', { 'error.type': 'handshake_failed' }, 5);
    expect(calls).toBe(0);
    expect(await server.telemetry.value('websocket.server.auth.attempts')).toBe(0);
    expect(await server.telemetry.series('websocket.server.auth.failures')).toEqual([]);
    expect(server.handle.stats().pendingHandshakes).toBe(0);
    // A valid request on the path is still authenticated.
    await expect(connect(`${server.url}/ws`)).rejects.toMatchObject({ status: 401 });
    expect(calls).toBe(1);
  });
});

describe('a socket that closed before handleUpgrade', () => {
  it('settles as handshake_failed at once (its close event has already gone)', async () => {
    const upgradeSeen = deferred<void>();
    const handled = deferred<void>();
    const app = await startNoServer({}, {}, ({ wss }, request, socket, head) => {
      // The application awaits something of its own before handleUpgrade; the client resets meanwhile.
      socket.on('error', () => {});
      socket.once('close', () => {
        wss.handleUpgrade(request, socket, head, (ws) => wss.emit('connection', ws, request));
        handled.resolve();
      });
      upgradeSeen.resolve();
    });
    const client = createConnection({ host: '127.0.0.1', port: Number(new URL(app.url).port) }, () => client.write(`GET / HTTP/1.1\r\n${UPGRADE_HEADERS}`));
    client.on('error', () => {});
    await upgradeSeen.promise;
    client.resetAndDestroy();
    await handled.promise;
    expect(app.handle.stats().pendingHandshakes).toBe(0);
    expect(await app.telemetry.series('websocket.server.connection.rejected')).toEqual(['{error.type=handshake_failed} 1']);
    const [span] = app.telemetry.spans.getFinishedSpans();
    expect(span?.attributes['error.type']).toBe('handshake_failed');
  });
});

describe('shutdown() while an async authenticate() decides', () => {
  it('the upgrade that completes afterwards is handed to the application untracked: no state, no room membership left behind', async () => {
    const decision = deferred<{ ok: true; user: string }>();
    server = await startServer({ authenticate: () => decision.promise });
    const { handle, wss, telemetry } = server;
    const joined: boolean[] = [];
    wss.on('connection', (socket) => joined.push(handle.rooms.join(socket, 'lobby')));
    const opening = connect(server.url);
    await waitFor('the upgrade to be pending', async () => handle.stats().pendingHandshakes === 1);
    handle.shutdown();
    decision.resolve({ ok: true, user: 'u-1' });
    const client = await opening;
    await waitFor('the connection callback', async () => joined.length === 1);
    expect(joined).toEqual([false]);
    const [socket] = wss.clients;
    expect(handle.connectionInfo(socket!)).toBeUndefined();
    expect(handle.stats()).toMatchObject({ connections: 0, pendingHandshakes: 0, rooms: 0, subscriptions: 0 });
    // The handshake span still ends.
    expect(telemetry.spans.getFinishedSpans().map((s) => s.name)).toEqual(['websocket.handshake']);
    client.close();
    await closed(client);
    expect(handle.rooms.size('lobby')).toBe(0);
    expect(handle.stats()).toMatchObject({ connections: 0, rooms: 0 });
  });
});

describe('the trace context of the application code the handshake runs', () => {
  const spans = new InMemorySpanExporter();
  // A registered context manager, as an app's SDK has (the harness's providers register nothing).
  const tracerProvider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] });
  beforeAll(() => tracerProvider.register({ propagator: null }));
  afterAll(async () => {
    trace.disable();
    context.disable();
    await tracerProvider.shutdown();
  });

  it.each([
    ['sync', (work: () => void) => (): { ok: true } => (work(), { ok: true })],
    [
      'async',
      (work: () => void) => async (): Promise<{ ok: true }> => {
        await new Promise((resolve) => setImmediate(resolve));
        work();
        return { ok: true };
      },
    ],
  ] as const)('spans started in a %s authenticate() and in the connection callback are children of the handshake span', async (_kind, hook) => {
    spans.reset();
    const tracer = tracerProvider.getTracer('app');
    server = await startServer({ tracerProvider, authenticate: hook(() => tracer.startSpan('verify token').end()) });
    server.wss.on('connection', () => tracer.startSpan('on connection').end());
    const traceId = '0af7651916cd43dd8448eb211c80319c';
    const client = await connect(server.url, { headers: { traceparent: `00-${traceId}-b7ad6b7169203331-01` } });
    await waitFor('three spans', async () => spans.getFinishedSpans().length === 3);
    const byName = new Map(spans.getFinishedSpans().map((s) => [s.name, s]));
    const handshake = byName.get('websocket.handshake')!;
    expect(handshake.spanContext().traceId).toBe(traceId);
    for (const name of ['verify token', 'on connection']) {
      expect(byName.get(name)?.spanContext().traceId, name).toBe(traceId);
      expect(byName.get(name)?.parentSpanContext?.spanId, name).toBe(handshake.spanContext().spanId);
    }
    client.close();
  });
});

describe('what shutdown() puts back', () => {
  it("restores the application's own handleUpgrade wrapper, and leaves one put over ours in place", async () => {
    const telemetry = new Telemetry();
    cleanups.push(() => telemetry.shutdown());
    const wss = new WebSocketServer({ noServer: true });
    const appWrapper = function (this: WebSocketServer, ...args: Parameters<WebSocketServer['handleUpgrade']>): void {
      WebSocketServer.prototype.handleUpgrade.apply(this, args);
    };
    wss.handleUpgrade = appWrapper;
    const first = instrumentWebSocketServer(wss, { meterProvider: telemetry.meterProvider, eventLoopDelay: false });
    expect(wss.handleUpgrade).not.toBe(appWrapper);
    first.shutdown();
    expect(Object.hasOwn(wss, 'handleUpgrade')).toBe(true);
    expect(wss.handleUpgrade).toBe(appWrapper);

    const second = instrumentWebSocketServer(wss, { meterProvider: telemetry.meterProvider, eventLoopDelay: false });
    const ours = wss.handleUpgrade;
    const later = function (this: WebSocketServer, ...args: Parameters<WebSocketServer['handleUpgrade']>): void {
      ours.apply(this, args);
    };
    wss.handleUpgrade = later;
    second.shutdown();
    expect(wss.handleUpgrade).toBe(later);
    wss.close();
  });
});

describe('client.address behind trusted proxies', () => {
  /** client.address and network.peer.address of the handshake span of a connection sending this X-Forwarded-For. */
  async function addresses(options: InstrumentWebSocketServerOptions, forwardedFor: string): Promise<unknown[]> {
    server = await startServer(options);
    const client = await connect(server.url, { headers: { 'x-forwarded-for': forwardedFor } });
    const [span] = server.telemetry.spans.getFinishedSpans();
    client.close();
    await server.close();
    server = undefined;
    return [span?.attributes['client.address'], span?.attributes['network.peer.address']];
  }

  it('trustProxy: true takes the entry the one proxy appended (the rightmost), never what the client wrote left of it', async () => {
    expect(await addresses({ trustProxy: true }, '6.6.6.6, 203.0.113.7')).toEqual(['203.0.113.7', '127.0.0.1']);
  });

  it('trustProxy: N takes the entry N hops away, counting the TCP peer as hop 0', async () => {
    expect(await addresses({ trustProxy: 2 }, '6.6.6.6, 203.0.113.7, 10.0.0.1')).toEqual(['203.0.113.7', '127.0.0.1']);
  });

  it('without trustProxy the header is ignored, and an invalid value throws before the server is patched', async () => {
    expect(await addresses({}, '6.6.6.6')).toEqual(['127.0.0.1', '127.0.0.1']);
    const wss = new WebSocketServer({ noServer: true });
    expect(() => instrumentWebSocketServer(wss, { trustProxy: -1 })).toThrow('trustProxy must be a boolean or an integer >= 0 (trusted proxy hops), got -1');
    expect(Object.hasOwn(wss, 'handleUpgrade')).toBe(false);
    wss.close();
  });
});
