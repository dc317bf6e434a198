/**
 * Test doubles for the socket unit tests (Node has no WebSocket or
 * CloseEvent): a scripted WebSocket, a reconnecting library's socket shaped
 * like partysocket's, and a scope that records what the sockets report.
 */
import type { SocketScope } from '../src/scope.ts';

/** Node 20 has Event and MessageEvent but no CloseEvent. */
export class TestCloseEvent extends Event {
  readonly code: number;
  readonly reason: string;
  readonly wasClean: boolean;
  constructor(type: string, init: CloseEventInit = {}) {
    super(type);
    this.code = init.code ?? 0;
    this.reason = init.reason ?? '';
    this.wasClean = init.wasClean ?? false;
  }
}

type Handler = ((event: never) => unknown) | null;

/** A WebSocket whose server side the test drives: open(), message(), serverClose(), fail(). */
export class FakeWebSocket {
  static instances: FakeWebSocket[] = [];
  readyState = 0;
  binaryType = 'blob';
  bufferedAmount = 0;
  protocol = '';
  extensions = '';
  onopen: Handler = null;
  onmessage: Handler = null;
  onclose: Handler = null;
  onerror: Handler = null;
  readonly sent: unknown[] = [];

  constructor(readonly url: string) {
    FakeWebSocket.instances.push(this);
  }

  send(data: unknown): void {
    this.sent.push(data);
  }

  /** false: the closing handshake does not complete until the test calls serverClose(). */
  handshake = true;

  /** As a browser: CLOSING at once, the close event after the closing handshake (here: a microtask). */
  close(code?: number, reason?: string): void {
    if (this.readyState >= 2) return;
    this.readyState = 2;
    if (this.handshake) queueMicrotask(() => this.serverClose(code ?? 1005, reason ?? '', true));
  }

  open(): void {
    this.readyState = 1;
    (this.onopen as ((event: Event) => void) | null)?.(new Event('open'));
  }

  message(data: string): void {
    (this.onmessage as ((event: MessageEvent) => void) | null)?.(new MessageEvent('message', { data }));
  }

  /** The server closes the connection (or the close handshake completes). */
  serverClose(code: number, reason = '', wasClean = true): void {
    if (this.readyState === 3) return;
    this.readyState = 3;
    (this.onclose as ((event: TestCloseEvent) => void) | null)?.(new TestCloseEvent('close', { code, reason, wasClean }));
  }

  /** The attempt or connection fails (refused upgrade, network loss): 1006. */
  fail(): void {
    this.serverClose(1006, '', false);
  }
}

/**
 * A reconnecting library's socket, as partysocket 1.3 behaves: close() stops
 * its reconnection for good, reconnect() closes and connects again; both
 * dispatch `close` synchronously, except close() in the wait between retries
 * (no underlying socket to close), which dispatches nothing and leaves the
 * socket CLOSED. The test plays the library's reopen with open().
 */
export class FakeReconnectingSocket extends EventTarget {
  readyState = 0;
  readonly url = 'ws://127.0.0.1:1/live';
  shouldReconnect = true;
  readonly sent: unknown[] = [];
  readonly calls: string[] = [];
  cloneLikePartysocket = false;
  /** An underlying socket is connecting or open; false in the wait between retries. */
  private live = true;

  /** `withReconnect` false: a library without reconnect(). */
  constructor(withReconnect = true) {
    super();
    if (!withReconnect) Object.defineProperty(this, 'reconnect', { value: undefined });
  }

  send(data: unknown): void {
    this.sent.push(data);
  }

  close(code = 1000, reason = ''): void {
    this.calls.push(`close(${code}, ${reason})`);
    this.shouldReconnect = false;
    if (this.live) this.drop(code);
    else this.readyState = 3;
  }

  reconnect(code = 1000, reason = ''): void {
    this.calls.push(`reconnect(${code}, ${reason})`);
    this.shouldReconnect = true;
    if (this.live) this.drop(code);
  }

  open(): void {
    this.live = true;
    this.readyState = 1;
    this.dispatchEvent(new Event('open'));
  }

  message(data: string): void {
    this.dispatchEvent(new MessageEvent('message', { data }));
  }

  drop(code = 1006): void {
    this.live = false;
    this.readyState = this.shouldReconnect ? 0 : 3;
    // What partysocket 1.3 dispatches for a close it makes itself, in a browser: its CloseEvent
    // cloned as `new e.constructor(e.type, e)`, which puts 'close' in `code` and the event in `reason`.
    const event = new TestCloseEvent('close', { code });
    this.dispatchEvent(this.cloneLikePartysocket ? Object.assign(new Event('close'), { code: 'close', reason: event }) : event);
  }
}

/** A scope that records every event the sockets emit, as [event, ...args]. */
export function recordingScope(): { scope: SocketScope; events: unknown[][]; names: () => string[] } {
  const events: unknown[][] = [];
  const scope = { active: true, tracer: undefined, emit: (...args: unknown[]) => void events.push(args) } as unknown as SocketScope;
  return { scope, events, names: () => events.map((event) => String(event[0])) };
}
