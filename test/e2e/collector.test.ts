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
 *   sends: browser metric names, as deltas, with the catalogue's attribute keys
 *   and values (others become _OTHER); the servers' receiver passes anything;
 * - nothing a poster puts on a browser resource or instrumentation scope mints
 *   a label or a second stream: deltas from two app versions add up in one
 *   monotonic series, service.namespace does not reach `job`, scope
 *   attributes vanish and unknown scope names and versions fold to _OTHER;
 *   with the shipped defaults, random service and span names land in one
 *   _OTHER job and one _OTHER span name.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type OtlpSink, startOtlpSink } from '../../src/demo/otlp-sink.ts';
import { type CollectorHandle, Stack, waitFor } from '../../src/stack/index.ts';
import { type Telemetry, startTelemetry } from '../../src/telemetry/index.ts';

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

describe("the browsers' receiver keeps to the web SDK's catalogue", () => {
  const nowNs = () => String(BigInt(Date.now()) * 1_000_000n);
  const attrs = (entries: Record<string, string>) => Object.entries(entries).map(([key, value]) => ({ key, value: { stringValue: value } }));
  const DELTA = 1;
  const CUMULATIVE = 2;
  const sum = (name: string, temporality: number, points: Array<[Record<string, string>, number]>) => ({
    name,
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
    const jobSeries = new Set(
      exposition
        .split('\n')
        .filter((line) => !line.startsWith('#') && line.includes(`job="${job}"`))
        .map((line) => line.split('{')[0]),
    );
    expect([...jobSeries].sort()).toEqual(['browser_interactions_total', 'websocket_client_errors_total']);
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
          scopeMetrics: [{ scope: { name: '@socketscope/web-sdk', version: '0.1.0' }, metrics: [{ name: 'websocket.client.errors', sum: { aggregationTemporality: 1, isMonotonic: true, dataPoints: [{ attributes: attrs({ 'error.type': 'send' }), startTimeUnixNano: String(now), timeUnixNano: String(now), asDouble: 1 }] } }] }],
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
