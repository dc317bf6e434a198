// Builds the web SDK to dist/: one ESM module per entry point (shared code in
// chunks, so an app importing several entries loads the core once), type
// declarations, and a size report (raw and gzip) per entry with its imports.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

/** Public entry points: package.json "exports" maps each to dist/<name>.js. */
export const ENTRY_POINTS = {
  index: 'src/index.ts', // monitor core: MonitoredWebSocket, monitor(), scope, client reports
  otel: 'src/otel.ts', // OTLP export of metrics and traces (OTel SDK)
  vitals: 'src/vitals.ts', // page signals: web-vitals, page load, interactions, errors
  catalogue: 'src/catalogue.ts', // metric definitions (for tooling)
};

/**
 * Imported, not bundled: the OpenTelemetry API is the app's (a peer dependency), so the SDK's
 * providers share its global context manager and propagator, and one copy is loaded. Only the
 * otel entry imports it. Everything else (the OTel SDK packages, web-vitals) is bundled.
 */
export const EXTERNAL = ['@opentelemetry/api'];

/** esbuild settings shared with bench/web-sdk-size.ts, so sizes are measured the way dist is built. */
export const BROWSER_BUILD = {
  bundle: true,
  external: EXTERNAL,
  format: 'esm',
  platform: 'browser',
  target: 'es2020',
  minify: true,
  legalComments: 'none',
  logLevel: 'warning',
};

const dir = fileURLToPath(new URL('.', import.meta.url));
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  process.chdir(dir);
  rmSync('dist', { recursive: true, force: true });
  const result = await build({
    ...BROWSER_BUILD,
    // esbuild takes its working directory when it is imported, before the chdir above:
    // without this, `node web-sdk/build.mjs` from the repository root resolves src/ there.
    absWorkingDir: dir,
    entryPoints: ENTRY_POINTS,
    outdir: 'dist',
    splitting: true,
    chunkNames: 'chunks/[name]-[hash]',
    sourcemap: true,
    metafile: true,
  });
  execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
  if (!process.argv.includes('--quiet')) {
    const outputs = result.metafile.outputs;
    // An entry's size includes the chunks it imports (what a browser downloads for it), not the
    // external @opentelemetry/api (the app's own copy).
    const closure = (file, seen = new Set()) => {
      if (seen.has(file)) return seen;
      seen.add(file);
      for (const dep of outputs[file]?.imports ?? []) if (dep.kind === 'import-statement' && !dep.external) closure(dep.path, seen);
      return seen;
    };
    for (const [file, output] of Object.entries(outputs)) {
      if (!output.entryPoint) continue;
      const code = Buffer.concat([...closure(file)].map((f) => readFileSync(f)));
      console.log(`web-sdk: ${file} ${code.length} B, ${gzipSync(code, { level: 9 }).length} B gzip (with its chunks)`);
    }
  }
}
