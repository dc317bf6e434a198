/**
 * Health: /api/ws/health (every dependency and the service's own state) and
 * /health/websocket (the monitoring guide's shape). Both are public and not
 * rate-limited, so neither asks the dependencies per request: one probe at a
 * time is shared by every caller that arrives while it runs, and its result
 * answers for HEALTH_CACHE_MS after it finished.
 */
import { probe } from '../../analytics/http-json.ts';
import { serverQuery } from '../../analytics/server-queries.ts';
import { hasBearer } from '../auth.ts';
import type { ApiContext } from '../context.ts';
import { type Route, defineRoute } from '../route-spec.ts';
import { healthSchema, websocketHealthSchema } from '../schemas/responses.ts';
import { type OptionalPart, type Unavailable, absentDetail } from '../unavailable.ts';

/** The Watchdog repeats every minute (alertmanager/alertmanager.yml); this long without it, the alerting path is broken. */
export const WATCHDOG_STALE_MS = 5 * 60_000;

/** How long a health probe's result answers after it finished (ms). */
export const HEALTH_CACHE_MS = 2_000;

export interface HealthOptions {
  /** How long a probe's result is reused (default HEALTH_CACHE_MS; 0: only callers during a probe share it). */
  cacheMs?: number;
  /** Why absent parts are absent, when the one starting the service knows (unavailable.ts). */
  unavailable?: Unavailable;
}

/**
 * `run` at most once at a time: callers while it runs get the same promise,
 * and callers within `cacheMs` after it settled get its result.
 */
export function sharedProbe<T>(run: () => Promise<T>, cacheMs: number): () => Promise<T> {
  let current: { promise: Promise<T>; settledAt: number | null } | undefined;
  return () => {
    if (current && (current.settledAt === null || performance.now() - current.settledAt < cacheMs)) return current.promise;
    const entry: { promise: Promise<T>; settledAt: number | null } = { promise: run(), settledAt: null };
    const settle = () => {
      entry.settledAt = performance.now();
    };
    entry.promise.then(settle, settle);
    current = entry;
    return entry.promise;
  };
}

const NEEDS_PROMETHEUS = ['GET /api/ws/metrics', 'GET /api/ws/metrics/historical', 'anomaly detection over server metric streams', 'activeConnections in GET /health/websocket'];

interface Check {
  configured: boolean;
  ok: boolean;
  detail: string;
  latency_ms: number | null;
}

async function timed(run: () => Promise<{ ok: boolean; detail: string }>): Promise<Check> {
  const started = performance.now();
  const result = await run();
  return { configured: true, ...result, latency_ms: Math.round((performance.now() - started) * 10) / 10 };
}

/**
 * `work`, or a rejection when it has not settled within `ms` (ms: `no answer within ms`). The work is not
 * stopped: a pooled connection whose peer went silent holds its query until TCP gives up (minutes), and
 * the probe, shared by every health caller, must not wait for that.
 */
async function within<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

export function healthRoutes(ctx: ApiContext, { cacheMs = HEALTH_CACHE_MS, unavailable = {} }: HealthOptions = {}): Route[] {
  // Each check's deadline, the database's too, as the readiness probes of Prometheus and Alertmanager (PrometheusClient.ready).
  const timeoutMs = Math.min(ctx.config.prometheusTimeoutMs, 3_000);
  /** Whether the database answers, within timeoutMs. */
  const selectOne = () => within(ctx.database.pool.query('SELECT 1'), timeoutMs);

  /** What is missing, in plain words: the dependency, the variable that names it (or why it is not running), and what does not work without it. */
  const notConfigured = (what: string, part: OptionalPart, consequence: string): Check => ({
    configured: false,
    ok: false,
    detail: absentDetail(what, part, consequence, unavailable),
    latency_ms: null,
  });

  /**
   * The last Watchdog delivery: its row is updated on every webhook call. Whatever its status: a
   * Watchdog Alertmanager stopped having is marked resolved when GET /api/ws/alerts reconciles
   * (updated_at stays the last delivery), and it was last seen then all the same.
   */
  async function watchdogLastSeen(): Promise<Date | null> {
    try {
      const { rows } = await within(
        ctx.database.pool.query<{ updated_at: Date | string }>("SELECT updated_at FROM alerts WHERE alertname = 'Watchdog' ORDER BY updated_at DESC LIMIT 1"),
        timeoutMs,
      );
      return rows[0] ? new Date(rows[0].updated_at) : null;
    } catch {
      return null; // the database check reports the failure
    }
  }

  /**
   * Whether the Watchdog keeps arriving. Measured from the later of its last delivery and the
   * service's start (no delivery can arrive while the service is down), so a restart is not stale.
   */
  function watchdogCheck(lastSeen: Date | null, now: Date): Check {
    if (!ctx.alertmanager) {
      return notConfigured('The Watchdog check', 'alertmanager', 'whether Prometheus → Alertmanager → this service delivers alerts is not checked');
    }
    const since = Math.max(lastSeen?.getTime() ?? 0, ctx.startedAt.getTime());
    const quietMs = now.getTime() - since;
    const minutes = (ms: number) => `${Math.floor(ms / 60_000)} min`;
    const limit = minutes(WATCHDOG_STALE_MS);
    if (quietMs <= WATCHDOG_STALE_MS) {
      const detail = lastSeen
        ? `The Watchdog alert last reached the webhook at ${lastSeen.toISOString()}.`
        : `The Watchdog alert has not reached the webhook yet; the service started ${Math.round(quietMs / 1000)} s ago (it is expected within ${limit}).`;
      return { configured: true, ok: true, detail, latency_ms: null };
    }
    const detail = lastSeen
      ? `The Watchdog alert last reached the webhook at ${lastSeen.toISOString()}, ${minutes(now.getTime() - lastSeen.getTime())} ago (more than ${limit}): alerts may not be reaching anyone. Rule evaluation, Prometheus → Alertmanager or Alertmanager → this webhook is broken (docs/runbooks.md#watchdog).`
      : `The Watchdog alert has never reached the webhook in the ${minutes(quietMs)} the service has been up (more than ${limit}): alerts may not be reaching anyone. Rule evaluation, Prometheus → Alertmanager or Alertmanager → this webhook is broken, or Alertmanager does not route Watchdog to this service (docs/runbooks.md#watchdog).`;
    return { configured: true, ok: false, detail, latency_ms: null };
  }

  /** Every dependency at once, and the Watchdog's last delivery: one probe shared by concurrent callers, reused for cacheMs. */
  const probeDependencies = sharedProbe(async () => {
    const watchdog = watchdogLastSeen();
    const checks = await Promise.all([
      timed(async () => {
        try {
          await selectOne();
          return { ok: true, detail: `${ctx.database.kind} ${ctx.database.location}` };
        } catch (error) {
          return { ok: false, detail: (error as Error).message };
        }
      }),
      ctx.prometheus
        ? timed(() => ctx.prometheus!.ready())
        : notConfigured('Prometheus', 'prometheus', 'live server metrics, historical trends and anomaly detection over server metrics are unavailable'),
      ctx.alertmanager
        ? timed(() => ctx.alertmanager!.ready())
        : notConfigured('Alertmanager', 'alertmanager', 'anomalies are not raised as alerts, alerts cannot be acknowledged (an acknowledgement is a silence there) and the Watchdog is not checked'),
      ctx.config.collectorHealthUrl
        ? timed(() => probe(ctx.config.collectorHealthUrl!, timeoutMs))
        : notConfigured('The OpenTelemetry Collector', 'collector', 'its health is not checked; SDK metrics reach Prometheus only through a collector'),
    ]);
    return { checks, watchdogLastSeen: await watchdog };
  }, cacheMs);

  /** The database and the open connections for /health/websocket, shared the same way. */
  const probeWebsocket = sharedProbe(async () => {
    let healthy = true;
    try {
      await selectOne();
    } catch {
      healthy = false;
    }
    let activeConnections: number | null = null;
    if (ctx.prometheus) {
      try {
        const [sample] = await ctx.prometheus.query(serverQuery('active_connections')!.expr);
        activeConnections = sample && Number.isFinite(sample.value) ? sample.value : null;
      } catch (error) {
        ctx.logger.warn({ err: error }, 'health: Prometheus query failed');
      }
    }
    return { healthy, activeConnections };
  }, cacheMs);

  return [
    defineRoute({
      method: 'get',
      path: '/api/ws/health',
      tag: 'health',
      summary: 'Reachability of PostgreSQL, Prometheus, Alertmanager and the collector, and the service’s own state',
      description:
        '200 while the database answers (status `ok`, or `degraded` when a configured dependency does not answer or, with Alertmanager configured, the Watchdog alert has not arrived for more than 5 minutes); 503 with the same body (status `down`) when the database does not. `reasons` says in words why it is not ok. Without the admin token, failures read `not reachable` and tasks omit their last error and result (they can name hosts and databases); with it, the full detail.' +
        ` The dependencies are probed once for all callers at a time, and the result answers for ${cacheMs / 1000} s after (the endpoint is public): checks may be that old.`,
      access: 'public',
      status: 200,
      response: healthSchema,
      otherResponses: { 503: { description: 'The database does not answer: the same body, status `down`', schema: healthSchema } },
      async handler(_input, req, res) {
        const detailed = hasBearer(req, ctx.adminToken);
        const probed = await probeDependencies();
        const [postgres, prometheus, alertmanager, collector] = probed.checks.map((check, i) =>
          detailed || !check.configured ? check : { ...check, detail: check.ok ? (i === 0 ? ctx.database.kind : 'reachable') : 'not reachable' },
        ) as [Check, Check, Check, Check];
        const lastSeen = probed.watchdogLastSeen;
        const watchdogState = watchdogCheck(lastSeen, new Date());
        const checks = { postgres, prometheus, alertmanager, collector, watchdog: watchdogState };
        const optional = [prometheus, alertmanager, collector, watchdogState];
        const status: 'ok' | 'degraded' | 'down' = !postgres.ok ? 'down' : optional.some((c) => c.configured && !c.ok) ? 'degraded' : 'ok';
        if (status === 'down') res.status(503);
        const names = { postgres: 'PostgreSQL', prometheus: 'Prometheus', alertmanager: 'Alertmanager', collector: 'The OpenTelemetry Collector' } as const;
        const reasons = Object.entries(checks)
          .filter(([, c]) => c.configured && !c.ok)
          .map(([name, c]) => (name === 'watchdog' ? c.detail : `${names[name as keyof typeof names]}: ${c.detail}`));
        return {
          status,
          reasons,
          checks,
          service: {
            version: ctx.version,
            started_at: ctx.startedAt.toISOString(),
            uptime_s: Math.round((Date.now() - ctx.startedAt.getTime()) / 1000),
            database: ctx.database.kind,
            tasks: (ctx.scheduler?.status() ?? []).map((task) => (detailed ? task : { ...task, last_error: task.last_error === null ? null : 'failed (details with the admin token)', last_result: null })),
            needs_prometheus: ctx.prometheus ? [] : NEEDS_PROMETHEUS,
            watchdog_last_seen_at: lastSeen?.toISOString() ?? null,
          },
        };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/health/websocket',
      tag: 'health',
      summary: 'Liveness with the current number of WebSocket connections (from Prometheus when configured)',
      description: `The database and Prometheus are asked once for all callers at a time, and the answer holds for ${cacheMs / 1000} s after (the endpoint is public).`,
      access: 'public',
      status: 200,
      response: websocketHealthSchema,
      otherResponses: { 503: { description: 'The database does not answer: the same body, status `unhealthy`', schema: websocketHealthSchema } },
      async handler(_input, _req, res) {
        const { healthy, activeConnections } = await probeWebsocket();
        if (!healthy) res.status(503);
        return { status: healthy ? ('healthy' as const) : ('unhealthy' as const), activeConnections, timestamp: new Date().toISOString() };
      },
    }),
  ];
}
