/**
 * Where the demo page's bundled libraries live (built by src/demo/build.ts)
 * and the import map that names them: dist/otel.js of the web SDK imports
 * `@opentelemetry/api` by name, as apps with a bundler provide it.
 */
import { join } from 'node:path';
import { REPO_ROOT } from '../stack/binaries.ts';

export const DEMO_VENDOR_DIR = join(REPO_ROOT, 'src', 'demo', 'dist', 'vendor');

/** Bare module name → file in DEMO_VENDOR_DIR, served under /vendor/. */
export const DEMO_VENDOR_FILES = { '@opentelemetry/api': 'opentelemetry-api.js' } as const;

export const DEMO_IMPORT_MAP = { imports: Object.fromEntries(Object.entries(DEMO_VENDOR_FILES).map(([name, file]) => [name, `/vendor/${file}`])) };
