/**
 * monitor() on a socket from a reconnecting library, with fake timers: a
 * heartbeat timeout must use the library's reconnect() (its close() stops
 * reconnection for good), and the tracker must never be left with an outage
 * or an attempt that no event will end.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SessionWindow } from '../src/report/session-window.ts';
import type { SocketScope } from '../src/scope.ts';
import { monitor } from '../src/socket/monitor.ts';
import { FakeReconnectingSocket, recordingScope } from './fakes.ts';

let recording: ReturnType<typeof recordingScope>;

beforeEach(() => {
  vi.useFakeTimers({ now: 1_000_000 });
  recording = recordingScope();
});

afterEach(() => {
  vi.useRealTimers();
});

const heartbeat = { intervalMs: 1000, timeoutMs: 500 };

/** The events as [name, what matters]: attempt(reconnect), opened(reconnect), closed(code, drop), outage(phase), error(type). */
function story(): unknown[][] {
  return recording.events.map(([name, ...args]) => {
    if (args.length === 0) return [name];
    if (name === 'opened') return [name, args[1]];
    if (name === 'closed') return [name, args[0], args[1]];
    return [name, args[0]];
  });
}

describe('monitor() with a heartbeat', () => {
  it('calls the library’s reconnect(), not close(), on a heartbeat timeout, and the outage ends at the reopen', async () => {
    const socket = new FakeReconnectingSocket();
    monitor(socket, { scope: recording.scope, reconnecting: true, heartbeat });
    socket.open();
    expect(socket.sent).toEqual([]); // the first ping goes one interval after open
    await vi.advanceTimersByTimeAsync(1000);
    expect(socket.sent).toEqual(['{"type":"ping"}']);
    await vi.advanceTimersByTimeAsync(500); // no pong

    expect(socket.calls).toEqual(['reconnect(4000, heartbeat timeout)']);
    expect(socket.shouldReconnect).toBe(true);
    socket.open(); // the library's next connection
    await vi.advanceTimersByTimeAsync(1000);
    socket.message('{"type":"pong"}');
    expect(story()).toEqual([
      ['attempt', false],
      ['opened', false],
      ['error', 'heartbeat_timeout'],
      ['closed', 4000, true],
      ['outage', 'start'],
      ['attempt', true],
      ['opened', true],
      ['outage', 'recovered'],
      ['rtt', 0],
    ]);
  });

  it('reads the code of the close events partysocket re-dispatches with `code` set to "close"', async () => {
    const socket = new FakeReconnectingSocket();
    socket.cloneLikePartysocket = true;
    monitor(socket, { scope: recording.scope, heartbeat });
    socket.open();
    await vi.advanceTimersByTimeAsync(1500); // the first ping, then no pong
    socket.open();
    socket.close(1000, 'bye');
    expect(story().filter(([name]) => name === 'closed')).toEqual([
      ['closed', 4000, true],
      ['closed', 1000, false],
    ]);
  });

  it('knows a socket with reconnect() reconnects by itself, without the option', async () => {
    const socket = new FakeReconnectingSocket();
    monitor(socket, { scope: recording.scope, heartbeat });
    socket.open();
    await vi.advanceTimersByTimeAsync(1500); // the first ping, then no pong
    expect(socket.calls).toEqual(['reconnect(4000, heartbeat timeout)']);
    socket.open();
    expect(story().filter(([name]) => name === 'outage')).toEqual([
      ['outage', 'start'],
      ['outage', 'recovered'],
    ]);
  });

  it('closes a socket without reconnect() for good, and leaves no outage or attempt open', async () => {
    const socket = new FakeReconnectingSocket(false);
    monitor(socket, { scope: recording.scope, reconnecting: true, heartbeat });
    socket.open();
    await vi.advanceTimersByTimeAsync(1500); // the first ping, then no pong

    expect(socket.calls).toEqual(['close(4000, heartbeat timeout)']);
    expect(story()).toEqual([
      ['attempt', false],
      ['opened', false],
      ['error', 'heartbeat_timeout'],
      ['closed', 4000, true],
    ]);
    // A later drop of a reconnecting socket (the app reopened it) is followed by an attempt again.
    socket.shouldReconnect = true;
    socket.open();
    socket.drop(1006);
    expect(story().slice(4)).toEqual([
      ['opened', false],
      ['closed', 1006, true],
      ['outage', 'start'],
      ['attempt', true],
    ]);
  });

  it('counts an app close of a reconnecting socket as a close, not a drop, and expects no attempt after it', () => {
    const socket = new FakeReconnectingSocket();
    monitor(socket, { scope: recording.scope, heartbeat });
    socket.open();
    socket.close(1000, 'bye');
    expect(story()).toEqual([
      ['attempt', false],
      ['opened', false],
      ['closed', 1000, false],
    ]);
  });
});

/** A scope whose only sink is a client-report window on a test clock. */
function windowScope() {
  let now = Date.parse('2026-11-24T10:00:00.000Z');
  const window = new SessionWindow({ sessionId: 'k3J9abcdefghijklmnop', network: () => undefined, pagePath: () => '/' }, () => now);
  const scope = {
    active: true,
    tracer: undefined,
    emit: (event: keyof SessionWindow, ...args: never[]) => (window[event] as ((...a: never[]) => void) | undefined)?.(...args),
  } as unknown as SocketScope;
  return { window, scope, advance: (ms: number) => (now += ms) };
}

describe('monitor() and the app’s close()', () => {
  it('ends the outage and the pending attempt when the library is closed between retries, where it dispatches no close', () => {
    const spans: string[] = [];
    const tracer = { connect: () => ({ carrier: {}, end: (error?: string) => void spans.push(error ?? 'ok') }) };
    Object.assign(recording.scope, { tracer });
    const socket = new FakeReconnectingSocket();
    const closes: number[] = [];
    socket.addEventListener('close', (event) => closes.push((event as CloseEvent).code));
    monitor(socket, { scope: recording.scope });
    socket.open();
    socket.drop(1006); // the library now waits before its next attempt
    socket.close(1000, 'bye');

    expect(closes).toEqual([1006]); // as partysocket: nothing for the close between retries
    expect(socket.readyState).toBe(3);
    expect(story()).toEqual([
      ['attempt', false],
      ['opened', false],
      ['closed', 1006, true],
      ['outage', 'start'],
      ['attempt', true],
      ['outage', 'abandoned'],
    ]);
    expect(spans).toEqual(['ok', 'closed by the app before opening']);
    // A close that was seen is not counted again by the same close() call.
    const open = new FakeReconnectingSocket();
    monitor(open, { scope: recording.scope });
    open.open();
    open.close(1000);
    expect(story().slice(6)).toEqual([['attempt', false], ['opened', false], ['closed', 1000, false]]);
  });

  it('stops counting outage time in client reports once the app closed the socket between retries', () => {
    const { window, scope, advance } = windowScope();
    const socket = new FakeReconnectingSocket();
    monitor(socket, { scope });
    socket.open();
    advance(1000);
    socket.drop(1006);
    advance(2000);
    socket.close();
    advance(5000);
    expect(window.take()?.connection).toMatchObject({ attempts: 2, opens: 1, drops: 1, outage_ms: 2000, connected_ms: 1000 });
    advance(60_000);
    expect(window.take()).toBeUndefined();
  });
});

describe('monitor().detach()', () => {

  it('takes an open socket out of connected time, counting neither a close nor a drop', () => {
    const { window, scope, advance } = windowScope();
    const socket = new FakeReconnectingSocket();
    const watch = monitor(socket, { scope });
    socket.open();
    advance(1000);
    watch.detach();
    advance(5000);
    expect(window.take()?.connection).toEqual({
      attempts: 1,
      opens: 1,
      drops: 0,
      reconnect_attempts: 0,
      reconnect_successes: 0,
      outage_ms: 0,
      connected_ms: 1000,
      close_codes: {},
    });
    advance(60_000);
    expect(window.take()).toBeUndefined();
  });

  it('counts a socket that was open before monitor() as connected from then, with no open, and its close takes only its own share', () => {
    const { window, scope, advance } = windowScope();
    const watched = new FakeReconnectingSocket();
    monitor(watched, { scope });
    watched.open();
    const adopted = new FakeReconnectingSocket();
    adopted.open(); // before monitoring: no listener sees this open
    monitor(adopted, { scope });
    advance(1000); // both open
    adopted.drop(1006);
    advance(1000); // only `watched` open
    // The drop starts the library's reconnection: a second attempt.
    expect(window.take()?.connection).toMatchObject({ attempts: 2, opens: 1, drops: 1, connected_ms: 3000, close_codes: { '1006': 1 } });
  });

  it('ends an outage in progress (abandoned), so later windows count no outage time', () => {
    const { window, scope, advance } = windowScope();
    const socket = new FakeReconnectingSocket();
    const watch = monitor(socket, { scope });
    socket.open();
    socket.drop(1006);
    advance(2000);
    watch.detach();
    advance(5000);
    expect(window.take()?.connection).toMatchObject({ drops: 1, outage_ms: 2000, connected_ms: 0, close_codes: { '1006': 1 } });
    advance(60_000);
    expect(window.take()).toBeUndefined();
  });

  it('tells the sinks `detached` (no `closed`), ends a pending attempt’s span, and is idempotent', () => {
    const spans: Array<string | undefined> = [];
    const tracer = { connect: () => ({ carrier: {}, end: (error?: string) => void spans.push(error ?? 'ok') }) };
    Object.assign(recording.scope, { tracer });
    const open = new FakeReconnectingSocket();
    const watchOpen = monitor(open, { scope: recording.scope });
    open.open();
    watchOpen.detach();
    watchOpen.detach();
    open.drop(1006);
    expect(story()).toEqual([['attempt', false], ['opened', false], ['detached']]);

    const connecting = new FakeReconnectingSocket();
    monitor(connecting, { scope: recording.scope }).detach();
    expect(story().slice(3)).toEqual([['attempt', false]]);
    expect(spans).toEqual(['ok', 'ok']);
  });
});
