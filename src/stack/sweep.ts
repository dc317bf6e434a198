import { readdirSync, readFileSync } from 'node:fs';
import { runMarker } from './run-dir.ts';

/**
 * Pids of processes whose command line mentions one of our run directories
 * (`<tmp>/socketscope-run-…`). Services keep their data there, so this finds
 * leftovers even when the process that started them was killed with SIGKILL.
 */
export function findLeftoverPids(marker: string = runMarker()): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (pid === process.pid) continue;
    let cmdline: string;
    try {
      cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
    } catch {
      continue; // exited while we looked
    }
    if (cmdline.includes(marker)) pids.push(pid);
  }
  return pids;
}

/** SIGKILLs every leftover process; returns how many were found. */
export function sweepLeftovers(marker: string = runMarker()): number {
  const pids = findLeftoverPids(marker);
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
    }
  }
  return pids.length;
}
