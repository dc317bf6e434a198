/**
 * The demo's instrumented WebSocket application: a small real-time dashboard
 * (price ticks, news, chat rooms) on `ws`, with token authentication, rooms
 * and heartbeats handled by the server SDK. It is what a user's app looks
 * like after adding socketscope: the instrumentation is one call.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { readFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { MeterProvider, TracerProvider } from '@opentelemetry/api';
import { WebSocketServer, type WebSocket } from 'ws';
import { instrumentWebSocketServer, jsonEnvelope, type AuthDecision, type WebSocketServerInstrumentation } from '../instrumentation/index.ts';
import { REPO_ROOT } from '../stack/binaries.ts';
import { DEMO_TOKENS, SYMBOLS } from './demo-data.ts';
import { DEMO_IMPORT_MAP, DEMO_VENDOR_DIR, DEMO_VENDOR_FILES } from './page-assets.ts';

export interface DashboardAppOptions {
  meterProvider?: MeterProvider;
  tracerProvider?: TracerProvider;
  port?: number;
  /** Heartbeat interval; short in the demo so timeouts show up within minutes. */
  heartbeatMs?: number;
  /** Where the web SDK's page sends client reports. */
  analyticsUrl?: string;
  /** The collector's browser OTLP/HTTP base URL (its otlp/browser receiver) for the page's web SDK. */
  otlpUrl?: string;
}

export interface DashboardApp {
  url: string;
  wsUrl: string;
  port: number;
  instrumentation: WebSocketServerInstrumentation;
  close(): Promise<void>;
}

const MESSAGE_TYPES = ['subscribe', 'unsubscribe', 'chat', 'ping', 'request', 'price', 'news', 'pong', 'response'];

function authenticate(request: IncomingMessage): AuthDecision {
  const token = new URL(request.url ?? '/', 'http://demo').searchParams.get('token');
  if (!token) return { ok: false, reason: 'missing_token' };
  if (token.startsWith('expired-')) return { ok: false, reason: 'expired_token' };
  const user = DEMO_TOKENS.get(token);
  if (!user) return { ok: false, reason: 'invalid_token' };
  return { ok: true, user: user.name, tenant: user.tenant };
}

export async function startDashboardApp(options: DashboardAppOptions = {}): Promise<DashboardApp> {
  const pageTemplate = await readFile(join(REPO_ROOT, 'src', 'demo', 'page.html'), 'utf8');
  const http: Server = createServer((req, res) => {
    void serve(req.url ?? '/').then(
      ({ status, type, body }) => {
        res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
        res.end(body);
      },
      (error: unknown) => {
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(`demo page error: ${(error as Error).message}`);
      },
    );
  });

  async function serve(url: string): Promise<{ status: number; type: string; body: string | Buffer }> {
    const path = url.split('?')[0];
    if (path === '/' || path === '/index.html') {
      const config = { wsUrl: `ws://127.0.0.1:${port}/ws`, otlpUrl: options.otlpUrl ?? null, analyticsUrl: options.analyticsUrl ?? null };
      const page = pageTemplate.replace('/*IMPORTMAP*/', JSON.stringify(DEMO_IMPORT_MAP)).replace('/*CONFIG*/null', JSON.stringify(config));
      return { status: 200, type: 'text/html; charset=utf-8', body: page };
    }
    if (path && /^\/web-sdk\/(chunks\/)?[\w.-]+\.js(\.map)?$/.test(path)) {
      const body = await readFile(join(REPO_ROOT, 'web-sdk', 'dist', path.slice('/web-sdk/'.length)));
      return { status: 200, type: 'text/javascript; charset=utf-8', body };
    }
    const vendor = path?.startsWith('/vendor/') ? Object.values(DEMO_VENDOR_FILES).find((file) => path === `/vendor/${file}`) : undefined;
    if (vendor) return { status: 200, type: 'text/javascript; charset=utf-8', body: await readFile(join(DEMO_VENDOR_DIR, vendor)) };
    return { status: 404, type: 'text/plain', body: 'not found' };
  }

  const wss = new WebSocketServer({ server: http, path: '/ws', maxPayload: 64 * 1024 });
  const instrumentation = instrumentWebSocketServer(wss, {
    meterProvider: options.meterProvider,
    tracerProvider: options.tracerProvider,
    authenticate,
    rejectWith: 'close',
    heartbeat: { intervalMs: options.heartbeatMs ?? 10_000 },
    messageTypes: MESSAGE_TYPES,
    envelope: jsonEnvelope(),
    channels: { allow: ['prices', 'news'], topN: 5 },
    tracing: { handshake: true, messages: true },
  });

  wss.on('connection', (socket: WebSocket) => {
    socket.on('message', (data, isBinary) => {
      if (isBinary) return;
      let message: { type?: unknown; room?: unknown; text?: unknown; id?: unknown; sentAt?: unknown };
      try {
        message = JSON.parse(data.toString()) as typeof message;
      } catch {
        return; // counted as parse_error by the envelope reader
      }
      const room = typeof message.room === 'string' && message.room.length <= 64 ? message.room : undefined;
      switch (message.type) {
        case 'subscribe':
          if (room) instrumentation.rooms.join(socket, room);
          break;
        case 'unsubscribe':
          if (room) instrumentation.rooms.leave(socket, room);
          break;
        case 'chat':
          if (!room || typeof message.text !== 'string' || message.text.length > 500) {
            instrumentation.recordMessageError('validation_error');
            break;
          }
          instrumentation.rooms.broadcast(room, JSON.stringify({ type: 'chat', room, text: message.text, sentAt: Date.now() }), { type: 'chat', except: socket });
          break;
        case 'ping':
        case 'request':
          // App-level heartbeat and request/response for the clients' RTT.
          instrumentation.send(socket, JSON.stringify({ type: message.type === 'ping' ? 'pong' : 'response', id: message.id, sentAt: message.sentAt }), message.type === 'ping' ? 'pong' : 'response');
          break;
        default:
          instrumentation.recordMessageError('validation_error');
      }
    });
  });

  // Market data and news, broadcast to their rooms.
  const prices = new Map(SYMBOLS.map((symbol, i) => [symbol, 100 + i * 37]));
  const ticker = setInterval(() => {
    for (const [symbol, price] of prices) {
      const next = Math.max(1, price * (1 + (Math.random() - 0.5) * 0.004));
      prices.set(symbol, next);
    }
    instrumentation.rooms.broadcast('prices', JSON.stringify({ type: 'price', quotes: Object.fromEntries(prices), sentAt: Date.now() }), { type: 'price' });
  }, 500);
  const news = setInterval(() => {
    instrumentation.rooms.broadcast('news', JSON.stringify({ type: 'news', headline: `Market update ${new Date().toISOString()}`, sentAt: Date.now() }), { type: 'news' });
  }, 5_000);

  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (http.address() as AddressInfo).port;

  return {
    url: `http://127.0.0.1:${port}/`,
    wsUrl: `ws://127.0.0.1:${port}/ws`,
    port,
    instrumentation,
    async close() {
      clearInterval(ticker);
      clearInterval(news);
      instrumentation.shutdown();
      for (const client of wss.clients) client.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}
