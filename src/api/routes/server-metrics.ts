/** Current and historical server metrics from Prometheus (admin). */
import { z } from 'zod';
import type { PrometheusClient } from '../../analytics/prometheus.ts';
import { MAX_RANGE_POINTS } from '../../analytics/prometheus.ts';
import { rangeWindow } from '../../analytics/range-window.ts';
import { SERVER_QUERIES, SERVER_QUERY_IDS, serverQueries, serverQuery } from '../../analytics/server-queries.ts';
import type { ApiContext } from '../context.ts';
import { ApiError } from '../errors.ts';
import { type Route, defineRoute } from '../route-spec.ts';
import { resolveRange, stepQuery, timeRangeQuery } from '../schemas/common.ts';
import { historicalMetricsSchema, serverMetricsSchema } from '../schemas/responses.ts';
import { type Unavailable, needsPrometheus } from '../unavailable.ts';

export function requirePrometheus(ctx: Pick<ApiContext, 'prometheus'>, unavailable?: Unavailable): PrometheusClient {
  if (!ctx.prometheus) throw new ApiError(503, 'prometheus_not_configured', needsPrometheus('server metrics need', unavailable));
  return ctx.prometheus;
}

const metricIds = z
  .string()
  .transform((s) => s.split(',').map((x) => x.trim()).filter(Boolean))
  .pipe(z.array(z.enum(SERVER_QUERY_IDS)).min(1))
  .meta({ description: `Comma-separated metric ids (default: all): ${SERVER_QUERY_IDS.join(', ')}` });

export function serverMetricsRoutes(ctx: ApiContext, unavailable?: Unavailable): Route[] {
  return [
    defineRoute({
      method: 'get',
      path: '/api/ws/metrics',
      tag: 'server metrics',
      summary: 'Current WebSocket server metrics (PromQL instant queries)',
      access: 'admin',
      query: z.object({ metric: metricIds.optional() }),
      status: 200,
      response: serverMetricsSchema,
      errors: [502, 503],
      async handler({ query }) {
        const prometheus = requirePrometheus(ctx, unavailable);
        const at = new Date();
        const queries = query.metric ? query.metric.map((id) => serverQuery(id)!) : SERVER_QUERIES;
        const values = await Promise.all(queries.map((q) => prometheus.query(q.expr, at)));
        return {
          at: at.toISOString(),
          metrics: queries.map((q, i) => {
            const value = values[i]?.[0]?.value;
            return { id: q.id, description: q.description, unit: q.unit, expr: q.expr, value: value !== undefined && Number.isFinite(value) ? value : null };
          }),
        };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/ws/metrics/historical',
      tag: 'server metrics',
      summary: 'Server metrics over time (PromQL range queries; points at from, from + step, … up to and including to, as Prometheus evaluates them)',
      access: 'admin',
      query: timeRangeQuery.extend({
        step: stepQuery.optional().meta({
          description:
            'Time between points, in seconds (300, 1.5) or as a Prometheus duration (30s, 5m, 1h, 1h30m), from 1 s to 1 d (default: range / 300, at least 15 s). Rates and quantiles at each point cover the window_s before it: at least 5 minutes, else the step plus one scrape interval',
        }),
        metric: metricIds.optional(),
      }),
      status: 200,
      response: historicalMetricsSchema,
      errors: [502, 503],
      async handler({ query }) {
        const range = resolveRange(query);
        const spanS = (range.to.getTime() - range.from.getTime()) / 1000;
        // Each point's rate covers the time since the point before, so nothing between points is missed.
        const { stepS: step, windowS, window } = rangeWindow(spanS, query.step ? { stepS: query.step } : {});
        if (spanS / step > MAX_RANGE_POINTS) {
          throw new ApiError(400, 'too_many_points', `from..to / step gives more than ${MAX_RANGE_POINTS} points; use a larger step`, { points: Math.ceil(spanS / step), max: MAX_RANGE_POINTS });
        }
        const prometheus = requirePrometheus(ctx, unavailable);
        const all = serverQueries(window);
        const queries = query.metric ? query.metric.map((id) => all.find((q) => q.id === id)!) : all;
        const results = await Promise.all(queries.map((q) => prometheus.queryRange(q.expr, range.from, range.to, step)));
        return {
          from: range.from.toISOString(),
          to: range.to.toISOString(),
          step_s: step,
          window_s: windowS,
          series: queries.map((q, i) => ({
            id: q.id,
            unit: q.unit,
            points: (results[i]?.[0]?.points ?? []).filter((p) => Number.isFinite(p.value)).map((p) => [new Date(p.timestamp).toISOString(), p.value] as [string, number]),
          })),
        };
      },
    }),
  ];
}
