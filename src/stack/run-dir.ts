import { lstatSync, mkdtempSync, readdirSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';

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

/** A link in a run directory, named with this suffix, to a browser profile that playwright made in the system temp dir. */
export const PROFILE_LINK_SUFFIX = '.profile';
const PLAYWRIGHT_PROFILE_PREFIX = 'playwright_chromiumdev_profile-';

/** Removes a run directory and the browser profiles it links to (only playwright's own, in case a link was tampered with). */
export function removeRunDir(dir: string): void {
  let entries: string[] = [];
  try {
    entries = readdirSync(dir).filter((name) => name.endsWith(PROFILE_LINK_SUFFIX));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  for (const name of entries) {
    const link = join(dir, name);
    if (!lstatSync(link).isSymbolicLink()) continue;
    const target = readlinkSync(link);
    if (basename(target).startsWith(PLAYWRIGHT_PROFILE_PREFIX)) rmSync(target, { recursive: true, force: true, maxRetries: 3 });
  }
  rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
}
