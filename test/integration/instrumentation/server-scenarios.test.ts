/**
 * Scripted scenarios against a real ws server with real ws clients; every
 * metric is read back from an in-memory MetricReader with its exact name,
 * unit, attributes and value.
 */
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { createConnection } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { type RawData, WebSocket } from 'ws';
import { AUTH_FAILURE_REASONS, MESSAGE_ERROR_TYPES, type MetricDefinition, SERVER_METRICS, instrumentWebSocketServer, jsonEnvelope } from '../../../src/instrumentation/index.ts';
import { TimingSampler } from '../../../src/instrumentation/timing-sampler.ts';
import { instrumentOf } from '../../../src/telemetry/prometheus-endpoint.ts';
import { waitFor } from '../../../src/stack/ports.ts';
import { type TestServer, closed, connect, connectWithPartialFrame, nextMessage, startServer, untilValue } from './harness.ts';

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const UPGRADE_HEADERS = 'Host: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n';

/** Sends a raw upgrade request for `target` and resolves with the first reply bytes (the status line onwards). */
function rawUpgrade(url: string, target: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host: '127.0.0.1', port: Number(new URL(url).port) }, () => socket.write(`GET ${target} HTTP/1.1\r\n${UPGRADE_HEADERS}`));
    socket.once('data', (chunk) => {
      resolve(chunk.toString());
      socket.destroy();
    });
    socket.on('error', reject);
  });
}

describe('connection lifecycle', () => {
  it('counts an open and a normal close, with duration and a handshake span', async () => {
    server = await startServer();
    const { telemetry } = server;
    const client = await connect(`${server.url}/chat?token=secret`, { headers: { 'user-agent': 'scenario-test' } });
    await untilValue(telemetry, 'websocket.server.connection.count', {}, 1);
    expect(await telemetry.value('websocket.server.connection.opened')).toBe(1);
    // An idle connection: the base estimate, nothing buffered.
    expect(await telemetry.value('websocket.server.connection.memory')).toBe(2700);

    const [span] = telemetry.spans.getFinishedSpans();
    expect(span?.name).toBe('websocket.handshake');
    expect(span?.kind).toBe(SpanKind.SERVER);
    expect(span?.attributes).toMatchObject({
      'http.request.method': 'GET',
      'url.path': '/chat',
      'http.response.status_code': 101,
      'url.scheme': 'http',
      'network.peer.address': '127.0.0.1',
      'client.address': '127.0.0.1',
      'server.address': '127.0.0.1',
      'user_agent.original': 'scenario-test',
    });
    // The query (which may carry a token) is never recorded.
    expect(JSON.stringify(span?.attributes)).not.toContain('secret');
    expect(telemetry.spans.getFinishedSpans()).toHaveLength(1);

    client.close(1000, 'bye');
    await untilValue(telemetry, 'websocket.server.connection.count', {}, 0);
    expect(await telemetry.series('websocket.server.connection.closed')).toEqual(['{websocket.close_code.class=normal} 1']);
    const duration = await telemetry.histogram('websocket.server.connection.duration', { 'websocket.close_code.class': 'normal' });
    expect(duration?.count).toBe(1);
    expect(await telemetry.series('websocket.server.handshake.duration')).toEqual(['{} 1']);
    // No span lives as long as the connection: still just the handshake.
    expect(telemetry.spans.getFinishedSpans()).toHaveLength(1);
    // Bytes on the wire: the handshake and the close frames, both ways.
    const received = (await telemetry.value('websocket.server.io', { 'network.io.direction': 'receive' }))!;
    const transmitted = (await telemetry.value('websocket.server.io', { 'network.io.direction': 'transmit' }))!;
    expect(received).toBeGreaterThan(150);
    expect(transmitted).toBeGreaterThan(120);
  });

  it('emits every catalogue metric in one scripted scenario, and only catalogue metrics, with their unit, type and attributes', async () => {
    server = await startServer({
      eventLoopDelay: true,
      messageTypes: ['chat'],
      envelope: jsonEnvelope(),
      messageTimingPerSecond: Infinity,
      heartbeat: { intervalMs: 60_000 },
      channels: { allow: ['lobby'] },
      authenticate: (request) => (request.url?.includes('fail') ? { ok: false, reason: 'invalid_token' } : { ok: true }),
      // No budget for client-sampled message spans: the sampled traceparent below is refused.
      tracing: { messages: true, maxClientSampledMessageSpansPerSecond: 0 },
    });
    const { telemetry, handle, wss } = server;
    wss.on('connection', (socket) => {
      handle.rooms.join(socket, 'lobby');
      socket.on('message', () => handle.rooms.broadcast('lobby', '{"type":"chat"}', { type: 'chat', except: socket }));
    });
    await expect(connect(`${server.url}/?fail=1`)).rejects.toMatchObject({ status: 401 });
    const client = await connect(server.url);
    const silent = await connect(server.url, { autoPong: false });
    const broadcast = nextMessage(silent);
    client.send(JSON.stringify({ type: 'chat', sentAt: Date.now() - 5 }));
    client.send(JSON.stringify({ type: 'chat', sentAt: Date.now() + 60_000 }));
    client.send(JSON.stringify({ type: 'chat', traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' }));
    client.send('not json');
    await broadcast;
    await untilValue(telemetry, 'websocket.server.message.errors', { 'error.type': 'parse_error' }, 1);
    handle.heartbeat!.tick();
    await waitFor('a pong', async () => (await telemetry.histogram('websocket.server.ping.duration'))?.count === 1);
    handle.heartbeat!.tick();
    await untilValue(telemetry, 'websocket.server.ping.timeouts', {}, 1);
    await untilValue(telemetry, 'websocket.server.connection.count', {}, 1);
    // libuv samples the event-loop delay every 20 ms; the first read with a sample reports it.
    await waitFor('event-loop delay', async () => (await telemetry.value('nodejs.eventloop.delay.max')) !== undefined);

    const collected = await telemetry.metrics();
    const byName = new Map<string, MetricDefinition>(SERVER_METRICS.map((def) => [def.name, def]));
    for (const [name, metric] of collected) {
      const def = byName.get(name);
      expect(def, name).toBeDefined();
      expect(metric.descriptor.unit, name).toBe(def!.unit);
      expect(instrumentOf(metric), name).toBe(def!.instrument);
      for (const point of metric.dataPoints) {
        for (const key of Object.keys(point.attributes)) expect(def!.attributes, `${name} carries ${key}`).toContain(key);
      }
      if (def!.buckets) {
        const value = metric.dataPoints[0]?.value as { buckets?: { boundaries: number[] } } | undefined;
        if (value?.buckets) expect(value.buckets.boundaries, name).toEqual(def!.buckets);
      }
    }
    // Every catalogue metric has a point with a value (a histogram: a recorded sample). The event-loop
    // delays only need a point: less libuv's sampling interval, an idle loop's median is 0.
    const pointOnly = ['nodejs.eventloop.delay.p50', 'nodejs.eventloop.delay.p99', 'nodejs.eventloop.delay.max'];
    const withValue = (name: string): boolean =>
      collected
        .get(name)
        ?.dataPoints.some((p) => (typeof p.value === 'number' ? p.value > 0 || (pointOnly.includes(name) && p.value === 0) : (p.value as { count: number }).count > 0)) ??
      false;
    expect(SERVER_METRICS.map((def) => def.name).filter((name) => !withValue(name))).toEqual([]);
    client.close();
  });

  it('estimates memory per connection from the bytes its connections buffer', async () => {
    server = await startServer();
    const { telemetry } = server;
    const idle = await connect(server.url);
    // The receiver of the second connection holds 300 bytes of a frame that never completes.
    const raw = await connectWithPartialFrame(server.url, 300);
    // The default base cost plus the mean of what each connection buffers: 2700 + (0 + 300) / 2.
    await untilValue(telemetry, 'websocket.server.connection.memory', {}, 2850);
    raw.destroy();
    await untilValue(telemetry, 'websocket.server.connection.memory', {}, 2700);
    idle.close();
    await untilValue(telemetry, 'websocket.server.connection.memory', {}, 0);
  });

  it('counts an abrupt close as abnormal with error.type abnormal_closure', async () => {
    server = await startServer();
    const client = await connect(server.url);
    await untilValue(server.telemetry, 'websocket.server.connection.count', {}, 1);
    client.terminate();
    await untilValue(server.telemetry, 'websocket.server.connection.count', {}, 0);
    expect(await server.telemetry.series('websocket.server.connection.closed')).toEqual([
      '{error.type=abnormal_closure,websocket.close_code.class=abnormal} 1',
    ]);
  });

  it('counts a protocol error with the ws error code', async () => {
    server = await startServer();
    server.wss.on('connection', (socket) => socket.on('error', () => {}));
    const client = await connect(server.url);
    await untilValue(server.telemetry, 'websocket.server.connection.count', {}, 1);
    // A text frame that is not valid UTF-8: ws closes with 1007.
    client.send(Buffer.from([0xff, 0xfe, 0xfd]), { binary: false });
    await untilValue(server.telemetry, 'websocket.server.connection.count', {}, 0);
    expect(await server.telemetry.series('websocket.server.connection.closed')).toEqual([
      '{error.type=WS_ERR_INVALID_UTF8,websocket.close_code.class=abnormal} 1',
    ]);
  });

  it('counts server shutdown as going_away and removes its hooks when the server closes', async () => {
    server = await startServer({ heartbeat: { intervalMs: 60_000 } });
    const { wss, handle, telemetry } = server;
    const clients = await Promise.all([connect(server.url), connect(server.url)]);
    await untilValue(telemetry, 'websocket.server.connection.count', {}, 2);
    // Timers: the heartbeat and the timing sampler's check.
    expect(handle.stats()).toMatchObject({ connections: 2, trackedClients: 2, timers: 2, serverListeners: 1, reporting: true });
    const codes = clients.map(closed);
    for (const socket of wss.clients) socket.close(1001, 'shutting down');
    expect((await Promise.all(codes)).map((c) => c.code)).toEqual([1001, 1001]);
    await untilValue(telemetry, 'websocket.server.connection.count', {}, 0);
    await new Promise((resolve) => wss.close(resolve));
    expect(await telemetry.series('websocket.server.connection.closed')).toEqual(['{websocket.close_code.class=going_away} 2']);
    // The closed server stopped its timers (its once-listener is gone) and released its part of
    // the report; its counters keep their values for the final export.
    expect(handle.stats()).toMatchObject({ connections: 0, trackedClients: 0, pendingHandshakes: 0, timers: 0, serverListeners: 0, reporting: false });
    expect(await telemetry.value('websocket.server.connection.opened')).toBe(2);
    handle.shutdown();
    expect(handle.stats()).toMatchObject({ timers: 0, serverListeners: 0 });
    expect(await telemetry.series('websocket.server.connection.closed')).toEqual(['{websocket.close_code.class=going_away} 2']);
    expect(await telemetry.value('websocket.server.connection.count')).toBe(0);
    expect(Object.hasOwn(wss, 'handleUpgrade')).toBe(false);
    expect((wss as unknown as { options: { WebSocket: unknown } }).options.WebSocket).toBe(WebSocket);
  });
});

describe('authentication', () => {
  const reasons = ['missing_token', 'invalid_token', 'expired_token', 'forbidden_origin', 'rate_limited', 'made_up'] as const;
  const expectedStatus = [401, 401, 401, 403, 429, 403];

  it('reports every failure reason, rejection and error type at 0 before the first failure', async () => {
    const started = await startServer({ authenticate: () => ({ ok: true }) });
    server = started;
    await connect(started.url);
    const zeros = async (name: string) => (await started.telemetry.points(name)).map((p) => [Object.values(p.attributes)[0], p.value]);
    expect(await zeros('websocket.server.auth.failures')).toEqual(AUTH_FAILURE_REASONS.map((r) => [r, 0]));
    expect(await zeros('websocket.server.connection.rejected')).toEqual([['authentication_failed', 0], ['authenticator_error', 0], ['handshake_failed', 0]]);
    expect(await zeros('websocket.server.message.errors')).toEqual(MESSAGE_ERROR_TYPES.map((t) => [t, 0]));
    expect(await zeros('websocket.server.message.latency_anomalies')).toEqual([['negative_clamped', 0], ['too_large', 0], ['invalid_timestamp', 0]]);
  });

  it('rejects each reason with its HTTP status and counts it', async () => {
    server = await startServer({
      authenticate: (request) => {
        const reason = new URL(request.url!, 'http://x').searchParams.get('fail');
        return reason ? { ok: false, reason } : { ok: true, user: 'u-1', tenant: 't-1' };
      },
    });
    const { telemetry } = server;
    const statuses: number[] = [];
    for (const reason of reasons) {
      const error = await connect(`${server.url}/?fail=${reason}`).then(
        () => undefined,
        (e: { status?: number }) => e,
      );
      statuses.push(error?.status ?? 0);
    }
    expect(statuses).toEqual(expectedStatus);
    const ok = await connect(server.url);
    const [socket] = server.wss.clients;
    expect(server.handle.connectionInfo(socket!)).toMatchObject({ user: 'u-1', tenant: 't-1' });
    expect(await telemetry.value('websocket.server.auth.attempts')).toBe(7);
    expect(await telemetry.series('websocket.server.auth.failures')).toEqual([
      '{websocket.auth.failure.reason=_OTHER} 1',
      '{websocket.auth.failure.reason=expired_token} 1',
      '{websocket.auth.failure.reason=forbidden_origin} 1',
      '{websocket.auth.failure.reason=invalid_token} 1',
      '{websocket.auth.failure.reason=missing_token} 1',
      '{websocket.auth.failure.reason=rate_limited} 1',
    ]);
    expect(await telemetry.series('websocket.server.connection.rejected')).toEqual(['{error.type=authentication_failed} 6']);
    expect(await telemetry.value('websocket.server.connection.opened')).toBe(1);
    expect(await telemetry.series('websocket.server.handshake.duration')).toEqual(['{error.type=authentication_failed} 6', '{} 1']);
    const failedSpan = telemetry.spans.getFinishedSpans().find((s) => s.attributes['websocket.auth.failure.reason'] === 'rate_limited');
    // A refusal the client caused is not a server error (HTTP server span conventions).
    expect(failedSpan?.status.code).toBe(SpanStatusCode.UNSET);
    expect(failedSpan?.attributes).toMatchObject({ 'http.response.status_code': 429, 'websocket.auth.outcome': 'failure', 'error.type': 'authentication_failed' });
    ok.close();
  });

  it('closes with a 44xx code the browser can read when rejectWith is close (async authenticator)', async () => {
    server = await startServer({
      rejectWith: 'close',
      authenticate: async (request) => (request.headers.authorization ? { ok: true } : { ok: false, reason: 'missing_token', message: 'no token' }),
    });
    const client = await connect(server.url);
    expect(await closed(client)).toEqual({ code: 4401, reason: 'missing_token' });
    expect(await server.telemetry.series('websocket.server.connection.rejected')).toEqual(['{error.type=authentication_failed} 1']);
    expect(await server.telemetry.value('websocket.server.connection.opened')).toBe(0);
    expect(await server.telemetry.value('websocket.server.connection.count')).toBe(0);
    const good = await connect(server.url, { headers: { authorization: 'Bearer x' } });
    await untilValue(server.telemetry, 'websocket.server.connection.opened', {}, 1);
    good.close();
  });

  it('answers 500 and counts authenticator_error when the hook throws', async () => {
    server = await startServer({
      authenticate: () => {
        throw new Error('token service down');
      },
    });
    const error = await connect(server.url).then(
      () => undefined,
      (e: { status?: number }) => e,
    );
    expect(error?.status).toBe(500);
    expect(await server.telemetry.series('websocket.server.connection.rejected')).toEqual(['{error.type=authenticator_error} 1']);
  });

  it('survives a client that resets its connection while an async authenticate() decides, counting handshake_failed', async () => {
    let decided = 0;
    server = await startServer({
      authenticate: () => new Promise<{ ok: true }>((resolve) => setTimeout(() => resolve({ ok: true }), 300)).finally(() => decided++),
    });
    const port = Number(new URL(server.url).port);
    const socket = createConnection({ host: '127.0.0.1', port }, () => socket.write(`GET / HTTP/1.1\r\n${UPGRADE_HEADERS}`));
    await waitFor('the upgrade to be pending', async () => server!.handle.stats().pendingHandshakes === 1);
    // A TCP reset: the server's socket emits ECONNRESET while nobody but us listens for 'error'.
    socket.resetAndDestroy();
    await untilValue(server.telemetry, 'websocket.server.connection.rejected', { 'error.type': 'handshake_failed' }, 1);
    await waitFor('the late decision', async () => decided === 1);
    expect(server.handle.stats().pendingHandshakes).toBe(0);
    expect(await server.telemetry.value('websocket.server.connection.opened')).toBe(0);
    // The server still serves.
    (await connect(server.url)).close();
  });

  it('refuses with 503 and counts authenticator_error when authenticate() does not decide within authTimeoutMs', async () => {
    server = await startServer({ authenticate: () => new Promise(() => {}), authTimeoutMs: 200 });
    const error = await connect(server.url).then(
      () => undefined,
      (e: { status?: number }) => e,
    );
    expect(error?.status).toBe(503);
    expect(await server.telemetry.series('websocket.server.connection.rejected')).toEqual(['{error.type=authenticator_error} 1']);
    expect(server.handle.stats().pendingHandshakes).toBe(0);
    const [span] = server.telemetry.spans.getFinishedSpans();
    expect(span?.status.code).toBe(SpanStatusCode.ERROR);
    expect(span?.attributes['http.response.status_code']).toBe(503);
  });

  it('counts a handshake ws refused itself as handshake_failed', async () => {
    server = await startServer();
    // An upgrade without Sec-WebSocket-Key: ws answers 400 on its own.
    const port = Number(new URL(server.url).port);
    const reply = await new Promise<string>((resolve, reject) => {
      const socket = createConnection({ host: '127.0.0.1', port }, () =>
        socket.write('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n\r\n'),
      );
      let text = '';
      socket.on('data', (chunk) => (text += chunk.toString()));
      socket.on('close', () => resolve(text));
      socket.on('error', reject);
    });
    expect(reply).toMatch(/^HTTP\/1.1 400 /);
    await untilValue(server.telemetry, 'websocket.server.connection.rejected', { 'error.type': 'handshake_failed' }, 1);
    expect(server.handle.stats().pendingHandshakes).toBe(0);
  });
});

describe('what clients and applications get wrong', () => {
  it('opens a connection whose request target is not a parseable URL but carries a traceparent', async () => {
    server = await startServer();
    // new URL('//a:99999/?…', base) throws; this runs for any client before authentication.
    expect(await rawUpgrade(server.url, '//a:99999/?traceparent=00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01')).toMatch(/^HTTP\/1.1 101 /);
    await untilValue(server.telemetry, 'websocket.server.connection.opened', {}, 1);
    const [span] = server.telemetry.spans.getFinishedSpans();
    expect(span?.spanContext().traceId).toBe('0af7651916cd43dd8448eb211c80319c');
  });

  it('an invalid option throws before the server is patched: instrumenting it again counts each connection once', async () => {
    server = await startServer();
    server.handle.shutdown();
    expect(() => instrumentWebSocketServer(server!.wss, { meterProvider: server!.telemetry.meterProvider, heartbeat: { intervalMs: 5 } })).toThrow(
      'heartbeat intervalMs must be >= 10, got 5',
    );
    expect(() => instrumentWebSocketServer(server!.wss, { meterProvider: server!.telemetry.meterProvider, authTimeoutMs: 0 })).toThrow(
      'authTimeoutMs must be within 1..2147483647, got 0',
    );
    const handle = instrumentWebSocketServer(server.wss, { meterProvider: server.telemetry.meterProvider, eventLoopDelay: false });
    server.handle = handle;
    const client = await connect(server.url);
    await untilValue(server.telemetry, 'websocket.server.connection.count', {}, 1);
    expect(await server.telemetry.value('websocket.server.connection.opened')).toBe(1);
    client.close();
  });

  it("the application's close listeners still see the connection's identity and channels", async () => {
    server = await startServer({ authenticate: () => ({ ok: true, user: 'u-7' }) });
    const { handle, wss } = server;
    const seen = new Promise<unknown>((resolve) =>
      wss.on('connection', (socket) => {
        handle.rooms.join(socket, 'lobby');
        socket.on('close', () => resolve({ user: handle.connectionInfo(socket)?.user, channels: handle.rooms.channelsOf(socket), members: handle.rooms.size('lobby') }));
      }),
    );
    const client = await connect(server.url);
    client.close();
    expect(await seen).toEqual({ user: 'u-7', channels: ['lobby'], members: 1 });
    await untilValue(server.telemetry, 'websocket.server.connection.count', {}, 0);
    expect(handle.rooms.size('lobby')).toBe(0);
    expect(handle.stats()).toMatchObject({ rooms: 0, subscriptions: 0 });
  });

  it('a socket that closes after shutdown() still leaves its rooms', async () => {
    server = await startServer();
    const { handle, wss } = server;
    wss.on('connection', (socket) => handle.rooms.join(socket, 'lobby'));
    const client = await connect(server.url);
    await waitFor('the member', async () => handle.rooms.size('lobby') === 1);
    handle.shutdown();
    client.close();
    await closed(client);
    await waitFor('the room to empty', async () => handle.rooms.size('lobby') === 0);
    expect(handle.stats()).toMatchObject({ rooms: 0, subscriptions: 0 });
  });
});

describe('messages', () => {
  it('counts messages by frame type and allow-listed message type, latency, parse errors and sends', async () => {
    server = await startServer({ messageTypes: ['chat', 'presence'], envelope: jsonEnvelope(), messageTimingPerSecond: Infinity });
    const { telemetry, handle } = server;
    server.wss.on('connection', (socket) => socket.on('message', () => handle.send(socket, '{"type":"ack"}', 'presence')));
    const client = await connect(server.url);
    const acks: string[] = [];
    client.on('message', (data) => acks.push(data.toString()));
    const now = Date.now();
    client.send(JSON.stringify({ type: 'chat', sentAt: now - 20 }));
    client.send(JSON.stringify({ type: 'chat' }));
    client.send(JSON.stringify({ type: 'presence', sentAt: now + 60_000 }));
    client.send(JSON.stringify({ type: 'user-42-private' }));
    client.send(JSON.stringify({ type: 'chat', sentAt: 1 }));
    client.send(JSON.stringify({ type: 'presence', sentAt: new Date(now).toISOString() }));
    client.send('not json at all');
    client.send(Buffer.from([1, 2, 3]));
    await waitFor('8 acks', async () => acks.length === 8);

    expect(await telemetry.series('websocket.server.received.messages')).toEqual([
      '{websocket.frame.type=binary,websocket.message.type=_OTHER} 1',
      '{websocket.frame.type=text,websocket.message.type=_OTHER} 2',
      '{websocket.frame.type=text,websocket.message.type=chat} 3',
      '{websocket.frame.type=text,websocket.message.type=presence} 2',
    ]);
    expect(await telemetry.series('websocket.server.sent.messages')).toEqual(['{websocket.frame.type=text,websocket.message.type=presence} 8']);
    expect(await telemetry.series('websocket.server.message.errors')).toEqual(['{error.type=parse_error} 1']);
    // Future timestamp: clamped to 0 and counted; ancient one: dropped and counted; a string: invalid.
    expect(await telemetry.series('websocket.server.message.latency_anomalies')).toEqual([
      '{error.type=invalid_timestamp} 1',
      '{error.type=negative_clamped} 1',
      '{error.type=too_large} 1',
    ]);
    const chatLatency = await telemetry.histogram('websocket.server.message.latency', { 'websocket.message.type': 'chat' });
    expect(chatLatency?.count).toBe(1);
    expect(chatLatency?.min).toBeGreaterThanOrEqual(0.02);
    const presenceLatency = await telemetry.histogram('websocket.server.message.latency', { 'websocket.message.type': 'presence' });
    expect(presenceLatency).toMatchObject({ count: 1, sum: 0, min: 0, max: 0 });
    expect(await telemetry.series('websocket.server.process.duration')).toEqual([
      '{websocket.message.type=_OTHER} 3',
      '{websocket.message.type=chat} 3',
      '{websocket.message.type=presence} 2',
    ]);
    client.close();
  });

  it('counts an application validation error, a send after close and a listener that throws', async () => {
    server = await startServer();
    const { telemetry, handle, wss } = server;
    let serverSocket: WebSocket | undefined;
    wss.on('connection', (socket) => {
      serverSocket = socket;
      socket.on('message', (data) => {
        if (data.toString() === 'invalid') handle.recordMessageError('validation_error');
        if (data.toString() === 'odd') handle.recordMessageError('user 7 typo' as 'validation_error');
      });
    });
    const client = await connect(server.url);
    client.send('odd');
    client.send('invalid');
    await untilValue(telemetry, 'websocket.server.message.errors', { 'error.type': 'validation_error' }, 1);
    const gone = closed(client);
    serverSocket!.close();
    await gone;
    serverSocket!.send('too late', () => {});
    expect(await telemetry.series('websocket.server.message.errors')).toEqual([
      '{error.type=_OTHER} 1',
      '{error.type=send_error} 1',
      '{error.type=validation_error} 1',
    ]);

    const listenerError = new Error('handler bug');
    const other = await connect(server.url);
    await waitFor('second socket', async () => wss.clients.size === 1);
    const [socket] = wss.clients;
    socket!.removeAllListeners('message');
    socket!.on('message', () => {
      throw listenerError;
    });
    const thrown = new Promise<unknown>((resolve) => process.once('uncaughtException', resolve));
    other.send('boom');
    expect(await thrown).toBe(listenerError);
    expect(await telemetry.value('websocket.server.message.errors', { 'error.type': 'processing_error' })).toBe(1);
  });

  it('continues the client trace from the envelope in a sampled process span linked to the handshake', async () => {
    server = await startServer({ messageTypes: ['chat'], envelope: jsonEnvelope(), tracing: { messages: true } });
    const { telemetry } = server;
    const handshakeParent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    const client = await connect(`${server.url}/?traceparent=${handshakeParent}`);
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const parentSpan = '00f067aa0ba902b7';
    client.send(JSON.stringify({ type: 'chat', traceparent: `00-${traceId}-${parentSpan}-01` }));
    client.send(JSON.stringify({ type: 'chat' })); // no trace context, ratio 0: no span
    await untilValue(telemetry, 'websocket.server.received.messages', { 'websocket.frame.type': 'text', 'websocket.message.type': 'chat' }, 2);
    const spans = telemetry.spans.getFinishedSpans();
    expect(spans.map((s) => s.name)).toEqual(['websocket.handshake', 'process chat']);
    const [handshake, processSpan] = spans;
    expect(handshake!.spanContext().traceId).toBe('0af7651916cd43dd8448eb211c80319c');
    expect(handshake!.parentSpanContext?.spanId).toBe('b7ad6b7169203331');
    expect(processSpan!.kind).toBe(SpanKind.CONSUMER);
    expect(processSpan!.spanContext().traceId).toBe(traceId);
    expect(processSpan!.parentSpanContext?.spanId).toBe(parentSpan);
    expect(processSpan!.links.map((l) => l.context.spanId)).toEqual([handshake!.spanContext().spanId]);
    expect(processSpan!.attributes).toMatchObject({ 'messaging.system': 'websocket', 'messaging.operation.type': 'process', 'websocket.message.type': 'chat', 'websocket.frame.type': 'text' });
    client.close();
  });

  it('gives a sampled process span the body size of text, Buffer and Blob messages (binaryType blob)', async () => {
    server = await startServer({ tracing: { messages: true, messageSampleRatio: 1 } });
    const { telemetry, wss } = server;
    wss.on('connection', (socket, request) => {
      // ws >= 8.18 takes 'blob'; @types/ws does not list it yet.
      if (request.url?.includes('blob')) (socket as { binaryType: string }).binaryType = 'blob';
    });
    const buffers = await connect(server.url);
    const blobs = await connect(`${server.url}/?blob=1`);
    buffers.send('hello');
    buffers.send(Buffer.alloc(100));
    await untilValue(telemetry, 'websocket.server.received.messages', { 'websocket.frame.type': 'binary', 'websocket.message.type': '_OTHER' }, 1);
    blobs.send(Buffer.alloc(70));
    await untilValue(telemetry, 'websocket.server.received.messages', { 'websocket.frame.type': 'binary', 'websocket.message.type': '_OTHER' }, 2);
    const sizes = telemetry.spans
      .getFinishedSpans()
      .filter((span) => span.name.startsWith('process'))
      .map((span) => span.attributes['messaging.message.body.size']);
    expect(sizes).toEqual([5, 100, 70]);
    buffers.close();
    blobs.close();
  });
});

describe('timing sampler check', () => {
  afterEach(() => {
    vi.useRealTimers();
    vi.restoreAllMocks();
  });

  it('times the next message when the once-a-second check finds the countdown overdue', async () => {
    // Only the instrumentation's intervals are simulated (ws and the harness use setTimeout).
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    // Every timed message leaves 1 000 untimed ones to go, as after a burst.
    vi.spyOn(TimingSampler.prototype, 'next').mockReturnValue(1000);
    const overdue = vi.spyOn(TimingSampler.prototype, 'overdue').mockImplementation((_now, remaining) => (remaining > 1 ? 1 : remaining));
    server = await startServer();
    const { telemetry } = server;
    const client = await connect(server.url);
    const processed = async () => (await telemetry.histogram('websocket.server.process.duration', { 'websocket.message.type': '_OTHER' }))?.count;
    for (const text of ['a', 'b', 'c']) client.send(text);
    await untilValue(telemetry, 'websocket.server.received.messages', { 'websocket.frame.type': 'text', 'websocket.message.type': '_OTHER' }, 3);
    expect(await processed()).toBe(1);
    vi.advanceTimersByTime(1000);
    expect(overdue).toHaveBeenCalledTimes(1);
    expect(overdue.mock.calls[0]![1]).toBe(998);
    client.send('d');
    await untilValue(telemetry, 'websocket.server.received.messages', { 'websocket.frame.type': 'text', 'websocket.message.type': '_OTHER' }, 4);
    expect(await processed()).toBe(2);
    // Back to the drawn gap: the next message is not timed.
    client.send('e');
    await untilValue(telemetry, 'websocket.server.received.messages', { 'websocket.frame.type': 'text', 'websocket.message.type': '_OTHER' }, 5);
    expect(await processed()).toBe(2);
    client.close();
  });
});

describe('heartbeat', () => {
  it('measures pongs, terminates a client that stops answering and counts the timeout', async () => {
    server = await startServer({ heartbeat: { intervalMs: 60_000 } });
    const { telemetry, handle } = server;
    const healthy = await connect(server.url);
    const silent = await connect(server.url, { autoPong: false });
    await untilValue(telemetry, 'websocket.server.connection.count', {}, 2);

    handle.heartbeat!.tick();
    await waitFor('one pong', async () => (await telemetry.histogram('websocket.server.ping.duration'))?.count === 1);
    const silentClosed = closed(silent);
    handle.heartbeat!.tick();
    expect((await silentClosed).code).toBe(1006);
    await untilValue(telemetry, 'websocket.server.connection.count', {}, 1);

    expect(await telemetry.value('websocket.server.ping.sent')).toBe(3);
    expect(await telemetry.value('websocket.server.ping.timeouts')).toBe(1);
    expect(await telemetry.series('websocket.server.connection.closed')).toEqual([
      '{error.type=heartbeat_timeout,websocket.close_code.class=abnormal} 1',
    ]);
    expect(healthy.readyState).toBe(WebSocket.OPEN);
    healthy.close();
  });
});

describe('rooms', () => {
  it('reports subscriptions per allow-listed channel, rooms, fan-out and subscriptions per connection', async () => {
    server = await startServer({ channels: { allow: ['lobby'] }, messageTypes: ['update'] });
    const { telemetry, handle, wss } = server;
    const clients = await Promise.all([connect(server.url), connect(server.url), connect(server.url)]);
    await waitFor('3 server sockets', async () => wss.clients.size === 3);
    const sockets = [...wss.clients];
    const { rooms } = handle;
    for (const socket of sockets) rooms.join(socket, 'lobby');
    rooms.join(sockets[0]!, 'project-7');
    rooms.join(sockets[1]!, 'project-8');
    expect(rooms.join(sockets[1]!, 'project-8')).toBe(false);
    expect(await telemetry.series('websocket.server.subscription.count')).toEqual(['{websocket.channel=_OTHER} 2', '{websocket.channel=lobby} 3']);
    expect(await telemetry.value('websocket.server.room.count')).toBe(3);

    const received = clients.map(nextMessage);
    expect(rooms.broadcast('lobby', '{"type":"update"}', { type: 'update' })).toBe(3);
    expect(await Promise.all(received)).toEqual(Array(3).fill('{"type":"update"}'));
    expect(rooms.broadcast('project-7', 'x', { except: sockets[0]! })).toBe(0);
    expect(await telemetry.series('websocket.server.sent.messages')).toEqual(['{websocket.frame.type=text,websocket.message.type=update} 3']);
    expect(await telemetry.histogram('websocket.server.broadcast.recipients', { 'websocket.channel': 'lobby' })).toMatchObject({ count: 1, sum: 3 });
    expect(await telemetry.histogram('websocket.server.broadcast.recipients', { 'websocket.channel': '_OTHER' })).toMatchObject({ count: 1, sum: 0 });
    expect((await telemetry.histogram('websocket.server.broadcast.duration', { 'websocket.channel': 'lobby' }))?.count).toBe(1);

    expect(rooms.leave(sockets[2]!, 'lobby')).toBe(true);
    expect(rooms.leave(sockets[2]!, 'lobby')).toBe(false);
    expect(await telemetry.series('websocket.server.subscription.count')).toEqual(['{websocket.channel=_OTHER} 2', '{websocket.channel=lobby} 2']);

    // Closing leaves every room; the peak subscriptions of each connection are recorded.
    for (const client of clients) client.close();
    await untilValue(telemetry, 'websocket.server.connection.count', {}, 0);
    expect(await telemetry.series('websocket.server.subscription.count')).toEqual(['{websocket.channel=_OTHER} 0', '{websocket.channel=lobby} 0']);
    expect(await telemetry.value('websocket.server.room.count')).toBe(0);
    expect(await telemetry.histogram('websocket.server.connection.subscriptions')).toMatchObject({ count: 3, sum: 5, min: 1, max: 2 });
    expect(handle.stats()).toMatchObject({ rooms: 0, subscriptions: 0 });
  });

  it('gives the top N channels their own series, and a channel that leaves the top N reports 0', async () => {
    server = await startServer({ channels: { topN: 1 } });
    const { telemetry, handle, wss } = server;
    const clients = await Promise.all([connect(server.url), connect(server.url), connect(server.url)]);
    await waitFor('3 server sockets', async () => wss.clients.size === 3);
    const [a, b, c] = [...wss.clients];
    handle.rooms.join(a!, 'big');
    handle.rooms.join(b!, 'big');
    handle.rooms.join(a!, 'small');
    expect(await telemetry.series('websocket.server.subscription.count')).toEqual(['{websocket.channel=_OTHER} 1', '{websocket.channel=big} 2']);
    // 'small' overtakes 'big', which keeps a member but now counts under _OTHER: its own series
    // goes to 0 (it used to keep reporting 2, its last value, so the series summed to 6, not 4).
    handle.rooms.leave(b!, 'big');
    handle.rooms.join(b!, 'small');
    handle.rooms.join(c!, 'small');
    expect(await telemetry.series('websocket.server.subscription.count')).toEqual([
      '{websocket.channel=_OTHER} 1',
      '{websocket.channel=big} 0',
      '{websocket.channel=small} 3',
    ]);
    expect(handle.stats().subscriptions).toBe(4);
    for (const client of clients) client.close();
  });

  it('broadcasts and sends what ws delivered (RawData, a fragmented Buffer[] too) in the frame type it arrived in', async () => {
    server = await startServer({ channels: { allow: ['lobby'] }, messageTypes: ['relay'] });
    const { telemetry, handle, wss } = server;
    wss.on('connection', (socket) => {
      // Binary messages arrive as the Buffer[] of their fragments.
      socket.binaryType = 'fragments';
      handle.rooms.join(socket, 'lobby');
      socket.on('message', (data: RawData, isBinary: boolean) => {
        handle.rooms.broadcast('lobby', data, { type: 'relay', except: socket, binary: isBinary });
        handle.send(socket, data, 'relay', { binary: isBinary });
      });
    });
    const [sender, receiver] = await Promise.all([connect(server.url), connect(server.url)]);
    await waitFor('2 server sockets', async () => wss.clients.size === 2);
    const received = (client: WebSocket) => {
      const messages: Array<[string, boolean]> = [];
      client.on('message', (data: Buffer, isBinary: boolean) => messages.push([isBinary ? data.toString('hex') : data.toString(), isBinary]));
      return messages;
    };
    const atReceiver = received(receiver);
    const atSender = received(sender);
    sender.send('hello');
    sender.send(Buffer.from([1, 2]), { binary: true, fin: false });
    sender.send(Buffer.from([3]), { fin: true });
    await waitFor('2 messages each', async () => atReceiver.length === 2 && atSender.length === 2);
    const expected = [
      ['hello', false],
      ['010203', true],
    ];
    expect(atReceiver).toEqual(expected);
    expect(atSender).toEqual(expected);
    expect(await telemetry.series('websocket.server.sent.messages')).toEqual([
      '{websocket.frame.type=binary,websocket.message.type=relay} 2',
      '{websocket.frame.type=text,websocket.message.type=relay} 2',
    ]);
    sender.close();
    receiver.close();
  });

  it('keeps the channel series bounded and their sum exact while rooms come and go', async () => {
    server = await startServer({ channels: { topN: 1, maxNamed: 5 } });
    const { telemetry, handle, wss } = server;
    const clients = await Promise.all([connect(server.url), connect(server.url), connect(server.url)]);
    await waitFor('3 server sockets', async () => wss.clients.size === 3);
    const sockets = [...wss.clients];
    const total = (points: Array<{ value: unknown }>) => points.reduce((sum, p) => sum + (p.value as number), 0);
    // 50 rooms in turn, each the largest while it lasts; a collection every turn.
    for (let i = 0; i < 50; i++) {
      for (const socket of sockets) {
        if (i > 0) handle.rooms.leave(socket, `room-${i - 1}`);
        handle.rooms.join(socket, `room-${i}`);
      }
      const points = await telemetry.points('websocket.server.subscription.count');
      expect(total(points), `turn ${i}`).toBe(3);
      expect(points.length, `turn ${i}`).toBeLessThanOrEqual(6);
    }
    // Five names got a series (each 0 now); the rest went to _OTHER. Before: 51 series summing to 150.
    expect(await telemetry.series('websocket.server.subscription.count')).toEqual([
      '{websocket.channel=_OTHER} 3',
      '{websocket.channel=room-0} 0',
      '{websocket.channel=room-1} 0',
      '{websocket.channel=room-2} 0',
      '{websocket.channel=room-3} 0',
      '{websocket.channel=room-4} 0',
    ]);
    // A broadcast to a room past the cap is recorded under _OTHER as well.
    handle.rooms.broadcast('room-49', 'x');
    expect(await telemetry.series('websocket.server.broadcast.recipients')).toEqual(['{websocket.channel=_OTHER} 1']);
    for (const client of clients) client.close();
  });
});
