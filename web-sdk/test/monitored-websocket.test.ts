/**
 * MonitoredWebSocket's reconnection decisions and request failures, with a
 * scripted WebSocket and fake timers: close codes that end the connection,
 * a backoff that only starts over after a stable connection, the randomised
 * floor after "try again later", close() between attempts, on* handlers with
 * native semantics, and request() on a socket that cannot send.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { jsonEnvelope } from '../../src/instrumentation/message-classifier.ts';
import { MonitoredWebSocket, type MonitoredWebSocketOptions } from '../src/socket/monitored-websocket.ts';
import { FakeWebSocket, TestCloseEvent, recordingScope } from './fakes.ts';

let recording: ReturnType<typeof recordingScope>;

beforeEach(() => {
  vi.useFakeTimers({ now: 1_000_000 });
  vi.stubGlobal('CloseEvent', TestCloseEvent);
  FakeWebSocket.instances = [];
  recording = recordingScope();
});

afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllGlobals();
  vi.restoreAllMocks();
});

const reconnect = { initialDelayMs: 100, maxDelayMs: 100_000, multiplier: 2, jitter: 0 };

function socket(options: MonitoredWebSocketOptions = {}) {
  const ws = new MonitoredWebSocket('ws://127.0.0.1:1/live', undefined, {
    scope: recording.scope,
    WebSocket: FakeWebSocket as unknown as typeof WebSocket,
    reconnect,
    ...options,
  });
  const closes: string[] = [];
  ws.addEventListener('close', (event) => closes.push(`${event.code} ${event.reason}`));
  return { ws, closes };
}

const current = (): FakeWebSocket => FakeWebSocket.instances.at(-1)!;

/** Simulated milliseconds until the next connection attempt (the only timer pending is the retry). */
async function delayToNextAttempt(): Promise<number> {
  const attempts = FakeWebSocket.instances.length;
  expect(vi.getTimerCount()).toBe(1);
  const start = Date.now();
  await vi.advanceTimersToNextTimerAsync();
  expect(FakeWebSocket.instances.length).toBe(attempts + 1);
  return Date.now() - start;
}

describe('MonitoredWebSocket reconnection', () => {
  it.each([
    [4401, 'invalid_token'],
    [4403, 'forbidden_origin'],
    [1008, 'policy'],
  ])('does not reconnect after %i (the server rejected this client): CLOSED, and the close is counted', async (code, reason) => {
    const { ws, closes } = socket();
    current().open();
    current().serverClose(code, reason);
    await vi.advanceTimersByTimeAsync(3_600_000);

    expect(FakeWebSocket.instances).toHaveLength(1);
    expect(ws.readyState).toBe(MonitoredWebSocket.CLOSED);
    expect(closes).toEqual([`${code} ${reason}`]);
    expect(recording.events.map(([name, ...args]) => (name === 'closed' ? [name, args[0], args[1]] : [name]))).toEqual([
      ['attempt'],
      ['opened'],
      ['closed', code, true],
    ]);
  });

  it('keeps the backoff growing while connections close as soon as they open', async () => {
    socket();
    const delays: number[] = [];
    for (let i = 0; i < 5; i++) {
      current().open();
      current().serverClose(1011, 'crash loop');
      delays.push(await delayToNextAttempt());
    }
    expect(delays).toEqual([100, 200, 400, 800, 1600]);
  });

  it('starts the backoff over once a connection has stayed open stableAfterMs', async () => {
    socket({ reconnect: { ...reconnect, stableAfterMs: 5000 } });
    current().fail();
    expect(await delayToNextAttempt()).toBe(100);
    current().fail();
    expect(await delayToNextAttempt()).toBe(200);
    // Open for 1 ms less than stableAfterMs: not stable, the backoff goes on.
    current().open();
    await vi.advanceTimersByTimeAsync(4999);
    current().serverClose(1006, '', false);
    expect(await delayToNextAttempt()).toBe(400);
    // Open for stableAfterMs: the next drop retries after the initial delay.
    current().open();
    await vi.advanceTimersByTimeAsync(5000);
    current().serverClose(1001, 'deploy');
    expect(await delayToNextAttempt()).toBe(100);
  });

  it.each([1012, 1013, 4429])('waits tryAgainLaterMs times 1 to 2 (at random) after %i, plus the backoff', async (code) => {
    const random = vi.spyOn(Math, 'random').mockReturnValue(0);
    socket();
    current().open();
    current().serverClose(code, 'try again later');
    expect(await delayToNextAttempt()).toBe(10_000 + 100);
    random.mockReturnValue(0.5);
    current().open();
    current().serverClose(code, 'try again later');
    expect(await delayToNextAttempt()).toBe(15_000 + 200);
    random.mockReturnValue(0.75);
    current().open();
    current().serverClose(code, 'try again later');
    expect(await delayToNextAttempt()).toBe(17_500 + 400);
  });

  it('spreads the clients one server restart (1012) turns away over tryAgainLaterMs, not over the backoff’s jitter', async () => {
    const delays: number[] = [];
    for (let client = 0; client < 200; client++) {
      socket({ reconnect: { ...reconnect, jitter: 0.5 } });
      current().open();
      current().serverClose(1012, 'service restart');
      delays.push(await delayToNextAttempt());
      vi.clearAllTimers();
    }
    // 10 s floor times 1–2 plus 50–100 ms: spread over about 10 s, not 50 ms.
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(10_050);
    expect(Math.max(...delays)).toBeLessThanOrEqual(20_100);
    expect(Math.max(...delays) - Math.min(...delays)).toBeGreaterThan(5000);
  });

  it('takes tryAgainLaterMs from the options', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0.5);
    socket({ reconnect: { ...reconnect, tryAgainLaterMs: 2000 } });
    current().open();
    current().serverClose(4429, 'rate limited');
    expect(await delayToNextAttempt()).toBe(3100);
  });

  it('lets shouldReconnect decide instead of the default codes', async () => {
    const seen: string[] = [];
    const { ws } = socket({
      reconnect: {
        ...reconnect,
        shouldReconnect: (event) => {
          seen.push(`${event.code} ${event.reason}`);
          return event.code === 4401; // e.g. the app refreshes its token before the next attempt
        },
      },
    });
    current().open();
    current().serverClose(4401, 'expired_token');
    expect(await delayToNextAttempt()).toBe(100);
    current().fail();
    await vi.advanceTimersByTimeAsync(3_600_000);
    expect(seen).toEqual(['4401 expired_token', '1006 ']);
    expect(FakeWebSocket.instances).toHaveLength(2);
    expect(ws.readyState).toBe(MonitoredWebSocket.CLOSED);
  });

  it('treats a shouldReconnect that throws as false, without throwing into the app', async () => {
    const { ws, closes } = socket({
      reconnect: {
        ...reconnect,
        shouldReconnect: () => {
          throw new Error('app bug');
        },
      },
    });
    current().open();
    current().serverClose(1006, '', false);
    await vi.advanceTimersByTimeAsync(3_600_000);
    expect(FakeWebSocket.instances).toHaveLength(1);
    expect(ws.readyState).toBe(MonitoredWebSocket.CLOSED);
    expect(closes).toEqual(['1006 ']);
  });

  it('still gives up after maxRetries attempts since the last stable connection', async () => {
    const { ws } = socket({ reconnect: { ...reconnect, maxRetries: 2 } });
    current().open();
    current().serverClose(1011);
    await delayToNextAttempt();
    current().open();
    current().serverClose(1011);
    await delayToNextAttempt();
    current().open();
    current().serverClose(1011);
    await vi.advanceTimersByTimeAsync(3_600_000);
    expect(FakeWebSocket.instances).toHaveLength(3);
    expect(ws.readyState).toBe(MonitoredWebSocket.CLOSED);
  });
});

describe('MonitoredWebSocket.close()', () => {
  it('dispatches no second close when the app closes the socket in its close handler', async () => {
    const { ws, closes } = socket();
    let handlerCalls = 0;
    ws.onclose = () => {
      handlerCalls++;
      ws.close();
    };
    current().open();
    current().serverClose(1006, '', false);
    await vi.advanceTimersByTimeAsync(3_600_000);

    expect(handlerCalls).toBe(1);
    expect(closes).toEqual(['1006 ']);
    expect(ws.readyState).toBe(MonitoredWebSocket.CLOSED);
    expect(FakeWebSocket.instances).toHaveLength(1);
    expect(recording.names()).toEqual(['attempt', 'opened', 'closed', 'outage', 'outage']);
    expect(recording.events.filter(([name]) => name === 'outage').map(([, phase]) => phase)).toEqual(['start', 'abandoned']);
  });

  it('between attempts ends the socket without another close event (the app had one for the last connection)', async () => {
    const { ws, closes } = socket();
    current().open();
    current().serverClose(1001, 'deploy');
    ws.close(4000, 'bye');
    expect(ws.readyState).toBe(MonitoredWebSocket.CLOSED);
    await vi.advanceTimersByTimeAsync(3_600_000);
    expect(closes).toEqual(['1001 deploy']);
    expect(FakeWebSocket.instances).toHaveLength(1);
  });

  it('validates code and reason as the native close() does, between attempts and once closing too', async () => {
    const { ws } = socket();
    const thrown = (code?: number, reason?: string) => {
      try {
        ws.close(code, reason);
        return 'returned';
      } catch (error) {
        return (error as DOMException).name;
      }
    };
    current().fail(); // between attempts: no underlying socket to check them
    expect([1001, 999, 2999, 5000, Number.NaN].map((code) => thrown(code))).toEqual(Array.from({ length: 5 }, () => 'InvalidAccessError'));
    expect(thrown(1000, 'x'.repeat(124))).toBe('SyntaxError');
    expect(thrown(undefined, 'é'.repeat(62))).toBe('SyntaxError'); // 124 bytes in UTF-8
    // Nothing happened: the socket still reconnects.
    expect(ws.readyState).toBe(MonitoredWebSocket.CONNECTING);
    await vi.advanceTimersToNextTimerAsync();
    expect(FakeWebSocket.instances).toHaveLength(2);

    expect(thrown(4999, 'é'.repeat(61) + 'x')).toBe('returned');
    expect(ws.readyState).toBe(MonitoredWebSocket.CLOSING);
    expect(thrown(1001)).toBe('InvalidAccessError');
    expect(thrown(3000)).toBe('returned');
  });

  it('reads CLOSING while the underlying socket runs a closing handshake the server started', () => {
    const { ws } = socket();
    current().open();
    current().readyState = 2; // the server's close frame arrived; the close event follows the handshake
    expect(ws.readyState).toBe(MonitoredWebSocket.CLOSING);
    current().serverClose(1001, 'deploy');
    expect(ws.readyState).toBe(MonitoredWebSocket.CONNECTING); // reconnecting
  });
});

describe('MonitoredWebSocket on<event> handlers', () => {
  it('are not de-duplicated with the same function added as a listener, nor take it away when replaced', () => {
    const { ws } = socket();
    const seen: string[] = [];
    const listener = (event: MessageEvent) => seen.push(`listener ${event.data}`);
    ws.addEventListener('message', listener);
    ws.onmessage = listener;
    current().open();
    current().message('a');
    ws.onmessage = (event) => seen.push(`handler ${event.data}`);
    current().message('b');
    ws.removeEventListener('message', listener);
    current().message('c');
    expect(seen).toEqual(['listener a', 'listener a', 'listener b', 'handler b', 'handler c']);
  });

  it('keep the place of their first assignment among the listeners, call the current handler with the socket as this, and leave at null', () => {
    const { ws } = socket();
    const order: string[] = [];
    ws.onmessage = () => order.push('first handler');
    ws.addEventListener('message', () => order.push('listener'));
    ws.onmessage = function (this: MonitoredWebSocket) {
      order.push(`second handler ${this === ws}`);
    };
    current().open();
    current().message('a');
    expect(order).toEqual(['second handler true', 'listener']);

    order.length = 0;
    ws.onmessage = null;
    expect(ws.onmessage).toBeNull();
    current().message('b');
    expect(order).toEqual(['listener']);
    // Set again after null: a new place, after the listener.
    const handler = () => order.push('handler');
    ws.onmessage = handler;
    expect(ws.onmessage).toBe(handler);
    current().message('c');
    expect(order).toEqual(['listener', 'listener', 'handler']);
    ws.onmessage = 'not a function' as unknown as null;
    expect(ws.onmessage).toBeNull();
  });
});

describe('MonitoredWebSocket.request()', () => {
  /** The promise's outcome once pending microtasks and zero-delay timers have run (no time passes). */
  async function outcome(promise: Promise<unknown>): Promise<unknown> {
    let result: unknown = 'pending';
    promise.then(
      (value) => (result = value),
      (error: unknown) => (result = error),
    );
    await vi.advanceTimersByTimeAsync(0);
    return result;
  }

  it('rejects at once on a socket that is already CLOSED, and counts the request as an error', async () => {
    const { ws } = socket();
    current().open();
    ws.close(1000);
    await vi.advanceTimersByTimeAsync(0);
    expect(ws.readyState).toBe(MonitoredWebSocket.CLOSED);

    const error = await outcome(ws.request({ type: 'quote' }, { name: 'quote', timeoutMs: 60_000 }));
    expect(error).toBeInstanceOf(DOMException);
    expect((error as DOMException).name).toBe('AbortError');
    expect(recording.events.filter(([name]) => name === 'request' || name === 'dropped').map(([name, , outcome]) => [name, outcome])).toEqual([
      ['dropped', 1],
      ['request', 'error'],
    ]);
    expect(vi.getTimerCount()).toBe(0); // no timeout left running
  });

  it('rejects at once while CLOSING (close() called, the closing handshake not done)', async () => {
    const { ws } = socket();
    current().open();
    current().handshake = false;
    ws.close(1000);
    const error = await outcome(ws.request({ type: 'quote' }, { timeoutMs: 60_000 }));
    expect(ws.readyState).toBe(MonitoredWebSocket.CLOSING);
    expect((error as DOMException).name).toBe('AbortError');
  });

  it('rejects at once when the message is dropped because the queue is off, and leaves other requests pending', async () => {
    const { ws } = socket({ queue: false });
    const error = await outcome(ws.request({ type: 'quote' }, { timeoutMs: 60_000 }));
    expect((error as DOMException).name).toBe('AbortError');

    // Queued while connecting: answered after the open.
    const queued = socket();
    const response = queued.ws.request({ type: 'quote' }, { timeoutMs: 60_000 });
    expect(await outcome(response)).toBe('pending');
    current().open();
    const sent = JSON.parse(String(current().sent[0])) as { id: string };
    current().message(JSON.stringify({ id: sent.id, price: 42 }));
    expect(await outcome(response)).toEqual({ id: sent.id, price: 42 });
  });
});

describe('MonitoredWebSocket heartbeat', () => {
  const heartbeat = { intervalMs: 1000, timeoutMs: 500 };

  it('puts the queued messages first on the wire, then what the open handler sends, and the first ping one interval later', async () => {
    const { ws } = socket({ heartbeat });
    ws.send('{"type":"auth","token":"t"}'); // queued while connecting
    ws.addEventListener('open', () => ws.send('{"type":"subscribe"}'));
    current().open();
    expect(current().sent).toEqual(['{"type":"auth","token":"t"}', '{"type":"subscribe"}']);

    await vi.advanceTimersByTimeAsync(999);
    expect(current().sent).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1);
    expect(current().sent).toEqual(['{"type":"auth","token":"t"}', '{"type":"subscribe"}', '{"type":"ping"}']);
  });

  it('starts over after a reconnection: the new connection’s first frames are the app’s again', async () => {
    const { ws } = socket({ heartbeat });
    ws.addEventListener('open', () => ws.send('hello'));
    current().open();
    current().fail();
    await vi.advanceTimersByTimeAsync(reconnect.initialDelayMs);
    expect(FakeWebSocket.instances).toHaveLength(2);
    current().open();
    expect(current().sent).toEqual(['hello']);
    await vi.advanceTimersByTimeAsync(1000);
    expect(current().sent).toEqual(['hello', '{"type":"ping"}']);
  });

  it('pings with the JSON message {"type":"ping"} by default and takes a JSON {"type":"pong"} reply (the demo app’s) as the pong', async () => {
    const { ws } = socket({ heartbeat });
    const received: unknown[] = [];
    ws.addEventListener('message', (event) => received.push(event.data));
    current().open();
    await vi.advanceTimersByTimeAsync(1000);
    expect(JSON.parse(String(current().sent[0]))).toEqual({ type: 'ping' });
    // The server SDK's default envelope reader takes it as a message of type 'ping' (a bare text 'ping' would throw: a parse_error).
    expect(jsonEnvelope()(Buffer.from(String(current().sent[0])), false)).toMatchObject({ type: 'ping' });
    expect(() => jsonEnvelope()(Buffer.from('ping'), false)).toThrow();
    await vi.advanceTimersByTimeAsync(20);
    current().message('{"type":"pong","id":"p1","sentAt":1000000}'); // as src/demo/dashboard-app.ts answers
    await vi.advanceTimersByTimeAsync(980); // the second ping
    current().message('pong'); // the text reply of servers that answer a text 'ping'
    // Other messages reach the app, also ones that mention pong.
    current().message('{"type":"chat","text":"pong"}');
    current().message('{"type":"pong"');
    current().message('"pong"');
    await vi.advanceTimersByTimeAsync(500); // past the second ping's timeout

    expect(current().sent).toEqual(['{"type":"ping"}', '{"type":"ping"}']);
    expect(received).toEqual(['{"type":"chat","text":"pong"}', '{"type":"pong"', '"pong"']);
    expect(recording.events.filter(([name]) => name === 'rtt' || name === 'error')).toEqual([
      ['rtt', 0.02],
      ['rtt', 0],
    ]);
    expect(FakeWebSocket.instances).toHaveLength(1); // both pings answered in time: no timeout, no reconnection
  });

  it('keeps a custom message and isPong', async () => {
    const { ws } = socket({ heartbeat: { ...heartbeat, message: () => 'hb', isPong: (data) => data === 'hb-ack' } });
    const received: unknown[] = [];
    ws.addEventListener('message', (event) => received.push(event.data));
    current().open();
    await vi.advanceTimersByTimeAsync(1000);
    current().message('{"type":"pong"}'); // not the pong under this isPong: passed to the app
    current().message('hb-ack');
    expect(current().sent).toEqual(['hb']);
    expect(received).toEqual(['{"type":"pong"}']);
    expect(recording.events.filter(([name]) => name === 'rtt')).toEqual([['rtt', 0]]);
  });

  it('times out a ping without a reply, and reconnects', async () => {
    socket({ heartbeat });
    current().open();
    await vi.advanceTimersByTimeAsync(1000 + 499);
    expect(FakeWebSocket.instances).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(recording.events.filter(([name]) => name === 'error')).toEqual([['error', 'heartbeat_timeout']]);
    await vi.advanceTimersByTimeAsync(reconnect.initialDelayMs);
    expect(FakeWebSocket.instances).toHaveLength(2);
  });
});
