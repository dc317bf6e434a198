/**
 * The HTML of an admin page: a shell that loads the page's bundled script
 * and stylesheet, with the page's settings as JSON (no inline script, so the
 * Content-Security-Policy can forbid inline code). The data comes from the
 * admin API after sign-in. #app is not a live region: every re-render would
 * be read out; the pages announce state changes through small status
 * regions of their own.
 */
import { ADMIN_PAGES, type AdminPageName, type AssetManifest } from './assets.ts';

/** What the client code reads from the page; client/settings.ts parses it. */
export interface PageSettings {
  page: AdminPageName;
  grafanaUrl: string | null;
  dashboards: { server: string; clients: string };
  tempoDatasourceUid: string;
}

export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  // uPlot positions its cursor and legend with inline style attributes.
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const escapeHtml = (text: string): string => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
/** JSON inside <script type="application/json">: `<` escaped so no `</script>` can end it. */
const scriptJson = (value: unknown): string => JSON.stringify(value).replace(/</g, '\\u003c');

export function renderPage(settings: PageSettings, manifest: AssetManifest, base: string): string {
  const assets = manifest.pages[settings.page];
  if (!assets) throw new Error(`no assets for ${settings.page}`);
  const title = ADMIN_PAGES[settings.page].title;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light">
<title>${escapeHtml(title)} · socketscope</title>
<link rel="icon" href="data:,">
${assets.stylesheet ? `<link rel="stylesheet" href="${base}/assets/${escapeHtml(assets.stylesheet)}">` : ''}
<script type="application/json" id="socketscope-settings">${scriptJson(settings)}</script>
<script type="module" src="${base}/assets/${escapeHtml(assets.script)}"></script>
</head>
<body>
<noscript>The socketscope admin pages need JavaScript.</noscript>
<div id="app"></div>
</body>
</html>
`;
}
