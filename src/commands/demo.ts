import { type Command, type CommanderError, InvalidArgumentError, Option } from 'commander';
import { LOG_LEVELS } from '../config.ts';

interface DemoFlags {
  clients: number;
  browser: boolean;
  dataDir: string;
  port?: number;
  logLevel: string;
  json?: boolean;
  install?: boolean;
  appOnly?: boolean;
  reportUrl?: string;
}

/** Exit code of a bad option or combination, as for `load` and `test` (docs/load-testing.md). */
const USAGE_EXIT = 2;

/** `--port`: a TCP port, 1-65535 (0 would be "any free port", which is what leaving it out does). */
export function parsePort(value: string): number {
  const text = value.trim();
  const port = Number(text);
  if (!/^\d{1,5}$/.test(text) || port < 1 || port > 65_535) throw new InvalidArgumentError(`--port must be a port number from 1 to 65535 (leave it out for a free port), got "${value}"`);
  return port;
}

/** `--clients`: 0 to 5000 synthetic clients. */
export function parseClients(value: string): number {
  const text = value.trim();
  const clients = Number(text);
  if (!/^\d+$/.test(text) || clients > 5_000) throw new InvalidArgumentError(`--clients must be an integer from 0 to 5000, got "${value}"`);
  return clients;
}

/** `socketscope demo`: the whole pipeline locally with embedded defaults (see src/demo/run-demo.ts). */
export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('run the whole pipeline locally: demo app, synthetic clients, collector, Prometheus, Alertmanager, analytics service and admin pages')
    .option('--clients <n>', 'synthetic clients (0-5000)', parseClients, 60)
    .option('--no-browser', 'do not open the demo page in headless Chromium')
    .option('--data-dir <dir>', 'embedded database directory when DATABASE_URL is not set', './.data')
    .option('-p, --port <port>', 'port of the analytics service and admin pages, 1-65535 (default: a free port)', parsePort)
    .addOption(new Option('--log-level <level>', 'service log level').choices(LOG_LEVELS).default('warn'))
    .option('--install', 'install missing Debian packages and build the collector first (as root: runs scripts/setup.sh)')
    .option('--json', 'print the URLs as one JSON line on stdout once everything runs')
    .option('--app-only', 'only the instrumented demo app and its synthetic clients, exporting to OTEL_EXPORTER_OTLP_ENDPOINT (the docker-compose demo service)')
    .option('--report-url <url>', 'with --app-only: analytics service base URL for the synthetic clients\' reports, e.g. http://app:8080')
    // Bad options and combinations are usage errors (exit 2) from commander, before anything starts.
    .exitOverride((error: CommanderError) => process.exit(error.exitCode === 0 ? 0 : USAGE_EXIT))
    .action(async (flags: DemoFlags, command: Command) => {
      const usage = (message: string): never => command.error(`error: ${message}`, { exitCode: USAGE_EXIT, code: 'socketscope.usage' });
      const clients = flags.clients;
      if (flags.reportUrl !== undefined && !flags.appOnly) usage('--report-url goes with --app-only');
      if (flags.reportUrl !== undefined && !/^https?:\/\/[^\s/]+/.test(flags.reportUrl)) usage(`--report-url must be an http(s) URL, got ${flags.reportUrl}`);
      if (flags.appOnly && flags.port !== undefined) usage('--port is the analytics service\'s port, which --app-only does not start');
      if (flags.install) await install();
      const progress = (line: string) => process.stderr.write(`${line}\n`);
      if (flags.appOnly) {
        const { runDemoApp } = await import('../demo/run-demo.ts');
        const demo = await runDemoApp({ clients, reportUrl: flags.reportUrl, progress });
        if (flags.json) process.stdout.write(`${JSON.stringify({ app: demo.app.url, ws: demo.app.wsUrl })}\n`);
        await untilSignal(progress, () => demo.stop());
        return;
      }
      const [{ runDemo }, { leaveShutdownToApp }] = await Promise.all([import('../demo/run-demo.ts'), import('../stack/index.ts')]);
      const demo = await runDemo({
        clients,
        browser: flags.browser,
        dataDir: flags.dataDir,
        port: flags.port,
        logLevel: flags.logLevel,
        progress,
      });
      const { urls } = demo;
      if (flags.json) {
        process.stdout.write(`${JSON.stringify(urls)}\n`);
      } else {
        const rows: Array<[string, string | null]> = [
          ['demo app', urls.app],
          ['admin: server analytics', urls.admin],
          ['admin: client metrics', urls.clientMetrics],
          ['admin token', urls.adminToken],
          ['API', urls.api],
          ['OpenAPI', urls.openapi],
          ['Prometheus', urls.prometheus],
          ['Alertmanager', urls.alertmanager],
          ['collector OTLP/HTTP', urls.collector],
          ['traces (no Tempo: sink)', urls.traces],
          ['database', urls.database === 'embedded' ? 'embedded PGlite' : 'PostgreSQL (DATABASE_URL)'],
        ];
        process.stdout.write(`\nsocketscope demo is running — Ctrl-C stops everything\n\n`);
        for (const [label, value] of rows) process.stdout.write(`  ${label.padEnd(24)} ${value ?? 'not running (not installed)'}\n`);
        process.stdout.write('\n');
      }
      // The first Ctrl-C is ours (a graceful stop); a second one still makes the stack kill everything at once.
      leaveShutdownToApp();
      await untilSignal(progress, () => demo.stop());
    });
}

/**
 * Waits for SIGINT, SIGTERM or SIGHUP (Ctrl-C, `docker stop`, the terminal
 * closed), then stops everything. SIGHUP too: the stack leaves the first
 * signal to us (leaveShutdownToApp), so one not listened for here would be
 * swallowed and leave the demo and its services running.
 */
function untilSignal(progress: (line: string) => void, stopAll: () => Promise<void>): Promise<void> {
  return new Promise<void>((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      // After a hangup the terminal is gone: a failed write must not stop the shutdown.
      if (signal === 'SIGHUP') for (const stream of [process.stdout, process.stderr]) stream.on('error', () => undefined);
      progress(`\n${signal}: stopping…`);
      stopAll().then(
        () => {
          progress('✓ stopped');
          resolve();
        },
        (error: unknown) => {
          progress(`shutdown failed: ${(error as Error).message}`);
          process.exitCode = 1;
          resolve();
        },
      );
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    process.once('SIGHUP', stop);
  });
}

async function install(): Promise<void> {
  if (process.getuid?.() !== 0) {
    throw new Error('--install needs root (it installs Debian packages): run `sudo npm run setup`, or see `socketscope doctor`');
  }
  const { spawn } = await import('node:child_process');
  const { REPO_ROOT } = await import('../stack/binaries.ts');
  await new Promise<void>((resolve, reject) => {
    const child = spawn('bash', ['scripts/setup.sh'], { cwd: REPO_ROOT, stdio: 'inherit' });
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`scripts/setup.sh exited with ${code}`))));
    child.on('error', reject);
  });
}
