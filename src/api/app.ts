/**
 * The Express application: routers built from the route declarations, zod
 * validation of every input, bearer auth on the admin API, CORS from the
 * allow-list, per-client rate limits, body size limits, structured logs, and
 * errors as `{error:{code,message,details}}`. `/admin` is a mount point for
 * the admin pages (src/admin/), which are not part of this module.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Tracer } from '@opentelemetry/api';
import cors from 'cors';
import express, { type RequestHandler, type Router } from 'express';
import type { z } from 'zod';
import { resolveWebhookToken } from './admin-token.ts';
import { requireBearer } from './auth.ts';
import type { ApiContext } from './context.ts';
import { ApiError, errorHandler, notFound, zodDetails } from './errors.ts';
import { buildOpenApiDocument } from './openapi.ts';
import { perClientLimit } from './rate-limit.ts';
import { requestLog } from './request-log.ts';
import { type Route, bodyMediaTypes, expressPath } from './route-spec.ts';
import { alertRoutes } from './routes/alerts.ts';
import { clientMetricsRoutes } from './routes/client-metrics.ts';
import { healthRoutes } from './routes/health.ts';
import { serverMetricsRoutes } from './routes/server-metrics.ts';
import type { Unavailable } from './unavailable.ts';
import { routeOf, traceRequests } from './tracing.ts';

/**
 * 415 for a body in a type the route does not read. The JSON parser skips other types, leaving no body:
 * without this the answer was 400 `expected object, received undefined`, which hides the cause.
 */
function requireMediaType(types: string[]): RequestHandler {
  return (req, _res, next) => {
    const type = req.headers['content-type'];
    // is() is null for a typed request without a body: left to validation (400, the body is missing).
    if (type === undefined || req.is(types) === false) {
      next(new ApiError(415, 'unsupported_media_type', `${type ? `Content-Type ${type}` : 'a body without Content-Type'} is not accepted here: send ${types.join(' or ')}`, { accepted: types, received: type ?? null }));
      return;
    }
    next();
  };
}

/** The contract's limit for client report bodies. */
export const INGEST_BODY_LIMIT = '256kb';

/** Serves the service's own Prometheus metrics (the OTel Prometheus exporter's request handler fits). */
export interface MetricsEndpoint {
  handle(req: IncomingMessage, res: ServerResponse): void;
}

export interface AppOptions {
  metrics?: MetricsEndpoint;
  /** Traces each request (a SERVER span) when given. */
  tracer?: Tracer;
  /** Mounted at /admin (pages and static assets). */
  admin?: Router;
  /**
   * How long a health probe's result answers after it finished, in ms (default 2000): the
   * health endpoints are public, so callers share one probe of the dependencies (routes/health.ts).
   */
  healthCacheMs?: number;
  /** Why absent dependencies are absent, when the one starting the service knows (the demo: not installed); health says it instead of "set …_URL". */
  unavailable?: Unavailable;
}

export function allRoutes(ctx: ApiContext, options: Pick<AppOptions, 'healthCacheMs' | 'unavailable'> = {}): Route[] {
  return [
    ...clientMetricsRoutes(ctx),
    ...serverMetricsRoutes(ctx, options.unavailable),
    ...alertRoutes(ctx),
    ...healthRoutes(ctx, { cacheMs: options.healthCacheMs, unavailable: options.unavailable }),
  ];
}

function validate(schema: z.ZodType | undefined, value: unknown, where: string): unknown {
  if (!schema) return undefined;
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new ApiError(400, 'validation_failed', `invalid ${where}`, zodDetails(parsed.error));
  return parsed.data;
}

function handle(route: Route): RequestHandler {
  return async (req, res) => {
    const input = {
      query: validate(route.query, req.query, 'query parameters'),
      params: validate(route.params, req.params, 'path parameters'),
      body: route.rawBody ? undefined : validate(route.body, req.body, 'request body'),
    };
    const result = await route.handler(input, req, res);
    if (res.statusCode === 200) res.status(route.status);
    res.json(result);
  };
}

export function createApp(ctx: ApiContext, options: AppOptions = {}): express.Express {
  const app = express();
  app.disable('x-powered-by');
  // Parsed by loadConfig: false, a hop count or proxy addresses, never `true` (any client's X-Forwarded-For).
  app.set('trust proxy', ctx.config.trustProxy);
  app.set('etag', false);

  app.use(
    requestLog(ctx.logger, {
      level: (req, res) => {
        if (res.statusCode >= 500) return 'error';
        if (res.statusCode >= 400) return 'warn';
        return req.method === 'POST' && req.originalUrl.startsWith('/api/ws/client-metrics') ? 'debug' : 'info';
      },
      ignore: (req) => req.url === '/metrics' || req.url === '/health/websocket',
    }),
  );

  if (options.tracer) app.use(traceRequests(options.tracer));

  app.use((req, res, next) => {
    const started = performance.now();
    res.once('finish', () => {
      const route = routeOf(req) ?? 'unmatched';
      ctx.instruments.recordRequest(req.method, route, res.statusCode, (performance.now() - started) / 1000);
      if (route === '/api/ws/client-metrics' && req.method === 'POST' && res.statusCode >= 400) ctx.instruments.reportsRejected(String(res.statusCode));
    });
    next();
  });

  const allowed = new Set(ctx.config.corsOrigins.map((o) => new URL(o).origin));
  app.use(
    '/api',
    cors({
      origin: (origin, callback) => callback(null, origin !== undefined && allowed.has(origin)),
      methods: ['GET', 'POST'],
      allowedHeaders: ['content-type', 'authorization', 'traceparent'],
      exposedHeaders: ['Retry-After'],
      maxAge: 600,
    }),
  );

  const adminAuth = requireBearer(ctx.adminToken);
  const adminLimit = perClientLimit('admin', ctx.config.adminRateLimit);
  const ingestLimit = perClientLimit('ingest', ctx.config.ingestRateLimit);
  const webhookLimit = perClientLimit('webhook', ctx.config.webhookRateLimit);
  // Required beyond loopback (the admin token's rule); on loopback without one the webhook is open.
  const webhookToken = resolveWebhookToken(ctx.config);
  const webhookAuth: RequestHandler = webhookToken ? requireBearer(webhookToken, 'socketscope-webhook') : (_req, _res, next) => next();
  const ingestBody = express.json({ limit: INGEST_BODY_LIMIT, type: ['application/json', 'text/plain'] });
  const jsonBody = express.json({ limit: '1mb' });
  const webhookBody = express.json({ limit: '10mb' });

  const routes = allRoutes(ctx, options);
  for (const route of routes) {
    const chain: RequestHandler[] = [];
    if (route.access === 'admin') chain.push(adminLimit, adminAuth);
    if (route.access === 'ingest') chain.push(ingestLimit);
    if (route.access === 'webhook') chain.push(webhookLimit, webhookAuth);
    if (route.method === 'post') {
      if (route.body) chain.push(requireMediaType(bodyMediaTypes(route)));
      chain.push(route.access === 'ingest' ? ingestBody : route.access === 'webhook' ? webhookBody : jsonBody);
    }
    app[route.method](expressPath(route.path), ...chain, handle(route));
  }

  const openApi = buildOpenApiDocument(routes, { version: ctx.version });
  app.get('/api/openapi.json', (_req, res) => {
    res.json(openApi);
  });

  app.get('/metrics', (req, res, next) => {
    if (!options.metrics) {
      next(new ApiError(503, 'metrics_not_configured', 'the service metrics exporter is not wired'));
      return;
    }
    options.metrics.handle(req, res);
  });

  if (options.admin) app.use('/admin', options.admin);

  app.use(notFound);
  app.use(errorHandler(ctx.logger));
  return app;
}
