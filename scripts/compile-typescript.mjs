// Compiles a TypeScript project to JavaScript and declarations with tsc (`node
// scripts/compile-typescript.mjs TSCONFIG OUT_DIR`), for the entry points we ship as
// plain JavaScript. tsc rewrites the relative `.ts` imports of the JavaScript
// it emits but not those of the declarations, so those are rewritten here:
// consumers then resolve `./x.js` to `./x.d.ts` under every moduleResolution.
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const TSC = fileURLToPath(new URL('../node_modules/typescript/bin/tsc', import.meta.url));

/** Runs tsc on `tsconfig` and fixes the imports of the declarations under `outDir`. */
export function compileTypeScript(tsconfig, outDir) {
  execFileSync(process.execPath, [TSC, '-p', tsconfig], { stdio: 'inherit' });
  for (const entry of readdirSync(outDir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.d.ts')) continue;
    const path = join(entry.parentPath, entry.name);
    writeFileSync(path, readFileSync(path, 'utf8').replace(/(from\s+|import\()(['"])(\.\.?\/[^'"]+)\.ts\2/g, '$1$2$3.js$2'));
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [tsconfig, outDir] = process.argv.slice(2);
  if (!tsconfig || !outDir) throw new Error('usage: node scripts/compile-typescript.mjs TSCONFIG OUT_DIR (the outDir of TSCONFIG)');
  compileTypeScript(resolve(tsconfig), resolve(outDir));
}
