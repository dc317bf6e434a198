/**
 * Bundles the admin pages' client code (src/admin/client/) with esbuild into
 * src/admin/dist/: one ES module per page plus shared chunks, one stylesheet
 * per page (uPlot's included), content-hashed names and a manifest the router
 * reads. No CDN: everything the pages load comes from the service.
 *
 *   node --import tsx src/admin/build.ts [--quiet]
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { ADMIN_DIST, ADMIN_PAGES, type AssetManifest, MANIFEST_FILE } from './assets.ts';

const CLIENT_DIR = fileURLToPath(new URL('./client/', import.meta.url));

export async function buildAdminAssets(outdir = ADMIN_DIST): Promise<AssetManifest> {
  rmSync(outdir, { recursive: true, force: true });
  mkdirSync(outdir, { recursive: true });
  const entryPoints = Object.fromEntries(Object.entries(ADMIN_PAGES).map(([page, { entry }]) => [page, entry]));
  const result = await build({
    absWorkingDir: CLIENT_DIR,
    entryPoints,
    outdir,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'browser',
    target: ['chrome110', 'firefox110', 'safari16'],
    minify: true,
    sourcemap: true,
    entryNames: '[name]-[hash]',
    chunkNames: 'chunks/[name]-[hash]',
    assetNames: 'assets/[name]-[hash]',
    legalComments: 'linked',
    metafile: true,
    logLevel: 'warning',
  });
  const pages: AssetManifest['pages'] = {};
  for (const [file, output] of Object.entries(result.metafile.outputs)) {
    if (!output.entryPoint) continue;
    // Metafile paths are relative to absWorkingDir.
    const page = Object.keys(entryPoints).find((name) => entryPoints[name] === output.entryPoint);
    if (!page) continue;
    const fromOutdir = (path: string) => relative(outdir, resolve(CLIENT_DIR, path));
    pages[page] = { script: fromOutdir(file), stylesheet: output.cssBundle ? fromOutdir(output.cssBundle) : null };
  }
  const manifest: AssetManifest = { pages };
  writeFileSync(join(outdir, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const manifest = await buildAdminAssets();
  if (!process.argv.includes('--quiet')) {
    for (const [page, assets] of Object.entries(manifest.pages)) console.log(`admin: ${page} → ${assets.script}${assets.stylesheet ? `, ${assets.stylesheet}` : ''}`);
  }
}
