import { chromium, type Browser } from 'playwright-core';
import { requireBinary } from './binaries.ts';
import { runMarker } from './run-dir.ts';

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

/** Headless system Chromium through playwright-core (never a downloaded browser). */
export async function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: requireBinary('chromium'),
    // Chromium ignores unknown switches; this one lets sweep.ts find the
    // browser of a run whose test process was killed outright.
    args: [...CHROMIUM_ARGS, `--socketscope-marker=${runMarker()}`],
    headless: true,
  });
}
