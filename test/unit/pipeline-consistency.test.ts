/**
 * The pipeline's configs agree with each other and with the metric catalogue:
 * every metric a rule or dashboard reads is one the SDKs emit (by its
 * Prometheus name), every alert is complete and documented, every alert is
 * unit-tested both silent and firing, and the dashboards on disk are the ones
 * grafana/src builds. And the identity the collector builds `instance` from
 * (service.instance.id) is set by our SDK bootstrap; the webhook token and the
 * self-monitoring scrape jobs are wired the same way in every place.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { bucketConditions, catalogueClauses, catalogueCondition, goFloat, renderCollectorConfig } from '../../collector/browser-catalogue.ts';
import { renderDashboards } from '../../grafana/build.ts';
import { DATASOURCE_UIDS, promqlExpressions } from '../../grafana/src/panels.ts';
import { collectorSampleLimit } from '../../grafana/src/socketscope-pipeline.ts';
import { ANOMALY_ALERTNAME, ANOMALY_RUNBOOK_URL } from '../../src/analytics/anomaly-job.ts';
import { CLIENT_METRICS, METRICS, prometheusLabel, prometheusSeries } from '../../src/catalogue.ts';
import { loadConfig } from '../../src/config.ts';
import { ATTRIBUTE_VALUES } from '../../web-sdk/src/attribute-values.ts';
import * as webCloseCodes from '../../web-sdk/src/attributes.ts';
import * as serverCloseCodes from '../../src/instrumentation/close-codes.ts';
import { SDK_NAME, SDK_VERSION } from '../../web-sdk/src/version.ts';
import { PROMETHEUS_SELF_TARGET, WEBHOOK_TOKEN_PLACEHOLDER } from '../../src/demo/placeholders.ts';
import { REPO_ROOT } from '../../src/stack/binaries.ts';
import { parseResourceAttributes, startTelemetry } from '../../src/telemetry/index.ts';

const at = (...parts: string[]) => join(REPO_ROOT, ...parts);
const yamlFiles = (dir: string) => readdirSync(at(dir)).filter((f) => f.endsWith('.yml')).map((f) => at(dir, f));

interface Rule {
  record?: string;
  alert?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
const rules: Rule[] = yamlFiles('prometheus/rules').flatMap(
  (file) => (parse(readFileSync(file, 'utf8')) as { groups: Array<{ rules: Rule[] }> }).groups.flatMap((g) => g.rules),
);
const alerts = rules.filter((r) => r.alert);
const recorded = new Set(rules.flatMap((r) => (r.record ? [r.record] : [])));

const catalogueSeries = new Set(METRICS.flatMap((def) => prometheusSeries(def)));
const catalogueLabels = new Set(METRICS.flatMap((def) => def.attributes.map(prometheusLabel)));
// Series that do not come from our SDKs: Prometheus' and Alertmanager's own (scrape_*: Prometheus' per-target series), and the collector's.
const external = (name: string) =>
  name === 'up' || name === 'ALERTS' || ['otelcol_', 'traces_span_metrics_', 'prometheus_', 'alertmanager_', 'scrape_'].some((prefix) => name.startsWith(prefix));

/** Metric names a PromQL expression selects (identifiers not followed by `(` and not in label matchers or by-clauses). */
function metricNames(expr: string): string[] {
  const withoutStrings = expr.replace(/"[^"]*"/g, '""');
  const withoutGroupings = withoutStrings.replace(/\b(by|without|on|ignoring)\s*\([^)]*\)/g, '');
  const withoutMatchers = withoutGroupings.replace(/\{[^}]*\}/g, '');
  const withoutRanges = withoutMatchers.replace(/\[[^\]]*\]/g, '');
  const keywords = new Set(['and', 'or', 'unless', 'by', 'on', 'bool', 'offset', 'Inf', 'NaN']);
  const names: string[] = [];
  for (const match of withoutRanges.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*/g)) {
    const rest = withoutRanges.slice((match.index ?? 0) + match[0].length);
    if (/^\s*\(/.test(rest)) continue; // a function call
    const before = withoutRanges[(match.index ?? 0) - 1];
    if (before !== undefined && /[0-9.]/.test(before)) continue; // part of a number such as 1e3
    if (!keywords.has(match[0])) names.push(match[0]);
  }
  return names;
}

function groupingLabels(expr: string): string[] {
  return [...expr.matchAll(/\b(?:by|on)\s*\(([^)]*)\)/g)].flatMap((m) => (m[1] ?? '').split(',').map((s) => s.trim()).filter(Boolean));
}

function expectKnownMetrics(where: string, expr: string): void {
  for (const name of metricNames(expr)) {
    const known = catalogueSeries.has(name) || recorded.has(name) || external(name);
    expect(known, `${where} reads ${name}, which no SDK emits and no rule records`).toBe(true);
  }
  for (const label of groupingLabels(expr)) {
    // The collector's and Prometheus' own labels (`error`: delta_to_cumulative's dropped points), or the catalogue's.
    const known = ['job', 'instance', 'le', 'receiver', 'exporter', 'filter', 'error', 'integration', 'rule_group'].includes(label) || catalogueLabels.has(label);
    expect(known, `${where} groups by ${label}, which no metric carries`).toBe(true);
  }
}

describe('Prometheus rules', () => {
  it('read only metrics from the catalogue, recording rules, or the collector', () => {
    for (const rule of rules) expectKnownMetrics(rule.record ?? rule.alert ?? '?', rule.expr);
  });

  it('give every alert severity, component, summary, description, runbook_url and for', () => {
    for (const alert of alerts) {
      expect(Object.keys(alert.labels ?? {}).sort(), alert.alert).toEqual(['component', 'severity']);
      expect(['none', 'warning', 'critical']).toContain(alert.labels?.severity);
      expect(Object.keys(alert.annotations ?? {}).sort(), alert.alert).toEqual(['description', 'runbook_url', 'summary']);
      expect(alert.for, alert.alert).toMatch(/^\d+[smh]$/);
    }
  });

  it('link every alert to its section of docs/runbooks.md', () => {
    const anchors = new Set(
      [...readFileSync(at('docs', 'runbooks.md'), 'utf8').matchAll(/^##+ (.+)$/gm)].map((m) => (m[1] ?? '').toLowerCase().replace(/[^a-z0-9 -]/g, '').replace(/ /g, '-')),
    );
    // The rules' alerts and the anomaly alert the analytics service posts.
    for (const [name, url] of [...alerts.map((a) => [a.alert, a.annotations?.runbook_url ?? ''] as const), [ANOMALY_ALERTNAME, ANOMALY_RUNBOOK_URL] as const]) {
      expect(url.startsWith('https://github.com/socketscope/socketscope/blob/main/docs/runbooks.md#'), url).toBe(true);
      expect(anchors.has(url.split('#')[1] ?? ''), `${name}: no runbook section for ${url}`).toBe(true);
    }
  });

  it('unit-test every alert and severity firing, and every alert silent just before', () => {
    interface Case { alertname: string; exp_alerts: Array<{ exp_labels: Record<string, string> }> }
    const cases: Case[] = yamlFiles('prometheus/tests').flatMap(
      (file) => (parse(readFileSync(file, 'utf8')) as { tests: Array<{ alert_rule_test?: Case[] }> }).tests.flatMap((t) => t.alert_rule_test ?? []),
    );
    for (const alert of alerts) {
      const name = alert.alert ?? '';
      const severity = alert.labels?.severity;
      const fires = cases.some((c) => c.alertname === name && c.exp_alerts.some((a) => a.exp_labels.severity === severity));
      expect(fires, `${name} (${severity}) is never tested firing`).toBe(true);
      if (name !== 'Watchdog') {
        expect(cases.some((c) => c.alertname === name && c.exp_alerts.length === 0), `${name} is never tested silent`).toBe(true);
      }
    }
  });
});

describe('Grafana', () => {
  const dashboards = renderDashboards();

  it('dashboards on disk are the ones grafana/src builds (run `node --import tsx grafana/build.ts`)', () => {
    for (const [file, json] of Object.entries(dashboards)) {
      expect(readFileSync(at('grafana', 'dashboards', file), 'utf8'), file).toBe(json);
    }
  });

  it('panels read only catalogue metrics, use $__rate_interval and the datasource variable', () => {
    for (const [file, json] of Object.entries(dashboards)) {
      const dashboard = JSON.parse(json) as Record<string, unknown>;
      const exprs = promqlExpressions(dashboard);
      expect(exprs.length).toBeGreaterThan(10);
      for (const { panel, expr } of exprs) {
        expectKnownMetrics(`${file}: ${panel}`, expr);
        expect(expr, `${file}: ${panel}`).not.toMatch(/\[\d+[smh]\]/);
      }
      const variables = (dashboard.templating as { list: Array<{ name: string; type: string }> }).list;
      expect(variables.find((v) => v.name === 'datasource')?.type).toBe('datasource');
      for (const panel of dashboard.panels as Array<{ type: string; fieldConfig?: { defaults: { unit?: string } } }>) {
        if (panel.type !== 'row') expect(panel.fieldConfig?.defaults.unit).toBeTruthy();
      }
    }
  });

  it('draws the thresholds of time series, and polls PostgreSQL no more than every 5 minutes', () => {
    for (const [file, json] of Object.entries(dashboards)) {
      interface Panel {
        type: string;
        title: string;
        datasource?: { type: string };
        fieldConfig?: { defaults?: { thresholds?: unknown; custom?: { thresholdsStyle?: { mode?: string } } } };
      }
      const dashboard = JSON.parse(json) as { refresh: string; panels: Panel[] };
      for (const panel of dashboard.panels) {
        const defaults = panel.fieldConfig?.defaults;
        // Grafana's default thresholdsStyle is 'off': thresholds set but never shown.
        if (panel.type === 'timeseries' && defaults?.thresholds) expect(defaults.custom?.thresholdsStyle?.mode, `${file}: ${panel.title}`).toMatch(/^line/);
      }
      if (dashboard.panels.some((p) => p.datasource?.type === 'grafana-postgresql-datasource')) {
        expect(['5m', '10m', '15m', '30m', '1h', ''], file).toContain(dashboard.refresh);
      }
    }
  });

  it('provisions every datasource uid the dashboards use', () => {
    const provisioned = (parse(readFileSync(at('grafana', 'provisioning', 'datasources', 'datasources.yml'), 'utf8')) as {
      datasources: Array<{ uid: string; type: string }>;
    }).datasources;
    expect(provisioned.map((d) => d.uid).sort()).toEqual(Object.values(DATASOURCE_UIDS).sort());
    const tempo = provisioned.find((d) => d.type === 'tempo') as unknown as { jsonData: { tracesToMetrics: { datasourceUid: string } } };
    expect(tempo.jsonData.tracesToMetrics.datasourceUid).toBe(DATASOURCE_UIDS.prometheus);
  });
});

describe('Tempo and the collector', () => {
  it("Tempo's OTLP/gRPC receiver is where the collector's default traces endpoint points", () => {
    const tempo = parse(readFileSync(at('grafana', 'tempo.yaml'), 'utf8')) as {
      distributor: { receivers: { otlp: { protocols: { grpc: { endpoint: string } } } } };
    };
    const collector = readFileSync(at('otel-collector-config.yaml'), 'utf8');
    const port = tempo.distributor.receivers.otlp.protocols.grpc.endpoint.split(':')[1];
    expect(collector).toContain(`\${env:TRACES_OTLP_ENDPOINT:-tempo:${port}}`);
  });
});

describe('collector version pin', () => {
  it('the compose image, the builder and every manifest module use the manifest version', () => {
    const manifest = readFileSync(at('collector', 'manifest.yaml'), 'utf8');
    const version = /^ {2}version: (\d+\.\d+\.\d+)$/m.exec(manifest)?.[1];
    expect(version).toMatch(/^0\.\d+\.\d+$/);
    const compose = readFileSync(at('docker-compose.yml'), 'utf8');
    expect(compose).toContain(`image: otel/opentelemetry-collector-contrib:${version}`);
    const v0modules = [...manifest.matchAll(/gomod: \S+ (v0\.\d+\.\d+)/g)].map((m) => m[1]);
    expect(v0modules.length).toBeGreaterThan(8);
    expect(new Set(v0modules)).toEqual(new Set([`v${version}`]));
    expect(readFileSync(at('scripts', 'build-collector.sh'), 'utf8')).toContain('cmd/builder@v$version');
  });
});

describe('instance identity (the collector builds `instance` from service.instance.id)', () => {
  const quiet = { OTEL_METRICS_EXPORTER: 'none', OTEL_TRACES_EXPORTER: 'none', OTEL_RESOURCE_ATTRIBUTES: '', OTEL_SERVICE_NAME: '' };
  const start = (options: { serviceInstanceId?: string; env?: Record<string, string> } = {}) =>
    startTelemetry({ serviceName: 'identity-test', global: false, ...options, env: { ...quiet, ...options.env } });

  it('two telemetry instances of one service get two different random ids', async () => {
    const [a, b] = await Promise.all([start(), start()]);
    try {
      const ids = [a, b].map((t) => t.resource.attributes['service.instance.id']);
      for (const id of ids) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(ids[0]).not.toBe(ids[1]);
      expect([a, b].map((t) => t.resource.attributes['service.name'])).toEqual(['identity-test', 'identity-test']);
    } finally {
      await Promise.all([a.shutdown(), b.shutdown()]);
    }
  });

  it('OTEL_RESOURCE_ATTRIBUTES overrides the option, which overrides the random id; OTEL_SERVICE_NAME wins for the name', async () => {
    const fromOption = await start({ serviceInstanceId: 'pod-7' });
    const fromEnv = await start({ serviceInstanceId: 'pod-7', env: { OTEL_RESOURCE_ATTRIBUTES: 'service.instance.id=chat-0%2Cblue,deployment.environment.name=prod' } });
    const named = await start({ env: { OTEL_SERVICE_NAME: 'chat', OTEL_RESOURCE_ATTRIBUTES: 'service.name=ignored' } });
    try {
      expect(fromOption.resource.attributes['service.instance.id']).toBe('pod-7');
      expect(fromEnv.resource.attributes).toMatchObject({ 'service.instance.id': 'chat-0,blue', 'deployment.environment.name': 'prod', 'service.name': 'identity-test' });
      expect(named.resource.attributes['service.name']).toBe('chat');
    } finally {
      await Promise.all([fromOption.shutdown(), fromEnv.shutdown(), named.shutdown()]);
    }
  });

  it('reads OTEL_RESOURCE_ATTRIBUTES as the spec does: a malformed entry discards the whole variable', () => {
    expect(parseResourceAttributes(' a=1 , b=x%3Dy,,')).toEqual({ a: '1', b: 'x=y' });
    expect(parseResourceAttributes('a=1,b')).toEqual({});
    expect(parseResourceAttributes('a=1,=2')).toEqual({});
    expect(parseResourceAttributes(undefined)).toEqual({});
  });
});

describe('the collector keeps browser sessions folded and server replicas apart', () => {
  const collector = parse(readFileSync(at('otel-collector-config.yaml'), 'utf8')) as {
    processors: {
      'transform/browser': { metric_statements: Array<{ context: string; conditions?: string[]; statements: string[] }> };
      'transform/browser_traces': { trace_statements: Array<{ context: string; statements: string[] }> };
      'transform/browser_span_metrics': { trace_statements: Array<{ context: string; statements: string[] }> };
      'filter/browser': { metrics: { metric: string[]; datapoint: string[] } };
      'transform/server_resource': { metric_statements: Array<{ context: string; statements: string[] }> };
    };
    connectors: { span_metrics: { resource_metrics_key_attributes: string[]; histogram: { unit: string } } };
    service: { pipelines: Record<string, { receivers: string[]; processors: string[]; exporters: string[] }> };
  };
  const statements = (context: string) => {
    const group = collector.processors['transform/browser'].metric_statements.filter((s) => s.context === context);
    expect(group).toHaveLength(1);
    expect(group[0]?.conditions).toBeUndefined();
    return group[0]?.statements ?? [];
  };
  const keepKeys = (context: string) => {
    const kept = statements(context).flatMap((line) => /^keep_keys\(attributes, (\[[^\]]*\])\)$/.exec(line)?.[1] ?? []);
    expect(kept).toHaveLength(1);
    return JSON.parse(kept[0] as string) as string[];
  };

  it("browser resources keep only service.name, and span_metrics keys its streams on exactly the resource attributes that become job and instance", () => {
    // Any other kept key would be no label but its own stream (delta_to_cumulative, span_metrics):
    // two app versions printed under identical labels. service.namespace would become part of `job`.
    expect(keepKeys('resource')).toEqual(['service.name']);
    expect([...collector.connectors.span_metrics.resource_metrics_key_attributes].sort()).toEqual(['service.instance.id', 'service.name', 'service.namespace']);
    expect(collector.connectors.span_metrics.histogram.unit).toBe('s');
  });

  it("the browser metrics' instrumentation scope keeps no attributes, the web SDK's name and MAJOR.MINOR.PATCH versions", () => {
    expect(statements('scope')).toEqual([
      'delete_matching_keys(attributes, ".*")',
      'set(schema_url, "")',
      `set(name, "_OTHER") where name != "${SDK_NAME}"`,
      'set(version, "_OTHER") where not IsMatch(version, "^[0-9]{1,4}\\\\.[0-9]{1,4}\\\\.[0-9]{1,4}$")',
    ]);
    expect(SDK_VERSION).toMatch(/^[0-9]{1,4}\.[0-9]{1,4}\.[0-9]{1,4}$/);
  });

  it('browser data points keep exactly the attribute keys of the web SDK catalogue, and each value outside its list becomes _OTHER', () => {
    expect(keepKeys('datapoint').sort()).toEqual([...new Set(CLIENT_METRICS.flatMap((def) => def.attributes))].sort());
    const folds = statements('datapoint').filter((line) => line.startsWith('set(attributes['));
    const expected = Object.entries(ATTRIBUTE_VALUES).map(([key, values]) => {
      // Plain words, so the alternation needs no escaping in the regex or the OTTL string.
      for (const value of values) expect(value).toMatch(/^[\w-]+$/);
      const pattern = `^(${values.join('|')})$`;
      return `set(attributes["${key}"], "_OTHER") where attributes["${key}"] != nil and not IsMatch(attributes["${key}"], "${pattern}")`;
    });
    expect(folds).toEqual(expected);
  });

  it("browser spans reach span_metrics only through the browser metrics' resource statements and the span name allow-list, and Tempo with the same service.name rule", () => {
    const spanMetrics = collector.processors['transform/browser_span_metrics'].trace_statements;
    expect(spanMetrics.filter((s) => s.context === 'resource').map((s) => s.statements)).toEqual([statements('resource')]);
    const spans = spanMetrics.filter((s) => s.context === 'span').flatMap((s) => s.statements);
    expect(spans[0]).toBe('set(name, "_OTHER") where not IsMatch(name, "^(${env:BROWSER_SPAN_NAMES:-websocket connect})$")');
    const tempo = collector.processors['transform/browser_traces'].trace_statements.filter((s) => s.context === 'resource').flatMap((s) => s.statements);
    expect(tempo).toContain(statements('resource')[1]);
    const pipelines = collector.service.pipelines;
    expect(pipelines['traces/browser']).toEqual({ receivers: ['otlp/browser'], processors: ['memory_limiter', 'transform/browser_traces', 'batch'], exporters: ['otlp_grpc/tempo'] });
    expect(pipelines['traces/browser_span_metrics']).toEqual({ receivers: ['otlp/browser'], processors: ['memory_limiter', 'transform/browser_span_metrics', 'batch'], exporters: ['span_metrics'] });
  });

  it("the browsers' receiver feeds only its own filtered pipelines, and its filter keeps exactly the web SDK catalogue's names, types and units, as deltas", () => {
    const pipelines = collector.service.pipelines;
    const fed = Object.entries(pipelines).filter(([, p]) => p.receivers.includes('otlp/browser')).map(([name]) => name).sort();
    expect(fed).toEqual(['metrics/browser', 'traces/browser', 'traces/browser_span_metrics']);
    expect(pipelines['metrics/browser']?.receivers).toEqual(['otlp/browser']);
    expect(pipelines['metrics/browser']?.processors).toEqual(['memory_limiter', 'filter/browser', 'batch', 'transform/browser', 'delta_to_cumulative']);
    const conditions = collector.processors['filter/browser'].metrics.metric;
    expect(conditions).toEqual([catalogueCondition(), 'aggregation_temporality != AGGREGATION_TEMPORALITY_DELTA']);
    // One clause per web SDK metric, naming it exactly; no server, load or service metric.
    const clauses = catalogueClauses();
    expect(clauses).toHaveLength(CLIENT_METRICS.length);
    for (const def of CLIENT_METRICS) {
      expect(clauses.filter((clause) => clause.startsWith(`(name == "${def.name}" and `) && clause.endsWith(` and unit == "${def.unit}")`)), def.name).toHaveLength(1);
    }
    for (const def of METRICS.filter((m) => !CLIENT_METRICS.includes(m))) expect(catalogueCondition()).not.toContain(`"${def.name}"`);
  });

  it("browser histogram points keep exactly the catalogue's bucket boundaries for their metric (a post with 20 000 boundaries was 20 001 series)", () => {
    const datapoint = collector.processors['filter/browser'].metrics.datapoint;
    expect(datapoint).toEqual(bucketConditions());
    const histograms = CLIENT_METRICS.filter((def) => def.instrument === 'histogram');
    expect(datapoint).toHaveLength(histograms.length);
    for (const def of histograms) {
      const buckets = def.buckets ?? [];
      expect(buckets.length, `${def.name} has bucket advice`).toBeGreaterThan(0);
      // The count first (cheap, and never an error), then the text Go's fmt prints for the []float64.
      expect(datapoint.filter((c) => c.startsWith(`metric.name == "${def.name}" and `)), def.name).toEqual([
        `metric.name == "${def.name}" and (Len(explicit_bounds) != ${buckets.length} or Format("%v", [explicit_bounds]) != "[${buckets.join(' ')}]")`,
      ]);
    }
    // Go's %v of a float64 (strconv 'g', shortest): plain from 1e-4 up to 1e6, exponents of two digits or more outside.
    expect([0.005, 1, 2.5, 14400, 28800, 0.0001, 999999, 1e6, 1.5e6, 0.00005, 1e21, 1.25e-7, -0.5].map(goFloat)).toEqual([
      '0.005', '1', '2.5', '14400', '28800', '0.0001', '999999', '1e+06', '1.5e+06', '5e-05', '1e+21', '1.25e-07', '-0.5',
    ]);
  });

  it("server resources lose the JS SDK's command line and keep values of at most 256 characters (target_info labels under label_value_length_limit)", () => {
    expect(collector.service.pipelines.metrics?.processors).toEqual(['memory_limiter', 'transform/server_resource', 'batch']);
    expect(collector.processors['transform/server_resource'].metric_statements).toEqual([
      {
        context: 'resource',
        statements: ['delete_key(attributes, "process.command_args")', 'delete_key(attributes, "process.command_line")', 'truncate_all(attributes, 256)'],
      },
    ]);
  });

  it('otel-collector-config.yaml holds the browser catalogue block collector/browser-catalogue.ts renders (run `node --import tsx collector/browser-catalogue.ts`)', () => {
    const text = readFileSync(at('otel-collector-config.yaml'), 'utf8');
    expect(text).toBe(renderCollectorConfig(text));
  });
});

describe('wiring that must agree across files', () => {
  // The two SDKs are published apart with no shared dependency, so each carries the table; this keeps them one.
  it('the web SDK folds every close code into the same class as the server SDK', () => {
    expect(webCloseCodes.CLOSE_CODE_CLASSES).toEqual(serverCloseCodes.CLOSE_CODE_CLASSES);
    const codes = Array.from({ length: 6000 }, (_, code) => code);
    expect(codes.map(webCloseCodes.closeCodeClass)).toEqual(codes.map(serverCloseCodes.closeCodeClass));
  });

  const compose = parse(readFileSync(at('docker-compose.yml'), 'utf8')) as {
    services: Record<string, { command?: string[]; environment?: Record<string, string> }>;
  };
  const alertmanager = parse(readFileSync(at('alertmanager', 'alertmanager.yml'), 'utf8')) as {
    receivers: Array<{ name: string; webhook_configs?: Array<{ url: string; http_config?: { authorization?: { type?: string; credentials?: string } } }> }>;
  };

  it('every webhook to the analytics service carries the bearer placeholder, and compose turns it into a credentials file of ALERTMANAGER_WEBHOOK_TOKEN', () => {
    const webhooks = alertmanager.receivers.flatMap((r) => r.webhook_configs ?? []);
    expect(webhooks.length).toBe(4);
    for (const webhook of webhooks) {
      expect(webhook.url).toBe('http://app:8080/api/ws/alerts/webhook');
      expect(webhook.http_config?.authorization).toEqual({ type: 'Bearer', credentials: WEBHOOK_TOKEN_PLACEHOLDER });
    }
    const script = compose.services.alertmanager?.command?.[0] ?? '';
    expect(script).toContain(`s|credentials: ${WEBHOOK_TOKEN_PLACEHOLDER}|credentials_file: /tmp/am/webhook-token|`);
    expect(script).toContain('"$${ALERTMANAGER_WEBHOOK_TOKEN}" > /tmp/am/webhook-token');
    const variable = '${ALERTMANAGER_WEBHOOK_TOKEN:?set ALERTMANAGER_WEBHOOK_TOKEN (16 characters or more)}';
    expect(compose.services.alertmanager?.environment?.ALERTMANAGER_WEBHOOK_TOKEN).toBe(variable);
    expect(compose.services.app?.environment?.ALERTMANAGER_WEBHOOK_TOKEN).toBe(variable);
    expect(readFileSync(at('.env.example'), 'utf8')).toMatch(/^ALERTMANAGER_WEBHOOK_TOKEN=.{16,}$/m);
  });

  it("the app service's environment, interpolated from .env.example as copied, passes the config loader (HOST 0.0.0.0: both tokens set, 16+ characters)", () => {
    const example = Object.fromEntries([...readFileSync(at('.env.example'), 'utf8').matchAll(/^([A-Z][A-Z0-9_]*)=(.*)$/gm)].map((m) => [m[1] as string, m[2] as string]));
    // Compose's ${NAME}, ${NAME:-default} and ${NAME:?message}; $$ is a literal $.
    const interpolate = (text: string) =>
      text.replace(/\$\$|\$\{([A-Z][A-Z0-9_]*)(?::([-?])([^}]*))?\}/g, (whole, name?: string, op?: string, rest?: string) => {
        if (name === undefined) return '$';
        const value = example[name] ?? '';
        if (value !== '') return value;
        if (op === '?') throw new Error(`compose refuses to start: ${rest ?? ''}`);
        return op === '-' ? (rest ?? '') : '';
      });
    const environment = Object.fromEntries(Object.entries(compose.services.app?.environment ?? {}).map(([name, value]) => [name, interpolate(String(value))]));
    expect(environment.HOST).toBe('0.0.0.0');
    const config = loadConfig(environment);
    expect(config.adminToken).toBe(example.SOCKETSCOPE_ADMIN_TOKEN);
    expect(config.webhookToken).toBe(example.ALERTMANAGER_WEBHOOK_TOKEN);
  });

  it('every variable docker-compose reads is in .env.example and in the README pipeline table, and the table says docker-compose only of variables it reads', () => {
    // ${NAME…} is compose's interpolation; $${NAME} is a variable of the container's shell.
    const read = new Set([...readFileSync(at('docker-compose.yml'), 'utf8').matchAll(/(?<!\$)\$\{([A-Z][A-Z0-9_]*)/g)].map((m) => m[1] as string));
    expect(read.size).toBeGreaterThan(10);
    const example = new Set([...readFileSync(at('.env.example'), 'utf8').matchAll(/^([A-Z][A-Z0-9_]*)=/gm)].map((m) => m[1] as string));
    expect([...example].sort()).toEqual([...read].sort());
    const readme = readFileSync(at('README.md'), 'utf8');
    const table = readme.slice(readme.indexOf('The pipeline and the local stack:'), readme.indexOf('\n## ', readme.indexOf('The pipeline and the local stack:')));
    const rows = table.split('\n').filter((line) => line.startsWith('| `')).map((line) => line.split(' | '));
    const named = (cell: string | undefined) => [...(cell ?? '').matchAll(/`([A-Z][A-Z0-9_]*)`/g)].map((m) => m[1] as string);
    const listed = new Set(rows.flatMap((cells) => named(cells[0])));
    for (const name of read) expect(listed.has(name), `${name} (read by docker-compose.yml) is not in README's pipeline table`).toBe(true);
    for (const cells of rows.filter((c) => (c[1] ?? '').includes('docker-compose'))) {
      for (const name of named(cells[0])) expect(read.has(name), `README says docker-compose reads ${name}`).toBe(true);
    }
  });

  it("Prometheus keeps the collector's job and instance labels, with a sample and label length limit on that scrape", () => {
    const prometheus = parse(readFileSync(at('prometheus', 'prometheus.yml'), 'utf8')) as { scrape_configs: Array<Record<string, unknown>> };
    const job = prometheus.scrape_configs.find((c) => c.job_name === 'otel-collector');
    expect(job).toMatchObject({ honor_labels: true, sample_limit: expect.any(Number), label_value_length_limit: expect.any(Number) });
    // The longest label value a browser can set: a folded scope version (4.4.4 digits) or _OTHER, well under the limit.
    expect(job?.label_value_length_limit).toBeGreaterThanOrEqual(256);
  });

  it("OtelCollectorScrapeNearSampleLimit warns at 80 % of the otel-collector job's sample_limit, and the pipeline dashboard draws that limit", () => {
    const prometheus = parse(readFileSync(at('prometheus', 'prometheus.yml'), 'utf8')) as { scrape_configs: Array<{ job_name: string; sample_limit?: number }> };
    const limit = prometheus.scrape_configs.find((c) => c.job_name === 'otel-collector')?.sample_limit ?? NaN;
    expect(limit).toBeGreaterThan(0);
    const warning = Math.round(0.8 * limit);
    const alert = alerts.find((a) => a.alert === 'OtelCollectorScrapeNearSampleLimit');
    expect(alert?.expr.trim()).toBe(`scrape_samples_scraped{job="otel-collector"} > ${warning}`);
    expect(alert?.annotations?.description).toContain(`sample_limit (${limit})`);
    expect(collectorSampleLimit()).toBe(limit);
    const dashboard = JSON.parse(renderDashboards()['socketscope-pipeline.json'] ?? '{}') as {
      panels: Array<{ title: string; targets?: Array<{ expr?: string }>; fieldConfig?: { defaults: { thresholds?: { steps: Array<{ value: number | null }> } } } }>;
    };
    const panel = dashboard.panels.find((p) => p.targets?.some((t) => t.expr?.includes('scrape_samples_scraped{job="otel-collector"}')));
    expect(panel?.fieldConfig?.defaults.thresholds?.steps.map((step) => step.value)).toEqual([null, warning, limit]);
  });

  it('Prometheus scrapes itself and Alertmanager where the alerting section and the demo expect them', () => {
    const prometheus = parse(readFileSync(at('prometheus', 'prometheus.yml'), 'utf8')) as {
      alerting: { alertmanagers: Array<{ static_configs: Array<{ targets: string[] }> }> };
      scrape_configs: Array<{ job_name: string; static_configs: Array<{ targets: string[] }> }>;
    };
    const targets = Object.fromEntries(prometheus.scrape_configs.map((job) => [job.job_name, job.static_configs.flatMap((c) => c.targets)]));
    expect(targets.prometheus).toEqual([PROMETHEUS_SELF_TARGET]);
    expect(targets.alertmanager).toEqual(prometheus.alerting.alertmanagers.flatMap((a) => a.static_configs.flatMap((c) => c.targets)));
  });

  it('the compose demo service runs the app-only demo against the collector and the service', () => {
    const demo = compose.services.demo;
    expect(demo?.command).toEqual(['node', 'bin/socketscope.js', 'demo', '--app-only', '--clients', '60', '--report-url', 'http://app:8080']);
    expect(demo?.environment?.OTEL_EXPORTER_OTLP_ENDPOINT).toBe('http://otel-collector:4318');
  });
});
