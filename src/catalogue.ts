/**
 * The aggregated metric catalogue: every metric socketscope emits, and the
 * names they have once they reach Prometheus. Docs (docs/metrics.md), the
 * Prometheus rules tests, the dashboards tests and the analytics queries
 * read names from here, never from a string typed elsewhere.
 *
 * Server metrics come from the server SDK (src/instrumentation/catalogue.ts),
 * browser metrics from the web SDK (web-sdk/src/catalogue.ts, same shape);
 * neither library imports the other. The load generator's own metrics
 * (`socketscope load --otlp`) come from src/loadtest/catalogue.ts, the
 * analytics service's from src/api/catalogue.ts.
 */
import { CLIENT_METRICS } from '../web-sdk/src/catalogue.ts';
import { SERVICE_METRICS } from './api/catalogue.ts';
import { SERVER_METRICS, type MetricDefinition } from './instrumentation/catalogue.ts';
import { LOAD_METRICS } from './loadtest/catalogue.ts';

export { CLIENT_METRICS, LOAD_METRICS, SERVER_METRICS, SERVICE_METRICS, type MetricDefinition };

export const METRICS: readonly MetricDefinition[] = [...SERVER_METRICS, ...CLIENT_METRICS, ...LOAD_METRICS, ...SERVICE_METRICS];

/** The definition with this OTel name; throws when the catalogue has none. */
export function metricByName(name: string): MetricDefinition {
  const def = METRICS.find((m) => m.name === name);
  if (!def) throw new Error(`no metric named ${name} in the catalogue`);
  return def;
}

// UCUM units to the words Prometheus names use (the OpenTelemetry → Prometheus
// compatibility spec, as the collector's Prometheus exporter implements it).
const UNIT_WORDS: Readonly<Record<string, string>> = {
  d: 'days',
  h: 'hours',
  min: 'minutes',
  s: 'seconds',
  ms: 'milliseconds',
  us: 'microseconds',
  ns: 'nanoseconds',
  By: 'bytes',
  KiBy: 'kibibytes',
  MiBy: 'mebibytes',
  GiBy: 'gibibytes',
  TiBy: 'tibibytes',
  KBy: 'kilobytes',
  MBy: 'megabytes',
  GBy: 'gigabytes',
  TBy: 'terabytes',
  m: 'meters',
  V: 'volts',
  A: 'amperes',
  J: 'joules',
  W: 'watts',
  g: 'grams',
  Cel: 'celsius',
  Hz: 'hertz',
  '%': 'percent',
};
const PER_UNIT_WORDS: Readonly<Record<string, string>> = { s: 'second', m: 'minute', h: 'hour', d: 'day', w: 'week', mo: 'month', y: 'year' };

function unitTokens(unit: string, instrument: MetricDefinition['instrument']): string[] {
  // Annotations such as {connection} carry no unit.
  const bare = unit.replace(/\{[^}]*\}/g, '').trim();
  if (bare === '1') return instrument === 'gauge' ? ['ratio'] : [];
  if (bare === '') return [];
  const [main = '', per = ''] = bare.split('/', 2);
  const tokens: string[] = [];
  const mainWord = UNIT_WORDS[main] ?? main;
  if (mainWord) tokens.push(...sanitize(mainWord));
  if (per) tokens.push('per', ...sanitize(PER_UNIT_WORDS[per] ?? per));
  return tokens;
}

function sanitize(text: string): string[] {
  return text.split(/[^A-Za-z0-9]+/).filter(Boolean);
}

/**
 * The metric's name in Prometheus without the per-series suffixes
 * (`_bucket`, `_sum`, `_count`), as the collector's Prometheus exporter
 * builds it: the OTel name with every non-alphanumeric run turned into `_`,
 * the unit appended as a word unless the name already ends with it
 * (`s` → `seconds`, `By` → `bytes`, `ms` → `milliseconds`, `1` → `ratio`
 * for gauges, annotations like `{connection}` dropped), and `_total` for
 * monotonic counters.
 */
export function prometheusName(def: Pick<MetricDefinition, 'name' | 'unit' | 'instrument'>): string {
  const tokens = sanitize(def.name);
  const counter = def.instrument === 'counter';
  if (counter) {
    // `total` belongs at the end only.
    for (let i = tokens.indexOf('total'); i !== -1; i = tokens.indexOf('total')) tokens.splice(i, 1);
  }
  const units = unitTokens(def.unit, def.instrument);
  const tail = tokens.slice(-units.length).join('_');
  if (units.length > 0 && tail !== units.join('_')) tokens.push(...units);
  if (counter) tokens.push('total');
  const name = tokens.join('_');
  return /^[0-9]/.test(name) ? `_${name}` : name;
}

/** Every series name the metric produces in Prometheus (histograms: `_bucket`, `_sum`, `_count`). */
export function prometheusSeries(def: Pick<MetricDefinition, 'name' | 'unit' | 'instrument'>): string[] {
  const name = prometheusName(def);
  return def.instrument === 'histogram' ? [`${name}_bucket`, `${name}_sum`, `${name}_count`] : [name];
}

/** An attribute key as a Prometheus label name (`network.io.direction` → `network_io_direction`). */
export function prometheusLabel(attribute: string): string {
  const label = attribute.replace(/[^A-Za-z0-9_]/g, '_');
  return /^[0-9]/.test(label) ? `key_${label}` : label;
}
