import { copyFileSync, mkdtempSync } from 'node:fs';
import { basename, join } from 'node:path';
import { REPO_ROOT, requireBinary } from './binaries.ts';
import { freePort } from './ports.ts';
import { ManagedProcess } from './process.ts';
import { waitUntilReady } from './prometheus.ts';

export const COLLECTOR_CONFIG = join(REPO_ROOT, 'otel-collector-config.yaml');

/**
 * BROWSER_SERVICE_NAMES of the native stack (the demo, the tests) unless the
 * environment or the caller sets one: any plain name (up to 64 characters). The shipped config's
 * default folds every browser service.name to _OTHER until the operator lists
 * the web apps; the native stack listens on 127.0.0.1 only, and its pages and
 * tests export under names of their own (socketscope-demo-web, …).
 */
export const NATIVE_BROWSER_SERVICE_NAMES = '[A-Za-z0-9._-]{1,64}';

export interface CollectorHandle {
  /** Base URL of the servers' OTLP/HTTP receiver, e.g. http://127.0.0.1:4318 (append /v1/metrics). */
  otlpHttpUrl: string;
  /** Base URL of the browsers' OTLP/HTTP receiver (CORS, filtered to the web SDK's metrics), e.g. http://127.0.0.1:4319. */
  browserOtlpUrl: string;
  /** host:port of the OTLP/gRPC receiver. */
  otlpGrpcEndpoint: string;
  /** host:port Prometheus scrapes for pipeline metrics (the prometheus exporter). */
  metricsEndpoint: string;
  /** host:port of the collector's own telemetry (refused/failed exports). */
  selfMetricsEndpoint: string;
  healthUrl: string;
  /** The copies in the run directory the collector was started with. */
  configFiles: string[];
  process: ManagedProcess;
  stop(): Promise<void>;
}

export interface StartCollectorOptions {
  runDir: string;
  /** Config files merged in order; defaults to the shipped otel-collector-config.yaml. */
  configFiles?: string[];
  /**
   * Extra environment (e.g. the traces endpoint, CORS origin). A variable set
   * to undefined is removed, so the config's own default applies (e.g.
   * `BROWSER_SERVICE_NAMES: undefined` for the shipped allow-list default).
   */
  env?: Record<string, string | undefined>;
}

/**
 * Our collector build with the shipped config; every endpoint the config reads
 * from the environment gets a free port on 127.0.0.1. The config files are
 * copied into the run directory and the collector started from the copies, so
 * its command line carries the run directory like every other service's (the
 * orphan sweep, sweep.ts, finds processes by it).
 */
export async function startCollector(options: StartCollectorOptions): Promise<CollectorHandle> {
  const bin = requireBinary('collector');
  const [grpc, http, browser, metrics, selfMetrics, health] = await Promise.all([freePort(), freePort(), freePort(), freePort(), freePort(), freePort()]);
  const host = '127.0.0.1';
  const env: Record<string, string | undefined> = {
    BROWSER_SERVICE_NAMES: process.env.BROWSER_SERVICE_NAMES ?? NATIVE_BROWSER_SERVICE_NAMES,
    // The native stack's pages (the demo app, test pages) are on loopback, on ports of their own.
    WEB_SDK_ORIGIN_2: process.env.WEB_SDK_ORIGIN_2 ?? 'http://127.0.0.1:*',
    WEB_SDK_ORIGIN_3: process.env.WEB_SDK_ORIGIN_3 ?? 'http://localhost:*',
    OTLP_GRPC_ENDPOINT: `${host}:${grpc}`,
    OTLP_HTTP_ENDPOINT: `${host}:${http}`,
    OTLP_BROWSER_ENDPOINT: `${host}:${browser}`,
    PROMETHEUS_EXPORTER_ENDPOINT: `${host}:${metrics}`,
    COLLECTOR_TELEMETRY_HOST: host,
    COLLECTOR_TELEMETRY_PORT: String(selfMetrics),
    COLLECTOR_HEALTH_ENDPOINT: `${host}:${health}`,
    ...options.env,
  };
  const configDir = mkdtempSync(join(options.runDir, 'otelcol-config-'));
  const configFiles = (options.configFiles ?? [COLLECTOR_CONFIG]).map((file, i) => {
    const copy = join(configDir, `${i}-${basename(file)}`);
    copyFileSync(file, copy);
    return copy;
  });
  const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env };
  for (const [name, value] of Object.entries(env)) if (value === undefined) delete childEnv[name];
  const proc = new ManagedProcess({
    name: 'otelcol',
    command: bin,
    args: configFiles.flatMap((file) => ['--config', `file:${file}`]),
    env: childEnv,
    logFile: join(options.runDir, 'otelcol.log'),
  });
  const healthUrl = `http://${host}:${health}/`;
  await waitUntilReady('collector', proc, healthUrl);
  return {
    otlpHttpUrl: `http://${host}:${http}`,
    browserOtlpUrl: `http://${host}:${browser}`,
    otlpGrpcEndpoint: `${host}:${grpc}`,
    metricsEndpoint: `${host}:${metrics}`,
    selfMetricsEndpoint: `${host}:${selfMetrics}`,
    healthUrl,
    configFiles,
    process: proc,
    stop: () => proc.stop(),
  };
}
