/**
 * scripts/build-collector.sh checks the Go toolchain before building: a Go
 * older than the go.mod files of the builder and the components ask for fails
 * at once with the version needed and where to get it. A fake `go` stands in
 * for the toolchain (it reports a version and the go directives).
 */
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../../src/stack/binaries.ts';
import { run } from '../../helpers/exec.ts';

/** The collector version collector/manifest.yaml pins. */
const version = /^ {2}version: *([0-9.]+)/m.exec(readFileSync(join(REPO_ROOT, 'collector/manifest.yaml'), 'utf8'))?.[1];

let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

/** Runs the script with a fake `go` reporting `goVersion`, whose `go list` prints `directives`; anything else fails. */
async function buildWith(goVersion: string, directives: string[]) {
  dir = mkdtempSync(join(tmpdir(), 'socketscope-fakego-'));
  const fake = join(dir, 'go');
  writeFileSync(
    fake,
    `#!/bin/sh
case "$1 $2" in
  "env GOVERSION") echo ${goVersion} ;;
  "list -m") printf '%s\\n' ${directives.join(' ')} ;;
  *) echo "fake go: $*" >&2; exit 1 ;;
esac
`,
  );
  chmodSync(fake, 0o755);
  return run('bash', [join(REPO_ROOT, 'scripts/build-collector.sh')], {
    cwd: REPO_ROOT,
    env: { ...process.env, PATH: `${dir}:${process.env.PATH}`, XDG_CACHE_HOME: join(dir, 'cache') },
  });
}

describe('build-collector.sh', () => {
  it('fails before building with a Go older than the highest go directive, naming that version and go.dev/dl', async () => {
    const result = await buildWith('go1.19.8', ['1.24.0', '1.26.0', '1.25.3']);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe(
      `build-collector: the collector v${version} needs Go >= 1.26.0, found 1.19.8 (${join(dir as string, 'go')}).\n` +
        'build-collector: install Go 1.26.0 or newer from https://go.dev/dl/ (Debian bookworm\'s golang package is 1.19, too old).\n',
    );
  });

  it('goes on to build with a Go that is new enough', async () => {
    const result = await buildWith('go1.26.0', ['1.26.0']);
    // The fake cannot install the builder: the script got past the check to that step.
    expect(result.stdout).toBe(`build-collector: installing the Collector Builder v${version}\n`);
    expect(result.stderr).toBe(`fake go: install go.opentelemetry.io/collector/cmd/builder@v${version}\n`);
    expect(result.code).toBe(1);
  });
});
