import { symlinkSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import { requireBinary } from './binaries.ts';
import { PROFILE_LINK_SUFFIX } from './run-dir.ts';
import { findPidsWithArg, parentPid, userDataDirOf } from './sweep.ts';

const ARTIFACTS_SUFFIX = '.artifacts';

/** Flags for Debian's Chromium as root in a sandbox with no outside network. */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface LaunchedChromium {
  browser: Browser;
  /** The browser process, leader of the process group holding all of Chromium's processes. */
  pid: number;
  /** The profile directory playwright made for it in the system temp dir (it removes it on a clean close only). */
  profileDir: string | undefined;
}

/**
 * Headless system Chromium through playwright-core (never a downloaded browser).
 * `marker` (a path inside the stack's run directory, unique per launch) goes on
 * the command line as an unknown switch, which Chromium ignores: sweep.ts finds
 * the browser of a run whose test process was killed outright by it, and the
 * browser's pid is read back by it (playwright's Browser does not expose one).
 * playwright's own SIGINT/SIGTERM/SIGHUP handlers are off: they only close the
 * browser and would leave the rest of the process running; the stack's
 * teardown (process.ts) closes it instead.
 * Playwright's artifacts directory is `marker` + ARTIFACTS_SUFFIX, inside the
 * run directory; the profile directory it creates outside the run directory
 * is linked from `marker` + PROFILE_LINK_SUFFIX, and removing the run directory
 * removes it too: a run killed outright leaves neither behind.
 */
export async function launchChromium(marker: string): Promise<LaunchedChromium> {
  const arg = `--socketscope-marker=${marker}`;
  const browser = await chromium.launch({
    executablePath: requireBinary('chromium'),
    args: [...CHROMIUM_ARGS, arg],
    headless: true,
    artifactsDir: `${marker}${ARTIFACTS_SUFFIX}`,
    handleSIGINT: false,
    handleSIGTERM: false,
    handleSIGHUP: false,
  });
  // playwright-core spawns the browser from this process. A child Chromium has
  // just forked and not yet exec'd still shows the browser's command line.
  const pids = findPidsWithArg(arg).filter((pid) => parentPid(pid) === process.pid);
  if (pids.length !== 1) {
    await browser.close().catch(() => undefined);
    throw new Error(`expected one Chromium process started by ${process.pid} with ${arg}, found ${pids.length}`);
  }
  const pid = pids[0] as number;
  const profileDir = userDataDirOf(pid);
  if (profileDir) symlinkSync(profileDir, `${marker}${PROFILE_LINK_SUFFIX}`);
  return { browser, pid, profileDir };
}
