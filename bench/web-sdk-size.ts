/**
 * Gzipped size of the web SDK next to Grafana Faro's web SDK, each bundled
 * the same way (esbuild: ESM, browser, es2020, minified; everything the entry
 * exports is kept) and gzipped at level 9, in one run.
 *
 *   core       '@socketscope/web-sdk': MonitoredWebSocket, monitor(), scope, client reports
 *   core+otel  plus '@socketscope/web-sdk/otel' (sdk-metrics, sdk-trace-base, OTLP/JSON export)
 *   full       plus '@socketscope/web-sdk/vitals' (web-vitals, page load, interactions)
 *   faro       '@grafana/faro-web-sdk' (errors, console, web vitals, sessions, fetch transport; no tracing)
 *
 * Targets: core <= 8 KB, core+otel <= 45 KB, both smaller than faro.
 */
import { build } from 'esbuild';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { BROWSER_BUILD, ENTRY_POINTS } from '../web-sdk/build.mjs';
import { REPO_ROOT } from '../src/stack/index.ts';

const webSdk = join(REPO_ROOT, 'web-sdk');
const reexport = (...entries: Array<keyof typeof ENTRY_POINTS>) => entries.map((e) => `export * from './${ENTRY_POINTS[e]}';`).join('\n');

const subjects: Array<{ key: string; label: string; source: string }> = [
  { key: 'core', label: '@socketscope/web-sdk (core)', source: reexport('index') },
  { key: 'core_otel', label: 'core + /otel', source: reexport('index', 'otel') },
  { key: 'full', label: 'core + /otel + /vitals', source: reexport('index', 'otel', 'vitals') },
  { key: 'faro', label: `@grafana/faro-web-sdk ${faroVersion()}`, source: "export * from '@grafana/faro-web-sdk';" },
];

function faroVersion(): string {
  const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'node_modules/@grafana/faro-web-sdk/package.json'), 'utf8')) as { version: string };
  return pkg.version;
}

const kb = (bytes: number) => (bytes / 1024).toFixed(1);
const figures: Record<string, number> = {};
console.log(`${'bundle'.padEnd(40)} ${'minified'.padStart(10)} ${'gzip'.padStart(10)}`);
for (const subject of subjects) {
  const result = await build({
    ...BROWSER_BUILD,
    stdin: { contents: subject.source, resolveDir: webSdk, loader: 'ts' },
    write: false,
    logLevel: 'error',
  });
  const code = result.outputFiles[0]?.contents ?? new Uint8Array();
  const gzip = gzipSync(code, { level: 9 }).length;
  figures[`${subject.key}_gzip_bytes`] = gzip;
  console.log(`${subject.label.padEnd(40)} ${`${kb(code.length)} KB`.padStart(10)} ${`${kb(gzip)} KB`.padStart(10)}`);
}

const core = figures.core_gzip_bytes ?? 0;
const coreOtel = figures.core_otel_gzip_bytes ?? 0;
const faro = figures.faro_gzip_bytes ?? 0;
const verdict = {
  core_within_8kb: core <= 8 * 1024,
  core_otel_within_45kb: coreOtel <= 45 * 1024,
  core_smaller_than_faro: core < faro,
  core_otel_smaller_than_faro: coreOtel < faro,
  full_smaller_than_faro: (figures.full_gzip_bytes ?? 0) < faro,
};
console.log(`targets: ${Object.entries(verdict).map(([k, v]) => `${k} ${v ? 'yes' : 'NO'}`).join(', ')}`);
console.log(Object.entries({ ...figures, ...verdict }).map(([k, v]) => `${k}=${v}`).join(' '));
