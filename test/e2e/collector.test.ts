/**
 * Our collector build with the shipped config, on real OTLP traffic, read
 * where Prometheus reads it (the prometheus exporter's /metrics):
 * - two replicas of one service (two telemetry bootstraps) are two series,
 *   told apart by `instance` (their service.instance.id), not one series both
 *   overwrite;
 * - spans from two browser sessions whose resources differ only in attributes
 *   the browser rules drop are counted together by the span metrics
 *   connector (calls 4 + 2 = 6, never 4 then 2), in seconds;
 * - the traces pipeline delivers to the demo's in-process OTLP sink (what the
 *   native demo uses instead of Tempo) without a failed span;
 * - the browsers' receiver, open to the internet, passes only what the web SDK
 *   sends: the catalogue's metric names with their instrument type and unit, as
 *   deltas, with the catalogue's attribute keys and values (others become
 *   _OTHER); the servers' receiver passes anything;
 * - so a page cannot fail Prometheus' scrape of the collector with a name or
 *   unit longer than label_value_length_limit, nor fill its sample_limit with
 *   a histogram of 20 000 bucket boundaries (only the catalogue's boundaries
 *   pass; the dropped points are counted by filter/browser), nor take a
 *   catalogue name from the real histogram or counter with a point of
 *   another type; and what
 *   delta_to_cumulative drops past max_streams (the browser still gets 200) is
 *   counted where OtelCollectorDroppingBrowserPoints reads it;
 * - a server resource with the JS SDK's process.command_args (longer than
 *   label_value_length_limit as a target_info label) does not fail the
 *   scrape: transform/server_resource drops the command line and cuts the
 *   other values;
 * - nothing a poster puts on a browser resource or instrumentation scope mints
 *   a label or a second stream: deltas from two app versions add up in one
 *   monotonic series, service.namespace does not reach `job`, scope
 *   attributes vanish and unknown scope names and versions fold to _OTHER;
 *   with the shipped defaults, random service and span names land in one
 *   _OTHER job and one _OTHER span name.
 */
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { CLIENT_METRICS, METRICS } from '../../src/catalogue.ts';
import { type OtlpSink, startOtlpSink } from '../../src/demo/otlp-sink.ts';
import { COLLECTOR_CONFIG } from '../../src/stack/collector.ts';
import { type CollectorHandle, Stack, renderPrometheusConfig, waitFor } from '../../src/stack/index.ts';
import { type Telemetry, startTelemetry } from '../../src/telemetry/index.ts';
import { type PromSample, promQuery, rulesWithoutHoldTime, waitForSamples } from '../helpers/prometheus.ts';

let stack: Stack;
let sink: OtlpSink;
let collector: CollectorHandle;
const telemetries: Telemetry[] = [];
const sinks: OtlpSink[] = [];

beforeAll(async () => {
  stack = new Stack('e2e-collector');
  sink = await startOtlpSink();
  // The native stack allows any plain browser service.name (NATIVE_BROWSER_SERVICE_NAMES); the
  // span names here are the web SDK's connect span and the request this file marks.
  collector = await stack.collector({ env: { TRACES_OTLP_ENDPOINT: sink.endpoint, BROWSER_SPAN_NAMES: 'websocket connect|request quote' } });
});

afterAll(async () => {
  for (const telemetry of telemetries) await telemetry.shutdown();
  await stack?.stop();
  await sink?.close();
  for (const other of sinks) await other.close();
});

interface Sample {
  labels: Record<string, string>;
  value: number;
}

/** The samples of one metric in a text exposition. */
function samples(exposition: string, name: string): Sample[] {
  const out: Sample[] = [];
  for (const line of exposition.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)/.exec(line);
    if (!match || match[1] !== name) continue;
    const labels = Object.fromEntries([...(match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]));
    out.push({ labels: labels as Record<string, string>, value: Number(match[3]) });
  }
  return out;
}

/** The metric names (sorted, once each) of a job's series in a text exposition. */
function metricNamesOfJob(exposition: string, job: string): string[] {
  const names = exposition
    .split('\n')
    .filter((line) => !line.startsWith('#') && line.includes(`job="${job}"`))
    .map((line) => line.split('{')[0] ?? line);
  return [...new Set(names)].sort();
}

/** The unit the SDKs export a catalogue metric with ('' for a name outside the catalogue). */
const unitOf = (name: string): string => METRICS.find((def) => def.name === name)?.unit ?? '';

async function scrape(endpoint: string): Promise<string> {
  return (await fetch(`http://${endpoint}/metrics`)).text();
}

describe('instance identity through the collector', () => {
  it("two replicas' connection counts are two series with their own instance label", async () => {
    const job = 'e2e-replicas';
    const env = { OTEL_EXPORTER_OTLP_ENDPOINT: collector.otlpHttpUrl, OTEL_METRIC_EXPORT_INTERVAL: '600000', OTEL_TRACES_EXPORTER: 'none', OTEL_SERVICE_NAME: job, OTEL_RESOURCE_ATTRIBUTES: '' };
    const replicas = await Promise.all([startTelemetry({ serviceName: job, global: false, env }), startTelemetry({ serviceName: job, global: false, env })]);
    telemetries.push(...replicas);
    const counts = [3, 5];
    replicas.forEach((telemetry, i) => {
      const gauge = telemetry.meterProvider.getMeter('e2e').createUpDownCounter('websocket.server.connection.count', { unit: '{connection}' });
      gauge.add(counts[i] as number);
    });
    await Promise.all(replicas.map((t) => t.meterProvider.forceFlush()));

    const ids = replicas.map((t) => String(t.resource.attributes['service.instance.id']));
    let series: Sample[] = [];
    await waitFor('both replicas in the exporter', async () => {
      series = samples(await scrape(collector.metricsEndpoint), 'websocket_server_connection_count').filter((s) => s.labels.job === job);
      return series.length >= 2;
    });
    expect(series.map((s) => [s.labels.instance, s.value]).sort()).toEqual([
      [ids[0], 3],
      [ids[1], 5],
    ].sort());
  });
});

describe('browser span metrics', () => {
  it('sessions that differ only in dropped resource attributes and span attribute values outside their list add up in one cumulative series, in seconds', { timeout: 90_000 }, async () => {
    const job = 'e2e-web';
    const now = BigInt(Date.now()) * 1_000_000n;
    const span = (_: unknown, i: number) => ({
      traceId: randomBytes(16).toString('hex'),
      spanId: randomBytes(8).toString('hex'),
      name: 'request quote',
      kind: 3,
      startTimeUnixNano: String(now),
      endTimeUnixNano: String(now + 20_000_000n), // 20 ms
      // A span_metrics dimension: values outside the semantic convention's list fold into one.
      attributes: [{ key: 'messaging.operation.type', value: { stringValue: `made-up-${i}` } }],
    });
    const session = (id: string, spans: number) => ({
      resourceSpans: [
        {
          resource: {
            attributes: [
              ['service.name', job],
              ['telemetry.sdk.language', 'webjs'],
              ['telemetry.sdk.name', 'socketscope-web-sdk'],
              // What other browser SDKs (or anyone posting) put on the resource; transform/browser_traces
              // drops them, or each would become its own `instance` series.
              ['service.instance.id', `sess-${id}`],
              ['session.id', id],
              ['user_agent.original', `Mozilla/5.0 (${id})`],
            ].map(([key, value]) => ({ key, value: { stringValue: value } })),
          },
          scopeSpans: [{ scope: { name: 'e2e' }, spans: Array.from({ length: spans }, span) }],
        },
      ],
    });
    for (const body of [session('a', 4), session('b', 2)]) {
      const response = await fetch(`${collector.browserOtlpUrl}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      expect(response.status).toBe(200);
    }

    // span_metrics flushes every 15 s; until then (or while only one session is in) the count is below 6.
    let calls: Sample[] = [];
    let counts: Sample[] = [];
    await waitFor(
      'calls_total to count both sessions',
      async () => {
        const exposition = await scrape(collector.metricsEndpoint);
        calls = samples(exposition, 'traces_span_metrics_calls_total').filter((s) => s.labels.job === job);
        counts = samples(exposition, 'traces_span_metrics_duration_seconds_count').filter((s) => s.labels.job === job);
        return calls.reduce((sum, s) => sum + s.value, 0) === 6;
      },
      { timeoutMs: 60_000, intervalMs: 500 },
    ).catch((error: Error) => {
      throw new Error(`${error.message}: calls_total series ${JSON.stringify(calls)}`);
    });
    expect(calls).toHaveLength(1);
    expect(calls[0]?.labels).toMatchObject({ span_name: 'request quote', span_kind: 'SPAN_KIND_CLIENT', messaging_operation_type: '_OTHER' });
    expect(calls[0]?.labels.instance).toBeUndefined();
    expect(counts.map((s) => s.value)).toEqual([6]);
  });

  it('the traces pipeline delivers every span to the local OTLP sink, none failed', async () => {
    // The 6 spans above, and nothing else sends traces here.
    let sent: Sample[] = [];
    await waitFor('the exporter to report its sent spans', async () => {
      sent = samples(await scrape(collector.selfMetricsEndpoint), 'otelcol_exporter_sent_spans').filter((s) => s.labels.exporter === 'otlp_grpc/tempo');
      return sent.reduce((sum, s) => sum + s.value, 0) === 6;
    });
    expect(sink.stats).toEqual({ requests: sink.stats.requests, spans: 6, errors: 0 });
    expect(sink.stats.requests).toBeGreaterThanOrEqual(1);
    const failed = samples(await scrape(collector.selfMetricsEndpoint), 'otelcol_exporter_send_failed_spans');
    expect(failed.reduce((sum, s) => sum + s.value, 0)).toBe(0);
  });
});

const nowNs = () => String(BigInt(Date.now()) * 1_000_000n);
const attrs = (entries: Record<string, string>) => Object.entries(entries).map(([key, value]) => ({ key, value: { stringValue: value } }));
const DELTA = 1;
const CUMULATIVE = 2;
const sum = (name: string, temporality: number, points: Array<[Record<string, string>, number]>) => ({
  name,
  // The unit the web SDK exports the name with (the filter drops a catalogue name with any other).
  unit: unitOf(name),
  sum: {
    aggregationTemporality: temporality,
    isMonotonic: true,
    dataPoints: points.map(([attributes, value]) => ({ attributes: attrs(attributes), startTimeUnixNano: nowNs(), timeUnixNano: nowNs(), asDouble: value })),
  },
});
interface Scope {
  name: string;
  version?: string;
  attributes?: Array<{ key: string; value: { stringValue: string } }>;
}
const post = async (url: string, job: string, metrics: unknown[], { resource = {}, scope = { name: 'e2e' }, schemaUrl }: { resource?: Record<string, string>; scope?: Scope; schemaUrl?: string } = {}) => {
  const body = {
    resourceMetrics: [
      {
        resource: { attributes: attrs({ 'service.name': job, 'telemetry.sdk.language': 'webjs', 'session.id': 'not-a-label', ...resource }) },
        scopeMetrics: [{ scope, metrics, ...(schemaUrl ? { schemaUrl } : {}) }],
      },
    ],
  };
  const response = await fetch(`${url}/v1/metrics`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  expect(response.status).toBe(200);
};

describe("the browsers' receiver keeps to the web SDK's catalogue", () => {
  it('drops server names, gauges, cumulative sums and names outside the catalogue; folds unknown attribute keys and values', async () => {
    const job = 'e2e-browser-guard';
    await post(collector.browserOtlpUrl, job, [
      sum('websocket.client.errors', DELTA, [
        [{ 'error.type': 'connect', 'session.id': 's1' }, 2],
        [{ 'error.type': 'connect', 'session.id': 's2' }, 1],
        [{ 'error.type': '<script>' }, 3],
        [{ 'error.type': 'socket', 'url.full': 'https://example.com/?user=42' }, 4],
      ]),
      sum('websocket.server.connection.opened', DELTA, [[{}, 5]]),
      sum('websocket.client.sent.messages', CUMULATIVE, [[{}, 6]]),
      sum('app.custom.clicks', DELTA, [[{}, 7]]),
      { name: 'browser.interactions', gauge: { dataPoints: [{ attributes: [], timeUnixNano: nowNs(), asDouble: 8 }] } },
      sum('browser.interactions', DELTA, [[{}, 9]]),
    ]);
    // The control: the servers' receiver passes a server metric unchanged.
    await post(collector.otlpHttpUrl, `${job}-server`, [sum('websocket.server.connection.opened', CUMULATIVE, [[{}, 5]])]);

    let exposition = '';
    await waitFor('the browser and server series in the exporter', async () => {
      exposition = await scrape(collector.metricsEndpoint);
      return samples(exposition, 'browser_interactions_total').some((s) => s.labels.job === job) && samples(exposition, 'websocket_server_connection_opened_total').some((s) => s.labels.job === `${job}-server`);
    });
    const ofJob = (name: string) =>
      samples(exposition, name)
        .filter((s) => s.labels.job === job)
        .map((s) => ({ ...s.labels, value: s.value }))
        .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
    expect(ofJob('websocket_client_errors_total')).toEqual([
      { job, error_type: '_OTHER', otel_scope_name: '_OTHER', otel_scope_schema_url: '', otel_scope_version: '_OTHER', value: 3 },
      { job, error_type: 'connect', otel_scope_name: '_OTHER', otel_scope_schema_url: '', otel_scope_version: '_OTHER', value: 3 },
      { job, error_type: 'socket', otel_scope_name: '_OTHER', otel_scope_schema_url: '', otel_scope_version: '_OTHER', value: 4 },
    ]);
    expect(ofJob('browser_interactions_total').map((s) => s.value)).toEqual([9]);
    // Nothing else of this job reached the exporter.
    expect(metricNamesOfJob(exposition, job)).toEqual(['browser_interactions_total', 'websocket_client_errors_total']);
    expect(samples(exposition, 'websocket_server_connection_opened_total').filter((s) => s.labels.job === `${job}-server`).map((s) => s.value)).toEqual([5]);
  });

  it('renames a service.name outside BROWSER_SERVICE_NAMES to _OTHER, so pages cannot mint jobs', async () => {
    const guarded = await stack.collector({ env: { TRACES_OTLP_ENDPOINT: sink.endpoint, BROWSER_SERVICE_NAMES: 'e2e-web-app|e2e-chat-web' } });
    const errors = sum('websocket.client.errors', DELTA, [[{ 'error.type': 'send' }, 1]]);
    for (const job of ['e2e-web-app', 'e2e-chat-web', 'e2e-web-app-2', 'rogue app']) await post(guarded.browserOtlpUrl, job, [errors]);
    let jobs: Record<string, number> = {};
    await waitFor('four posts in the exporter', async () => {
      const series = samples(await scrape(guarded.metricsEndpoint), 'websocket_client_errors_total');
      jobs = Object.fromEntries(series.map((s) => [s.labels.job as string, s.value]));
      return Object.values(jobs).reduce((a, b) => a + b, 0) === 4;
    });
    expect(jobs).toEqual({ 'e2e-web-app': 1, 'e2e-chat-web': 1, _OTHER: 2 });
  });

  it("deltas from two versions of a web app add up in one monotonic series (resource keys that are no label do not split the stream)", { timeout: 60_000 }, async () => {
    const job = 'e2e-rollout-web';
    const version = (v: string, env: string) => ({ 'service.version': v, 'deployment.environment.name': env, 'telemetry.sdk.name': '@socketscope/web-sdk', 'telemetry.sdk.version': v });
    const scope = { name: '@socketscope/web-sdk', version: '0.1.0' };
    const seen: number[] = [];
    const series = async () => samples(await scrape(collector.metricsEndpoint), 'websocket_client_sent_messages_total').filter((s) => s.labels.job === job);
    // The old and the new version alternate, as during a rollout.
    for (const [resource, delta, total] of [[version('1.4.0', 'prod'), 5, 5], [version('1.5.0', 'prod'), 7, 12], [version('1.4.0', 'prod'), 5, 17], [version('1.5.0', 'canary'), 1, 18]] as const) {
      await post(collector.browserOtlpUrl, job, [sum('websocket.client.sent.messages', DELTA, [[{}, delta]])], { resource, scope });
      await waitFor(`the counter at ${total}`, async () => {
        const found = await series();
        expect(found.length).toBeLessThanOrEqual(1);
        if (found[0] && seen.at(-1) !== found[0].value) seen.push(found[0].value);
        return found[0]?.value === total;
      });
    }
    expect(seen).toEqual([5, 12, 17, 18]);
    const [only] = await series();
    expect(only?.labels).toEqual({ job, otel_scope_name: '@socketscope/web-sdk', otel_scope_schema_url: '', otel_scope_version: '0.1.0' });
  });

  it('service.namespace never reaches `job`, so it cannot get round BROWSER_SERVICE_NAMES', async () => {
    const guarded = await stack.collector({ env: { TRACES_OTLP_ENDPOINT: sink.endpoint, BROWSER_SERVICE_NAMES: 'e2e-shop-web' } });
    const errors = sum('websocket.client.errors', DELTA, [[{ 'error.type': 'send' }, 1]]);
    for (let i = 0; i < 3; i++) await post(guarded.browserOtlpUrl, 'e2e-shop-web', [errors], { resource: { 'service.namespace': `attacker-${i}` } });
    let jobs: Record<string, number> = {};
    await waitFor('three posts in the exporter', async () => {
      const series = samples(await scrape(guarded.metricsEndpoint), 'websocket_client_errors_total');
      jobs = Object.fromEntries(series.map((s) => [s.labels.job as string, s.value]));
      return Object.values(jobs).reduce((a, b) => a + b, 0) === 3;
    });
    expect(jobs).toEqual({ 'e2e-shop-web': 3 });
  });

  it("scope attributes and schema URLs vanish; scope names other than the web SDK's and versions other than MAJOR.MINOR.PATCH fold to _OTHER", async () => {
    const job = 'e2e-scope-web';
    const errors = (value: number) => [sum('websocket.client.errors', DELTA, [[{ 'error.type': 'send' }, value]])];
    const user = (id: string) => [{ key: 'user.id', value: { stringValue: id } }];
    await post(collector.browserOtlpUrl, job, errors(1), { scope: { name: '@socketscope/web-sdk', version: '0.1.0', attributes: user('u0') }, schemaUrl: 'https://example.com/u0' });
    await post(collector.browserOtlpUrl, job, errors(2), { scope: { name: '@socketscope/web-sdk', version: '0.1.0', attributes: user('u1') }, schemaUrl: 'https://example.com/u1' });
    await post(collector.browserOtlpUrl, job, errors(4), { scope: { name: '@socketscope/web-sdk', version: '0.1.0-u2' } });
    await post(collector.browserOtlpUrl, job, errors(8), { scope: { name: 'u3', version: '1.0.0', attributes: user('u3') } });
    await post(collector.browserOtlpUrl, job, errors(16), { scope: { name: 'u4' } });
    // A version too long to be a label value (it would fail the whole scrape at label_value_length_limit).
    await post(collector.browserOtlpUrl, job, errors(32), { scope: { name: '@socketscope/web-sdk', version: `${'9'.repeat(2000)}.0.0` } });
    let series: Sample[] = [];
    await waitFor('every post in the exporter', async () => {
      series = samples(await scrape(collector.metricsEndpoint), 'websocket_client_errors_total').filter((s) => s.labels.job === job);
      return series.reduce((total, s) => total + s.value, 0) === 63;
    });
    const base = { job, error_type: 'send', otel_scope_schema_url: '' };
    expect(series.map((s) => ({ ...s.labels, value: s.value })).sort((a, b) => a.value - b.value)).toEqual([
      { ...base, otel_scope_name: '@socketscope/web-sdk', otel_scope_version: '0.1.0', value: 3 },
      { ...base, otel_scope_name: '_OTHER', otel_scope_version: '1.0.0', value: 8 },
      { ...base, otel_scope_name: '_OTHER', otel_scope_version: '_OTHER', value: 16 },
      { ...base, otel_scope_name: '@socketscope/web-sdk', otel_scope_version: '_OTHER', value: 36 },
    ]);
  });
});

/** A histogram delta as the web SDK posts it (explicit buckets, the catalogue's unit). */
const histogram = (name: string, bounds: number[], counts: number[], total: number, attributes: Record<string, string> = {}) => ({
  name,
  unit: unitOf(name),
  histogram: {
    aggregationTemporality: DELTA,
    dataPoints: [
      {
        attributes: attrs(attributes),
        startTimeUnixNano: nowNs(),
        timeUnixNano: nowNs(),
        count: String(counts.reduce((a, b) => a + b, 0)),
        sum: total,
        bucketCounts: counts.map(String),
        explicitBounds: bounds,
      },
    ],
  },
});

/** The web SDK's bucket boundaries for a catalogue histogram. */
const bucketsOf = (name: string): number[] => [...(CLIENT_METRICS.find((def) => def.name === name)?.buckets ?? [])];

/** A histogram delta as the web SDK posts it: the catalogue's boundaries, these observations counted into them. */
const catalogueHistogram = (name: string, observations: number[], attributes: Record<string, string> = {}) => {
  const bounds = bucketsOf(name);
  expect(bounds.length, `${name} has bucket advice`).toBeGreaterThan(0);
  const counts = new Array<number>(bounds.length + 1).fill(0);
  for (const value of observations) {
    const i = bounds.findIndex((bound) => value <= bound);
    const bucket = i < 0 ? bounds.length : i;
    counts[bucket] = (counts[bucket] ?? 0) + 1;
  }
  return histogram(name, bounds, counts, observations.reduce((a, b) => a + b, 0), attributes);
};

describe('what a page posts cannot stop the scrape or take a name from the catalogue', () => {
  // A collector of its own: the exporter keeps the first type it sees for a name, so the hostile
  // posts below come before any real one. Prometheus scrapes it with the shipped prometheus.yml
  // (the otel-collector job's label_value_length_limit and sample_limit) and the shipped rules,
  // every `for:` at 0s. The one change to the shipped collector config: a small max_streams, which
  // the last test reaches with a few posts.
  const MAX_STREAMS = 12;
  let hostile: CollectorHandle;
  let prometheusUrl: string;

  beforeAll(async () => {
    const overlay = join(stack.runDir, 'e2e-collector-max-streams.yaml');
    writeFileSync(overlay, stringify({ processors: { delta_to_cumulative: { max_streams: MAX_STREAMS } } }));
    hostile = await stack.collector({ configFiles: [COLLECTOR_CONFIG, overlay], env: { TRACES_OTLP_ENDPOINT: sink.endpoint } });
    const config = parse(
      renderPrometheusConfig({
        endpoints: { 'otel-collector:8889': hostile.metricsEndpoint, 'otel-collector:8888': hostile.selfMetricsEndpoint },
        scrapeInterval: '1s',
        evaluationInterval: '1s',
      }),
    ) as { rule_files: string[] };
    config.rule_files = rulesWithoutHoldTime(stack.runDir, 'e2e-collector');
    prometheusUrl = (await stack.prometheus({ config: stringify(config) })).url;
    await waitForSamples(prometheusUrl, 'up{job="otel-collector"} == 1');
  }, 90_000);

  const values = (result: PromSample[]) => result.map((sample) => sample.value[1]);

  it("points of another type than the catalogue's for their name are dropped, so they cannot take the name from the real histograms and counter", { timeout: 60_000 }, async () => {
    const job = 'e2e-types-web';
    const nonMonotonic = (name: string, attributes: Record<string, string>, value: number) => ({
      name,
      unit: unitOf(name),
      sum: { aggregationTemporality: DELTA, isMonotonic: false, dataPoints: [{ attributes: attrs(attributes), startTimeUnixNano: nowNs(), timeUnixNano: nowNs(), asDouble: value }] },
    });
    // First on this collector. The exporter makes a gauge of a non-monotonic sum; had it kept
    // these, every real histogram of the name would be dropped at scrape (type conflict).
    await post(hostile.browserOtlpUrl, job, [
      nonMonotonic('websocket.client.rtt', { 'network.connection.effective_type': '4g' }, 5),
      nonMonotonic('websocket.client.connect.duration', {}, 5),
      nonMonotonic('websocket.client.errors', { 'error.type': 'send' }, 5),
      {
        name: 'websocket.client.outage.duration',
        unit: 's',
        exponentialHistogram: {
          aggregationTemporality: DELTA,
          dataPoints: [{ attributes: [], startTimeUnixNano: nowNs(), timeUnixNano: nowNs(), count: '3', sum: 0.3, scale: 0, zeroCount: '0', positive: { offset: 0, bucketCounts: ['3'] } }],
        },
      },
    ]);
    await post(hostile.browserOtlpUrl, job, [
      catalogueHistogram('websocket.client.rtt', [0.01, 0.09], { 'network.connection.effective_type': '4g' }),
      catalogueHistogram('websocket.client.connect.duration', [0.1, 0.1]),
      catalogueHistogram('websocket.client.outage.duration', [0.5]),
      sum('websocket.client.errors', DELTA, [[{ 'error.type': 'send' }, 3]]),
    ]);
    const real = ['websocket_client_rtt_seconds_count', 'websocket_client_connect_duration_seconds_count', 'websocket_client_outage_duration_seconds_count', 'websocket_client_errors_total'];
    let exposition = '';
    await waitFor('the real histograms and counter in the exporter', async () => {
      exposition = await scrape(hostile.metricsEndpoint);
      return real.every((name) => samples(exposition, name).some((s) => s.labels.job === job));
    });
    const ofJob = (name: string) => samples(exposition, name).filter((s) => s.labels.job === job).map((s) => s.value);
    expect(real.map(ofJob)).toEqual([[2], [2], [1], [3]]);
    for (const family of ['websocket_client_rtt_seconds', 'websocket_client_connect_duration_seconds', 'websocket_client_outage_duration_seconds']) {
      expect(exposition).toContain(`# TYPE ${family} histogram`);
      expect(ofJob(family), `no gauge ${family}`).toEqual([]);
    }
    expect(exposition).toContain('# TYPE websocket_client_errors_total counter');
    expect(ofJob('websocket_client_errors'), 'no gauge websocket_client_errors').toEqual([]);
    // Prometheus has them, so the RTT panels and the client rules read them.
    expect(values(await waitForSamples(prometheusUrl, `websocket_client_rtt_seconds_count{job="${job}"}`))).toEqual(['2']);
  });

  it('metric names and units a page makes up never reach the exporter: the scrape stays up and the real metrics keep arriving', { timeout: 90_000 }, async () => {
    const job = 'e2e-names-web';
    const started = Date.now();
    await post(hostile.browserOtlpUrl, job, [
      // As a series name these are longer than the scrape's label_value_length_limit (1 024): the whole scrape would fail.
      sum(`browser.${'a'.repeat(1100)}`, DELTA, [[{}, 1]]),
      { ...sum('websocket.client.connection.drops', DELTA, [[{ 'websocket.close_code.class': 'abnormal' }, 1]]), unit: 'z'.repeat(1100) },
      // The right name and type in another unit: a second family (websocket_client_rtt_milliseconds) beside the catalogue's.
      { ...catalogueHistogram('websocket.client.rtt', [0.01]), unit: 'ms' },
      // A real metric in the same post.
      sum('browser.errors', DELTA, [[{}, 2]]),
    ]);
    // Posted afterwards: only a successful scrape brings it to Prometheus.
    await post(hostile.browserOtlpUrl, job, [sum('browser.interactions', DELTA, [[{}, 4]])]);
    expect(values(await waitForSamples(prometheusUrl, `browser_interactions_total{job="${job}"}`))).toEqual(['4']);
    expect(values(await promQuery(prometheusUrl, `browser_errors_total{job="${job}"}`))).toEqual(['2']);
    const window = Math.ceil((Date.now() - started) / 1000) + 2;
    expect(values(await promQuery(prometheusUrl, `min_over_time(up{job="otel-collector"}[${window}s])`)), 'a failed scrape since the post').toEqual(['1']);
    const exposition = await scrape(hostile.metricsEndpoint);
    expect(metricNamesOfJob(exposition, job)).toEqual(['browser_errors_total', 'browser_interactions_total']);
    expect(exposition).not.toContain('aaaaaaaaaa');
    expect(exposition).not.toContain('zzzzzzzzzz');
    expect(exposition).not.toContain('websocket_client_rtt_milliseconds');
  });

  it("histogram points with other bucket boundaries than the catalogue's are dropped and counted: 20 000 boundaries make no series, the web SDK's pass", { timeout: 90_000 }, async () => {
    const job = 'e2e-buckets-web';
    const name = 'websocket.client.rtt';
    const catalogue = bucketsOf(name);
    const filtered = async () =>
      samples(await scrape(hostile.selfMetricsEndpoint), 'otelcol_processor_filter_datapoints_filtered')
        .filter((s) => s.labels.filter === 'filter/browser')
        .reduce((total, s) => total + s.value, 0);
    const before = await filtered();
    const started = Date.now();
    const hostilePoints = [
      // One point, 20 001 series had it passed: ten such posts filled the scrape's sample_limit.
      histogram(name, Array.from({ length: 20_000 }, (_, i) => (i + 1) / 1000), [...new Array<number>(20_000).fill(0), 1], 30),
      // The catalogue's count, other values; and NaN or an infinity among the catalogue's (OTLP/JSON spells them as strings).
      histogram(name, catalogue.map((bound) => bound * 2), [1, ...new Array<number>(catalogue.length).fill(0)], 0.001),
      histogram(name, catalogue.map((bound, i) => (i === 3 ? 'NaN' : bound)) as unknown as number[], [1, ...new Array<number>(catalogue.length).fill(0)], 0.001),
      histogram(name, catalogue.map((bound, i) => (i === catalogue.length - 1 ? 'Infinity' : bound)) as unknown as number[], [1, ...new Array<number>(catalogue.length).fill(0)], 0.001),
    ];
    for (const point of hostilePoints) await post(hostile.browserOtlpUrl, job, [point]);
    // The web SDK's own layout, posted afterwards: only a successful scrape brings it to Prometheus.
    await post(hostile.browserOtlpUrl, job, [catalogueHistogram(name, [0.02, 0.2, 2])]);
    expect(values(await waitForSamples(prometheusUrl, `websocket_client_rtt_seconds_count{job="${job}"}`))).toEqual(['3']);
    await waitFor('the four hostile points counted by filter/browser', async () => (await filtered()) === before + hostilePoints.length);

    // Exactly the catalogue's buckets (and +Inf) for the job, in the exporter and in Prometheus.
    // As numbers: Prometheus 2 keeps OpenMetrics' spelling (le="1.0"), the text format has le="1".
    const les = (labels: Array<Record<string, string>>) => labels.map((l) => (l.le === '+Inf' ? Infinity : Number(l.le))).sort((a, b) => a - b);
    const expected = [...catalogue, Infinity];
    const buckets = samples(await scrape(hostile.metricsEndpoint), 'websocket_client_rtt_seconds_bucket').filter((s) => s.labels.job === job);
    expect(les(buckets.map((s) => s.labels))).toEqual(expected);
    const stored = await promQuery(prometheusUrl, `websocket_client_rtt_seconds_bucket{job="${job}"}`);
    expect(les(stored.map((s) => s.metric))).toEqual(expected);
    const window = Math.ceil((Date.now() - started) / 1000) + 2;
    expect(values(await promQuery(prometheusUrl, `min_over_time(up{job="otel-collector"}[${window}s])`)), 'a failed scrape since the posts').toEqual(['1']);
    const [scraped] = await promQuery(prometheusUrl, 'scrape_samples_scraped{job="otel-collector"}');
    expect(Number(scraped?.value[1])).toBeLessThan(20_000);
  });

  it("a server resource's long attributes (the JS SDK's process.command_args) do not fail the scrape: the command line goes, other values are cut to 256 characters", { timeout: 60_000 }, async () => {
    const job = 'e2e-long-resource';
    const started = Date.now();
    // What the OTel JS SDK's process detector sets for a node command with a few flags: 1 879 characters as a label.
    const args = ['/usr/local/bin/node', '--import', 'tsx', ...Array.from({ length: 60 }, (_, i) => `--flag-${i}=${'x'.repeat(20)}`)];
    const body = {
      resourceMetrics: [
        {
          resource: {
            attributes: [
              ...attrs({ 'service.name': job, 'service.instance.id': 'long-0', 'process.command_line': args.join(' '), 'host.description': 'd'.repeat(2000) }),
              { key: 'process.command_args', value: { arrayValue: { values: args.map((arg) => ({ stringValue: arg })) } } },
            ],
          },
          scopeMetrics: [{ scope: { name: 'e2e' }, metrics: [sum('websocket.server.connection.opened', CUMULATIVE, [[{}, 7]])] }],
        },
      ],
    };
    expect(JSON.stringify(args).length).toBeGreaterThan(1024);
    const response = await fetch(`${hostile.otlpHttpUrl}/v1/metrics`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect(response.status).toBe(200);
    // Only a successful scrape brings the series to Prometheus.
    expect(values(await waitForSamples(prometheusUrl, `websocket_server_connection_opened_total{job="${job}"}`))).toEqual(['7']);
    const [info] = await waitForSamples(prometheusUrl, `target_info{job="${job}"}`);
    expect(info?.metric.process_command_args).toBeUndefined();
    expect(info?.metric.process_command_line).toBeUndefined();
    expect(info?.metric.host_description).toBe('d'.repeat(256));
    const window = Math.ceil((Date.now() - started) / 1000) + 2;
    expect(values(await promQuery(prometheusUrl, `min_over_time(up{job="otel-collector"}[${window}s])`)), 'a failed scrape since the post').toEqual(['1']);
  });

  it('points delta_to_cumulative drops past max_streams (200 to the browser, nothing refused) are counted by error and fire OtelCollectorDroppingBrowserPoints', { timeout: 90_000 }, async () => {
    const self = async () => scrape(hostile.selfMetricsEndpoint);
    const tracked = samples(await self(), 'otelcol_deltatocumulative_streams_tracked').reduce((total, s) => total + s.value, 0);
    expect(tracked).toBeLessThan(MAX_STREAMS);
    // One new stream per job: the first MAX_STREAMS - tracked are kept, the others dropped.
    const perRound = MAX_STREAMS + 2;
    const jobs = (round: number) => Array.from({ length: perRound }, (_, i) => `e2e-streams-${round}-${i}`);
    const postRound = async (round: number) => {
      for (const job of jobs(round)) await post(hostile.browserOtlpUrl, job, [sum('browser.errors', DELTA, [[{}, 1]])]);
    };
    const limitDrops = async () => samples(await self(), 'otelcol_deltatocumulative_datapoints').filter((s) => s.labels.error === 'limit');
    await postRound(1);
    let dropped: Sample[] = [];
    await waitFor('the first dropped points in the self-metrics', async () => (dropped = await limitDrops()).length > 0 && dropped[0]?.value === tracked + 2);
    // rate() needs the counter to grow while Prometheus watches it: a second round of new streams.
    await waitForSamples(prometheusUrl, 'otelcol_deltatocumulative_datapoints{error="limit"}');
    await postRound(2);
    await waitFor('the second round dropped', async () => (dropped = await limitDrops())[0]?.value === tracked + 2 + perRound);
    expect(dropped.map((s) => s.labels)).toEqual([{ error: 'limit' }]);
    const refused = samples(await self(), 'otelcol_receiver_refused_metric_points').reduce((total, s) => total + s.value, 0);
    expect(refused).toBe(0);
    const [alert] = await waitForSamples(prometheusUrl, 'ALERTS{alertname="OtelCollectorDroppingBrowserPoints", alertstate="firing"}');
    expect(alert?.metric).toMatchObject({ severity: 'warning', component: 'pipeline', job: 'otel-collector-self', error: 'limit' });
  });
});

describe("CORS on the browsers' receiver", () => {
  /** The origin a preflight from `origin` is allowed as, or null. */
  const preflight = async (url: string, origin: string): Promise<string | null> => {
    const response = await fetch(`${url}/v1/metrics`, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' } });
    return response.headers.get('access-control-allow-origin');
  };

  it('as docker-compose sets it: WEB_SDK_ORIGIN and two more, one with a wildcard; no localhost pages', async () => {
    const composed = await stack.collector({
      env: { TRACES_OTLP_ENDPOINT: sink.endpoint, WEB_SDK_ORIGIN: 'https://shop.example.org', WEB_SDK_ORIGIN_2: 'https://*.example.com', WEB_SDK_ORIGIN_3: '' },
    });
    const allowed = ['https://shop.example.org', 'https://chat.example.com', 'https://a.b.example.com'];
    const refused = ['https://example.com', 'https://chat.example.com.evil.org', 'http://chat.example.com', 'http://localhost:5173', 'http://127.0.0.1:8080', 'null'];
    for (const origin of allowed) expect(await preflight(composed.browserOtlpUrl, origin), origin).toBe(origin);
    for (const origin of refused) expect(await preflight(composed.browserOtlpUrl, origin), origin).toBeNull();
  });

  it('the native stack (src/stack sets _2 and _3 to its loopback pages): the local pages on any port, and http://localhost:8080', async () => {
    for (const origin of ['http://127.0.0.1:41234', 'http://localhost:5173', 'http://localhost:8080']) expect(await preflight(collector.browserOtlpUrl, origin), origin).toBe(origin);
    expect(await preflight(collector.browserOtlpUrl, 'https://example.com')).toBeNull();
  });

  it('deployed another way with WEB_SDK_ORIGIN alone: that origin and nothing else, no loopback pages', async () => {
    const alone = await stack.collector({ env: { TRACES_OTLP_ENDPOINT: sink.endpoint, WEB_SDK_ORIGIN: 'https://shop.example.org', WEB_SDK_ORIGIN_2: undefined, WEB_SDK_ORIGIN_3: undefined } });
    expect(await preflight(alone.browserOtlpUrl, 'https://shop.example.org')).toBe('https://shop.example.org');
    for (const origin of ['http://localhost:5173', 'http://127.0.0.1:8080', 'http://localhost:8080', 'https://example.com']) expect(await preflight(alone.browserOtlpUrl, origin), origin).toBeNull();
  });
});

describe('with the shipped defaults (BROWSER_SERVICE_NAMES and BROWSER_SPAN_NAMES unset)', () => {
  it('random service names and span names from browsers make one _OTHER job and one _OTHER span name', { timeout: 90_000 }, async () => {
    const ownSink = await startOtlpSink();
    sinks.push(ownSink);
    const shipped = await stack.collector({ env: { TRACES_OTLP_ENDPOINT: ownSink.endpoint, BROWSER_SERVICE_NAMES: undefined, BROWSER_SPAN_NAMES: undefined } });
    const attrs = (entries: Record<string, string>) => Object.entries(entries).map(([key, value]) => ({ key, value: { stringValue: value } }));
    const now = BigInt(Date.now()) * 1_000_000n;
    const names = Array.from({ length: 20 }, () => `rnd-${randomBytes(4).toString('hex')}`);
    for (const name of names) {
      const metrics = {
        resourceMetrics: [{
          resource: { attributes: attrs({ 'service.name': name }) },
          scopeMetrics: [{ scope: { name: '@socketscope/web-sdk', version: '0.1.0' }, metrics: [{ name: 'websocket.client.errors', unit: '{error}', sum: { aggregationTemporality: 1, isMonotonic: true, dataPoints: [{ attributes: attrs({ 'error.type': 'send' }), startTimeUnixNano: String(now), timeUnixNano: String(now), asDouble: 1 }] } }] }],
        }],
      };
      const spans = {
        resourceSpans: [{
          resource: { attributes: attrs({ 'service.name': name }) },
          scopeSpans: [{
            scope: { name: '@socketscope/web-sdk' },
            spans: Array.from({ length: 10 }, () => ({
              traceId: randomBytes(16).toString('hex'),
              spanId: randomBytes(8).toString('hex'),
              name: `request ${randomBytes(4).toString('hex')}`,
              kind: 3,
              startTimeUnixNano: String(now),
              endTimeUnixNano: String(now + 20_000_000n),
            })),
          }],
        }],
      };
      for (const [path, body] of [['/v1/metrics', metrics], ['/v1/traces', spans]] as const) {
        const response = await fetch(`${shipped.browserOtlpUrl}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
        expect(response.status).toBe(200);
      }
    }
    let exposition = '';
    await waitFor('20 metric posts and 200 spans in the exporter', async () => {
      exposition = await scrape(shipped.metricsEndpoint);
      const errors = samples(exposition, 'websocket_client_errors_total').reduce((total, s) => total + s.value, 0);
      const calls = samples(exposition, 'traces_span_metrics_calls_total').reduce((total, s) => total + s.value, 0);
      return errors === 20 && calls === 200;
    }, { timeoutMs: 60_000, intervalMs: 500 });
    const errors = samples(exposition, 'websocket_client_errors_total');
    expect(errors.map((s) => [s.labels.job, s.value])).toEqual([['_OTHER', 20]]);
    const calls = samples(exposition, 'traces_span_metrics_calls_total');
    expect(calls.map((s) => [s.labels.job, s.labels.span_name, s.value])).toEqual([['_OTHER', '_OTHER', 200]]);
    // Every series of the exposition, whatever its name: none carries a posted name.
    for (const name of names) expect(exposition).not.toContain(name);
    // Tempo gets the spans with their names (only the resource's service.name folded).
    await waitFor('the spans at the traces sink', async () => ownSink.stats.spans === 200);
  });
});
