import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { METRICS_DOC, renderMetricsDoc } from '../../../scripts/gen-metrics-doc.ts';
import { METRICS, SERVICE_METRICS, metricByName, prometheusLabel, prometheusName, prometheusSeries } from '../../../src/catalogue.ts';
import { SERVER_METRICS } from '../../../src/instrumentation/catalogue.ts';
import { REPO_ROOT } from '../../../src/stack/binaries.ts';

describe('metric catalogue', () => {
  it('has unique, well-formed names with UCUM units and seconds-based duration buckets', () => {
    const names = METRICS.map((m) => m.name);
    expect(new Set(names).size).toBe(names.length);
    for (const def of METRICS) {
      expect(def.name).toMatch(/^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$/);
      expect(def.description.length).toBeGreaterThan(10);
      if (def.instrument === 'histogram') expect(def.buckets, def.name).toBeDefined();
      if (def.unit === 's' && def.buckets) expect(Math.max(...def.buckets), def.name).toBeLessThanOrEqual(86_400);
      if (def.buckets) expect([...def.buckets].sort((a, b) => a - b)).toEqual([...def.buckets]);
      // No unbounded identifiers as attributes.
      for (const key of def.attributes) expect(key).not.toMatch(/(^|\.)(id|user|session|url|path)$/);
    }
  });

  it('uses no metric name as the namespace of another (OpenTelemetry naming guidelines)', () => {
    const names = METRICS.map((def) => def.name);
    expect(names.flatMap((name) => names.filter((other) => other.startsWith(`${name}.`)).map((other) => `${name} < ${other}`))).toEqual([]);
  });

  it('includes every server metric and finds them by name', () => {
    for (const def of SERVER_METRICS) expect(metricByName(def.name)).toBe(def);
    expect(() => metricByName('websocket.server.nope')).toThrow('no metric named');
  });

  it('translates names as the collector does', () => {
    expect(prometheusSeries(metricByName('websocket.server.connection.count'))).toEqual(['websocket_server_connection_count']);
    expect(prometheusSeries(metricByName('websocket.server.connection.opened'))).toEqual(['websocket_server_connection_opened_total']);
    expect(prometheusSeries(metricByName('websocket.server.io'))).toEqual(['websocket_server_io_bytes_total']);
    expect(prometheusSeries(metricByName('websocket.server.connection.duration'))).toEqual([
      'websocket_server_connection_duration_seconds_bucket',
      'websocket_server_connection_duration_seconds_sum',
      'websocket_server_connection_duration_seconds_count',
    ]);
    expect(prometheusName({ name: 'a.latency', unit: 'ms', instrument: 'histogram' })).toBe('a_latency_milliseconds');
    expect(prometheusName({ name: 'a.fill', unit: '1', instrument: 'gauge' })).toBe('a_fill_ratio');
    expect(prometheusName({ name: 'a.hits', unit: '1', instrument: 'counter' })).toBe('a_hits_total');
    expect(prometheusName({ name: 'a.rate', unit: 'By/s', instrument: 'gauge' })).toBe('a_rate_bytes_per_second');
    expect(prometheusName({ name: 'a.wait.seconds', unit: 's', instrument: 'histogram' })).toBe('a_wait_seconds');
    expect(prometheusName({ name: 'a.total.requests', unit: '{request}', instrument: 'counter' })).toBe('a_requests_total');
    expect(prometheusLabel('network.io.direction')).toBe('network_io_direction');
  });

  it('docs/metrics.md is generated from the catalogue and up to date (npx tsx scripts/gen-metrics-doc.ts)', () => {
    expect(readFileSync(METRICS_DOC, 'utf8')).toBe(renderMetricsDoc());
  });

  it("docs/api.md's GET /metrics row names every metric the service serves, by its Prometheus name, and no other", () => {
    const row = readFileSync(join(REPO_ROOT, 'docs', 'api.md'), 'utf8')
      .split('\n')
      .find((line) => line.startsWith('| `GET /metrics` |'));
    const named = [...(row ?? '').matchAll(/`([a-z][a-z0-9_]*)`/g)].map((m) => m[1]);
    expect(named).toEqual(SERVICE_METRICS.map((def) => prometheusName(def)));
  });
});
