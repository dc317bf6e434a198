/**
 * The analytics service as one unit: database (server or embedded), migrations,
 * partitions, Prometheus/Alertmanager clients, scheduled detection and
 * retention, the HTTP server, and an orderly close() for graceful shutdown.
 * `socketscope serve` and the integration tests both start it through here.
 */
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Logger, pino } from 'pino';
import { AlertmanagerClient } from '../analytics/alertmanager.ts';
import { clientReportStreams, prometheusStreams, runAnomalyDetection } from '../analytics/anomaly-job.ts';
import { createGeoResolver } from '../analytics/geo.ts';
import { maintainPartitions } from '../analytics/maintenance.ts';
import { PrometheusClient } from '../analytics/prometheus.ts';
import { rollUp } from '../analytics/rollups.ts';
import { Scheduler } from '../analytics/scheduler.ts';
import { type Database, openDatabase } from '../analytics/storage/database.ts';
import { migrate } from '../analytics/storage/migrate.ts';
import { ensurePartitions, listPartitions } from '../analytics/storage/partitions.ts';
import { ReportWriter, WRITE_STATEMENT_TIMEOUT_MS } from '../analytics/storage/report-writer.ts';
import { QUERY_DEADLINE_MARGIN_MS } from '../analytics/storage/transaction.ts';
import type { Config } from '../config.ts';
import { resolveAdminToken, resolveWebhookToken } from './admin-token.ts';
import { type AppOptions, createApp } from './app.ts';
import type { ApiContext } from './context.ts';
import { apiInstruments, createServiceMetrics } from './service-metrics.ts';
import type { Meter } from '@opentelemetry/api';

export const SERVICE_VERSION = '0.1.0';
/** In-flight requests get this long to finish on shutdown before connections are cut. */
const DRAIN_MS = 10_000;
/**
 * close() resolves within this long whatever hangs (Kubernetes kills the pod 30 s after SIGTERM by
 * default): connections still open are cut, and what had not finished is logged.
 */
export const CLOSE_DEADLINE_MS = 20_000;
const ANOMALY_STEP_SECONDS = 300;

export interface RunningService {
  url: string;
  port: number;
  context: ApiContext;
  scheduler: Scheduler;
  server: Server;
  close(): Promise<void>;
}

export interface StartServiceOptions extends AppOptions {
  /** The meter of an SDK set up elsewhere (src/telemetry); with it pass `metrics` too. Absent: our own exporter. */
  meter?: Meter;
  logger?: Logger;
  /** Clock for the scheduled jobs (tests). */
  now?: () => Date;
  /** close()'s deadline (default CLOSE_DEADLINE_MS; tests). */
  closeDeadlineMs?: number;
}

export function createLogger(level: string): Logger {
  return pino({ level, base: { service: 'socketscope-analytics' }, redact: ['req.headers.authorization', 'req.headers.cookie'] });
}

/**
 * The day partitions of today and the next two days, before the service takes requests. Required on a
 * first start (no partition at all: nowhere to write). Otherwise best effort: a failure (a lock not
 * granted within PARTITION_LOCK_TIMEOUT_MS, say) is logged and the start goes on, since the
 * partitions of the coming days normally exist already, partition maintenance (started right after)
 * creates them, and ingest creates a missing day partition itself.
 */
async function startupPartitions(database: Database, logger: Logger, now = new Date()): Promise<void> {
  const firstStart = (await listPartitions(database.pool)).length === 0;
  try {
    const created = await ensurePartitions(database.pool, { from: now, daysAhead: 2 });
    if (created.length > 0) logger.info({ created }, 'partitions created');
  } catch (error) {
    if (firstStart) throw error;
    logger.warn({ err: error }, 'could not create the coming days\' partitions at start; partition maintenance tries again, and ingest creates a missing one');
  }
}

export async function startService(config: Config, options: StartServiceOptions = {}): Promise<RunningService> {
  const logger = options.logger ?? createLogger(config.logLevel);
  const startedAt = new Date();
  let database: Database | undefined;
  let scheduler: Scheduler | undefined;
  let server: Server | undefined;
  const ownMetrics = options.meter ? undefined : createServiceMetrics('socketscope-analytics', SERVICE_VERSION);
  const meter = options.meter ?? (ownMetrics as NonNullable<typeof ownMetrics>).meter;
  const metricsEndpoint = options.metrics ?? ownMetrics;
  try {
    // Generated (when not configured) now, published once the service listens.
    const adminToken = resolveAdminToken(config, logger);
    // Checked before anything is opened (createApp checks again): a start without it fails fast.
    resolveWebhookToken(config);
    database = await openDatabase({
      databaseUrl: config.databaseUrl,
      dataDir: config.dataDir,
      readTimeoutMs: config.queryTimeoutMs,
      // Above every statement_timeout the service sets (reads carry their own, readOnly).
      queryDeadlineMs: Math.max(config.queryTimeoutMs, WRITE_STATEMENT_TIMEOUT_MS) + QUERY_DEADLINE_MARGIN_MS,
      onPoolError: (error) => logger.error({ err: error }, 'idle database connection failed'),
    });
    logger.info({ database: database.kind, location: database.location }, 'database open');
    const applied = await migrate(database.pool, { log: { info: (m) => logger.debug(m) } });
    if (applied.length > 0) logger.info({ migrations: applied }, 'migrations applied');
    await startupPartitions(database, logger, options.now?.());

    const prometheus = config.prometheusUrl ? new PrometheusClient(config.prometheusUrl, config.prometheusTimeoutMs, config.prometheusHeaders) : undefined;
    const alertmanager = config.alertmanagerUrl ? new AlertmanagerClient(config.alertmanagerUrl, config.prometheusTimeoutMs, config.alertmanagerHeaders) : undefined;
    if (!prometheus) logger.warn('PROMETHEUS_URL is not set: server metrics and anomaly detection over them are unavailable');

    const instruments = apiInstruments(meter);
    scheduler = new Scheduler(logger, { tracer: options.tracer, onRun: (name, ok, seconds) => instruments.recordTask(name, ok, seconds) });
    const context: ApiContext = {
      config,
      logger,
      database,
      reports: new ReportWriter(database),
      geo: createGeoResolver({ countryHeader: config.trustedCountryHeader, regionHeader: config.trustedRegionHeader }),
      prometheus,
      alertmanager,
      scheduler,
      adminToken: adminToken.token,
      startedAt,
      version: SERVICE_VERSION,
      instruments,
    };
    const app = createApp(context, { ...options, metrics: metricsEndpoint });
    const listening = createServer(app);
    server = listening;
    listening.keepAliveTimeout = 65_000;
    listening.headersTimeout = 66_000;
    listening.requestTimeout = 60_000;
    await new Promise<void>((resolve, reject) => {
      listening.once('error', reject);
      listening.listen(config.port, config.host, () => {
        listening.off('error', reject);
        resolve();
      });
    });
    const { port } = listening.address() as AddressInfo;
    const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
    logger.info({ url }, 'socketscope analytics listening');
    adminToken.publish();

    const db = database;
    // The scheduled jobs start once the port is ours: a start that fails to listen (the port in use by
    // a running service) has then written nothing, neither detections nor maintenance.
    // Retention included, in the background: its first run starts now (with MAINTENANCE_INTERVAL_SECONDS=0
    // that is the only one). Detaching an expired day waits for the reads using client_reports, which must
    // not hold up the start, nor fail it: a failed run is logged and counted, and the next run (if any) retries.
    scheduler.every('partition-maintenance', config.maintenanceIntervalSeconds * 1000, () =>
      maintainPartitions(db.pool, { retentionDays: config.retentionDays, now: options.now?.() }),
    );
    if (config.rollupIntervalSeconds > 0) {
      scheduler.every('rollup', config.rollupIntervalSeconds * 1000, () => rollUp(db.pool, options.now?.()));
    }
    if (config.anomalyIntervalSeconds > 0) {
      const streams = [...clientReportStreams(db.pool, ANOMALY_STEP_SECONDS), ...(prometheus ? prometheusStreams(prometheus, ANOMALY_STEP_SECONDS) : [])];
      scheduler.every('anomaly-detection', config.anomalyIntervalSeconds * 1000, async (signal) => {
        const result = await runAnomalyDetection(
          { pool: db.pool, prometheus, alertmanager, stepSeconds: ANOMALY_STEP_SECONDS, intervalMs: config.anomalyIntervalSeconds * 1000, now: options.now, signal },
          streams,
        );
        // Cut short on shutdown (the stream in flight failed with the abort): an aborted run, not a failed one.
        signal.throwIfAborted();
        // The other streams ran; the run still counts as failed so SocketscopeTaskFailing can say so.
        if (result.errors.length > 0) {
          throw new Error(`${result.errors.length} of ${result.streams} anomaly streams failed: ${result.errors.map((e) => `${e.stream}: ${e.error}`).join('; ')}`);
        }
        return result;
      });
    }

    let closing: Promise<void> | undefined;
    const sched = scheduler;
    return {
      url,
      port,
      context,
      scheduler: sched,
      server: listening,
      close() {
        closing ??= (async () => {
          logger.info('shutting down');
          // What has not finished yet, for the log line should the deadline pass.
          const pending = new Set(['requests', 'scheduled tasks', 'database', 'metrics']);
          const steps = (async () => {
            const drained = new Promise<void>((resolve) => listening.close(() => resolve())).then(() => pending.delete('requests'));
            listening.closeIdleConnections();
            const timer = setTimeout(() => listening.closeAllConnections(), DRAIN_MS);
            timer.unref();
            // At once, beside the drain: stop() aborts the running tasks' calls to Prometheus and Alertmanager.
            const stopped = sched.stop().then(() => pending.delete('scheduled tasks'));
            try {
              await Promise.all([drained, stopped]);
            } finally {
              clearTimeout(timer);
            }
            await db.close();
            pending.delete('database');
            await ownMetrics?.shutdown();
            pending.delete('metrics');
          })();
          let deadlineTimer: NodeJS.Timeout | undefined;
          const deadline = new Promise<'deadline'>((resolve) => {
            deadlineTimer = setTimeout(() => resolve('deadline'), options.closeDeadlineMs ?? CLOSE_DEADLINE_MS);
          });
          try {
            if ((await Promise.race([steps, deadline])) === 'deadline') {
              listening.closeAllConnections();
              // The steps go on in the background (the process usually exits first); their end is only logged.
              steps.then(
                () => logger.info('stopped, after the shutdown deadline'),
                (error: unknown) => logger.error({ err: error }, 'shutdown failed after the deadline'),
              );
              logger.warn(
                { unfinished: [...pending], running_tasks: sched.running(), deadline_ms: options.closeDeadlineMs ?? CLOSE_DEADLINE_MS },
                'shutdown deadline passed: open connections cut, unfinished steps left behind',
              );
              return;
            }
          } finally {
            clearTimeout(deadlineTimer);
          }
          logger.info('stopped');
        })();
        return closing;
      },
    };
  } catch (error) {
    if (server?.listening) {
      server.close();
      server.closeAllConnections();
    }
    await scheduler?.stop();
    await database?.close().catch(() => undefined);
    await ownMetrics?.shutdown();
    throw error;
  }
}
