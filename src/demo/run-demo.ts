/**
 * `socketscope demo`: the whole pipeline on one machine. Starts, on
 * 127.0.0.1 and free ports, whichever of our collector, Prometheus and
 * Alertmanager are installed (with the shipped configs, endpoints
 * substituted), the analytics service with its admin pages (PostgreSQL from
 * DATABASE_URL or embedded PGlite), the instrumented demo app, synthetic
 * browser-like clients and, where Chromium is installed, one real browser
 * running the web SDK (not with --no-browser). A --port that is taken is
 * reported before anything starts.
 *
 * `socketscope demo --app-only` (runDemoApp) starts only the instrumented app
 * and its synthetic clients, exporting to OTEL_EXPORTER_OTLP_ENDPOINT: the
 * docker-compose `demo` service, so the stack's dashboards have traffic.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { Page } from 'playwright-core';
import { startServiceWithAdmin } from '../admin/start.ts';
import type { Unavailable } from '../api/unavailable.ts';
import { createLogger, type RunningService } from '../api/service.ts';
import { loadConfig } from '../config.ts';
import { renderAlertmanagerConfig } from '../stack/alertmanager.ts';
import { COMPONENTS, findBinary, type ComponentName } from '../stack/binaries.ts';
import { type CollectorHandle, Stack, freePort, renderPrometheusConfig } from '../stack/index.ts';
import { routeDiagnostics, startTelemetry, type Telemetry } from '../telemetry/index.ts';
import { startDashboardApp, type DashboardApp } from './dashboard-app.ts';
import { type OtlpSink, startOtlpSink } from './otlp-sink.ts';
import { PROMETHEUS_SELF_TARGET, WEBHOOK_TOKEN_PLACEHOLDER } from './placeholders.ts';
import { SyntheticClients } from './synthetic-clients.ts';

export { PROMETHEUS_SELF_TARGET, WEBHOOK_TOKEN_PLACEHOLDER };

export interface DemoOptions {
  clients: number;
  /** Open the demo page in headless Chromium (the web SDK in a real browser). */
  browser: boolean;
  dataDir: string;
  port?: number;
  logLevel: string;
  /** Where progress lines go (stderr by default). */
  progress: (line: string) => void;
  /** Whether an optional component is installed (tests); default: findBinary. */
  installed?: (name: ComponentName) => boolean;
}

export interface DemoUrls {
  app: string;
  admin: string;
  clientMetrics: string;
  api: string;
  openapi: string;
  adminToken: string;
  prometheus: string | null;
  alertmanager: string | null;
  collector: string | null;
  database: string;
  missing: string[];
  ports: number[];
  /** Where the collector's traces go natively (an in-process OTLP sink standing in for Tempo). */
  traces: string | null;
}

export interface RunningDemo {
  urls: DemoUrls;
  clients: SyntheticClients;
  stop(): Promise<void>;
}

/** Components the demo can run without, and what each adds. */
const OPTIONAL: Array<{ name: ComponentName; adds: string }> = [
  { name: 'collector', adds: 'SDK metrics over OTLP' },
  { name: 'prometheus', adds: 'server metrics, dashboards data, alert rules' },
  { name: 'alertmanager', adds: 'alert routing and acknowledgement silences' },
  { name: 'chromium', adds: 'one real browser running the web SDK' },
];

/** The optional components the demo will run without (Chromium only matters with --browser, the default). */
export function missingComponents(browser: boolean, installed: (name: ComponentName) => boolean = (name) => findBinary(name) !== undefined): Array<{ name: ComponentName; adds: string }> {
  return OPTIONAL.filter(({ name }) => (name !== 'chromium' || browser) && !installed(name));
}

/** Why each part the demo runs without is absent, and the remedy: for health and the admin live panel. */
export function unavailableParts(missing: ReadonlyArray<{ name: ComponentName }>): Unavailable {
  const parts: Unavailable = {};
  for (const { name } of missing) {
    if (name !== 'prometheus' && name !== 'alertmanager' && name !== 'collector') continue;
    const { bin, install } = COMPONENTS[name];
    parts[name] = `${bin} is not ${name === 'collector' ? 'built' : 'installed'}, so the demo runs without it. ${install}`;
  }
  return parts;
}

/** The service's port cannot be used: said before anything starts, naming the flag. */
export class DemoPortError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DemoPortError';
  }
}

/**
 * Binds 127.0.0.1:`port` and lets it go again, so a port that is taken (or
 * not ours to use) is reported before the collector, Alertmanager and
 * Prometheus start, instead of as a raw EADDRINUSE after them.
 */
export async function checkServicePort(port: number): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', (error: NodeJS.ErrnoException) => {
      const why =
        error.code === 'EADDRINUSE'
          ? 'is already in use on 127.0.0.1 (another demo or service?)'
          : error.code === 'EACCES'
            ? 'needs privileges this user does not have'
            : `cannot be used on 127.0.0.1 (${error.code ?? error.message})`;
      reject(new DemoPortError(`--port ${port} ${why}: choose another port with --port, or leave --port out for a free one`));
    });
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => server.close(() => resolve()));
  });
}

/**
 * The admin and webhook tokens the demo gives the service and prints: the ones
 * in `env` as the service's config reads them (trimmed; empty is absent), else
 * generated ones. Read through loadConfig so the two cannot disagree.
 */
export function demoTokens(env: NodeJS.ProcessEnv): { adminToken: string; webhookToken: string } {
  const config = loadConfig({ SOCKETSCOPE_ADMIN_TOKEN: env.SOCKETSCOPE_ADMIN_TOKEN, ALERTMANAGER_WEBHOOK_TOKEN: env.ALERTMANAGER_WEBHOOK_TOKEN });
  return {
    adminToken: config.adminToken ?? randomBytes(18).toString('base64url'),
    webhookToken: config.webhookToken ?? randomBytes(24).toString('base64url'),
  };
}

export async function runDemo(options: DemoOptions): Promise<RunningDemo> {
  const say = options.progress;
  // First of all: a --port that cannot be used stops the demo before anything starts.
  if (options.port !== undefined) await checkServicePort(options.port);
  const missing = missingComponents(options.browser, options.installed);
  const stack = new Stack('demo');
  const stops: Array<() => Promise<void>> = [];
  let sink: OtlpSink | undefined;
  // The sink closes after the collector (in the stack), which flushes to it on the way out.
  const closeSink = () => sink?.close() ?? Promise.resolve();
  for (const { name, adds } of missing) {
    say(`! ${COMPONENTS[name].bin} is not installed (${adds}); the demo runs without it. ${COMPONENTS[name].install}`);
  }
  const has = (name: ComponentName) => !missing.some((m) => m.name === name);

  try {
    const servicePort = options.port ?? (await freePort());
    const serviceUrl = `http://127.0.0.1:${servicePort}`;
    const appPort = await freePort();

    let collector: CollectorHandle | undefined;
    if (has('collector')) {
      say('… starting the OpenTelemetry Collector');
      // Natively there is no Tempo: the traces exporter sends to an in-process
      // OTLP sink that accepts and counts them (a closed port would make the
      // exporter fail after its retries and raise OtelCollectorExportFailing).
      // The demo's own SDK exports metrics only (trace views need docker-compose).
      sink = await startOtlpSink();
      collector = await stack.collector({ env: { TRACES_OTLP_ENDPOINT: sink.endpoint } });
      say(`✓ collector: OTLP/HTTP ${collector.otlpHttpUrl}, browsers ${collector.browserOtlpUrl} (traces to a local sink at ${sink.endpoint})`);
    }
    // Alertmanager authenticates to the service's webhook, as in docker-compose.
    const { adminToken, webhookToken } = demoTokens(process.env);
    let alertmanagerUrl: string | undefined;
    let alertmanagerPort: number | undefined;
    if (has('alertmanager')) {
      say('… starting Alertmanager');
      // Without an SMTP relay every critical's email would fail, and AlertmanagerNotificationsFailing say so.
      const email = Boolean(process.env.SMTP_SMARTHOST?.trim());
      const am = await stack.alertmanager(
        renderAlertmanagerConfig({ 'http://app:8080': serviceUrl, [WEBHOOK_TOKEN_PLACEHOLDER]: webhookToken }, { groupWait: '5s', groupInterval: '30s', email }),
      );
      alertmanagerUrl = am.url;
      alertmanagerPort = am.port;
      say(`✓ alertmanager: ${am.url}${email ? '' : ' (alert email off: set SMTP_SMARTHOST, SMTP_FROM, ALERT_EMAIL_ONCALL and ALERT_EMAIL_PLATFORM to send it)'}`);
    }
    let prometheusUrl: string | undefined;
    let prometheusPort: number | undefined;
    if (has('prometheus')) {
      say('… starting Prometheus');
      const endpoints: Record<string, string> = { 'app:8080': `127.0.0.1:${servicePort}` };
      // Targets of components that are not running point at a closed port: they show as down.
      const closed = `127.0.0.1:${await freePort()}`;
      endpoints['otel-collector:8889'] = collector?.metricsEndpoint ?? closed;
      endpoints['otel-collector:8888'] = collector?.selfMetricsEndpoint ?? closed;
      endpoints['alertmanager:9093'] = alertmanagerPort ? `127.0.0.1:${alertmanagerPort}` : closed;
      // Prometheus' own port is chosen as it starts: a placeholder first, then the real one.
      const self = `127.0.0.1:${await freePort()}`;
      endpoints[PROMETHEUS_SELF_TARGET] = self;
      const prometheus = await stack.prometheus({ config: renderPrometheusConfig({ endpoints, scrapeInterval: '5s', evaluationInterval: '5s' }) });
      await pointSelfScrape(prometheus, self);
      prometheusUrl = prometheus.url;
      prometheusPort = prometheus.port;
      say(`✓ prometheus: ${prometheus.url}`);
    }

    say(`… starting the analytics service (${process.env.DATABASE_URL ? 'PostgreSQL from DATABASE_URL' : `embedded PostgreSQL in ${options.dataDir}`})`);
    const config = loadConfig(
      {
        ...process.env,
        SOCKETSCOPE_ADMIN_TOKEN: adminToken,
        PROMETHEUS_URL: prometheusUrl ?? '',
        ALERTMANAGER_URL: alertmanagerUrl ?? '',
        COLLECTOR_HEALTH_URL: collector?.healthUrl ?? '',
        // Synthetic clients say where they are through this header (the demo binds to 127.0.0.1 only).
        TRUSTED_COUNTRY_HEADER: 'x-socketscope-demo-country',
        ANOMALY_INTERVAL_SECONDS: process.env.ANOMALY_INTERVAL_SECONDS ?? '60',
        GEO_MIN_CLIENTS: process.env.GEO_MIN_CLIENTS ?? '3',
        // The demo page posts its client reports from the app's origin.
        CORS_ORIGINS: `http://127.0.0.1:${appPort}`,
        ALERTMANAGER_WEBHOOK_TOKEN: webhookToken,
      },
      { port: String(servicePort), host: '127.0.0.1', dataDir: options.dataDir, logLevel: options.logLevel },
    );
    const logger = createLogger(options.logLevel);
    let service: RunningService;
    try {
      // The demo sets the URLs itself: an empty one means the part could not be started, and
      // health and the live panel say why and what to do, not "set PROMETHEUS_URL".
      service = await startServiceWithAdmin(config, { logger, unavailable: unavailableParts(missing) });
    } catch (error) {
      // Taken between the check above and now.
      if (options.port !== undefined && (error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
        throw new DemoPortError(`--port ${options.port} is already in use on 127.0.0.1 (another demo or service?): choose another port with --port, or leave --port out for a free one`);
      }
      throw error;
    }
    const running = service;
    stops.push(() => running.close());
    say(`✓ analytics service: ${service.url}`);

    say('… starting the instrumented demo app');
    let telemetry: Telemetry | undefined;
    if (collector) {
      routeDiagnostics(logger);
      telemetry = await startTelemetry({
        serviceName: 'socketscope-demo',
        // Global: the server SDK continues browser traces with the registered W3C propagator.
        global: true,
        env: {
          OTEL_SERVICE_NAME: process.env.OTEL_SERVICE_NAME ?? 'socketscope-demo',
          OTEL_EXPORTER_OTLP_ENDPOINT: collector.otlpHttpUrl,
          OTEL_METRIC_EXPORT_INTERVAL: '5000',
          OTEL_TRACES_EXPORTER: 'none',
        },
      });
      const t = telemetry;
      stops.push(() => t.shutdown());
    }
    const app: DashboardApp = await startDashboardApp({
      port: appPort,
      meterProvider: telemetry?.meterProvider,
      tracerProvider: telemetry?.tracerProvider,
      analyticsUrl: service.url,
      otlpUrl: collector?.browserOtlpUrl,
    });
    stops.push(() => app.close());
    say(`✓ demo app: ${app.url} (WebSocket ${app.wsUrl})`);

    const clients = new SyntheticClients({
      wsUrl: app.wsUrl,
      clients: options.clients,
      reportUrl: `${service.url}/api/ws/client-metrics`,
      countryHeader: 'x-socketscope-demo-country',
    });
    clients.start();
    stops.push(() => clients.stop());
    say(`✓ ${options.clients} synthetic clients connecting`);

    if (options.browser && has('chromium')) await openBrowserClient(stack, app.url, collector !== undefined, say);

    const urls: DemoUrls = {
      app: app.url,
      admin: `${service.url}/admin/websocket-analytics`,
      clientMetrics: `${service.url}/admin/websocket-client-metrics`,
      api: `${service.url}/api/ws`,
      openapi: `${service.url}/api/openapi.json`,
      adminToken,
      prometheus: prometheusUrl ?? null,
      alertmanager: alertmanagerUrl ?? null,
      collector: collector?.otlpHttpUrl ?? null,
      database: service.context.database.kind,
      missing: missing.map(({ name }) => COMPONENTS[name].bin),
      ports: [servicePort, app.port, prometheusPort, alertmanagerPort, sink?.port, ...(collector ? collectorPorts(collector) : [])].filter(
        (p): p is number => typeof p === 'number',
      ),
      traces: sink ? `otlp-grpc://${sink.endpoint}` : null,
    };
    let stopping: Promise<void> | undefined;
    return {
      urls,
      clients,
      stop: () => (stopping ??= stopAll(stops, stack, closeSink)),
    };
  } catch (error) {
    await stopAll(stops, stack, closeSink).catch(() => undefined);
    throw error;
  }
}

/** One real browser on the demo page (the web SDK); optional like the other components, so a failure is said and the demo goes on. */
async function openBrowserClient(stack: Stack, url: string, exportsToCollector: boolean, say: (line: string) => void): Promise<void> {
  say('… opening the demo page in headless Chromium (web SDK)');
  const pageErrors: string[] = [];
  let page: Page;
  try {
    const browser = await stack.chromium();
    page = await browser.newPage();
    page.on('pageerror', (error) => pageErrors.push(error.message));
    await page.goto(url);
  } catch (error) {
    say(`! Chromium could not open the demo page (${(error as Error).message.split('\n')[0]}); the demo runs without it`);
    return;
  }
  try {
    await page.waitForFunction(() => document.getElementById('status')?.textContent === 'open', undefined, { polling: 100, timeout: 15_000 });
    // Without the collector the page has no OTLP endpoint (dashboard-app's otlpUrl): only its reports go anywhere.
    say(
      exportsToCollector
        ? '✓ Chromium client connected (web SDK exporting to the collector and reporting to the service)'
        : '✓ Chromium client connected (web SDK reporting to the service only: no collector to export to)',
    );
  } catch {
    say(`! the Chromium client did not connect within 15 s${pageErrors.length ? `: ${pageErrors.join('; ')}` : ''}`);
  }
}

/**
 * Points the `prometheus` scrape job at Prometheus' real port: the config was
 * rendered with `placeholder` before the port was known. Rewrites the running
 * config file and reloads it (the stack starts Prometheus with the lifecycle API).
 */
export async function pointSelfScrape(prometheus: { port: number; configFile: string; reload(): Promise<void> }, placeholder: string): Promise<void> {
  const text = readFileSync(prometheus.configFile, 'utf8');
  if (!text.includes(placeholder)) throw new Error(`${prometheus.configFile} does not mention ${placeholder}`);
  writeFileSync(prometheus.configFile, text.split(placeholder).join(`127.0.0.1:${prometheus.port}`));
  await prometheus.reload();
}

export interface DemoAppOptions {
  clients: number;
  /** Analytics service base URL the synthetic clients post their reports to (none when absent). */
  reportUrl?: string;
  progress: (line: string) => void;
  env?: NodeJS.ProcessEnv;
}

export interface RunningDemoApp {
  app: DashboardApp;
  clients: SyntheticClients;
  stop(): Promise<void>;
}

/**
 * The instrumented demo app and its synthetic clients alone, exporting metrics
 * and traces to the collector named by OTEL_EXPORTER_OTLP_ENDPOINT (docker-compose:
 * http://otel-collector:4318). The app listens on 127.0.0.1: its clients run
 * in the same process; dashboards show it through the collector.
 */
export async function runDemoApp(options: DemoAppOptions): Promise<RunningDemoApp> {
  const env = options.env ?? process.env;
  const endpoint = env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_METRICS_ENDPOINT;
  if (!endpoint) throw new Error('--app-only exports to a collector: set OTEL_EXPORTER_OTLP_ENDPOINT (docker-compose: http://otel-collector:4318)');
  const say = options.progress;
  const stops: Array<() => Promise<void>> = [];
  try {
    const telemetry = await startTelemetry({ serviceName: 'socketscope-demo', global: true, env: { ...env, OTEL_SERVICE_NAME: env.OTEL_SERVICE_NAME || 'socketscope-demo' } });
    stops.push(() => telemetry.shutdown());
    const app = await startDashboardApp({ meterProvider: telemetry.meterProvider, tracerProvider: telemetry.tracerProvider });
    stops.push(() => app.close());
    say(`✓ demo app: ${app.wsUrl}, exporting to ${endpoint} as ${String(telemetry.resource.attributes['service.name'])}`);
    const clients = new SyntheticClients({
      wsUrl: app.wsUrl,
      clients: options.clients,
      reportUrl: options.reportUrl ? `${options.reportUrl.replace(/\/+$/, '')}/api/ws/client-metrics` : undefined,
    });
    clients.start();
    stops.push(() => clients.stop());
    say(`✓ ${options.clients} synthetic clients connecting${options.reportUrl ? `, reporting to ${options.reportUrl}` : ''}`);
    let stopping: Promise<void> | undefined;
    return { app, clients, stop: () => (stopping ??= stopAll(stops)) };
  } catch (error) {
    await stopAll(stops).catch(() => undefined);
    throw error;
  }
}

function collectorPorts(collector: CollectorHandle): number[] {
  return [collector.otlpHttpUrl, collector.browserOtlpUrl, collector.otlpGrpcEndpoint, collector.metricsEndpoint, collector.selfMetricsEndpoint, collector.healthUrl].map((s) =>
    Number(/:(\d+)\/?$/.exec(s)?.[1]),
  );
}

async function stopAll(stops: Array<() => Promise<void>>, stack?: Stack, ...after: Array<() => Promise<void>>): Promise<void> {
  const errors: string[] = [];
  const steps = [...stops.reverse(), ...(stack ? [() => stack.stop()] : []), ...after];
  for (const step of steps) {
    try {
      await step();
    } catch (error) {
      errors.push((error as Error).message);
    }
  }
  if (errors.length > 0) throw new Error(`demo shutdown: ${errors.join('; ')}`);
}
