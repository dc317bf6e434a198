/**
 * `socketscope load --otlp`: the run's own numbers exported over OTLP/HTTP
 * (to the collector, like every other socketscope component), so a load test
 * is visible in Prometheus and Grafana beside the server metrics it moves.
 * Observable instruments read the latest progress snapshot at each export;
 * the last one, taken after the workers finish, is flushed before exit. The
 * latency histograms are already aggregated by the workers (bucket counts),
 * so they go out through a metric producer rather than instruments.
 */
import { randomUUID } from 'node:crypto';
import { type Attributes, ValueType } from '@opentelemetry/api';
import { type ExportResult, ExportResultCode, millisToHrTime } from '@opentelemetry/core';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { emptyResource, resourceFromAttributes } from '@opentelemetry/resources';
import {
  AggregationTemporality,
  type CollectionResult,
  DataPointType,
  type InstrumentType,
  MeterProvider,
  type MetricData,
  type MetricProducer,
  PeriodicExportingMetricReader,
  type PushMetricExporter,
  type ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import { instrumentOptions } from '../instrumentation/catalogue.ts';
import { type LoadMetricName, loadMetric } from './catalogue.ts';
import { type BucketCounts, type BucketLayout, ECHO_LATENCY, HANDSHAKE } from './bucket-counts.ts';
import type { LoadProgress } from './types.ts';

export interface LoadExport {
  /** Where the metrics go (…/v1/metrics). */
  url: string;
  /** Records a progress snapshot (cumulative counters, current gauges). */
  observe(progress: LoadProgress): void;
  /** Exports the last snapshot and stops; rejects when that export failed. */
  finish(): Promise<void>;
}

export interface LoadExportOptions {
  /** OTLP/HTTP base URL, e.g. http://127.0.0.1:4318 (the /v1/metrics path is added). */
  endpoint: string;
  /** The load test's target, for the server.address / server.port attributes. */
  targetUrl: string;
  /** Export period, milliseconds (default 5 000: a load run is minutes, not hours). */
  intervalMs?: number;
}

/** server.address and server.port of a ws:// or wss:// URL (default ports filled in). */
export function targetAttributes(url: string): Attributes {
  const parsed = new URL(url);
  const port = parsed.port ? Number(parsed.port) : parsed.protocol === 'wss:' ? 443 : 80;
  return { 'server.address': parsed.hostname.replace(/^\[|\]$/g, ''), 'server.port': port };
}

/** The OTLP exporter, keeping the outcome of its latest export (the periodic reader only logs failures). */
class OutcomeExporter implements PushMetricExporter {
  last: ExportResult | null = null;
  constructor(private readonly inner: OTLPMetricExporter) {}
  export(metrics: ResourceMetrics, done: (result: ExportResult) => void): void {
    this.inner.export(metrics, (result) => {
      this.last = result;
      done(result);
    });
  }
  forceFlush(): Promise<void> {
    return this.inner.forceFlush();
  }
  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }
  selectAggregationTemporality(kind: InstrumentType): AggregationTemporality {
    return this.inner.selectAggregationTemporality(kind);
  }
}

const SCOPE = 'socketscope-load';

/** The workers' bucket counts as cumulative histogram points, one per layout and export. */
function bucketsProducer(read: () => LoadProgress | null, attributes: Attributes): MetricProducer {
  const startTime = millisToHrTime(Date.now());
  const histogram = (layout: BucketLayout, counts: BucketCounts): MetricData => {
    const def = loadMetric(layout.metric);
    return {
      descriptor: { name: def.name, description: def.description, unit: def.unit, valueType: ValueType.DOUBLE },
      aggregationTemporality: AggregationTemporality.CUMULATIVE,
      dataPointType: DataPointType.HISTOGRAM,
      dataPoints: [
        {
          startTime,
          endTime: millisToHrTime(Date.now()),
          attributes,
          value: { buckets: { boundaries: [...layout.boundariesS], counts: [...counts.counts] }, sum: counts.sumS, count: counts.count },
        },
      ],
    };
  };
  return {
    async collect(): Promise<CollectionResult> {
      const buckets = read()?.buckets;
      const metrics = buckets ? [histogram(ECHO_LATENCY, buckets.latency), histogram(HANDSHAKE, buckets.handshake)] : [];
      // The reader keeps the meter provider's resource; only the scope's metrics are taken from here.
      return { resourceMetrics: { resource: emptyResource(), scopeMetrics: [{ scope: { name: SCOPE }, metrics }] }, errors: [] };
    },
  };
}

export async function startLoadExport(options: LoadExportOptions): Promise<LoadExport> {
  const endpoint = URL.canParse(options.endpoint) ? new URL(options.endpoint) : null;
  if (endpoint?.protocol !== 'http:' && endpoint?.protocol !== 'https:') throw new Error(`--otlp expects an http(s):// OTLP endpoint, got "${options.endpoint}"`);
  const url = `${endpoint.href.replace(/\/+$/, '')}/v1/metrics`;
  const exporter = new OutcomeExporter(new OTLPMetricExporter({ url, timeoutMillis: 3_000 }));
  const intervalMs = options.intervalMs ?? 5_000;
  const attributes = targetAttributes(options.targetUrl);
  let latest: LoadProgress | null = null;
  const meterProvider = new MeterProvider({
    // One instance per run, so two load generators against the same server stay two series.
    resource: resourceFromAttributes({ 'service.name': 'socketscope-load', 'service.instance.id': randomUUID() }),
    readers: [
      new PeriodicExportingMetricReader({
        exporter,
        exportIntervalMillis: intervalMs,
        exportTimeoutMillis: Math.min(intervalMs, 10_000),
        metricProducers: [bucketsProducer(() => latest, attributes)],
      }),
    ],
  });
  const meter = meterProvider.getMeter(SCOPE);

  const observe = (name: LoadMetricName, read: (p: LoadProgress) => number): void => {
    const def = loadMetric(name);
    const instrument = def.instrument === 'counter' ? meter.createObservableCounter(def.name, instrumentOptions(def)) : meter.createObservableGauge(def.name, instrumentOptions(def));
    instrument.addCallback((result) => {
      if (latest !== null) result.observe(read(latest), attributes);
    });
  };
  observe('socketscope.load.connection.count', (p) => p.open);
  observe('socketscope.load.connection.target', (p) => p.target);
  observe('socketscope.load.connection.failed', (p) => p.failed);
  observe('socketscope.load.connection.dropped', (p) => p.dropped);
  observe('socketscope.load.sent', (p) => p.sent);
  observe('socketscope.load.received', (p) => p.received);
  observe('socketscope.load.errors', (p) => p.errors);

  return {
    url,
    observe(progress) {
      latest = progress;
    },
    async finish() {
      // Shutting down collects and exports once more (a forceFlush first made it two exports,
      // each waiting out the timeout when the collector does not answer).
      await meterProvider.shutdown();
      const last = exporter.last;
      if (last === null || last.code !== ExportResultCode.SUCCESS) {
        throw new Error(`OTLP export to ${url} failed: ${last?.error?.message ?? 'nothing was exported'}`);
      }
    },
  };
}
