/**
 * Real `ws` servers on 127.0.0.1 with the behaviours the load tests need:
 * echo, echo after a delay, drop every Nth message, stall then flush,
 * echo a few then hang, stop reading, require a token, refuse every Nth
 * handshake, answer the handshake late, stay silent, close connections with a code.
 */
import type { AddressInfo, Socket } from 'node:net';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';

export type Behaviour =
  | { kind: 'echo' }
  | { kind: 'delay'; ms: number }
  /** Drops a connection's messages number dropEvery-1, 2*dropEvery-1, … (counting from 0). */
  | { kind: 'drop'; dropEvery: number }
  | { kind: 'silent' }
  /** Echoes each connection's first `afterMessages` messages, then never answers again (the connection stays open). */
  | { kind: 'hang'; afterMessages: number }
  /** Never reads from the socket, so the client's unsent bytes pile up (backpressure). */
  | { kind: 'unread' }
  /** Closes each connection with `code` after echoing `afterMessages` messages. */
  | { kind: 'close'; code: number; afterMessages: number };

export interface TestWsServer {
  url: string;
  /** Connections the server accepted. */
  accepted(): number;
  /** Holds every echo from now for `ms`, then sends them all (a stalled server). */
  stall(ms: number): void;
  close(): Promise<void>;
}

export interface ServerOptions {
  token?: string;
  handshakeDelayMs?: number;
  /** Refuses handshakes number refuseEvery-1, 2*refuseEvery-1, … (counting from 0) with 503. */
  refuseEvery?: number;
}

export async function startWsServer(behaviour: Behaviour, options: ServerOptions = {}): Promise<TestWsServer> {
  let handshakes = 0;
  const wss = new WebSocketServer({
    host: '127.0.0.1',
    port: 0,
    verifyClient: (info: { req: { headers: Record<string, string | string[] | undefined> } }, accept: (ok: boolean, status?: number) => void) => {
      const n = handshakes++;
      if (options.refuseEvery && n % options.refuseEvery === options.refuseEvery - 1) return accept(false, 503);
      const ok = !options.token || info.req.headers.authorization === `Bearer ${options.token}`;
      setTimeout(() => accept(ok, ok ? undefined : 401), options.handshakeDelayMs ?? 0);
    },
  });
  await new Promise<void>((resolve) => wss.once('listening', resolve));
  let accepted = 0;
  let stalledUntil = 0;
  const held: { ws: WebSocket; data: RawData; binary: boolean }[] = [];

  const echo = (ws: WebSocket, data: RawData, binary: boolean): void => {
    if (Date.now() < stalledUntil) held.push({ ws, data, binary });
    else ws.send(data, { binary });
  };

  wss.on('connection', (ws) => {
    accepted++;
    if (behaviour.kind === 'unread') (ws as unknown as { _socket: Socket })._socket.pause();
    let count = 0;
    ws.on('message', (data, binary) => {
      const n = count++;
      switch (behaviour.kind) {
        case 'echo':
          echo(ws, data, binary);
          break;
        case 'delay':
          setTimeout(() => ws.readyState === ws.OPEN && ws.send(data, { binary }), behaviour.ms);
          break;
        case 'drop':
          if (n % behaviour.dropEvery !== behaviour.dropEvery - 1) echo(ws, data, binary);
          break;
        case 'silent':
        case 'unread':
          break;
        case 'hang':
          if (n < behaviour.afterMessages) echo(ws, data, binary);
          break;
        case 'close':
          if (n < behaviour.afterMessages) echo(ws, data, binary);
          if (n + 1 === behaviour.afterMessages) ws.close(behaviour.code, 'test server closes');
          break;
      }
    });
  });

  const { port } = wss.address() as AddressInfo;
  return {
    url: `ws://127.0.0.1:${port}/`,
    accepted: () => accepted,
    stall(ms) {
      stalledUntil = Date.now() + ms;
      setTimeout(() => {
        for (const { ws, data, binary } of held.splice(0)) if (ws.readyState === ws.OPEN) ws.send(data, { binary });
      }, ms);
    },
    close: () =>
      new Promise((resolve, reject) => {
        for (const client of wss.clients) client.terminate();
        wss.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
