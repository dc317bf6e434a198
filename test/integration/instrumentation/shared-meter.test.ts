/**
 * Several instrumented servers in one process (several noServer paths,
 * graphql-ws next to the app) on one MeterProvider: the observable
 * instruments are shared per Meter and report the sum of every live server,
 * a released server's counters keep their last values and its gauges drop.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { instrumentWebSocketServer } from '../../../src/instrumentation/index.ts';
import { waitFor } from '../../../src/stack/ports.ts';
import { Telemetry, type TestServer, closed, connect, connectWithPartialFrame, startServer, untilValue } from './harness.ts';

const TEXT_OTHER = { 'websocket.frame.type': 'text', 'websocket.message.type': '_OTHER' };

let telemetry: Telemetry;
const servers: TestServer[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await server.close();
  await telemetry.shutdown();
});

async function start(options: Parameters<typeof startServer>[0] = {}): Promise<TestServer> {
  const server = await startServer(options, {}, telemetry);
  servers.push(server);
  return server;
}

describe('two servers on one MeterProvider', () => {
  it('report the sum of both, keep a closed server counts and drop its connections', async () => {
    telemetry = new Telemetry();
    const a = await start({ messageTypes: ['chat'] });
    const b = await start();
    const aClients = await Promise.all([connect(a.url), connect(a.url), connect(a.url)]);
    const bClient = await connect(b.url);
    for (const client of aClients) client.send('x');
    bClient.send('y');
    bClient.send('z');
    await untilValue(telemetry, 'websocket.server.received.messages', TEXT_OTHER, 5);
    // Before: each server's callback overwrote the other's observations (3 + 1 read as 1).
    expect(await telemetry.value('websocket.server.connection.count')).toBe(4);
    expect(await telemetry.value('websocket.server.connection.opened')).toBe(4);
    expect(await telemetry.series('websocket.server.received.messages')).toEqual(['{websocket.frame.type=text,websocket.message.type=_OTHER} 5']);
    expect(await telemetry.points('websocket.server.auth.failures')).toHaveLength(6);
    expect((await telemetry.points('websocket.server.auth.failures')).every((p) => p.value === 0)).toBe(true);

    // Server b closes: its connection closed first, then ws emits the server's 'close'.
    const gone = closed(bClient);
    bClient.close(1000);
    await gone;
    await new Promise((resolve) => b.wss.close(resolve));
    expect(b.handle.stats().reporting).toBe(false);
    expect(await telemetry.value('websocket.server.connection.count')).toBe(3);
    // Counters keep what b counted.
    expect(await telemetry.value('websocket.server.connection.opened')).toBe(4);
    expect(await telemetry.series('websocket.server.received.messages')).toEqual(['{websocket.frame.type=text,websocket.message.type=_OTHER} 5']);
    expect(await telemetry.series('websocket.server.connection.closed')).toEqual(['{websocket.close_code.class=normal} 1']);
    const bytesIn = (await telemetry.value('websocket.server.io', { 'network.io.direction': 'receive' }))!;

    // Histograms (synchronous instruments) add up by themselves.
    const aGone = closed(aClients[0]!);
    aClients[0]!.close(1000);
    await aGone;
    await untilValue(telemetry, 'websocket.server.connection.count', {}, 2);
    expect(await telemetry.histogram('websocket.server.connection.duration', { 'websocket.close_code.class': 'normal' })).toMatchObject({ count: 2 });
    expect(await telemetry.series('websocket.server.connection.closed')).toEqual(['{websocket.close_code.class=normal} 2']);

    // Server a shut down with two connections open: they drop out, the counts stay.
    a.handle.shutdown();
    expect(await telemetry.value('websocket.server.connection.count')).toBe(0);
    expect(await telemetry.value('websocket.server.connection.opened')).toBe(4);
    expect(await telemetry.series('websocket.server.received.messages')).toEqual(['{websocket.frame.type=text,websocket.message.type=_OTHER} 5']);
    expect(await telemetry.value('websocket.server.io', { 'network.io.direction': 'receive' })).toBeGreaterThanOrEqual(bytesIn);

    // A server instrumented later counts on top of the carried totals.
    const c = await start();
    const cClient = await connect(c.url);
    await untilValue(telemetry, 'websocket.server.connection.count', {}, 1);
    expect(await telemetry.value('websocket.server.connection.opened')).toBe(5);
    cClient.close();
    for (const client of aClients) client.terminate();
  });

  it('reports memory per connection as the mean over both servers, from the bytes each holds', async () => {
    telemetry = new Telemetry();
    const a = await start({ connectionBaseBytes: 1000 });
    const b = await start({ connectionBaseBytes: 2000 });
    // a: one connection whose receiver holds 100 bytes of an unfinished frame; b: one idle connection.
    const raw = await connectWithPartialFrame(a.url, 100);
    const idle = await connect(b.url);
    await untilValue(telemetry, 'websocket.server.connection.memory', {}, (1000 + 100 + 2000) / 2);
    raw.destroy();
    await untilValue(telemetry, 'websocket.server.connection.memory', {}, 2000);
    idle.close();
    await untilValue(telemetry, 'websocket.server.connection.memory', {}, 0);
  });

  it('reports a series whose last server is gone as 0 once, not its last value forever', async () => {
    telemetry = new Telemetry();
    const a = await start({ channels: { allow: ['lobby'] } });
    const b = await start({ channels: { allow: ['lobby'] } });
    const [ca, cb] = await Promise.all([connect(a.url), connect(b.url)]);
    await untilValue(telemetry, 'websocket.server.connection.count', {}, 2);
    a.handle.rooms.join([...a.wss.clients][0]!, 'lobby');
    b.handle.rooms.join([...b.wss.clients][0]!, 'lobby');
    expect(await telemetry.series('websocket.server.subscription.count')).toEqual(['{websocket.channel=_OTHER} 0', '{websocket.channel=lobby} 2']);
    expect(await telemetry.value('websocket.server.room.count')).toBe(2);
    a.handle.shutdown();
    expect(await telemetry.series('websocket.server.subscription.count')).toEqual(['{websocket.channel=_OTHER} 0', '{websocket.channel=lobby} 1']);
    b.handle.shutdown();
    expect(await telemetry.series('websocket.server.subscription.count')).toEqual(['{websocket.channel=_OTHER} 0', '{websocket.channel=lobby} 0']);
    expect(await telemetry.value('websocket.server.room.count')).toBe(0);
    expect(await telemetry.value('websocket.server.connection.count')).toBe(0);
    // And it stays 0 at the next collections, with nothing observing it.
    expect(await telemetry.value('websocket.server.connection.count')).toBe(0);
    ca.terminate();
    cb.terminate();
  });

  it('releases a server without clientTracking (closed before its connections) after its last connection, with that close counted', async () => {
    telemetry = new Telemetry();
    const a = await start();
    // b runs noServer without clientTracking on an HTTP server of its own: ws emits its 'close' at once.
    const b = new WebSocketServer({ noServer: true, clientTracking: false });
    const handleB = instrumentWebSocketServer(b, { meterProvider: telemetry.meterProvider, eventLoopDelay: false });
    const http = createServer();
    http.on('upgrade', (request, socket, head) => b.handleUpgrade(request, socket, head, (client) => b.emit('connection', client, request)));
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    try {
      const onA = await connect(a.url);
      const onB = await connect(`ws://127.0.0.1:${(http.address() as AddressInfo).port}`);
      await untilValue(telemetry, 'websocket.server.connection.count', {}, 2);
      await new Promise((resolve) => b.close(resolve));
      // Closed, but a connection is still open: still counted.
      expect(handleB.stats().reporting).toBe(true);
      expect(await telemetry.value('websocket.server.connection.count')).toBe(2);
      const gone = closed(onB);
      onB.close(1000);
      await gone;
      await waitFor('b released', async () => !handleB.stats().reporting);
      expect(await telemetry.value('websocket.server.connection.count')).toBe(1);
      // Its last close was counted before its part was released.
      expect(await telemetry.series('websocket.server.connection.closed')).toEqual(['{websocket.close_code.class=normal} 1']);
      expect(await telemetry.value('websocket.server.connection.opened')).toBe(2);
      onA.close();
    } finally {
      handleB.shutdown();
      await new Promise((resolve) => http.close(resolve));
    }
  });
});
