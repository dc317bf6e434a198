import type { Command } from 'commander';

/** `socketscope serve`: the analytics API (and admin pages), configured from the environment and these flags. */
export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('start the analytics service: client reports, geography, anomalies, UX correlation, alerts (see docs/configuration.md)')
    .option('-p, --port <port>', 'HTTP port (env PORT, default 8080)')
    .option('--host <address>', 'address to bind (env HOST, default 127.0.0.1)')
    .option('--database-url <url>', 'PostgreSQL URL (env DATABASE_URL; absent: embedded database in --data-dir)')
    .option('--data-dir <dir>', 'embedded database directory (env SOCKETSCOPE_DATA_DIR, default ./.data)')
    .option('--log-level <level>', 'log level (env LOG_LEVEL, default info)')
    .action(async (flags: { port?: string; host?: string; databaseUrl?: string; dataDir?: string; logLevel?: string }) => {
      const [{ loadConfig }, { startServiceWithAdmin }, { SERVICE_VERSION, createLogger }, { otlpTracesConfigured, routeDiagnostics, startTelemetry }] = await Promise.all([
        import('../config.ts'),
        import('../admin/start.ts'),
        import('../api/service.ts'),
        import('../telemetry/index.ts'),
      ]);
      const config = loadConfig(process.env, { port: flags.port, host: flags.host, databaseUrl: flags.databaseUrl, dataDir: flags.dataDir, logLevel: flags.logLevel });
      const logger = createLogger(config.logLevel);
      // Traces over OTLP when an endpoint is configured; the service's metrics stay on its own /metrics.
      const tracing = otlpTracesConfigured();
      // The SDK's own trouble (a collector that is down) goes to our log instead of nowhere.
      if (tracing) routeDiagnostics(logger);
      const telemetry = tracing
        ? await startTelemetry({ serviceName: 'socketscope-analytics', serviceVersion: SERVICE_VERSION, env: { OTEL_METRICS_EXPORTER: 'none' } })
        : undefined;
      const tracer = telemetry?.tracerProvider.getTracer('socketscope-analytics', SERVICE_VERSION);
      const service = await startServiceWithAdmin(config, { logger, ...(tracer ? { tracer } : {}) }).catch(async (error: unknown) => {
        await telemetry?.shutdown();
        throw error;
      });
      // The address is in the info-level log line; above that level (or with PORT=0) say it anyway.
      if (!logger.isLevelEnabled('info')) process.stderr.write(`socketscope analytics listening on ${service.url}\n`);
      await new Promise<void>((resolve) => {
        const stop = (signal: NodeJS.Signals) => {
          logger.info({ signal }, 'signal received');
          service
            .close()
            .then(() => telemetry?.shutdown())
            .then(resolve, (error: unknown) => {
              logger.error({ err: error }, 'shutdown failed');
              process.exitCode = 1;
              resolve();
            });
        };
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      // close() returns by its deadline; what it left behind (a task deaf to its abort, a statement the
      // database has not answered) must not keep the process past the orchestrator's grace period.
      process.exit(process.exitCode ?? 0);
    });
}
