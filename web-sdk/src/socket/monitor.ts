/**
 * Monitors a socket the app already owns: a plain WebSocket, or a
 * reconnecting one from a library (reconnecting-websocket, partysocket) that
 * dispatches open/message/close/error on itself and reconnects internally.
 * Only this instance's send() and close() are wrapped, to count messages and
 * to tell app closes from drops; detach() restores them.
 */
import { type SocketScope, getSocketScope } from '../scope.ts';
import { ConnectionTracker } from './connection-tracker.ts';
import { Heartbeat, type HeartbeatOptions } from './heartbeat.ts';
import { type TrackedRequest, trackRequest } from './requests.ts';

/** The part of the WebSocket interface monitor() relies on. */
export interface WebSocketLike {
  readonly readyState: number;
  readonly url?: string;
  send(data: never): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: string, listener: (event: Event) => void): void;
  removeEventListener(type: string, listener: (event: Event) => void): void;
}

export interface MonitorOptions {
  /** Scope to report to; default the one initSocketScope() started; null: none. */
  scope?: SocketScope | null;
  /**
   * The socket reconnects by itself (reconnecting-websocket, partysocket): a
   * close the app did not ask for is followed by another attempt, and sends
   * while disconnected are queued by the library.
   */
  reconnecting?: boolean;
  heartbeat?: HeartbeatOptions;
}

export interface SocketMonitor {
  /** Times and traces a request: put `carrier` into the message, call end() on its response. */
  startRequest(name?: string): TrackedRequest;
  /** Stops monitoring and restores the socket's own send() and close(). */
  detach(): void;
}

export function monitor(socket: WebSocketLike, options: MonitorOptions = {}): SocketMonitor {
  const scope = options.scope === undefined ? getSocketScope() : (options.scope ?? undefined);
  const tracker = new ConnectionTracker(scope, socket.url ?? '');
  const target = socket as unknown as { send(data: unknown): void; close(code?: number, reason?: string): void };
  const ownSend = Object.prototype.hasOwnProperty.call(target, 'send');
  const ownClose = Object.prototype.hasOwnProperty.call(target, 'close');
  const send = target.send;
  const close = target.close;
  let closing = false;

  const heartbeat =
    options.heartbeat &&
    new Heartbeat(
      options.heartbeat,
      (ping) => socket.readyState === 1 && send.call(target, ping),
      (rtt) => scope?.emit('rtt', rtt),
      () => {
        scope?.emit('error', 'heartbeat_timeout');
        close.call(target, 4000, 'heartbeat timeout');
      },
    );

  target.send = function (this: unknown, data: unknown) {
    if (socket.readyState === 1) tracker.sent(data);
    else if (options.reconnecting) scope?.emit('queued');
    else scope?.emit('dropped', 'closed', 1);
    return send.call(this, data);
  };
  target.close = function (this: unknown, code?: number, reason?: string) {
    closing = true;
    return close.call(this, code, reason);
  };

  const listeners: Record<string, (event: Event) => void> = {
    open: () => {
      closing = false;
      tracker.opened();
      heartbeat?.start();
    },
    message: (event) => {
      const { data } = event as MessageEvent;
      if (!heartbeat?.handle(data)) tracker.received(data);
    },
    error: () => {
      if (tracker.isOpen) scope?.emit('error', 'socket');
    },
    close: (event) => {
      heartbeat?.stop();
      const willReconnect = !!options.reconnecting && !closing;
      tracker.closed((event as CloseEvent).code, closing, willReconnect);
      // The library's next attempt starts after its own backoff, which is not observable: not timed.
      if (willReconnect) tracker.attempt(false);
    },
  };
  for (const [type, listener] of Object.entries(listeners)) socket.addEventListener(type, listener);

  if (socket.readyState === 0) tracker.attempt();
  else if (socket.readyState === 1) {
    tracker.adopt();
    heartbeat?.start();
  }

  return {
    startRequest: (name) => trackRequest(scope, name),
    detach() {
      heartbeat?.stop();
      for (const [type, listener] of Object.entries(listeners)) socket.removeEventListener(type, listener);
      if (ownSend) target.send = send;
      else delete (target as { send?: unknown }).send;
      if (ownClose) target.close = close;
      else delete (target as { close?: unknown }).close;
    },
  };
}
