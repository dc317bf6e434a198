/**
 * Writes grafana/dashboards/*.json from the typed specs in grafana/src/.
 * Run: node --import tsx grafana/build.ts   (a test fails when the JSON is stale)
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { buildDashboard } from './src/panels.ts';
import { socketscopePipeline } from './src/socketscope-pipeline.ts';
import { websocketClients } from './src/websocket-clients.ts';
import { websocketServer } from './src/websocket-server.ts';

export const DASHBOARDS = { 'websocket-server': websocketServer, 'websocket-clients': websocketClients, 'socketscope-pipeline': socketscopePipeline };

export function renderDashboards(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [file, spec] of Object.entries(DASHBOARDS)) out[`${file}.json`] = `${JSON.stringify(buildDashboard(spec), null, 2)}\n`;
  return out;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const [file, json] of Object.entries(renderDashboards())) {
    writeFileSync(new URL(`dashboards/${file}`, import.meta.url), json);
    console.log(`wrote grafana/dashboards/${file}`);
  }
}
