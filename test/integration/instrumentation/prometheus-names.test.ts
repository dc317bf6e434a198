/**
 * Proves prometheusName()/prometheusSeries() against the real collector:
 * every catalogue metric (plus probes for each unit kind) goes in over
 * OTLP/HTTP, and the collector's Prometheus exporter must expose exactly
 * the series names the catalogue predicts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { METRICS, type MetricDefinition, prometheusLabel, prometheusSeries } from '../../../src/catalogue.ts';
import { Stack, waitFor } from '../../../src/stack/index.ts';

/** One probe per unit kind and naming edge the translation handles. */
const PROBES: MetricDefinition[] = [
  { name: 'socketscope.probe.latency', instrument: 'histogram', unit: 'ms', description: 'ms histogram', attributes: [] },
  { name: 'socketscope.probe.fill', instrument: 'gauge', unit: '1', description: 'ratio gauge', attributes: [] },
  { name: 'socketscope.probe.hits', instrument: 'counter', unit: '1', description: 'dimensionless counter', attributes: [] },
  { name: 'socketscope.probe.payload', instrument: 'histogram', unit: 'By', description: 'bytes histogram', attributes: [] },
  { name: 'socketscope.probe.rate', instrument: 'gauge', unit: 'By/s', description: 'per-second gauge', attributes: [] },
  { name: 'socketscope.probe.queue', instrument: 'updowncounter', unit: '{item}', description: 'annotated up-down counter', attributes: [] },
  { name: 'socketscope.probe.wait.seconds', instrument: 'histogram', unit: 's', description: 'unit already in the name', attributes: [] },
  { name: 'socketscope.probe.total.requests', instrument: 'counter', unit: '{request}', description: 'total in the middle', attributes: [] },
];

const DEFS = [...METRICS, ...PROBES];
let stack: Stack;
let exposition = '';

function otlpMetric(def: MetricDefinition, now: bigint): Record<string, unknown> {
  const attributes = def.attributes.map((key) => ({ key, value: { stringValue: 'probe' } }));
  const point = { attributes, startTimeUnixNano: String(now - 10_000_000_000n), timeUnixNano: String(now) };
  const base = { name: def.name, unit: def.unit, description: def.description };
  switch (def.instrument) {
    case 'counter':
      return { ...base, sum: { aggregationTemporality: 2, isMonotonic: true, dataPoints: [{ ...point, asDouble: 3 }] } };
    case 'updowncounter':
      return { ...base, sum: { aggregationTemporality: 2, isMonotonic: false, dataPoints: [{ ...point, asDouble: 2 }] } };
    case 'gauge':
      return { ...base, gauge: { dataPoints: [{ ...point, asDouble: 0.5 }] } };
    case 'histogram': {
      const bounds = def.buckets ?? [1, 2];
      return {
        ...base,
        histogram: {
          aggregationTemporality: 2,
          dataPoints: [{ ...point, count: '1', sum: 1, explicitBounds: bounds, bucketCounts: [...bounds.map(() => '0'), '1'] }],
        },
      };
    }
  }
}

beforeAll(async () => {
  stack = new Stack('prometheus-names');
  const collector = await stack.collector({ env: { TRACES_OTLP_ENDPOINT: '127.0.0.1:9' } });
  const now = BigInt(Date.now()) * 1_000_000n;
  const body = {
    resourceMetrics: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'names-test' } }] },
        scopeMetrics: [{ scope: { name: 'names-test' }, metrics: DEFS.map((def) => otlpMetric(def, now)) }],
      },
    ],
  };
  const response = await fetch(`${collector.otlpHttpUrl}/v1/metrics`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  expect(response.status).toBe(200);
  await waitFor('the collector to expose the probes', async () => {
    exposition = await (await fetch(`http://${collector.metricsEndpoint}/metrics`)).text();
    return exposition.includes('socketscope_probe_latency');
  });
});

afterAll(async () => {
  await stack?.stop();
});

function exposedNames(): Set<string> {
  const names = new Set<string>();
  for (const line of exposition.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    names.add(line.split(/[{ ]/, 1)[0]!);
  }
  return names;
}

describe('Prometheus names through the collector', () => {
  it('exposes exactly the series the catalogue predicts, for every metric and unit kind', () => {
    const exposed = [...exposedNames()].filter((n) => DEFS.some((d) => n.startsWith(d.name.split('.')[0]!))).sort();
    const predicted = DEFS.flatMap((def) => prometheusSeries(def)).sort();
    expect(exposed).toEqual(predicted);
  });

  it('turns attribute keys into the predicted label names', () => {
    for (const def of METRICS.filter((d) => d.attributes.length > 0)) {
      const [series] = prometheusSeries(def);
      const line = exposition.split('\n').find((l) => l.startsWith(`${series}{`));
      expect(line, series).toBeDefined();
      for (const key of def.attributes) expect(line, `${series} ${key}`).toContain(`${prometheusLabel(key)}="probe"`);
    }
  });
});
