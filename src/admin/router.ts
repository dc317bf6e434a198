/**
 * The admin pages, mounted by the API app at /admin:
 *   GET /admin/websocket-analytics, /admin/websocket-client-metrics   pages (HTML shells)
 *   GET /admin/assets/*                                               bundled scripts and styles
 *   /admin/api/*                                                      what the pages need beyond the JSON API,
 *                                                                     behind the same bearer token as the admin API
 * The pages themselves hold no data; everything comes through the token.
 */
import express, { type RequestHandler, type Router } from 'express';
import { rateLimit } from 'express-rate-limit';
import { z } from 'zod';
import { MAX_RANGE_POINTS } from '../analytics/prometheus.ts';
import { rangeWindow } from '../analytics/range-window.ts';
import { requireBearer } from '../api/auth.ts';
import type { ApiContext } from '../api/context.ts';
import { ApiError, zodDetails } from '../api/errors.ts';
import { type Unavailable, needsPrometheus } from '../api/unavailable.ts';
import { resolveRange, timeRangeQuery } from '../api/schemas/common.ts';
import { anomalyContext, findAnomaly } from './anomaly-context.ts';
import { ADMIN_DIST, ADMIN_PAGES, type AdminPageName, loadAssetManifest } from './assets.ts';
import { connectionTestHandler } from './connection-test-route.ts';
import { type LiveStatsSource, createLiveStats } from './live-stats.ts';
import { liveStreamHandler } from './live-stream.ts';
import { CONTENT_SECURITY_POLICY, type PageSettings, renderPage } from './page-shell.ts';
import { quantileQueries } from './performance-queries.ts';
import { uxPoints } from './ux-points.ts';

/** Grafana's provisioned uids (grafana/src/*.ts, grafana/provisioning/datasources). */
export const GRAFANA_UIDS = { server: 'socketscope-websocket-server', clients: 'socketscope-websocket-clients', tempo: 'socketscope-tempo' } as const;

export type AdminContext = Pick<ApiContext, 'adminToken' | 'config' | 'logger' | 'database' | 'prometheus'>;

export interface AdminRouterOptions {
  /** Grafana's base URL; the pages link to the dashboards and traces when set. */
  grafanaUrl?: string;
  /** How often the live statistics are read from Prometheus. */
  liveIntervalMs?: number;
  /** Where the built assets are (default src/admin/dist). */
  dist?: string;
  /** Why absent dependencies are absent (the demo: not installed), for the live panel and the errors. */
  unavailable?: Unavailable;
}

export interface AdminRouter extends Router {
  /** Stops the live statistics poller. */
  close(): void;
}

const grafanaUrlSchema = z.url({ protocol: /^https?$/ }).transform((u) => u.replace(/\/+$/, ''));
const validate = <T extends z.ZodType>(schema: T, value: unknown, where: string): z.output<T> => {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new ApiError(400, 'validation_failed', `invalid ${where}`, zodDetails(parsed.error));
  return parsed.data;
};

/**
 * `context` may be a function when the router is built before the service's
 * context exists (startService builds it); it is read on each request.
 * Throws AdminAssetsMissingError (with the command to run) when the pages
 * were not built.
 */
export function createAdminRouter(context: AdminContext | (() => AdminContext), options: AdminRouterOptions = {}): AdminRouter {
  const ctx = typeof context === 'function' ? context : () => context;
  const dist = options.dist ?? ADMIN_DIST;
  const manifest = loadAssetManifest(dist);
  const grafanaUrl = options.grafanaUrl ? grafanaUrlSchema.parse(options.grafanaUrl) : null;
  const liveIntervalMs = options.liveIntervalMs ?? 5_000;
  let live: LiveStatsSource | undefined;
  const liveStats = (): LiveStatsSource => (live ??= createLiveStats(ctx().prometheus, liveIntervalMs, ctx().logger, options.unavailable));
  const router = express.Router() as AdminRouter;

  const pageHtml = (page: AdminPageName): string => {
    const settings: PageSettings = { page, grafanaUrl, dashboards: { server: GRAFANA_UIDS.server, clients: GRAFANA_UIDS.clients }, tempoDatasourceUid: GRAFANA_UIDS.tempo };
    return renderPage(settings, manifest, '/admin');
  };
  const pages = Object.fromEntries(Object.keys(ADMIN_PAGES).map((page) => [page, pageHtml(page as AdminPageName)]));

  router.get('/', (_req, res) => res.redirect(302, '/admin/websocket-analytics'));
  for (const [page, html] of Object.entries(pages)) {
    router.get(`/${page}`, (_req, res) => {
      res.setHeader('content-security-policy', CONTENT_SECURITY_POLICY);
      res.setHeader('x-content-type-options', 'nosniff');
      res.setHeader('referrer-policy', 'no-referrer');
      res.setHeader('cache-control', 'no-cache');
      res.type('html').send(html);
    });
  }
  // Hashed file names: a new build has new names, so the old ones can be cached for good.
  router.use('/assets', express.static(dist, { immutable: true, maxAge: '365d', index: false, fallthrough: true }));

  const api = express.Router();
  let auth: { token: string; check: RequestHandler } | undefined;
  // The admin API's per-client limit (ADMIN_RATE_LIMIT_PER_MINUTE), counted separately for the pages.
  api.use(
    rateLimit({
      windowMs: 60_000,
      limit: () => ctx().config.adminRateLimit,
      standardHeaders: 'draft-8',
      legacyHeaders: false,
      identifier: 'admin-pages',
      handler: (_req, _res, next) => next(new ApiError(429, 'rate_limited', `more than ${ctx().config.adminRateLimit} requests per minute from this client`)),
    }),
  );
  // The same bearer check as the JSON API's admin routes.
  api.use((req, res, next) => {
    const token = ctx().adminToken;
    if (auth?.token !== token) auth = { token, check: requireBearer(token) };
    auth.check(req, res, next);
  });
  api.get('/session', (_req, res) => {
    res.json({ ok: true, grafana_url: grafanaUrl, prometheus_configured: ctx().prometheus !== undefined });
  });
  api.get('/live', (req, res, next) => liveStreamHandler(liveStats(), liveIntervalMs)(req, res, next));
  api.get('/performance', async (req, res) => {
    const query = validate(timeRangeQuery, req.query, 'query parameters');
    const range = resolveRange(query);
    const prometheus = ctx().prometheus;
    if (!prometheus) throw new ApiError(503, 'prometheus_not_configured', needsPrometheus('server metrics need', options.unavailable));
    const spanS = (range.to.getTime() - range.from.getTime()) / 1000;
    // The same step rule as /api/ws/metrics/historical, so the charts line up; each
    // point's quantile covers the window of its step, not a fixed 5 minutes.
    const { stepS: step, windowS, window } = rangeWindow(spanS);
    if (spanS / step > MAX_RANGE_POINTS) throw new ApiError(400, 'too_many_points', 'the range is too long');
    const queries = quantileQueries(window);
    const results = await Promise.all(queries.map((q) => prometheus.queryRange(q.expr, range.from, range.to, step)));
    res.json({
      from: range.from.toISOString(),
      to: range.to.toISOString(),
      step_s: step,
      window_s: windowS,
      series: queries.map((q, i) => ({
        id: q.id,
        unit: q.unit,
        points: (results[i]?.[0]?.points ?? []).filter((p) => Number.isFinite(p.value)).map((p) => [new Date(p.timestamp).toISOString(), p.value]),
      })),
    });
  });
  api.post('/connection-tests', express.json({ limit: '16kb' }), connectionTestHandler({ allowedHosts: () => ctx().config.connectionTestAllowedHosts, logger: () => ctx().logger }));
  api.get('/ux-correlation/points', async (req, res) => {
    const range = resolveRange(validate(timeRangeQuery, req.query, 'query parameters'));
    res.json(await uxPoints(ctx().database.pool, range));
  });
  api.get('/anomalies/:id/context', async (req, res) => {
    const { id } = validate(z.object({ id: z.coerce.number().int().min(1).max(Number.MAX_SAFE_INTEGER) }), req.params, 'path parameters');
    const { database, prometheus } = ctx();
    const anomaly = await findAnomaly(database.pool, id);
    if (!anomaly) throw new ApiError(404, 'anomaly_not_found', `no anomaly with id ${id}`);
    res.json(await anomalyContext(anomaly, database.pool, prometheus));
  });
  router.use('/api', api);

  router.close = () => live?.close();
  return router;
}
