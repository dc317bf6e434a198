/**
 * The browsers' receiver keeps to the web SDK's metric catalogue: the
 * condition of `filter/browser` in otel-collector-config.yaml that lists every
 * web SDK metric by its exact name, instrument type and unit, and its
 * conditions on histogram bucket boundaries, are rendered here from
 * web-sdk/src/catalogue.ts, never typed by hand.
 *
 *   node --import tsx collector/browser-catalogue.ts   rewrites the blocks
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
 *
 * A second block (`filter/browser`'s datapoint conditions) keeps a histogram
 * point only with exactly the catalogue's bucket boundaries for its metric:
 * the exporter writes one series per bucket (`le`), so one point with 20 000
 * boundaries was 20 001 series, and about ten such posts filled the scrape's
 * sample_limit, which drops the whole scrape (every server's metrics too).
 * OTTL cannot index explicit_bounds or compare it to a list literal, so the
 * condition compares its count (Len, cheap, tried first) and then its text
 * as Go's fmt prints a []float64 (`Format("%v", [explicit_bounds])`, which
 * never errors: NaN and ±Inf print as such and differ; the String converter
 * fails on them, and a condition that errors drops nothing).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CLIENT_METRICS, type MetricDefinition } from '../web-sdk/src/catalogue.ts';

export const COLLECTOR_CONFIG_FILE = fileURLToPath(new URL('../otel-collector-config.yaml', import.meta.url));

export const BLOCK_START = '# browser-catalogue:start';
export const BLOCK_END = '# browser-catalogue:end';
export const BUCKETS_START = '# browser-buckets:start';
export const BUCKETS_END = '# browser-buckets:end';

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

/**
 * A float64 as Go's fmt prints it with %v (strconv 'g', shortest): plain
 * decimal for exponents -4..20 is what JavaScript prints for -4..5 too; from 6
 * on (and below -4) Go switches to d.ddde±XX (at least two exponent digits).
 */
export function goFloat(value: number): string {
  if (!Number.isFinite(value)) throw new Error(`bucket boundary ${value} is not finite`);
  if (value === 0) return Object.is(value, -0) ? '-0' : '0';
  const [mantissa = '', exponent = '0'] = value.toExponential().split('e');
  const exp = Number(exponent);
  if (exp >= -4 && exp < 6) return String(value);
  const digits = String(Math.abs(exp)).padStart(2, '0');
  return `${mantissa}e${exp < 0 ? '-' : '+'}${digits}`;
}

/** The histograms of the catalogue, each with its bucket advice (the web SDK exports exactly those boundaries). */
function histograms(metrics: readonly MetricDefinition[]): Array<{ name: string; buckets: readonly number[] }> {
  return metrics
    .filter((def) => def.instrument === 'histogram')
    .map((def) => {
      if (!def.buckets || def.buckets.length === 0) throw new Error(`${def.name}: a browser histogram needs bucket advice (the collector keeps only the catalogue's boundaries)`);
      return { name: def.name, buckets: def.buckets };
    });
}

/** One datapoint condition per catalogue histogram (true = drop): a point of it whose boundaries are not the catalogue's. */
export function bucketConditions(metrics: readonly MetricDefinition[] = CLIENT_METRICS): string[] {
  return histograms(metrics).map(
    ({ name, buckets }) =>
      `metric.name == ${ottlString(name)} and (Len(explicit_bounds) != ${buckets.length} or Format("%v", [explicit_bounds]) != ${ottlString(`[${buckets.map(goFloat).join(' ')}]`)})`,
  );
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

/** The datapoint conditions' YAML lines: one folded scalar per histogram. */
function renderBucketsBlock(indent: string, metrics: readonly MetricDefinition[]): string[] {
  return bucketConditions(metrics).flatMap((condition) => [`${indent}- >-`, `${indent}  ${condition}`]);
}

/** `text` with the lines between one pair of markers replaced by `render(indent)`. */
function replaceBlock(text: string, startMarker: string, endMarker: string, render: (indent: string) => string[]): string {
  const lines = text.split('\n');
  const start = lines.findIndex((line) => line.trim() === startMarker);
  const end = lines.findIndex((line) => line.trim() === endMarker);
  if (start < 0 || end < start) throw new Error(`otel-collector-config.yaml: no ${startMarker} … ${endMarker} block`);
  const indent = /^\s*/.exec(lines[start] ?? '')?.[0] ?? '';
  return [...lines.slice(0, start + 1), ...render(indent), ...lines.slice(end)].join('\n');
}

/** The config text with both blocks (metric names, histogram boundaries) rendered from the catalogue. */
export function renderCollectorConfig(text: string, metrics: readonly MetricDefinition[] = CLIENT_METRICS): string {
  const names = replaceBlock(text, BLOCK_START, BLOCK_END, (indent) => renderBlock(indent, metrics));
  return replaceBlock(names, BUCKETS_START, BUCKETS_END, (indent) => renderBucketsBlock(indent, metrics));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const text = readFileSync(COLLECTOR_CONFIG_FILE, 'utf8');
  const rendered = renderCollectorConfig(text);
  if (rendered === text) {
    console.log('otel-collector-config.yaml: the browser catalogue blocks are up to date');
  } else {
    writeFileSync(COLLECTOR_CONFIG_FILE, rendered);
    console.log('wrote the browser catalogue blocks of otel-collector-config.yaml');
  }
}
