/**
 * A server that accepts the upgrade and then closes with an auth code (our
 * server SDK's `rejectWith: 'close'`): in Chromium, MonitoredWebSocket must
 * not reconnect. The page's socket reaches CLOSED, which ends its life (no
 * attempt can follow), so counting the upgrades the server saw is exact.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { instrumentWebSocketServer } from '../../../src/instrumentation/index.ts';
import { Stack, waitFor } from '../../../src/stack/index.ts';
import type { ClientReport } from '../../../web-sdk/src/report/schema.ts';
import { type AppServer, consoleCalls, newSdkPage, startAppServer, waitInPage } from './harness.ts';

let stack: Stack;
let app: AppServer;
let browser: Browser;
let http: Server;
let wsUrl: string;
let instrumentation: ReturnType<typeof instrumentWebSocketServer>;
/** Upgrade requests by the failure reason the authenticate hook gave them. */
const upgrades = new Map<string, number>();

beforeAll(async () => {
  stack = new Stack('web-sdk-auth-rejection');
  app = await startAppServer();
  http = createServer((_req, res) => res.writeHead(404).end());
  const wss = new WebSocketServer({ server: http });
  // The token in the URL names the failure this test wants from the server SDK.
  instrumentation = instrumentWebSocketServer(wss, {
    rejectWith: 'close',
    eventLoopDelay: false,
    authenticate: (request: IncomingMessage) => {
      const reason = new URL(request.url ?? '/', 'http://x').searchParams.get('fail') ?? 'invalid_token';
      upgrades.set(reason, (upgrades.get(reason) ?? 0) + 1);
      return { ok: false, reason };
    },
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  wsUrl = `ws://127.0.0.1:${(http.address() as AddressInfo).port}/live`;
  browser = await stack.chromium();
});

afterAll(async () => {
  instrumentation?.shutdown();
  http?.closeAllConnections();
  await new Promise((resolve) => http?.close(resolve));
  await app?.close();
  await stack?.stop();
});

const newPage = (): Promise<Page> => newSdkPage(browser, app.url);

describe('MonitoredWebSocket against a server that rejects with a close code', () => {
  // [the hook's reason, the close code and reason the server SDK sends for it]
  it.each([
    ['invalid_token', 4401, 'invalid_token'],
    ['forbidden_origin', 4403, 'forbidden_origin'],
    ['not_allowed', 1008, '_OTHER'],
  ])('makes one attempt when the server rejects with %s (close %i) after the upgrade', async (reason, code, closeReason) => {
    const page = await newPage();
    await page.evaluate(
      ({ url }) => {
        const { sdk, t } = window;
        t.scope = sdk.initSocketScope({ report: { url: '/api/ws/client-metrics', intervalMs: 3_600_000 } });
        // Fast retries: before the fix this socket reconnected every few milliseconds, forever.
        const ws = new sdk.MonitoredWebSocket(url, undefined, { reconnect: { initialDelayMs: 10, maxDelayMs: 50 } });
        t.ws = ws;
        t.events = [];
        ws.addEventListener('open', () => (t.events as string[]).push('open'));
        ws.addEventListener('close', (event) => (t.events as string[]).push(`close ${event.code} ${event.reason}`));
      },
      { url: `${wsUrl}?fail=${reason}` },
    );
    await waitInPage(page, 'the socket CLOSED', () => (window.t.ws as WebSocket).readyState === WebSocket.CLOSED);

    expect(upgrades.get(reason)).toBe(1);
    expect(await page.evaluate(() => window.t.events)).toEqual(['open', `close ${code} ${closeReason}`]);
    const sessionId = await page.evaluate(() => {
      const scope = window.t.scope as { flush(): void; session: { id: string } };
      scope.flush();
      return scope.session.id;
    });
    let found: ClientReport | undefined;
    await waitFor('the client report', async () => (found = app.reports.find((r) => r.session_id === sessionId)) !== undefined);
    expect(found?.connection).toMatchObject({
      attempts: 1,
      opens: 1,
      reconnect_attempts: 0,
      drops: 1,
      outage_ms: 0,
      close_codes: { [code]: 1 },
    });
    expect(await consoleCalls(page)).toEqual([]);
  });
});
