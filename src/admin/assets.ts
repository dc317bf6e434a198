/**
 * The admin pages' bundled assets: src/admin/build.ts writes them to
 * src/admin/dist/ with a manifest naming each page's script and stylesheet
 * (content-hashed file names, so they can be cached for good).
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

export const ADMIN_DIST = fileURLToPath(new URL('./dist/', import.meta.url));
export const MANIFEST_FILE = 'manifest.json';

/** The pages and the client entry module of each; build.ts and the router both read this. */
export const ADMIN_PAGES = {
  'websocket-analytics': { entry: 'analytics/page.ts', title: 'WebSocket analytics' },
  'websocket-client-metrics': { entry: 'client-metrics/page.ts', title: 'WebSocket client metrics' },
} as const;
export type AdminPageName = keyof typeof ADMIN_PAGES;

const manifestSchema = z.object({
  pages: z.record(z.string(), z.object({ script: z.string().min(1), stylesheet: z.string().min(1).nullable() })),
});
export type AssetManifest = z.infer<typeof manifestSchema>;

export class AdminAssetsMissingError extends Error {
  constructor(detail: string) {
    super(`the admin pages are not built (${detail}): run \`npm run setup\` or \`npx tsx src/admin/build.ts\``);
    this.name = 'AdminAssetsMissingError';
  }
}

/** Reads and checks the manifest; throws AdminAssetsMissingError when the build is absent or incomplete. */
export function loadAssetManifest(dist = ADMIN_DIST): AssetManifest {
  const file = `${dist}${MANIFEST_FILE}`;
  if (!existsSync(file)) throw new AdminAssetsMissingError(`${file} does not exist`);
  const parsed = manifestSchema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
  if (!parsed.success) throw new AdminAssetsMissingError(`${file} is not a valid manifest`);
  for (const page of Object.keys(ADMIN_PAGES)) {
    const assets = parsed.data.pages[page];
    if (!assets) throw new AdminAssetsMissingError(`no assets for ${page}`);
    for (const asset of [assets.script, assets.stylesheet]) {
      if (asset !== null && !existsSync(`${dist}${asset}`)) throw new AdminAssetsMissingError(`${asset} is missing`);
    }
  }
  return parsed.data;
}
