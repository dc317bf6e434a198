import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { postgresBinDirs } from '../../../src/stack/binaries.ts';

let root: string | undefined;
afterEach(() => {
  if (root) rmSync(root, { recursive: true, force: true });
  root = undefined;
});

describe('postgresBinDirs', () => {
  it('lists every installed PostgreSQL major version, newest first, like setup.sh\'s glob', () => {
    root = mkdtempSync(join(tmpdir(), 'socketscope-pgdirs-'));
    for (const entry of ['13', '18', '9.6', '15', 'common']) mkdirSync(join(root, entry));
    expect(postgresBinDirs(root)).toEqual(['18', '15', '13', '9.6'].map((v) => join(root as string, v, 'bin')));
  });

  it('is empty when PostgreSQL is not installed', () => {
    expect(postgresBinDirs(join(tmpdir(), 'socketscope-no-such-dir'))).toEqual([]);
  });
});
