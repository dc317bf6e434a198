/**
 * monitor() on a socket from a reconnecting library, with fake timers: a
 * heartbeat timeout must use the library's reconnect() (its close() stops
 * reconnection for good), and the tracker must never be left with an outage
 * or an attempt that no event will end.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
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
    expect(socket.sent).toEqual(['ping']);
    await vi.advanceTimersByTimeAsync(500); // no pong

    expect(socket.calls).toEqual(['reconnect(4000, heartbeat timeout)']);
    expect(socket.shouldReconnect).toBe(true);
    socket.open(); // the library's next connection
    socket.message('pong');
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
    await vi.advanceTimersByTimeAsync(500);
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
    await vi.advanceTimersByTimeAsync(500);
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
    await vi.advanceTimersByTimeAsync(500);

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
