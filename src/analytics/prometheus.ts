/** Prometheus HTTP API client (instant and range queries), with timeouts; works against any compatible store (Mimir, Thanos, VictoriaMetrics). */
import { z } from 'zod';
import { fetchJson, probe, upstream } from './http-json.ts';

const sampleValue = z.tuple([z.number(), z.string()]);
const vectorResult = z.object({ resultType: z.literal('vector'), result: z.array(z.object({ metric: z.record(z.string(), z.string()), value: sampleValue })) });
const scalarResult = z.object({ resultType: z.literal('scalar'), result: sampleValue });
const matrixResult = z.object({ resultType: z.literal('matrix'), result: z.array(z.object({ metric: z.record(z.string(), z.string()), values: z.array(sampleValue) })) });
const envelope = <T extends z.ZodType>(data: T) => z.object({ status: z.literal('success'), data, warnings: z.array(z.string()).optional() });

export interface InstantSample {
  metric: Record<string, string>;
  timestamp: number;
  value: number;
}

export interface RangeSeries {
  metric: Record<string, string>;
  /** [ms since epoch, value] */
  points: Array<{ timestamp: number; value: number }>;
}

/** Prometheus' limit on points per series of a range query. */
export const MAX_RANGE_POINTS = 11_000;

export class PrometheusClient {
  /** The URL without credentials (its userinfo is sent as a Basic Authorization header). */
  readonly baseUrl: string;
  private readonly headers: Record<string, string>;

  /** `headers` (PROMETHEUS_HEADERS) go with every call and the readiness probe. */
  constructor(
    url: string,
    private readonly timeoutMs: number,
    headers: Readonly<Record<string, string>> = {},
  ) {
    ({ baseUrl: this.baseUrl, headers: this.headers } = upstream(url, headers));
  }

  private url(path: string): string {
    return `${this.baseUrl}${path}`;
  }

  async query(expr: string, at?: Date, signal?: AbortSignal): Promise<InstantSample[]> {
    const form = new URLSearchParams({ query: expr, timeout: `${Math.floor(this.timeoutMs / 1000) || 1}s` });
    if (at) form.set('time', String(at.getTime() / 1000));
    const body = await fetchJson('prometheus', this.url('/api/v1/query'), envelope(z.union([vectorResult, scalarResult])), { method: 'POST', form, timeoutMs: this.timeoutMs, headers: this.headers, signal });
    const samples = body.data.resultType === 'scalar' ? [{ metric: {}, value: body.data.result }] : body.data.result;
    return samples.map((s) => ({ metric: s.metric, timestamp: s.value[0] * 1000, value: Number(s.value[1]) }));
  }

  async queryRange(expr: string, start: Date, end: Date, stepSeconds: number, signal?: AbortSignal): Promise<RangeSeries[]> {
    const form = new URLSearchParams({
      query: expr,
      start: String(start.getTime() / 1000),
      end: String(end.getTime() / 1000),
      step: String(stepSeconds),
      timeout: `${Math.floor(this.timeoutMs / 1000) || 1}s`,
    });
    const body = await fetchJson('prometheus', this.url('/api/v1/query_range'), envelope(matrixResult), { method: 'POST', form, timeoutMs: this.timeoutMs, headers: this.headers, signal });
    return body.data.result.map((s) => ({ metric: s.metric, points: s.values.map(([t, v]) => ({ timestamp: t * 1000, value: Number(v) })) }));
  }

  ready(): Promise<{ ok: boolean; detail: string }> {
    return probe(this.url('/-/ready'), Math.min(this.timeoutMs, 3_000), this.headers);
  }
}
