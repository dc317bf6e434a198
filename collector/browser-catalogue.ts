/**
 * The browsers' receiver keeps to the web SDK's metric catalogue: the
 * condition of `filter/browser` in otel-collector-config.yaml that lists every
 * web SDK metric by its exact name, instrument type and unit is rendered here
 * from web-sdk/src/catalogue.ts, never typed by hand.
 *
 *   node --import tsx collector/browser-catalogue.ts   rewrites the block
 *
 * test/unit/pipeline-consistency.test.ts fails when the file differs from
 * what this renders.
 *
 * Why each part matters (the collector's Prometheus exporter builds a series
 * name from the metric name, its unit and its type):
 * - name: anything else (`browser.` + 1 100 characters) becomes a metric name
 *   longer than Prometheus' label_value_length_limit, and the whole scrape of
 *   the collector fails (every SDK metric, every alert on them);
 * - unit: appended to the name, with the same effect, or a second series
 *   family beside the catalogue's;
 * - type and monotonicity: a non-monotonic sum becomes a gauge; the exporter
 *   keeps the first type it sees for a name and drops every later metric of
 *   another type, so a page posting a "websocket.client.rtt" sum after a
 *   restart would drop every real RTT histogram until the name expires.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CLIENT_METRICS, type MetricDefinition } from '../web-sdk/src/catalogue.ts';

export const COLLECTOR_CONFIG_FILE = fileURLToPath(new URL('../otel-collector-config.yaml', import.meta.url));

export const BLOCK_START = '# browser-catalogue:start';
export const BLOCK_END = '# browser-catalogue:end';

/** OTTL string literal (the collector expands `$`, so it cannot appear). */
function ottlString(value: string): string {
  if (value.includes('$')) throw new Error(`catalogue value ${value} contains $, which the collector's config expands`);
  return `"${value.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`;
}

/** The OTLP type a web SDK instrument exports (always as a delta, checked separately). */
function otlpType(def: MetricDefinition): string {
  switch (def.instrument) {
    case 'counter':
      return 'type == METRIC_DATA_TYPE_SUM and is_monotonic == true';
    case 'histogram':
      return 'type == METRIC_DATA_TYPE_HISTOGRAM';
    default:
      // Per-session gauges and up-down counters cannot be summed across sessions (web-sdk/src/catalogue.ts).
      throw new Error(`${def.name}: a browser ${def.instrument} cannot be folded by delta_to_cumulative`);
  }
}

/** One clause per catalogue metric: the name, type and unit the web SDK exports it with. */
export function catalogueClauses(metrics: readonly MetricDefinition[] = CLIENT_METRICS): string[] {
  return metrics.map((def) => `(name == ${ottlString(def.name)} and ${otlpType(def)} and unit == ${ottlString(def.unit)})`);
}

/** The filter condition (true = drop): a metric that is none of the catalogue's, exactly. */
export function catalogueCondition(metrics: readonly MetricDefinition[] = CLIENT_METRICS): string {
  return `not ( ${catalogueClauses(metrics).join(' or ')} )`;
}

/** The YAML lines between the markers (a folded scalar: one clause per line, read as one line). */
function renderBlock(indent: string, metrics: readonly MetricDefinition[]): string[] {
  const clauses = catalogueClauses(metrics);
  return [
    `${indent}- >-`,
    `${indent}  not (`,
    ...clauses.map((clause, i) => `${indent}  ${i === 0 ? '' : 'or '}${clause}`),
    `${indent}  )`,
  ];
}

/** The config text with the block between the markers rendered from the catalogue. */
export function renderCollectorConfig(text: string, metrics: readonly MetricDefinition[] = CLIENT_METRICS): string {
  const lines = text.split('\n');
  const start = lines.findIndex((line) => line.trim() === BLOCK_START);
  const end = lines.findIndex((line) => line.trim() === BLOCK_END);
  if (start < 0 || end < start) throw new Error(`otel-collector-config.yaml: no ${BLOCK_START} … ${BLOCK_END} block`);
  const indent = /^\s*/.exec(lines[start] ?? '')?.[0] ?? '';
  return [...lines.slice(0, start + 1), ...renderBlock(indent, metrics), ...lines.slice(end)].join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const text = readFileSync(COLLECTOR_CONFIG_FILE, 'utf8');
  const rendered = renderCollectorConfig(text);
  if (rendered === text) {
    console.log('otel-collector-config.yaml: the browser catalogue block is up to date');
  } else {
    writeFileSync(COLLECTOR_CONFIG_FILE, rendered);
    console.log('wrote the browser catalogue block of otel-collector-config.yaml');
  }
}
