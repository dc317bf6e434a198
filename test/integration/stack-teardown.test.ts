/**
 * Leaks fail the test run: the global teardown kills what a run left running
 * and exits non-zero naming it; the global setup removes the run directories
 * of earlier runs once nothing uses them.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { REPO_ROOT, waitFor } from '../../src/stack/index.ts';
import { RUN_DIR_PREFIX, removeRunDir } from '../../src/stack/run-dir.ts';
import { findStaleRunDirs, isGone, reapLeftovers, sweepLeftovers } from '../../src/stack/sweep.ts';
import { run } from '../helpers/exec.ts';

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

/** A detached process (its own group, like a service) with `marker` on its command line. */
function startMarked(marker: string, env: NodeJS.ProcessEnv = process.env) {
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1 << 30)', marker], { detached: true, stdio: 'ignore', env });
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
  cleanups.push(() => sweepLeftovers(marker));
  return { pid: child.pid as number, exited };
}

describe('reapLeftovers', () => {
  it('names the processes carrying the marker that are still running and SIGKILLs them', async () => {
    const marker = `${RUN_DIR_PREFIX}reap${randomBytes(4).toString('hex')}-`;
    const leaked = startMarked(`${marker}service`);
    expect(await reapLeftovers(marker, 0)).toEqual([`${leaked.pid}: ${process.execPath} -e setInterval(() => {}, 1 << 30) ${marker}service`]);
    expect(await leaked.exited).toBe('SIGKILL');
    expect(await reapLeftovers(marker, 0)).toEqual([]);
  });
});

describe('findStaleRunDirs', () => {
  it('lists the run directories no process mentions whose run is over', async () => {
    const root = mkdtempSync(join(tmpdir(), 'socketscope-stale-test-'));
    cleanups.push(() => removeRunDir(root));
    const id = randomBytes(4).toString('hex');
    const dir = (runId: string) => {
      const path = join(root, `${RUN_DIR_PREFIX}${runId}-label-${id}`);
      mkdirSync(path);
      return path;
    };
    // A finished `p<pid>` run: the pid of a child that has exited.
    const finished = spawn(process.execPath, ['-e', '']);
    await new Promise((resolve) => finished.once('exit', resolve));
    const finishedDir = dir(`p${finished.pid}`);
    const ownDir = dir(`p${process.pid}`);
    const orphanDir = dir(`tgone${id}`);
    // A test run whose processes still carry its id in their environment.
    const liveRunId = `tlive${id}`;
    const liveRunDir = dir(liveRunId);
    startMarked(`socketscope-holder-${id}`, { ...process.env, SOCKETSCOPE_RUN_ID: liveRunId });
    // A service still running with its data in a directory whose run is over.
    const busyDir = dir(`tbusy${id}`);
    startMarked(join(busyDir, 'data'));

    expect(findStaleRunDirs(root).sort()).toEqual([finishedDir, orphanDir].sort());
    expect([ownDir, liveRunDir, busyDir].every((path) => existsSync(path))).toBe(true);
  });
});

describe('a test run', () => {
  it('that leaves a process running fails, naming it, and kills it; its setup removes stale run directories first', async () => {
    const runId = `tnested${randomBytes(4).toString('hex')}`;
    const stale = mkdtempSync(join(tmpdir(), `${RUN_DIR_PREFIX}tstale${randomBytes(4).toString('hex')}-planted-`));
    cleanups.push(() => removeRunDir(stale));
    // The nested run gets a run id of its own and none of this worker's vitest variables.
    const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^(VITEST|TEST$|NODE_ENV$)/.test(name)));
    const result = await run(
      process.execPath,
      [join(REPO_ROOT, 'node_modules/vitest/vitest.mjs'), 'run', '--config', 'test/integration/stack-fixtures/leak.vitest.config.ts'],
      { cwd: REPO_ROOT, env: { ...env, SOCKETSCOPE_RUN_ID: runId }, timeoutMs: 120_000 },
    );
    const output = result.stdout + result.stderr;
    const pid = Number(/leaked (\d+)/.exec(output)?.[1]);
    cleanups.push(() => sweepLeftovers(`${RUN_DIR_PREFIX}${runId}-`));

    expect(result.code).toBe(1);
    expect(output).toContain('1 passed');
    expect(output).toContain('global teardown: this run leaked');
    expect(output).toContain(`${pid}: ${process.execPath} -e setInterval(() => {}, 1 << 30) ${RUN_DIR_PREFIX}${runId}-leaked-service`);
    // SIGKILLed by the teardown just before the nested run exited.
    await waitFor(`the leaked process ${pid} to exit`, async () => isGone(pid), { timeoutMs: 10_000 });
    expect(existsSync(stale)).toBe(false);
  });
});
