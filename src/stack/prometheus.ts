import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import { parse, stringify } from 'yaml';
import { REPO_ROOT, requireBinary } from './binaries.ts';
import { substituteEndpoints } from './endpoints.ts';
import { freePort, httpOk, waitFor } from './ports.ts';
import { ManagedProcess } from './process.ts';

export const PROMETHEUS_CONFIG = join(REPO_ROOT, 'prometheus', 'prometheus.yml');

export interface PrometheusHandle {
  url: string;
  port: number;
  configFile: string;
  process: ManagedProcess;
  /** Re-reads the config file (POST /-/reload). */
  reload(): Promise<void>;
  stop(): Promise<void>;
}

export interface RenderPrometheusOptions {
  /** compose `host:port` → native `127.0.0.1:port`. */
  endpoints: Record<string, string>;
  /** Shorter intervals for tests, e.g. `1s`. */
  scrapeInterval?: string;
  evaluationInterval?: string;
  /** Source file; defaults to the shipped prometheus/prometheus.yml. */
  source?: string;
}

/**
 * The shipped Prometheus config with endpoints substituted, rule files made
 * absolute (they are relative to the source file) and, for tests, shorter
 * intervals. Returns YAML text.
 */
export function renderPrometheusConfig(options: RenderPrometheusOptions): string {
  const source = options.source ?? PROMETHEUS_CONFIG;
  const text = substituteEndpoints(readFileSync(source, 'utf8'), options.endpoints, source);
  const config = parse(text) as Record<string, unknown> & {
    global?: Record<string, unknown>;
    rule_files?: string[];
    scrape_configs?: Array<Record<string, unknown>>;
  };
  config.global ??= {};
  if (options.scrapeInterval) {
    config.global.scrape_interval = options.scrapeInterval;
    for (const job of config.scrape_configs ?? []) {
      if (job.scrape_interval) job.scrape_interval = options.scrapeInterval;
    }
  }
  if (options.evaluationInterval) config.global.evaluation_interval = options.evaluationInterval;
  if (config.rule_files) {
    config.rule_files = config.rule_files.map((file) => (isAbsolute(file) ? file : join(dirname(source), file)));
  }
  return stringify(config);
}

export interface StartPrometheusOptions {
  runDir: string;
  /** YAML text of the config (see renderPrometheusConfig). */
  config: string;
  /** Alert notifications resend delay; 1s in tests so the first notification is not a minute late. */
  resendDelay?: string;
  extraArgs?: string[];
}

export async function startPrometheus(options: StartPrometheusOptions): Promise<PrometheusHandle> {
  const bin = requireBinary('prometheus');
  const port = await freePort();
  const configFile = join(options.runDir, 'prometheus.yml');
  writeFileSync(configFile, options.config);
  const proc = new ManagedProcess({
    name: 'prometheus',
    command: bin,
    args: [
      `--config.file=${configFile}`,
      `--storage.tsdb.path=${join(options.runDir, 'prometheus-data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--web.enable-lifecycle',
      `--rules.alert.resend-delay=${options.resendDelay ?? '1s'}`,
      ...(options.extraArgs ?? []),
    ],
    logFile: join(options.runDir, 'prometheus.log'),
  });
  const url = `http://127.0.0.1:${port}`;
  await waitUntilReady('prometheus', proc, `${url}/-/ready`);
  return {
    url,
    port,
    configFile,
    process: proc,
    async reload() {
      const response = await fetch(`${url}/-/reload`, { method: 'POST' });
      if (!response.ok) throw new Error(`prometheus reload failed: ${response.status} ${await response.text()}`);
    },
    stop: () => proc.stop(),
  };
}

/** Polls a readiness URL; if the process exits first, its log tail is in the error. */
export async function waitUntilReady(name: string, proc: ManagedProcess, readyUrl: string, timeoutMs = 30_000): Promise<void> {
  try {
    await waitFor(
      `${name} at ${readyUrl}`,
      async () => {
        if (!proc.running) throw new Error(`${name} exited:\n${proc.logTail()}`);
        return httpOk(readyUrl);
      },
      { timeoutMs },
    );
  } catch (error) {
    await proc.stop();
    throw error;
  }
}
