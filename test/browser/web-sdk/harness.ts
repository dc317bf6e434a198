/**
 * Real local servers for the web SDK's browser tests: an app server on
 * 127.0.0.1 that serves web-sdk/dist and a page loading it, and takes client
 * reports; a `ws` echo server (instrumented with the server SDK when given a
 * tracer provider) that can refuse upgrades and kill connections on command;
 * a collector config that sends traces to a local capture server instead of
 * Tempo.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { join, normalize } from 'node:path';
import type { TracerProvider } from '@opentelemetry/api';
import { build } from 'esbuild';
import type { Browser, Page } from 'playwright-core';
import { type WebSocket, WebSocketServer } from 'ws';
import { parse, stringify } from 'yaml';
import { instrumentWebSocketServer, jsonEnvelope } from '../../../src/instrumentation/index.ts';
import { COLLECTOR_CONFIG } from '../../../src/stack/collector.ts';
import { REPO_ROOT, type Stack, renderPrometheusConfig } from '../../../src/stack/index.ts';
import { waitFor } from '../../../src/stack/ports.ts';
import type { ClientReport } from '../../../web-sdk/src/report/schema.ts';
import type * as Core from '../../../web-sdk/src/index.ts';
import type * as Otel from '../../../web-sdk/src/otel.ts';
import type * as Vitals from '../../../web-sdk/src/vitals.ts';
import { type TestHttpServer, listenHttp, readBody } from '../../helpers/http.ts';
import { promQuery } from '../../helpers/prometheus.ts';

/** What the test page puts on window: the SDK's three entry points, loaded from /sdk/. */
export type Sdk = typeof Core & typeof Otel & typeof Vitals;
declare global {
  interface Window {
    sdk: Sdk;
    /** Free-form state a test's page.evaluate() code keeps between calls. */
    t: Record<string, unknown>;
  }
}

const DIST = join(REPO_ROOT, 'web-sdk', 'dist');
// dist/otel.js imports @opentelemetry/api (a peer dependency, the app's copy): the import map
// resolves it to the api bundled from node_modules, as an app's bundler would.
const PAGE = `<!doctype html><meta charset="utf-8"><title>web-sdk test</title>
<script type="importmap">{ "imports": { "@opentelemetry/api": "/lib/opentelemetry-api.js" } }</script>
<script type="module">
  import * as core from '/sdk/index.js';
  import * as otel from '/sdk/otel.js';
  import * as vitals from '/sdk/vitals.js';
  window.t = {};
  window.sdk = { ...core, ...otel, ...vitals };
</script>
<p>web-sdk test page</p>`;

/** Libraries a test page may import from /lib/<name>.js (their module source), bundled for the browser on first use. */
const LIBRARIES: Record<string, string> = {
  partysocket: "export { default } from 'partysocket/ws';",
  'opentelemetry-api': "export * from '@opentelemetry/api';",
};

async function bundleLibrary(name: string): Promise<string | undefined> {
  const contents = LIBRARIES[name];
  if (!contents) return undefined;
  const result = await build({
    stdin: { contents, resolveDir: join(REPO_ROOT, 'web-sdk'), loader: 'js' },
    bundle: true,
    format: 'esm',
    platform: 'browser',
    write: false,
    logLevel: 'error',
  });
  return result.outputFiles[0]?.text;
}

export interface AppServer extends TestHttpServer {
  /** Client reports received (each POST body's reports, in arrival order). */
  reports: ClientReport[];
}

/** Serves the test page, web-sdk/dist under /sdk/, and POST /api/ws/client-metrics. */
export async function startAppServer(): Promise<AppServer> {
  const reports: ClientReport[] = [];
  const server = await listenHttp((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (req.method === 'POST' && url.pathname === '/api/ws/client-metrics') {
      void readBody(req).then((body) => {
        const parsed = JSON.parse(body) as { reports: ClientReport[] };
        reports.push(...parsed.reports);
        res.writeHead(202, { 'content-type': 'application/json' }).end(JSON.stringify({ accepted: parsed.reports.length }));
      });
      return;
    }
    if (url.pathname.startsWith('/sdk/')) {
      const file = normalize(join(DIST, url.pathname.slice('/sdk/'.length)));
      if (!file.startsWith(DIST)) {
        res.writeHead(404).end();
        return;
      }
      readFile(file).then(
        (content) => res.writeHead(200, { 'content-type': file.endsWith('.js') ? 'text/javascript' : 'application/json' }).end(content),
        () => res.writeHead(404).end(),
      );
      return;
    }
    const library = /^\/lib\/([a-z-]+)\.js$/.exec(url.pathname)?.[1];
    if (library) {
      bundleLibrary(library).then(
        (code) => (code ? res.writeHead(200, { 'content-type': 'text/javascript' }).end(code) : res.writeHead(404).end()),
        (error: Error) => res.writeHead(500).end(error.message),
      );
      return;
    }
    if (url.pathname === '/favicon.ico') {
      res.writeHead(204).end();
      return;
    }
    if (url.pathname === '/') {
      res.writeHead(200, { 'content-type': 'text/html' }).end(PAGE);
      return;
    }
    res.writeHead(404).end();
  });
  return Object.assign(server, { reports });
}

/** Opens the test page and waits for the SDK modules. */
export async function openSdkPage(page: Page, appUrl: string): Promise<void> {
  await page.goto(`${appUrl}/`);
  await page.waitForFunction(() => window.sdk !== undefined);
}

/** A page in a fresh context (its own storage), recording console calls, with the SDK loaded. */
export async function newSdkPage(browser: Browser, appUrl: string): Promise<Page> {
  const page = await (await browser.newContext()).newPage();
  await recordConsole(page);
  await openSdkPage(page, appUrl);
  return page;
}

export interface EchoServer {
  url: string;
  /** Text messages received, in order (heartbeat pings excluded). */
  received: string[];
  /** Heartbeat pings answered. */
  readonly pings: number;
  /** Open connections. */
  readonly connections: number;
  /** The next `count` upgrade requests are answered 503. */
  refuse(count: number): void;
  /** Terminates every connection without a close frame (the browser sees 1006). */
  killAll(): void;
  close(): Promise<void>;
}

/**
 * A ws server that answers heartbeats (the SDK's default `{"type":"ping"}` with
 * `{"type":"pong"}`, a text 'ping' with 'pong'), echoes `{ type: 'echo', id,
 * payload }` requests as `{ type: 'echo', id, echo }`, and records the rest.
 * With a tracer provider, the server SDK instruments it and continues the
 * browser's trace from the envelope's traceparent.
 */
export async function startEchoServer(tracerProvider?: TracerProvider): Promise<EchoServer> {
  const received: string[] = [];
  let refusals = 0;
  let pings = 0;
  const http = createServer((_req, res) => res.writeHead(404).end());
  const wss = new WebSocketServer({ noServer: true });
  const instrumentation = tracerProvider
    ? instrumentWebSocketServer(wss, {
        tracerProvider,
        envelope: jsonEnvelope(),
        messageTypes: ['echo'],
        tracing: { messages: true, handshake: false },
        eventLoopDelay: false,
      })
    : undefined;
  http.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    if (refusals > 0) {
      refusals--;
      socket.end('HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  });
  wss.on('connection', (ws: WebSocket) => {
    ws.on('message', (data) => {
      const text = data.toString();
      if (text === '{"type":"ping"}' || text === 'ping') {
        pings++;
        // As the demo app answers the SDK's default ping (a JSON pong); a custom text 'ping' gets 'pong'.
        ws.send(text === 'ping' ? 'pong' : '{"type":"pong"}');
        return;
      }
      received.push(text);
      if (text.startsWith('{')) {
        const message = JSON.parse(text) as { type?: string; id?: string; payload?: unknown };
        if (message.type === 'echo') ws.send(JSON.stringify({ type: 'echo', id: message.id, echo: message.payload }));
      }
    });
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const { port } = http.address() as AddressInfo;
  return {
    url: `ws://127.0.0.1:${port}/`,
    received,
    get connections() {
      return wss.clients.size;
    },
    get pings() {
      return pings;
    },
    refuse(count) {
      refusals = count;
    },
    killAll() {
      for (const client of wss.clients) client.terminate();
    },
    async close() {
      instrumentation?.shutdown();
      for (const client of wss.clients) client.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      http.closeAllConnections();
      await new Promise<void>((resolve, reject) => http.close((error) => (error ? reject(error) : resolve())));
    },
  };
}

export interface CapturedSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  status?: { code?: number; message?: string };
  attributes: Array<{ key: string; value: Record<string, unknown> }>;
  service: string;
}

export interface TraceCapture extends TestHttpServer {
  spans: CapturedSpan[];
  /** Collector config overlay: traces go to this server (OTLP/HTTP JSON) instead of Tempo. */
  configFile: string;
}

/** An OTLP/HTTP JSON receiver for the collector's trace output. */
export async function startTraceCapture(runDir: string): Promise<TraceCapture> {
  const spans: CapturedSpan[] = [];
  const server = await listenHttp((req, res) => {
    void readBody(req).then((body) => {
      const payload = JSON.parse(body) as {
        resourceSpans?: Array<{
          resource?: { attributes?: Array<{ key: string; value: { stringValue?: string } }> };
          scopeSpans?: Array<{ spans?: Omit<CapturedSpan, 'service'>[] }>;
        }>;
      };
      for (const resourceSpans of payload.resourceSpans ?? []) {
        const service = resourceSpans.resource?.attributes?.find((a) => a.key === 'service.name')?.value.stringValue ?? '';
        for (const scope of resourceSpans.scopeSpans ?? []) for (const span of scope.spans ?? []) spans.push({ ...span, attributes: span.attributes ?? [], service });
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  // The shipped traces pipelines (servers' and browsers') with their Tempo exporter swapped for the capture server.
  const shipped = parse(await readFile(COLLECTOR_CONFIG, 'utf8')) as { service: { pipelines: Record<string, { exporters: string[] }> } };
  const pipelines = Object.fromEntries(
    Object.entries(shipped.service.pipelines)
      .filter(([name]) => name === 'traces' || name.startsWith('traces/'))
      .map(([name, pipeline]) => [name, { exporters: pipeline.exporters.map((exporter) => (exporter.includes('tempo') ? 'otlp_http/capture' : exporter)) }]),
  );
  const configFile = join(runDir, 'collector-trace-capture.yaml');
  await writeFile(
    configFile,
    stringify({
      exporters: { 'otlp_http/capture': { endpoint: server.url, encoding: 'json', compression: 'none' } },
      service: { pipelines },
    }),
  );
  return Object.assign(server, { spans, configFile });
}

export const attribute = (span: CapturedSpan, key: string): unknown => {
  const value = span.attributes.find((a) => a.key === key)?.value;
  return value === undefined ? undefined : Object.values(value)[0];
};

/**
 * Records every console call any script on the page makes (before the SDK
 * loads), so a test can assert the SDK printed nothing. Chromium's own log
 * lines (failed requests, refused handshakes) are not console calls.
 */
export async function recordConsole(page: Page): Promise<void> {
  await page.addInitScript(() => {
    const calls: string[] = [];
    (window as unknown as { consoleCalls: string[] }).consoleCalls = calls;
    for (const level of ['log', 'info', 'warn', 'error', 'debug', 'trace'] as const) {
      const original = console[level].bind(console);
      console[level] = (...args: unknown[]) => {
        calls.push(`${level}: ${args.map(String).join(' ')}`);
        original(...args);
      };
    }
  });
}

/** Console calls recorded since the page loaded (see recordConsole). */
export function consoleCalls(page: Page): Promise<string[]> {
  return page.evaluate(() => (window as unknown as { consoleCalls: string[] }).consoleCalls);
}

/** Our collector (the shipped config, plus overlays) and a Prometheus scraping it every second. Pages export to `browserOtlpUrl`. */
export async function startPipeline(stack: Stack, configFiles?: string[]): Promise<{ otlpHttpUrl: string; browserOtlpUrl: string; prometheusUrl: string }> {
  const collector = await stack.collector(configFiles ? { configFiles: [COLLECTOR_CONFIG, ...configFiles] } : {});
  const prometheus = await stack.prometheus({
    config: renderPrometheusConfig({
      endpoints: { 'otel-collector:8889': collector.metricsEndpoint, 'otel-collector:8888': collector.selfMetricsEndpoint },
      scrapeInterval: '1s',
      evaluationInterval: '1s',
    }),
  });
  return { otlpHttpUrl: collector.otlpHttpUrl, browserOtlpUrl: collector.browserOtlpUrl, prometheusUrl: prometheus.url };
}

/** Sum of an instant query's samples (0 when there are none). */
export async function sumOf(prometheusUrl: string, query: string): Promise<number> {
  return (await promQuery(prometheusUrl, query)).reduce((sum, sample) => sum + Number(sample.value[1]), 0);
}

/** Polls a condition evaluated in the page. */
export async function waitInPage(page: Page, description: string, condition: () => boolean, timeoutMs = 20_000): Promise<void> {
  await waitFor(description, async () => page.evaluate(condition), { timeoutMs, intervalMs: 50 });
}
