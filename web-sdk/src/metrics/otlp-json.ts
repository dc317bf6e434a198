/** Metrics to OTLP/JSON, behind sdk-metrics' PushMetricExporter interface;
 * always DELTA temporality so the collector can sum many browsers. */
import { ValueType } from '@opentelemetry/api';
import type { ExportResult } from '@opentelemetry/core';
import {
  AggregationTemporality,
  DataPointType,
  type DataPoint,
  type Histogram,
  type MetricData,
  type PushMetricExporter,
  type ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import { otlpAttributes, otlpTime } from '../transport/otlp-json.ts';
import type { Transport } from '../transport/transport.ts';

// OTLP's enum: 1 = delta, 2 = cumulative (the SDK's is 0 and 1).
const temporality = (t: AggregationTemporality): number => (t === AggregationTemporality.DELTA ? 1 : 2);

function point(dp: DataPoint<unknown>): Record<string, unknown> {
  return { attributes: otlpAttributes(dp.attributes), startTimeUnixNano: otlpTime(dp.startTime), timeUnixNano: otlpTime(dp.endTime) };
}

function encodeMetric(metric: MetricData): Record<string, unknown> | undefined {
  const { name, description, unit, valueType } = metric.descriptor;
  const number = (dp: DataPoint<number>) => ({ ...point(dp), [valueType === ValueType.INT ? 'asInt' : 'asDouble']: dp.value });
  const base = { name, description, unit };
  switch (metric.dataPointType) {
    case DataPointType.SUM:
      return {
        ...base,
        sum: { aggregationTemporality: temporality(metric.aggregationTemporality), isMonotonic: metric.isMonotonic, dataPoints: metric.dataPoints.map(number) },
      };
    case DataPointType.GAUGE:
      return { ...base, gauge: { dataPoints: metric.dataPoints.map(number) } };
    case DataPointType.HISTOGRAM:
      return {
        ...base,
        histogram: {
          aggregationTemporality: temporality(metric.aggregationTemporality),
          dataPoints: metric.dataPoints.map((dp: DataPoint<Histogram>) => ({
            ...point(dp),
            count: dp.value.count,
            sum: dp.value.sum,
            min: dp.value.min,
            max: dp.value.max,
            bucketCounts: dp.value.buckets.counts,
            explicitBounds: dp.value.buckets.boundaries,
          })),
        },
      };
    default:
      // Exponential histograms are never configured by this SDK.
      return undefined;
  }
}

/** One export as an OTLP ResourceMetrics entry; undefined when it holds no data point. */
export function encodeResourceMetrics(metrics: ResourceMetrics): object | undefined {
  const scopeMetrics = metrics.scopeMetrics
    .map(({ scope, metrics: list }) => ({
      scope: { name: scope.name, version: scope.version },
      metrics: list.filter((m) => m.dataPoints.length > 0).map(encodeMetric).filter((m) => m !== undefined),
    }))
    .filter((s) => s.metrics.length > 0);
  if (scopeMetrics.length === 0) return undefined;
  return { resource: { attributes: otlpAttributes(metrics.resource.attributes) }, scopeMetrics };
}

export class OtlpJsonMetricExporter implements PushMetricExporter {
  constructor(private readonly transport: Transport<object>) {}

  /** Hands the export to the transport, which owns retries: the reader's export always succeeds. */
  export(metrics: ResourceMetrics, done: (result: ExportResult) => void): void {
    const encoded = encodeResourceMetrics(metrics);
    if (encoded) {
      this.transport.push(encoded);
      this.transport.flush();
    }
    done({ code: 0 });
  }

  selectAggregationTemporality(): AggregationTemporality {
    return AggregationTemporality.DELTA;
  }

  async forceFlush(): Promise<void> {}

  async shutdown(): Promise<void> {
    this.transport.stop();
  }
}
