/**
 * A process that holds a stack (here Prometheus and Chromium) and receives
 * SIGTERM leaves nothing running: the stack kills its services and the process
 * dies by the signal (playwright's own signal handlers, which only closed the
 * browser and kept the process alive, are off); an application that declares
 * it handles shutdown itself (the demo) stops the stack its own way, and a
 * second signal still kills everything.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, describe, expect, it } from 'vitest';
import { REPO_ROOT, waitFor } from '../../src/stack/index.ts';
import { PROFILE_LINK_SUFFIX, removeRunDir } from '../../src/stack/run-dir.ts';
import { findLeftoverPids, isGone, sweepLeftovers, userDataDirOf } from '../../src/stack/sweep.ts';

interface ChildReport {
  runDir: string;
  processes: Array<{ name: string; pid: number }>;
}

const runDirs: string[] = [];
const children: ChildProcess[] = [];
const tempDirs: string[] = [];

/** The --user-data-dir of a Chromium process (playwright's temporary profile, outside the run directory). */
function userDataDir(pid: number): string {
  const dir = userDataDirOf(pid);
  if (!dir) throw new Error(`Chromium ${pid} has no --user-data-dir`);
  return dir;
}

afterEach(() => {
  // Whatever a failed expectation left behind: the child itself, then its services.
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  for (const dir of runDirs.splice(0)) {
    sweepLeftovers(dir);
    removeRunDir(dir);
  }
  for (const dir of tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

async function startChild(args: string[] = [], env: NodeJS.ProcessEnv = process.env) {
  const child = spawn(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'test/integration/stack-fixtures/signal-child.ts'), ...args], {
    cwd: REPO_ROOT,
    env,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const lines = createInterface({ input: child.stdout });
  const nextLine = () =>
    new Promise<string>((resolve, reject) => {
      lines.once('line', resolve);
      void exited.then(({ code, signal }) => reject(new Error(`the child exited first (code ${code}, signal ${signal})`)));
    });
  const report = JSON.parse(await nextLine()) as ChildReport;
  runDirs.push(report.runDir);
  return { child, exited, report, nextLine };
}

describe('SIGTERM to a process holding a stack with Chromium and Prometheus', () => {
  it('kills its services and the process dies by the signal, leaving no browser profile behind', async () => {
    const { child, exited, report } = await startChild();
    expect(report.processes.map((p) => p.name).sort()).toEqual(['chromium', 'prometheus']);
    const pids = report.processes.map((p) => p.pid);
    expect(findLeftoverPids(report.runDir)).toEqual(expect.arrayContaining(pids));

    const profile = userDataDir(pids[report.processes.findIndex((p) => p.name === 'chromium')] as number);
    expect(existsSync(profile)).toBe(true);

    child.kill('SIGTERM');
    expect(await exited).toEqual({ code: null, signal: 'SIGTERM' });
    // SIGKILLed just before the child died: poll until the kernel has finished them.
    await waitFor('the services to exit', async () => pids.every(isGone) && findLeftoverPids(report.runDir).length === 0, { timeoutMs: 10_000 });
    expect(findLeftoverPids(report.runDir)).toEqual([]);
    // The stack closed the killed browser, so playwright removed its temporary profile.
    expect(existsSync(profile)).toBe(false);
  });

  it('is the stack\'s when the application says so, even with a listener of its own', async () => {
    const { child, exited, report, nextLine } = await startChild(['--stack-owns-shutdown']);
    const pids = report.processes.map((p) => p.pid);
    expect(pids).toHaveLength(2);

    child.kill('SIGTERM');
    expect(await nextLine()).toBe('listener ran');
    expect(await exited).toEqual({ code: null, signal: 'SIGTERM' });
    await waitFor('the services to exit', async () => pids.every(isGone) && findLeftoverPids(report.runDir).length === 0, { timeoutMs: 10_000 });
    expect(findLeftoverPids(report.runDir)).toEqual([]);
  });

  it('is left to an application that declared it handles shutdown itself, which stops the stack', async () => {
    const { child, exited, report } = await startChild(['--app-handles-shutdown']);
    const pids = report.processes.map((p) => p.pid);
    expect(pids).toHaveLength(2);

    child.kill('SIGTERM');
    expect(await exited).toEqual({ code: 0, signal: null });
    // The application's stop() waited for each service to exit.
    expect(pids.filter((pid) => !isGone(pid))).toEqual([]);
    expect(findLeftoverPids(report.runDir)).toEqual([]);
  });

  it('a second one kills the services and the process when the application\'s shutdown is stuck', async () => {
    const { child, exited, report, nextLine } = await startChild(['--stuck-shutdown']);
    const pids = report.processes.map((p) => p.pid);
    expect(pids).toHaveLength(2);

    child.kill('SIGTERM');
    expect(await nextLine()).toBe('stopping');
    expect(pids.filter((pid) => isGone(pid))).toEqual([]);
    child.kill('SIGTERM');
    expect(await exited).toEqual({ code: null, signal: 'SIGTERM' });
    await waitFor('the services to exit', async () => pids.every(isGone) && findLeftoverPids(report.runDir).length === 0, { timeoutMs: 10_000 });
    expect(findLeftoverPids(report.runDir)).toEqual([]);
  });
});

describe('SIGKILL to a process holding a stack with Chromium', () => {
  it('leaves processes, a browser profile and artifacts that the sweep and the run directory\'s removal take away', async () => {
    // A temp directory of its own, so what playwright leaves in it is this run's.
    const tmp = mkdtempSync(join(tmpdir(), 'signal-child-tmp-'));
    tempDirs.push(tmp);
    const playwrightDirs = () => readdirSync(tmp).filter((name) => name.startsWith('playwright'));
    const { child, exited, report } = await startChild([], { ...process.env, TMPDIR: tmp });
    const chromium = report.processes.find((p) => p.name === 'chromium')?.pid as number;
    const profile = userDataDir(chromium);
    expect(readlinkSync(join(report.runDir, `chromium-1${PROFILE_LINK_SUFFIX}`))).toBe(profile);
    // The profile is the only directory playwright made outside the run directory (no playwright-artifacts-*).
    expect(playwrightDirs()).toEqual([basename(profile)]);

    child.kill('SIGKILL');
    expect(await exited).toEqual({ code: null, signal: 'SIGKILL' });
    // Nothing closed the browser: its processes and its profile outlive the run.
    expect(isGone(chromium)).toBe(false);
    expect(existsSync(profile)).toBe(true);

    sweepLeftovers(report.runDir);
    await waitFor('the services to exit', async () => findLeftoverPids(report.runDir).length === 0, { timeoutMs: 10_000 });
    removeRunDir(report.runDir);
    expect(existsSync(report.runDir)).toBe(false);
    expect(existsSync(profile)).toBe(false);
    expect(playwrightDirs()).toEqual([]);
  });
});
