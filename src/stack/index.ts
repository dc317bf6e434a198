/**
 * The local stack: real PostgreSQL, Prometheus, Alertmanager, our collector and
 * Chromium, each on 127.0.0.1 with a free port and its data in one run
 * directory, for tests and for `socketscope demo`.
 */
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { type AlertmanagerHandle, startAlertmanager } from './alertmanager.ts';
import { launchChromium } from './chromium.ts';
import { type CollectorHandle, type StartCollectorOptions, startCollector } from './collector.ts';
import { waitFor } from './ports.ts';
import { type PostgresHandle, type StartPostgresOptions, startPostgres } from './postgres.ts';
import { adoptProcessGroup, signalProcessGroup } from './process.ts';
import { type PrometheusHandle, type StartPrometheusOptions, startPrometheus } from './prometheus.ts';
import { createRunDir, removeRunDir } from './run-dir.ts';
import { isGone, processGroupMembers } from './sweep.ts';

export { renderAlertmanagerConfig } from './alertmanager.ts';
export { renderPrometheusConfig } from './prometheus.ts';
export { MissingComponentError, findBinary, requireBinary, REPO_ROOT } from './binaries.ts';
export { freePort, waitFor, httpOk } from './ports.ts';
export { leaveShutdownToApp } from './process.ts';
export type { AlertmanagerHandle, CollectorHandle, PostgresHandle, PrometheusHandle };

/** A process the stack started: its name and pid. */
export interface StackProcess {
  name: string;
  pid: number;
}

export class Stack {
  /**
   * The run directory: every process the stack starts carries it on its
   * command line, so findLeftoverPids(stack.runDir) (sweep.ts) finds exactly
   * this stack's processes.
   */
  readonly runDir: string;
  private readonly stops: Array<{ name: string; pid?: number; stop: () => Promise<void> }> = [];
  private stopped = false;
  private browsers = 0;

  constructor(label = 'stack') {
    this.runDir = createRunDir(label);
  }

  private track<T extends { stop(): Promise<void> }>(name: string, handle: T, pid?: number): T {
    this.stops.push({ name, pid, stop: () => handle.stop() });
    return handle;
  }

  /** The processes the stack started that are still running (a database on an existing server has none). */
  processes(): StackProcess[] {
    return this.stops.flatMap(({ name, pid }) => (pid === undefined || isGone(pid) ? [] : [{ name, pid }]));
  }

  async postgres(options?: StartPostgresOptions): Promise<PostgresHandle> {
    const handle = await startPostgres(this.runDir, options);
    return this.track('postgres', handle, handle.pid);
  }

  async prometheus(options: Omit<StartPrometheusOptions, 'runDir'>): Promise<PrometheusHandle> {
    const handle = await startPrometheus({ ...options, runDir: this.runDir });
    return this.track('prometheus', handle, handle.process.pid);
  }

  async alertmanager(config: string): Promise<AlertmanagerHandle> {
    const handle = await startAlertmanager({ runDir: this.runDir, config });
    return this.track('alertmanager', handle, handle.process.pid);
  }

  async collector(options: Omit<StartCollectorOptions, 'runDir'> = {}): Promise<CollectorHandle> {
    const handle = await startCollector({ ...options, runDir: this.runDir });
    return this.track('collector', handle, handle.process.pid);
  }

  /** Headless Chromium; its whole process group is killed with the stack's services on exit or on a signal. */
  async chromium(): Promise<Browser> {
    this.browsers += 1;
    const { browser, pid } = await launchChromium(join(this.runDir, `chromium-${this.browsers}`));
    const forget = adoptProcessGroup(pid, () => browser.close());
    const stop = async (): Promise<void> => {
      let timer: NodeJS.Timeout | undefined;
      try {
        // A browser that does not close within 5 s is killed like any other service.
        await Promise.race([browser.close(), new Promise((resolve) => (timer = setTimeout(resolve, 5_000)))]);
      } finally {
        clearTimeout(timer);
        signalProcessGroup(pid, 'SIGKILL');
        forget();
      }
      // Resolve once no process of the browser's group is left (a helper
      // forked a moment before may outlive the browser).
      await waitFor(`Chromium's processes (group ${pid}) to exit`, async () => processGroupMembers(pid).length === 0, {
        timeoutMs: 10_000,
        intervalMs: 20,
      });
    };
    this.track('chromium', { stop }, pid);
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
