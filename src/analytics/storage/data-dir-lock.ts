/**
 * An exclusive lock on the embedded database's data directory. PGlite has no
 * postmaster.pid of its own: a second process opening the same directory
 * (`socketscope migrate`, a second `serve`) writes over the first one's files
 * and leaves a database that no longer opens. The lock is a file created with
 * O_EXCL holding the owner's pid; a lock whose process is gone (SIGKILL, a
 * crash) is stale and taken over.
 */
import { closeSync, linkSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const LOCK_FILE = 'pglite.lock';

/** The data directory is locked by another live process. */
export class DataDirLockedError extends Error {
  constructor(
    readonly dataDir: string,
    readonly pid: number,
  ) {
    super(
      `the embedded database in ${dataDir} is in use by process ${pid} (lock file ${join(dataDir, LOCK_FILE)}); ` +
        'stop that process first, or set DATABASE_URL to use a PostgreSQL server',
    );
    this.name = 'DataDirLockedError';
  }
}

/** Lock files this process holds: a pid equal to ours in any other lock file is a previous process's (a container's pid 1 again). */
const held = new Set<string>();

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The pid in a lock file; null when there is no file, NaN when it holds no pid (yet). */
function readPid(path: string): number | null {
  try {
    const text = readFileSync(path, 'utf8').trim();
    return /^\d+$/.test(text) ? Number(text) : Number.NaN;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

function isStale(path: string, pid: number): boolean {
  if (pid === process.pid) return !held.has(path);
  return !isAlive(pid);
}

const sleep = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/**
 * Takes the lock of `dataDir` (which must exist) or throws DataDirLockedError.
 * Returns the release function: idempotent, and also run on process exit.
 */
export function lockDataDir(dataDir: string): () => void {
  const dir = resolve(dataDir);
  const path = join(dir, LOCK_FILE);
  for (let attempt = 0; attempt < 50; attempt++) {
    let fd: number;
    try {
      fd = openSync(path, 'wx');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const pid = readPid(path);
      if (pid === null) continue; // released meanwhile
      if (Number.isNaN(pid)) {
        // Its owner is between creating and writing it; a file that stays empty is a crash in between.
        if (attempt < 10) {
          sleep(20);
          continue;
        }
      } else if (!isStale(path, pid)) {
        throw new DataDirLockedError(dir, pid);
      }
      takeOver(path, pid);
      continue;
    }
    try {
      writeSync(fd, `${process.pid}\n`);
    } finally {
      closeSync(fd);
    }
    held.add(path);
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      held.delete(path);
      process.off('exit', release);
      // Only our own lock: never one a later process took over.
      if (readPid(path) === process.pid) rmSync(path, { force: true });
    };
    process.on('exit', release);
    return release;
  }
  throw new Error(`could not take the lock ${path}`);
}

/**
 * Removes a stale lock. Renamed aside first, so that of two processes taking over the same stale lock
 * at once only one removes it: the other then finds the winner's fresh lock in its hands, puts it back
 * and reports it held.
 */
function takeOver(path: string, stalePid: number): void {
  const aside = `${path}.${process.pid}.stale`;
  try {
    renameSync(path, aside);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  const pid = readPid(aside);
  try {
    if (pid === stalePid || pid === null || Number.isNaN(pid) || isStale(path, pid)) return;
    try {
      linkSync(aside, path);
    } catch {
      // Someone created a lock meanwhile: theirs stands.
    }
    throw new DataDirLockedError(resolve(path, '..'), pid);
  } finally {
    rmSync(aside, { force: true });
  }
}
