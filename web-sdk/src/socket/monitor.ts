/**
 * Monitors a socket the app already owns: a plain WebSocket, or a
 * reconnecting one from a library (reconnecting-websocket, partysocket) that
 * dispatches open/message/close/error on itself and reconnects internally.
 * Only this instance's send() and close() are wrapped, to count messages and
 * to tell app closes from drops; detach() restores them.
 *
 * A heartbeat timeout calls the library's reconnect() when it has one
 * (reconnecting-websocket, partysocket), never its close(), which would stop
 * its reconnection for good; a socket without reconnect() is closed, and that
 * close ends the connection (no reconnection follows from this side).
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
   * while disconnected are queued by the library. Default: true when the
   * socket has a reconnect() method.
   */
  reconnecting?: boolean;
  heartbeat?: HeartbeatOptions;
}

export interface SocketMonitor {
  /** Times and traces a request: put `carrier` into the message, call end() on its response. */
  startRequest(name?: string): TrackedRequest;
  /**
   * Stops monitoring and restores the socket's own send() and close(). An open socket stops
   * counting as connected (it is not counted as a close or a drop); an outage in progress ends.
   */
  detach(): void;
}

export function monitor(socket: WebSocketLike, options: MonitorOptions = {}): SocketMonitor {
  const scope = options.scope === undefined ? getSocketScope() : (options.scope ?? undefined);
  const tracker = new ConnectionTracker(scope, socket.url ?? '');
  type Close = (code?: number, reason?: string) => void;
  const target = socket as unknown as { send(data: unknown): void; close: Close; reconnect?: Close };
  const ownSend = Object.prototype.hasOwnProperty.call(target, 'send');
  const ownClose = Object.prototype.hasOwnProperty.call(target, 'close');
  const send = target.send;
  const close = target.close;
  const reconnecting = options.reconnecting ?? typeof target.reconnect === 'function';
  /** The app asked for the close. */
  let closing: boolean | undefined;
  /** The heartbeat closed a socket that cannot reconnect: its close ends the connection. */
  let ended: boolean | undefined;
  /** The heartbeat asked the library to reconnect: its close is followed by an attempt. */
  let restarting: boolean | undefined;

  const heartbeat =
    options.heartbeat &&
    new Heartbeat(
      options.heartbeat,
      scope,
      (ping) => socket.readyState === 1 && send.call(target, ping),
      () => {
        if (typeof target.reconnect === 'function') {
          restarting = true;
          target.reconnect(4000, 'heartbeat timeout');
        } else {
          ended = true;
          close.call(target, 4000, 'heartbeat timeout');
        }
      },
    );

  target.send = function (this: unknown, data: unknown) {
    if (socket.readyState === 1) tracker.sent(data);
    else if (reconnecting) scope?.emit('queued');
    else scope?.emit('dropped', 'closed', 1);
    return send.call(this, data);
  };
  target.close = function (this: unknown, code?: number, reason?: string) {
    closing = true;
    close.call(this, code, reason);
    // partysocket and reconnecting-websocket dispatch no close when closed in the wait between
    // retries: end the pending attempt and the outage here (a no-op once the close was seen).
    if (socket.readyState === 3) onClose({ code: code ?? 1000 } as CloseEvent);
  };

  const onClose = (event: Event): void => {
    heartbeat?.stop();
    const willReconnect = (reconnecting || restarting) && !closing && !ended;
    restarting = false;
    // partysocket 1.3 re-dispatches the close events it makes itself (close(), reconnect(), its
    // timeouts) with `code` 'close' and the original event as `reason`: take the code from that.
    const { code, reason } = event as CloseEvent;
    tracker.closed(typeof code === 'number' ? code : ((reason as unknown as CloseEvent | undefined)?.code ?? 1005), closing, willReconnect);
    // The library's next attempt starts after its own backoff, which is not observable: not timed.
    if (willReconnect) tracker.attempt(false);
  };

  const listeners: Record<string, (event: Event) => void> = {
    open: () => {
      closing = ended = restarting = false;
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
    close: onClose,
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
      tracker.detach();
    },
  };
}
