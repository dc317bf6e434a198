/**
 * Live progress on stderr: one line rewritten in place on a terminal, one line
 * per update otherwise (only when asked for with --progress), so pipes and CI
 * logs stay clean by default.
 */
import type { LoadProgress } from './types.ts';

export interface ProgressWriter {
  update(progress: LoadProgress): void;
  /** Ends the in-place line so the report starts on a fresh one. */
  finish(): void;
}

const perS = (rate: number | null): string => (rate === null ? '–' : String(Math.round(rate)));

export function formatProgress(p: LoadProgress): string {
  const p95 = p.intervalP95Ms === null ? '–' : `${p.intervalP95Ms.toFixed(p.intervalP95Ms < 10 ? 2 : 1)} ms`;
  return [
    `[${p.elapsedS.toFixed(0).padStart(4)} s ${p.phase.padEnd(7)}]`,
    `open ${p.open}/${p.target}`,
    `failed ${p.failed}`,
    `sent ${perS(p.sentPerS)}/s`,
    `recv ${perS(p.receivedPerS)}/s`,
    `p95 ${p95}`,
    `errors ${p.errors}`,
  ].join('  ');
}

/** A writer for `stream`, or null when progress should stay silent. */
export function progressWriter(stream: NodeJS.WriteStream, force: boolean): ProgressWriter | null {
  const tty = Boolean(stream.isTTY);
  if (!tty && !force) return null;
  let wrote = false;
  return {
    update(progress) {
      const line = formatProgress(progress);
      if (tty) stream.write(`\r\x1b[2K${line}`);
      else stream.write(`${line}\n`);
      wrote = true;
    },
    finish() {
      if (tty && wrote) stream.write('\n');
    },
  };
}
