/**
 * A small typed builder for Grafana dashboard JSON, so the dashboards are code:
 * panels get ids and grid positions automatically, every Prometheus target
 * uses the `$datasource` variable, and tests can walk every expression.
 */

export interface Target {
  expr?: string;
  rawSql?: string;
  legendFormat?: string;
  refId?: string;
  format?: 'time_series' | 'table';
  instant?: boolean;
  /** Ask Prometheus for exemplars (trace ids), linked to Tempo by the datasource's exemplarTraceIdDestinations. */
  exemplar?: boolean;
}

export interface PanelSpec {
  title: string;
  type: 'timeseries' | 'stat' | 'table' | 'barchart' | 'heatmap' | 'text';
  description?: string;
  unit?: string;
  /** Grid width out of 24. */
  width?: number;
  height?: number;
  targets?: Target[];
  datasource?: 'prometheus' | 'postgres' | 'tempo';
  options?: Record<string, unknown>;
  fieldConfig?: Record<string, unknown>;
  thresholds?: Array<{ value: number | null; color: string }>;
  min?: number;
  max?: number;
}

export interface RowSpec {
  title: string;
  panels: PanelSpec[];
}

export interface DashboardSpec {
  uid: string;
  title: string;
  description: string;
  tags: string[];
  rows: RowSpec[];
  variables: Array<Record<string, unknown>>;
  links?: Array<Record<string, unknown>>;
  /** Auto refresh; default 30s. PostgreSQL-heavy dashboards refresh slower so the database is not polled. */
  refresh?: string;
  /** Annotations drawn on every time series: PostgreSQL queries (columns time, text, tags) or Prometheus series. */
  annotations?: AnnotationSpec[];
}

export type AnnotationSpec =
  | { name: string; iconColor: string; rawSql: string }
  | { name: string; iconColor: string; expr: string; titleFormat: string; textFormat: string; tagKeys: string };

/**
 * Alerts of the given components while they fire (Prometheus' ALERTS series), as annotations: the alert's
 * name, severity and job; `byJob` filters by the dashboard's `job` variable.
 */
export function firingAlertsAnnotation(components: readonly string[], { byJob = true }: { byJob?: boolean } = {}): AnnotationSpec {
  return {
    name: 'Firing alerts',
    iconColor: 'red',
    expr: `ALERTS{alertstate="firing", component=~"${components.join('|')}"${byJob ? ', job=~"$job"' : ''}}`,
    titleFormat: '{{alertname}}',
    textFormat: '{{severity}} on {{job}}',
    tagKeys: 'severity,job',
  };
}

/**
 * Anomalies the analytics service stored from one source's streams, as annotations: the incident's
 * first point, with severity, value and expected band in the text, and the stream as a tag.
 */
export function anomalyAnnotation(source: 'prometheus' | 'client_reports'): AnnotationSpec {
  return {
    name: 'Anomalies (socketscope)',
    iconColor: 'orange',
    rawSql: `SELECT observed_at AS time,
  format('%s anomaly in %s: %s, expected %s (band %s to %s)', severity, stream, round(value::numeric, 3), round(expected::numeric, 3),
         round(lower_bound::numeric, 3), round(upper_bound::numeric, 3)) AS text,
  concat_ws(',', 'anomaly', severity, stream) AS tags
FROM anomalies WHERE source = '${source}' AND $__timeFilter(observed_at) ORDER BY observed_at`,
  };
}

/** The service filter every panel applies (the `job` variable). */
export const JOB = '{job=~"$job"}';

/** Per-second rate of a counter, summed by the given labels. */
export const rate = (metric: string, by = 'job'): string => `sum by (${by}) (rate(${metric}${JOB}[$__rate_interval]))`;

/** A quantile of a histogram, from bucket rates summed by the given labels. */
export const quantile = (q: number, metric: string, by = 'job'): string =>
  `histogram_quantile(${q}, sum by (${by}, le) (rate(${metric}_bucket${JOB}[$__rate_interval])))`;

export const DATASOURCE_UIDS = {
  prometheus: 'socketscope-prometheus',
  tempo: 'socketscope-tempo',
  postgres: 'socketscope-postgres',
} as const;

const DATASOURCE_REFS = {
  prometheus: { type: 'prometheus', uid: '${datasource}' },
  postgres: { type: 'grafana-postgresql-datasource', uid: DATASOURCE_UIDS.postgres },
  tempo: { type: 'tempo', uid: DATASOURCE_UIDS.tempo },
} as const;

/** The `$datasource` variable: any Prometheus-compatible datasource (Mimir, Thanos, VictoriaMetrics). */
export const datasourceVariable = {
  name: 'datasource',
  label: 'Prometheus',
  type: 'datasource',
  query: 'prometheus',
  current: { text: 'Prometheus', value: DATASOURCE_UIDS.prometheus },
  hide: 0,
};

export function labelVariable(name: string, label: string, metric: string): Record<string, unknown> {
  return {
    name,
    label,
    type: 'query',
    datasource: DATASOURCE_REFS.prometheus,
    query: { query: `label_values(${metric}, ${name})`, refId: `${name}-values` },
    definition: `label_values(${metric}, ${name})`,
    refresh: 2,
    includeAll: true,
    multi: true,
    allValue: '.*',
    current: { text: 'All', value: '$__all' },
    sort: 1,
  };
}

/** A variable with a fixed list of choices (never free text: Grafana pastes a variable's value into SQL as it is). */
export function choiceVariable(name: string, label: string, choices: readonly string[], current: string): Record<string, unknown> {
  if (!choices.includes(current)) throw new Error(`variable ${name}: the default ${current} is not one of ${choices.join(', ')}`);
  return {
    name,
    label,
    type: 'custom',
    query: choices.join(','),
    options: choices.map((value) => ({ text: value, value, selected: value === current })),
    current: { text: current, value: current },
    hide: 0,
  };
}

/** The default value of each variable of a built dashboard, as Grafana starts it. */
export function variableDefaults(dashboard: Record<string, unknown>): Record<string, string> {
  const list = (dashboard.templating as { list: Array<{ name: string; current?: { value?: unknown } }> }).list;
  return Object.fromEntries(list.flatMap((v) => (typeof v.current?.value === 'string' ? [[v.name, v.current.value]] : [])));
}

function buildPanel(spec: PanelSpec, id: number, x: number, y: number): Record<string, unknown> {
  const datasource = DATASOURCE_REFS[spec.datasource ?? 'prometheus'];
  const defaults: Record<string, unknown> = { unit: spec.unit ?? 'short' };
  if (spec.min !== undefined) defaults.min = spec.min;
  if (spec.max !== undefined) defaults.max = spec.max;
  if (spec.thresholds) defaults.thresholds = { mode: 'absolute', steps: spec.thresholds };
  // Grafana's time series default thresholdsStyle is 'off': without this the alert thresholds are never drawn.
  if (spec.thresholds && spec.type === 'timeseries') defaults.custom = { thresholdsStyle: { mode: 'line+area' } };
  return {
    id,
    type: spec.type,
    title: spec.title,
    description: spec.description ?? '',
    datasource,
    gridPos: { x, y, w: spec.width ?? 8, h: spec.height ?? 8 },
    fieldConfig: { defaults, overrides: [], ...spec.fieldConfig },
    options: spec.options ?? {},
    targets: (spec.targets ?? []).map((target, i) => ({
      refId: target.refId ?? String.fromCharCode(65 + i),
      datasource,
      ...target,
      ...(target.rawSql ? { editorMode: 'code', format: target.format ?? 'table', rawQuery: true } : {}),
    })),
  };
}

/** Dashboard JSON as Grafana's file provisioning expects it. */
export function buildDashboard(spec: DashboardSpec): Record<string, unknown> {
  const panels: Array<Record<string, unknown>> = [];
  let id = 1;
  let y = 0;
  for (const row of spec.rows) {
    panels.push({ id: id++, type: 'row', title: row.title, collapsed: false, gridPos: { x: 0, y, w: 24, h: 1 }, panels: [] });
    y += 1;
    let x = 0;
    let rowHeight = 0;
    for (const panel of row.panels) {
      const w = panel.width ?? 8;
      if (x + w > 24) {
        x = 0;
        y += rowHeight;
        rowHeight = 0;
      }
      panels.push(buildPanel(panel, id++, x, y));
      x += w;
      rowHeight = Math.max(rowHeight, panel.height ?? 8);
    }
    y += rowHeight;
  }
  return {
    uid: spec.uid,
    title: spec.title,
    description: spec.description,
    tags: spec.tags,
    editable: true,
    graphTooltip: 1,
    refresh: spec.refresh ?? '30s',
    schemaVersion: 39,
    time: { from: 'now-6h', to: 'now' },
    timezone: 'browser',
    links: spec.links ?? [],
    templating: { list: spec.variables },
    annotations: {
      list: (spec.annotations ?? []).map((a) =>
        'rawSql' in a
          ? {
              name: a.name,
              enable: true,
              iconColor: a.iconColor,
              datasource: DATASOURCE_REFS.postgres,
              target: { refId: 'Anno', datasource: DATASOURCE_REFS.postgres, editorMode: 'code', format: 'table', rawQuery: true, rawSql: a.rawSql },
            }
          : { name: a.name, enable: true, iconColor: a.iconColor, datasource: DATASOURCE_REFS.prometheus, expr: a.expr, step: '60s', titleFormat: a.titleFormat, textFormat: a.textFormat, tagKeys: a.tagKeys },
      ),
    },
    panels,
  };
}

/** Every PromQL expression of a built dashboard (for tests that run them). */
export function promqlExpressions(dashboard: Record<string, unknown>): Array<{ panel: string; expr: string }> {
  const out: Array<{ panel: string; expr: string }> = [];
  for (const panel of dashboard.panels as Array<{ title: string; targets?: Target[]; datasource?: { type: string } }>) {
    if (panel.datasource?.type !== 'prometheus') continue;
    for (const target of panel.targets ?? []) if (target.expr) out.push({ panel: panel.title, expr: target.expr });
  }
  for (const annotation of (dashboard.annotations as { list: Array<{ name: string; expr?: string }> }).list) {
    if (annotation.expr) out.push({ panel: `annotation: ${annotation.name}`, expr: annotation.expr });
  }
  return out;
}

/** Every SQL query of a built dashboard: its panels', and its annotations' (named by the annotation). */
export function sqlQueries(dashboard: Record<string, unknown>): Array<{ panel: string; sql: string }> {
  const out: Array<{ panel: string; sql: string }> = [];
  for (const panel of dashboard.panels as Array<{ title: string; targets?: Target[] }>) {
    for (const target of panel.targets ?? []) if (target.rawSql) out.push({ panel: panel.title, sql: target.rawSql });
  }
  for (const annotation of (dashboard.annotations as { list: Array<{ name: string; target?: Target }> }).list) {
    if (annotation.target?.rawSql) out.push({ panel: `annotation: ${annotation.name}`, sql: annotation.target.rawSql });
  }
  return out;
}

/**
 * A panel's SQL as Grafana sends it for the range [from, to]: its PostgreSQL time
 * macros expanded (`$__timeFilter(column)`, `$__timeFrom()`, `$__timeTo()`) and
 * `$name` variables replaced by the values given, so tests and benchmarks run
 * what the dashboard runs. Throws on any macro or variable left over.
 */
export function expandTimeMacros(sql: string, from: Date, to: Date, variables: Record<string, string> = {}): string {
  const literal = (at: Date) => `'${at.toISOString()}'`;
  const expanded = sql
    .replace(/\$__timeFilter\((\w+)\)/g, (_match, column: string) => `${column} BETWEEN ${literal(from)} AND ${literal(to)}`)
    .replace(/\$__timeFrom\(\)/g, literal(from))
    .replace(/\$__timeTo\(\)/g, literal(to))
    .replace(/\$([A-Za-z]\w*)/g, (match, name: string) => variables[name] ?? match);
  const unknown = /\$[A-Za-z_]\w*/.exec(expanded);
  if (unknown) throw new Error(`Grafana macro or variable ${unknown[0]} is not expanded here`);
  return expanded;
}
