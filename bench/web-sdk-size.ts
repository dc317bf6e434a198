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
 * `@opentelemetry/api` is a peer dependency of the web SDK, imported by dist/otel.js, not bundled
 * (build.mjs EXTERNAL). It is counted in core+otel only if Faro's bundle contains it (checked here
 * from Faro's own build, with nothing external): like with like. Either way the run also prints
 * core+otel with the api bundled, what a page that has no OpenTelemetry API of its own downloads.
 *
 * Targets: core <= 8 KB, core+otel <= 45 KB, both smaller than faro.
 */
import { build } from 'esbuild';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { BROWSER_BUILD, ENTRY_POINTS, EXTERNAL } from '../web-sdk/build.mjs';
import { REPO_ROOT } from '../src/stack/index.ts';

const webSdk = join(REPO_ROOT, 'web-sdk');
const reexport = (...entries: Array<keyof typeof ENTRY_POINTS>) => entries.map((e) => `export * from './${ENTRY_POINTS[e]}';`).join('\n');

const faroLabel = `@grafana/faro-web-sdk ${faroVersion()}`;
const faroSource = "export * from '@grafana/faro-web-sdk';";

async function bundle(source: string, external: string[] = EXTERNAL) {
  const result = await build({
    ...BROWSER_BUILD,
    external,
    stdin: { contents: source, resolveDir: webSdk, loader: 'ts' },
    write: false,
    metafile: true,
    logLevel: 'error',
  });
  const code = result.outputFiles[0]?.contents ?? new Uint8Array();
  const inputs = Object.keys(result.metafile.inputs);
  return { code, gzip: gzipSync(code, { level: 9 }).length, includes: (pkg: string) => inputs.some((i) => i.includes(`node_modules/${pkg}/`)) };
}

// Does Faro's bundle, with all of its dependencies, contain the OpenTelemetry API? (faro-core depends on it.)
const faroHasApi = (await bundle(faroSource, [])).includes('@opentelemetry/api');
const otelExternal = faroHasApi ? [] : EXTERNAL;

const subjects: Array<{ key: string; label: string; source: string; external?: string[] }> = [
  { key: 'core', label: '@socketscope/web-sdk (core)', source: reexport('index') },
  { key: 'core_otel', label: `core + /otel${faroHasApi ? ' + api' : ''}`, source: reexport('index', 'otel'), external: otelExternal },
  { key: 'full', label: `core + /otel + /vitals${faroHasApi ? ' + api' : ''}`, source: reexport('index', 'otel', 'vitals'), external: otelExternal },
  { key: 'faro', label: faroLabel, source: faroSource, external: [] },
  { key: 'core_otel_with_api', label: 'core + /otel + @opentelemetry/api', source: reexport('index', 'otel'), external: [] },
];

function faroVersion(): string {
  const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'node_modules/@grafana/faro-web-sdk/package.json'), 'utf8')) as { version: string };
  return pkg.version;
}

const kb = (bytes: number) => (bytes / 1024).toFixed(1);
const figures: Record<string, number> = {};
console.log(`${'bundle'.padEnd(40)} ${'minified'.padStart(10)} ${'gzip'.padStart(10)}`);
for (const subject of subjects) {
  const { code, gzip } = await bundle(subject.source, subject.external);
  figures[`${subject.key}_gzip_bytes`] = gzip;
  console.log(`${subject.label.padEnd(40)} ${`${kb(code.length)} KB`.padStart(10)} ${`${kb(gzip)} KB`.padStart(10)}`);
}
console.log(
  faroHasApi
    ? "@opentelemetry/api: in Faro's bundle, so counted in core + /otel (the web SDK's dist imports it as a peer dependency)"
    : "@opentelemetry/api: not in Faro's bundle, so not counted in core + /otel (a peer dependency the web SDK's dist imports, the app's copy; last row: with it bundled)",
);

const core = figures.core_gzip_bytes ?? 0;
const coreOtel = figures.core_otel_gzip_bytes ?? 0;
const faro = figures.faro_gzip_bytes ?? 0;
const verdict = {
  core_within_8kb: core <= 8 * 1024,
  core_otel_within_45kb: coreOtel <= 45 * 1024,
  core_otel_with_api_within_45kb: (figures.core_otel_with_api_gzip_bytes ?? Infinity) <= 45 * 1024,
  core_smaller_than_faro: core < faro,
  core_otel_smaller_than_faro: coreOtel < faro,
  full_smaller_than_faro: (figures.full_gzip_bytes ?? 0) < faro,
};
console.log(`targets: ${Object.entries(verdict).map(([k, v]) => `${k} ${v ? 'yes' : 'NO'}`).join(', ')}`);
console.log(Object.entries({ ...figures, otel_api_counted: faroHasApi, ...verdict }).map(([k, v]) => `${k}=${v}`).join(' '));
