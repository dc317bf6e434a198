import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Every process and data directory the stack creates lives under a directory
 * whose path carries `socketscope-run-<runId>-`, so a sweep can find leftovers
 * of one run by command line even when the owning process died without
 * cleaning up (see sweep.ts). The test runner sets SOCKETSCOPE_RUN_ID so that
 * concurrent runs never sweep each other.
 */
export const RUN_DIR_PREFIX = 'socketscope-run-';

export function runMarker(runId = process.env.SOCKETSCOPE_RUN_ID ?? `p${process.pid}`): string {
  return `${RUN_DIR_PREFIX}${runId}-`;
}

export function createRunDir(label = 'stack'): string {
  return mkdtempSync(join(tmpdir(), `${runMarker()}${label}-`));
}

export function removeRunDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
}
