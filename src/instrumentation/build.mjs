// Builds the server SDK package to dist/: JavaScript and type declarations by tsc. tsc rewrites the
// relative `.ts` imports of the JavaScript it emits but not of the declarations, so those are
// rewritten here: consumers resolve `./x.js` to `./x.d.ts` under every moduleResolution.
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const dir = fileURLToPath(new URL('.', import.meta.url));
rmSync(join(dir, 'dist'), { recursive: true, force: true });
execFileSync(process.execPath, [join(dir, '../../node_modules/typescript/bin/tsc'), '-p', join(dir, 'tsconfig.build.json')], { stdio: 'inherit' });
for (const file of readdirSync(join(dir, 'dist'))) {
  if (!file.endsWith('.d.ts')) continue;
  const path = join(dir, 'dist', file);
  writeFileSync(path, readFileSync(path, 'utf8').replace(/(from\s+|import\()(['"])(\.\.?\/[^'"]+)\.ts\2/g, '$1$2$3.js$2'));
}
