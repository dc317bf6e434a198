import { readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { COMPONENTS, findBinary, type ComponentName } from '../src/stack/binaries.ts';
import { dropLeftoverDatabases } from '../src/stack/postgres.ts';
import { removeRunDir, runMarker } from '../src/stack/run-dir.ts';
import { findLeftoverPids, sweepLeftovers } from '../src/stack/sweep.ts';

/**
 * Fails the whole run up front, naming each missing component and how to
 * install it: tests never skip because something is not there.
 */
export function setup(): void {
  const missing = (Object.keys(COMPONENTS) as ComponentName[]).filter((name) => !findBinary(name));
  if (missing.length > 0) {
    const lines = missing.map((name) => `  - ${COMPONENTS[name].bin}: ${COMPONENTS[name].install}`);
    throw new Error(`required components are missing:\n${lines.join('\n')}`);
  }
}

/** Kills processes, drops databases and removes directories this run left behind. */
export async function teardown(): Promise<void> {
  const marker = runMarker();
  const leftovers = findLeftoverPids(marker);
  if (leftovers.length > 0) {
    console.warn(`global teardown: killing ${leftovers.length} leftover process(es) of this run: ${leftovers.join(', ')}`);
    sweepLeftovers(marker);
  }
  const dropped = await dropLeftoverDatabases();
  if (dropped.length > 0) console.warn(`global teardown: dropped leftover databases ${dropped.join(', ')}`);
  for (const entry of readdirSync(tmpdir())) {
    if (entry.startsWith(marker)) removeRunDir(join(tmpdir(), entry));
  }
}
