/**
 * The README's configuration table is the one generated from src/config.ts,
 * and every doc it links to exists.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderConfigTable } from '../../src/config.ts';
import { REPO_ROOT } from '../../src/stack/binaries.ts';

const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');

describe('README.md', () => {
  it('holds the configuration table generated from src/config.ts', () => {
    const table = /<!-- config-table:start -->\n([\s\S]*?)\n<!-- config-table:end -->/.exec(readme)?.[1];
    expect(table).toBe(renderConfigTable());
  });

  it('links only to files that exist', () => {
    const links = [...readme.matchAll(/\]\(((?:docs|src|grafana|prometheus)\/[^)#]+)\)/g)].map((m) => m[1] as string);
    expect(links.length).toBeGreaterThan(8);
    for (const link of links) expect(existsSync(join(REPO_ROOT, link)), link).toBe(true);
  });

  it('gives the two commands, and .ci/run runs the test one', () => {
    expect(readme).toContain('npm start   # run');
    expect(readme).toContain('npm test    # test');
    expect(readFileSync(join(REPO_ROOT, '.ci', 'run'), 'utf8')).toMatch(/^npm test$/m);
  });
});
