import { describe, expect, it } from 'vitest';
import { ATTR, CLIENT_METRIC, CLIENT_METRICS } from '../src/catalogue.ts';
import { SDK_NAME, SDK_VERSION } from '../src/version.ts';
import pkg from '../package.json' with { type: 'json' };

describe('CLIENT_METRICS', () => {
  it('has unique names under websocket.client.* (socket) and browser.* (page signals)', () => {
    const names = CLIENT_METRICS.map((m) => m.name);
    expect(new Set(names).size).toBe(names.length);
    for (const name of names) expect(name).toMatch(/^(websocket\.client|browser)\.[a-z_]+(\.[a-z_]+)*$/);
    expect(CLIENT_METRICS).toEqual(Object.values(CLIENT_METRIC));
  });

  it('only has instruments the collector can sum across browsers (counters, histograms)', () => {
    for (const metric of CLIENT_METRICS) expect(['counter', 'histogram'], metric.name).toContain(metric.instrument);
  });

  it('gives every histogram ascending bucket advice in its unit, durations in seconds', () => {
    for (const metric of CLIENT_METRICS.filter((m) => m.instrument === 'histogram')) {
      expect(metric.buckets?.length, metric.name).toBeGreaterThan(4);
      expect([...(metric.buckets ?? [])].sort((a, b) => a - b), metric.name).toEqual(metric.buckets);
      if (metric.name.endsWith('.duration') || metric.name.endsWith('.rtt')) expect(metric.unit, metric.name).toBe('s');
    }
  });

  it('uses UCUM units and only the bounded attribute keys', () => {
    const keys = new Set<string>(Object.values(ATTR));
    for (const metric of CLIENT_METRICS) {
      expect(metric.unit, metric.name).toMatch(/^(s|By|1|\{[a-z]+\})$/);
      for (const attribute of metric.attributes) expect(keys.has(attribute), `${metric.name}: ${attribute}`).toBe(true);
    }
  });
});

describe('version', () => {
  it('matches package.json', () => {
    expect({ SDK_NAME, SDK_VERSION }).toEqual({ SDK_NAME: pkg.name, SDK_VERSION: pkg.version });
  });
});
