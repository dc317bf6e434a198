/**
 * The local stack: real PostgreSQL, Prometheus, Alertmanager, our collector and
 * Chromium, each on 127.0.0.1 with a free port and its data in one run
 * directory, for tests and for `socketscope demo`.
 */
import type { Browser } from 'playwright-core';
import { type AlertmanagerHandle, startAlertmanager } from './alertmanager.ts';
import { launchChromium } from './chromium.ts';
import { type CollectorHandle, type StartCollectorOptions, startCollector } from './collector.ts';
import { type PostgresHandle, startPostgres } from './postgres.ts';
import { type PrometheusHandle, type StartPrometheusOptions, startPrometheus } from './prometheus.ts';
import { createRunDir, removeRunDir } from './run-dir.ts';

export { renderAlertmanagerConfig } from './alertmanager.ts';
export { renderPrometheusConfig } from './prometheus.ts';
export { MissingComponentError, findBinary, requireBinary, REPO_ROOT } from './binaries.ts';
export { freePort, waitFor, httpOk } from './ports.ts';
export type { AlertmanagerHandle, CollectorHandle, PostgresHandle, PrometheusHandle };

export class Stack {
  readonly runDir: string;
  private readonly stops: Array<{ name: string; stop: () => Promise<void> }> = [];
  private stopped = false;

  constructor(label = 'stack') {
    this.runDir = createRunDir(label);
  }

  private track<T extends { stop(): Promise<void> }>(name: string, handle: T): T {
    this.stops.push({ name, stop: () => handle.stop() });
    return handle;
  }

  async postgres(options?: { useServer?: boolean }): Promise<PostgresHandle> {
    return this.track('postgres', await startPostgres(this.runDir, options));
  }

  async prometheus(options: Omit<StartPrometheusOptions, 'runDir'>): Promise<PrometheusHandle> {
    return this.track('prometheus', await startPrometheus({ ...options, runDir: this.runDir }));
  }

  async alertmanager(config: string): Promise<AlertmanagerHandle> {
    return this.track('alertmanager', await startAlertmanager({ runDir: this.runDir, config }));
  }

  async collector(options: Omit<StartCollectorOptions, 'runDir'> = {}): Promise<CollectorHandle> {
    return this.track('collector', await startCollector({ ...options, runDir: this.runDir }));
  }

  async chromium(): Promise<Browser> {
    const browser = await launchChromium();
    this.track('chromium', { stop: () => browser.close() });
    return browser;
  }

  /** Stops everything in reverse start order, then removes the run directory. */
  async stop({ keepRunDir = false }: { keepRunDir?: boolean } = {}): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    const errors: string[] = [];
    for (const { name, stop } of this.stops.reverse()) {
      try {
        await stop();
      } catch (error) {
        errors.push(`${name}: ${(error as Error).message}`);
      }
    }
    if (!keepRunDir) removeRunDir(this.runDir);
    if (errors.length > 0) throw new Error(`stopping the stack failed:\n${errors.join('\n')}`);
  }
}
