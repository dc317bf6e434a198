/**
 * monitor() on sockets the app owns, in Chromium: a plain WebSocket, and
 * partysocket's ReconnectingWebSocket, which reconnects by itself. What the
 * client report says must match what happened on the wire.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Stack, waitFor } from '../../../src/stack/index.ts';
import type { ClientReport } from '../../../web-sdk/src/report/schema.ts';
import { type AppServer, type EchoServer, consoleCalls, newSdkPage, startAppServer, startEchoServer, waitInPage } from './harness.ts';

let stack: Stack;
let app: AppServer;
let echo: EchoServer;
let browser: Browser;

beforeAll(async () => {
  stack = new Stack('web-sdk-monitor');
  app = await startAppServer();
  echo = await startEchoServer();
  browser = await stack.chromium();
});

afterAll(async () => {
  await echo?.close();
  await app?.close();
  await stack?.stop();
});

const newPage = (): Promise<Page> => newSdkPage(browser, app.url);

/**
 * A page with partysocket loaded and `window.t.openPartysocket(url)`: the SDK initialised and a
 * partysocket (fast reconnects) opened as `t.ws`, its opens counted in `t.opens`.
 */
async function partysocketPage(): Promise<Page> {
  const page = await newPage();
  await page.addScriptTag({ type: 'module', content: "import RWS from '/lib/partysocket.js'; window.t.ReconnectingWebSocket = RWS;" });
  await waitInPage(page, 'partysocket', () => window.t.ReconnectingWebSocket !== undefined);
  await page.evaluate(() => {
    const { sdk, t } = window;
    t.openPartysocket = (wsUrl: string) => {
      const ReconnectingWebSocket = t.ReconnectingWebSocket as new (url: string, protocols?: string[], options?: object) => WebSocket;
      sdk.initSocketScope({ report: { url: '/api/ws/client-metrics', intervalMs: 3_600_000 } });
      const ws = new ReconnectingWebSocket(wsUrl, [], { minReconnectionDelay: 50, maxReconnectionDelay: 100 });
      t.ws = ws;
      t.opens = 0;
      ws.addEventListener('open', () => (t.opens = (t.opens as number) + 1));
      return ws;
    };
  });
  return page;
}

/** Flushes the page's client report and returns it. */
async function report(page: Page): Promise<ClientReport> {
  const sessionId = await page.evaluate(() => {
    const scope = window.sdk.getSocketScope();
    scope?.flush();
    return scope?.session.id;
  });
  let found: ClientReport | undefined;
  await waitFor('the client report', async () => (found = app.reports.find((r) => r.session_id === sessionId)) !== undefined);
  return found!;
}

describe('monitor()', () => {
  it('counts a plain WebSocket the app owns, and detach() restores it', async () => {
    echo.received.length = 0;
    const page = await newPage();
    await page.evaluate((wsUrl) => {
      const { sdk, t } = window;
      sdk.initSocketScope({ report: { url: '/api/ws/client-metrics', intervalMs: 3_600_000 } });
      const ws = new WebSocket(wsUrl);
      t.ws = ws;
      t.monitor = sdk.monitor(ws);
      ws.addEventListener('open', () => {
        ws.send('one');
        ws.send('two');
      });
      ws.addEventListener('message', (event) => (t.reply = event.data));
    }, echo.url);
    await waitFor('two messages at the server', async () => echo.received.length === 2);
    await page.evaluate(() => {
      const ws = window.t.ws as WebSocket;
      const request = (window.t.monitor as ReturnType<typeof window.sdk.monitor>).startRequest('echo');
      ws.addEventListener('message', () => request.end(), { once: true });
      ws.send(JSON.stringify({ type: 'echo', id: 'r1', payload: 'hi' }));
    });
    await waitInPage(page, 'the echo', () => window.t.reply !== undefined);
    await page.evaluate(() => new Promise((resolve) => {
      const ws = window.t.ws as WebSocket;
      ws.addEventListener('close', resolve);
      ws.close(1000);
    }));

    expect(await report(page)).toMatchObject({
      connection: { attempts: 1, opens: 1, drops: 0, reconnect_attempts: 0, reconnect_successes: 0, outage_ms: 0, close_codes: { '1000': 1 } },
      messages: { sent: 3, received: 1, queued: 0, dropped: 0, errors: 0 },
    });
    const restored = await page.evaluate(() => {
      (window.t.monitor as { detach(): void }).detach();
      const ws = window.t.ws as WebSocket;
      return ws.send === WebSocket.prototype.send && ws.close === WebSocket.prototype.close && !Object.hasOwn(ws, 'send');
    });
    expect(restored).toBe(true);
    expect(await consoleCalls(page)).toEqual([]);
  });

  it('follows partysocket through a drop, two refused reconnections and its own queue', async () => {
    echo.received.length = 0;
    const page = await partysocketPage();
    await page.evaluate((wsUrl) => {
      const { sdk, t } = window;
      const ws = (t.openPartysocket as (url: string) => WebSocket)(wsUrl);
      sdk.monitor(ws, { reconnecting: true });
      ws.addEventListener('close', () => {
        // partysocket queues what is sent while it reconnects.
        if (!t.queued) ws.send((t.queued = 'queued-1'));
      });
    }, echo.url);
    await waitInPage(page, 'the first open', () => window.t.opens === 1);
    await page.evaluate(() => (window.t.ws as WebSocket).send('hello'));
    await waitFor('hello at the server', async () => echo.received.length === 1);

    echo.refuse(2);
    echo.killAll();
    await waitInPage(page, 'the reconnection', () => window.t.opens === 2);
    await waitFor('the queued message at the server', async () => echo.received.length === 2);
    expect(echo.received).toEqual(['hello', 'queued-1']);

    const summary = await report(page);
    expect(summary).toMatchObject({
      connection: { attempts: 4, opens: 2, drops: 1, reconnect_attempts: 3, reconnect_successes: 1, close_codes: { '1006': 1 } },
      // The library sends its queue itself on reopen: counted as queued, not as sent.
      messages: { sent: 1, received: 0, queued: 1, dropped: 0, errors: 2 },
    });
    expect(summary.connection.outage_ms).toBeGreaterThan(0);
    expect(await consoleCalls(page)).toEqual([]);
  });
  it('ends the outage when the app closes partysocket while it waits to reconnect, where partysocket dispatches no close', async () => {
    const page = await partysocketPage();
    await page.evaluate((wsUrl) => {
      const { sdk, t } = window;
      const ws = (t.openPartysocket as (url: string) => WebSocket)(wsUrl);
      t.outages = [];
      t.closeEvents = 0;
      sdk.initSocketScope({
        report: { url: '/api/ws/client-metrics', intervalMs: 3_600_000 },
        plugins: [() => ({ outage: (phase: string) => (t.outages as string[]).push(phase) })],
      });
      sdk.monitor(ws);
      // In its close event partysocket has already started waiting for its next attempt.
      ws.addEventListener('close', () => {
        t.closeEvents = (t.closeEvents as number) + 1;
        ws.close(1000);
      });
    }, echo.url);
    await waitInPage(page, 'the open', () => window.t.opens === 1);
    echo.killAll();
    await waitInPage(page, 'the drop', () => window.t.closeEvents === 1);
    // Longer than partysocket's reconnection delay: it would have reconnected by now.
    await page.evaluate(() => new Promise((resolve) => setTimeout(resolve, 500)));

    expect(await page.evaluate(() => [window.t.closeEvents, window.t.opens, (window.t.ws as WebSocket).readyState, window.t.outages])).toEqual([
      1,
      1,
      3, // CLOSED
      ['start', 'abandoned'],
    ]);
    expect((await report(page)).connection).toMatchObject({ attempts: 2, opens: 1, drops: 1, reconnect_attempts: 1, reconnect_successes: 0, close_codes: { '1006': 1 } });
    expect(await consoleCalls(page)).toEqual([]);
  });

  it('reconnects partysocket through its reconnect() when the heartbeat gets no reply, and the outage ends', async () => {
    echo.received.length = 0;
    const page = await partysocketPage();
    await page.evaluate((wsUrl) => {
      const { sdk, t } = window;
      const ws = (t.openPartysocket as (url: string) => WebSocket)(wsUrl);
      t.closes = [];
      // The first heartbeat is one the server does not answer ('mute'), the later ones it does.
      const message = () => (t.muted ? 'ping' : ((t.muted = true), 'mute'));
      // No `reconnecting` option: a socket with reconnect() is known to reconnect by itself.
      sdk.monitor(ws, { heartbeat: { intervalMs: 100, timeoutMs: 300, message } });
      // onclose, not a close listener: partysocket's listeners get a broken copy of the close events it makes itself.
      ws.onclose = (event) => (t.closes as string[]).push(`${event.code} ${event.reason}`);
    }, echo.url);
    await waitInPage(page, 'the reconnection after the heartbeat timeout', () => window.t.opens === 2);
    await waitFor('an answered heartbeat on the new connection', async () => echo.pings >= 1);

    expect(echo.received).toEqual(['mute']);
    expect(await page.evaluate(() => window.t.closes)).toEqual(['4000 heartbeat timeout']);
    // partysocket still reconnects (its close() would have stopped that for good).
    expect(await page.evaluate(() => (window.t.ws as unknown as { shouldReconnect: boolean }).shouldReconnect)).toBe(true);
    const summary = await report(page);
    expect(summary).toMatchObject({
      connection: { attempts: 2, opens: 2, drops: 1, reconnect_attempts: 1, reconnect_successes: 1, close_codes: { '4000': 1 } },
      messages: { errors: 1 },
    });
    expect(summary.connection.outage_ms).toBeGreaterThan(0);
    expect(summary.latency_ms.count).toBeGreaterThan(0);
    expect(await consoleCalls(page)).toEqual([]);
  });
});
