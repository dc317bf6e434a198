// Builds the web SDK to dist/ (ESM bundle per entry point + type declarations)
// and prints a size report (raw and gzip).
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { gzipSync } from 'node:zlib';

const entryPoints = ['src/index.ts'];
rmSync('dist', { recursive: true, force: true });
const result = await build({
  entryPoints,
  outdir: 'dist',
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2020',
  minify: true,
  sourcemap: true,
  metafile: true,
  logLevel: 'warning',
});
execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
if (!process.argv.includes('--quiet')) {
  for (const file of Object.keys(result.metafile.outputs).filter((f) => f.endsWith('.js'))) {
    const code = readFileSync(file);
    console.log(`web-sdk: ${file} ${code.length} B, ${gzipSync(code, { level: 9 }).length} B gzip`);
  }
}
