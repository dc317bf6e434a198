import { readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { COMPONENTS, findBinary, type ComponentName } from '../src/stack/binaries.ts';
import { dropLeftoverDatabases } from '../src/stack/postgres.ts';
import { removeRunDir, runMarker } from '../src/stack/run-dir.ts';
import { reapLeftovers, removeStaleRunDirs } from '../src/stack/sweep.ts';

/**
 * Fails the whole run up front, naming each missing component and how to
 * install it: tests never skip because something is not there. Also removes
 * run directories earlier runs left in the temp dir once nothing uses them.
 */
export function setup(): void {
  const missing = (Object.keys(COMPONENTS) as ComponentName[]).filter((name) => !findBinary(name));
  if (missing.length > 0) {
    const lines = missing.map((name) => `  - ${COMPONENTS[name].bin}: ${COMPONENTS[name].install}`);
    throw new Error(`required components are missing:\n${lines.join('\n')}`);
  }
  const removed = removeStaleRunDirs();
  if (removed.length > 0) console.warn(`global setup: removed ${removed.length} stale run director${removed.length === 1 ? 'y' : 'ies'} of earlier runs`);
}

/**
 * Kills processes, drops databases and removes directories this run left
 * behind — and fails the run (non-zero exit, naming them) when there were any
 * processes or databases: a leak is a bug in a test or in the stack, never
 * something to clean up quietly.
 */
export async function teardown(): Promise<void> {
  const marker = runMarker();
  const processes = await reapLeftovers(marker);
  const databases = await dropLeftoverDatabases();
  for (const entry of readdirSync(tmpdir())) {
    if (entry.startsWith(marker)) removeRunDir(join(tmpdir(), entry));
  }
  const leaks: string[] = [];
  if (processes.length > 0) {
    leaks.push(`${processes.length} process(es) still running (now killed):\n${processes.map((p) => `    ${p}`).join('\n')}`);
  }
  if (databases.length > 0) leaks.push(`${databases.length} database(s) not dropped (now dropped): ${databases.join(', ')}`);
  if (leaks.length > 0) {
    // vitest only prints an error thrown here ("error during close") and still
    // exits 0: the exit code is set explicitly.
    process.exitCode = 1;
    throw new Error(`global teardown: this run leaked\n  - ${leaks.join('\n  - ')}`);
  }
}
