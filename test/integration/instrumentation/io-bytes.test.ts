/**
 * `websocket.server.io` is a counter: the transmitted bytes it reports are
 * what Node handed to the kernel, not what still waits in a slow client's
 * write buffer, so they never go down, not even when the socket is destroyed
 * with that buffer discarded.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { WebSocket } from 'ws';
import { type TestServer, connect, startServer, untilValue } from './harness.ts';

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

interface RawSocket {
  bytesWritten: number;
  writableLength: number;
  pause(): void;
  resume(): void;
}
const rawOf = (socket: WebSocket): RawSocket => (socket as unknown as { _socket: RawSocket })._socket;

const CHUNK = 1 << 20;
const SENDS = 64;

/** A client that stops reading, and its server socket with 64 MiB queued to it. */
async function stalledClient(test: TestServer) {
  const accepted = new Promise<WebSocket>((resolve) => test.wss.once('connection', resolve));
  const client = await connect(test.url);
  const socket = await accepted;
  // The client reads nothing more: the kernel's buffers fill and the rest stays in Node's.
  rawOf(client).pause();
  for (let i = 0; i < SENDS; i++) socket.send(Buffer.alloc(CHUNK));
  const transmitted = async (): Promise<number> => (await test.telemetry.value('websocket.server.io', { 'network.io.direction': 'transmit' }))!;
  return { client, socket, transmitted };
}

describe('websocket.server.io transmit', () => {
  it('counts what reached the kernel, not a stalled client backlog, and never decreases when the stalled socket is terminated', async () => {
    server = await startServer();
    const { telemetry } = server;
    const { client, socket, transmitted } = await stalledClient(server);
    const raw = rawOf(socket);
    expect(raw.writableLength).toBeGreaterThan(0);

    const seen = [await transmitted()];
    // Never more than what was handed over by the time of the next read (it only grows), far below what was queued.
    expect(seen[0]).toBeLessThanOrEqual(raw.bytesWritten - raw.writableLength);
    expect(seen[0]).toBeLessThan(SENDS * CHUNK);
    seen.push(await transmitted());

    socket.terminate();
    seen.push(await transmitted());
    await untilValue(telemetry, 'websocket.server.connection.count', {}, 0);
    seen.push(await transmitted());
    seen.push(await transmitted());
    // Non-decreasing across every collection, and the backlog that never left is not counted.
    expect(seen).toEqual([...seen].sort((a, b) => a - b));
    expect(seen.at(-1)).toBeLessThan(SENDS * CHUNK);
    client.terminate();
  });

  it('does not count the backlog Node dispatches in one write once a stalled client read a little, when that socket is terminated', async () => {
    server = await startServer();
    const { telemetry } = server;
    const { client, socket, transmitted } = await stalledClient(server);
    const before = await transmitted();
    // The client reads a little and stalls again: the write in progress completes and Node hands the
    // whole backlog to libuv as one write, which the kernel cannot take.
    const read = new Promise<void>((resolve) => client.once('message', () => resolve()));
    rawOf(client).resume();
    await read;
    rawOf(client).pause();
    const open = await transmitted();
    socket.terminate();
    await untilValue(telemetry, 'websocket.server.connection.count', {}, 0);
    const after = await transmitted();
    expect(open).toBeGreaterThanOrEqual(before);
    // Closed abnormally: what was read while it was open stands; the 60-odd MB that never left are not counted.
    expect(after).toBe(open);
    expect(after).toBeLessThan((SENDS / 2) * CHUNK);
    client.terminate();
  });
});
