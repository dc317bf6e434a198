import { readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RUN_DIR_PREFIX, removeRunDir, runMarker } from './run-dir.ts';

function pidsInProc(): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .map(Number)
    .filter((pid) => pid !== process.pid);
}

/** A process's NUL-separated command line or environment; empty for a zombie, a process that is gone or one not ours to read. */
function readProc(pid: number, file: 'cmdline' | 'environ'): string {
  try {
    return readFileSync(`/proc/${pid}/${file}`, 'utf8');
  } catch {
    return '';
  }
}

/**
 * Pids of processes whose command line mentions `marker`: by default this run's
 * marker (`socketscope-run-<runId>-`), or one stack's run directory. Every
 * service the stack starts carries its run directory on its command line (data
 * and config paths, Chromium a marker switch), so this finds leftovers even
 * when the process that started them was killed with SIGKILL.
 */
export function findLeftoverPids(marker: string = runMarker()): number[] {
  return pidsInProc().filter((pid) => readProc(pid, 'cmdline').includes(marker));
}

/** Pids of processes that have `arg` as one whole command-line argument. */
export function findPidsWithArg(arg: string): number[] {
  return pidsInProc().filter((pid) => readProc(pid, 'cmdline').split('\0').includes(arg));
}

/** The `--user-data-dir` a Chromium process was started with, or undefined. */
export function userDataDirOf(pid: number): string | undefined {
  const flag = '--user-data-dir=';
  return readProc(pid, 'cmdline')
    .split('\0')
    .find((arg) => arg.startsWith(flag))
    ?.slice(flag.length);
}

/** `/proc/<pid>/stat` fields after the command name: state, ppid, pgrp, … */
function statFields(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** The parent of `pid`, or undefined when it is gone. */
export function parentPid(pid: number): number | undefined {
  const ppid = statFields(pid)?.[1];
  return ppid === undefined ? undefined : Number(ppid);
}

/** True when `pid` has exited (gone from /proc, or a zombie waiting to be reaped). */
export function isGone(pid: number): boolean {
  const state = statFields(pid)?.[0];
  return state === undefined || state === 'Z' || state === 'X';
}

/** Pids of the live (non-zombie) processes in process group `pgid`. */
export function processGroupMembers(pgid: number): number[] {
  return pidsInProc().filter((pid) => {
    const fields = statFields(pid);
    return fields !== undefined && fields[2] === String(pgid) && fields[0] !== 'Z' && fields[0] !== 'X';
  });
}

/** `pid: command args…` (shortened), for messages naming leftover processes. */
export function describeProcess(pid: number): string {
  const cmdline = readProc(pid, 'cmdline').split('\0').filter(Boolean).join(' ');
  return `${pid}: ${cmdline.length > 200 ? `${cmdline.slice(0, 200)}…` : cmdline || '(exited)'}`;
}

/**
 * SIGKILLs every leftover process; a leftover that leads its own process group
 * (every service the stack starts does) takes its whole group with it, so
 * helpers that do not carry the marker (Chromium's zygote and renderers,
 * PostgreSQL's backends) go too. Returns the pids found.
 */
export function sweepLeftovers(marker: string = runMarker()): number[] {
  const pids = findLeftoverPids(marker);
  for (const pid of pids) {
    const leadsGroup = statFields(pid)?.[2] === String(pid);
    try {
      process.kill(leadsGroup ? -pid : pid, 'SIGKILL');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
    }
  }
  return pids;
}

/**
 * Run directories under `root` (`socketscope-run-<runId>-<label>-XXXXXX`) that
 * nothing uses any more: no process mentions the directory on its command line,
 * and the run that made it is over — for a test run (SOCKETSCOPE_RUN_ID) no
 * process has that id in its environment, for a `p<pid>` run that pid is gone.
 */
export function findStaleRunDirs(root: string = tmpdir()): string[] {
  const dirs = readdirSync(root).filter((entry) => entry.startsWith(RUN_DIR_PREFIX));
  if (dirs.length === 0) return [];
  const pids = pidsInProc();
  const cmdlines = pids.map((pid) => readProc(pid, 'cmdline'));
  const liveRunIds = new Set<string>([`p${process.pid}`]);
  if (process.env.SOCKETSCOPE_RUN_ID) liveRunIds.add(process.env.SOCKETSCOPE_RUN_ID);
  for (const pid of pids) {
    if (!isGone(pid)) liveRunIds.add(`p${pid}`);
    for (const entry of readProc(pid, 'environ').split('\0')) {
      if (entry.startsWith('SOCKETSCOPE_RUN_ID=')) liveRunIds.add(entry.slice('SOCKETSCOPE_RUN_ID='.length));
    }
  }
  return dirs
    .filter((name) => ![...liveRunIds].some((runId) => name.startsWith(`${RUN_DIR_PREFIX}${runId}-`)))
    .map((name) => join(root, name))
    .filter((dir) => !cmdlines.some((cmdline) => cmdline.includes(dir)));
}

/** Removes the stale run directories under `root`; returns the ones removed. */
export function removeStaleRunDirs(root: string = tmpdir()): string[] {
  const removed: string[] = [];
  for (const dir of findStaleRunDirs(root)) {
    try {
      removeRunDir(dir);
      removed.push(dir);
    } catch {
      // Another user's directory: not ours to remove.
    }
  }
  return removed;
}

/**
 * This run's leftover processes (see findLeftoverPids) that are still running
 * after up to `graceMs` — a service killed a moment ago by a worker's exit hook
 * is given the time to exit — each described (describeProcess). They are then
 * SIGKILLed with their process groups.
 */
export async function reapLeftovers(marker: string = runMarker(), graceMs = 3_000): Promise<string[]> {
  let pids = findLeftoverPids(marker);
  const deadline = Date.now() + graceMs;
  while (pids.length > 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    pids = pids.filter((pid) => !isGone(pid));
  }
  const described = pids.map(describeProcess);
  if (pids.length > 0) sweepLeftovers(marker);
  return described;
}
