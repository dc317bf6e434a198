/**
 * Bundles what the demo page loads besides the web SDK's dist: the
 * OpenTelemetry API, which dist/otel.js imports by name (a peer dependency,
 * as an app's bundler would provide it). The page's import map points the
 * name at this file; no CDN.
 *
 *   node --import tsx src/demo/build.ts
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { REPO_ROOT } from '../stack/binaries.ts';
import { DEMO_VENDOR_DIR, DEMO_VENDOR_FILES } from './page-assets.ts';

export async function buildDemoVendor(): Promise<void> {
  mkdirSync(DEMO_VENDOR_DIR, { recursive: true });
  for (const [name, file] of Object.entries(DEMO_VENDOR_FILES)) {
    await build({
      // Resolved from the web SDK, so the page gets the version its peer range names.
      stdin: { contents: `export * from '${name}';`, resolveDir: join(REPO_ROOT, 'web-sdk'), loader: 'js' },
      outfile: join(DEMO_VENDOR_DIR, file),
      bundle: true,
      format: 'esm',
      platform: 'browser',
      target: 'es2020',
      minify: true,
      logLevel: 'warning',
    });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await buildDemoVendor();
