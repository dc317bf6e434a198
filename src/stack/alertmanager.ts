import { writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import { parse, stringify } from 'yaml';
import { REPO_ROOT, requireBinary } from './binaries.ts';
import { readWithEndpoints } from './endpoints.ts';
import { freePort } from './ports.ts';
import { ManagedProcess } from './process.ts';
import { waitUntilReady } from './prometheus.ts';

export const ALERTMANAGER_CONFIG = join(REPO_ROOT, 'alertmanager', 'alertmanager.yml');

/**
 * Deployment settings the shipped alertmanager.yml holds as compose defaults,
 * replaced from the environment when set (docker-compose.yml's alertmanager
 * entrypoint does the same with sed).
 */
export const ALERTMANAGER_ENV_SETTINGS: Record<string, string> = {
  'smtp:587': 'SMTP_SMARTHOST',
  'socketscope-alerts@example.com': 'SMTP_FROM',
  'oncall@example.com': 'ALERT_EMAIL_ONCALL',
  'platform@example.com': 'ALERT_EMAIL_PLATFORM',
};

function settingsFromEnv(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [value, name] of Object.entries(ALERTMANAGER_ENV_SETTINGS)) {
    const replacement = env[name];
    if (replacement) out[value] = replacement;
  }
  return out;
}

/** The receiver that carries the Watchdog to an external dead man's switch (WATCHDOG_HEARTBEAT_URL). */
export const WATCHDOG_HEARTBEAT_RECEIVER = 'watchdog-heartbeat';

export interface AlertmanagerHandle {
  url: string;
  port: number;
  process: ManagedProcess;
  stop(): Promise<void>;
}

/**
 * The shipped alertmanager.yml with compose endpoints replaced by native ones
 * and template paths made absolute (they are relative to the source file).
 * With a heartbeat URL (default WATCHDOG_HEARTBEAT_URL), the watchdog-heartbeat
 * receiver posts the Watchdog there; without one it stays without an
 * integration, as shipped. `email: false` removes the email integrations (a
 * local stack without SMTP would otherwise fail every critical's email and
 * raise AlertmanagerNotificationsFailing about it).
 */
export function renderAlertmanagerConfig(
  endpoints: Record<string, string>,
  {
    source = ALERTMANAGER_CONFIG,
    groupWait,
    groupInterval,
    watchdogHeartbeatUrl = process.env.WATCHDOG_HEARTBEAT_URL,
    email = true,
  }: { source?: string; groupWait?: string; groupInterval?: string; watchdogHeartbeatUrl?: string; email?: boolean } = {},
): string {
  const config = parse(readWithEndpoints(source, { ...settingsFromEnv(process.env), ...endpoints })) as {
    templates?: string[];
    route?: { group_wait?: string; group_interval?: string };
    receivers?: Array<{ name: string; webhook_configs?: Array<Record<string, unknown>>; email_configs?: unknown[] }>;
  };
  if (!email) for (const receiver of config.receivers ?? []) delete receiver.email_configs;
  if (watchdogHeartbeatUrl) {
    const receiver = config.receivers?.find((r) => r.name === WATCHDOG_HEARTBEAT_RECEIVER);
    if (!receiver) throw new Error(`${source} has no receiver ${WATCHDOG_HEARTBEAT_RECEIVER} for WATCHDOG_HEARTBEAT_URL`);
    receiver.webhook_configs = [{ url: watchdogHeartbeatUrl, send_resolved: false }];
  }
  // Tests shorten the grouping delays so a notification arrives in seconds.
  if (config.route && groupWait) config.route.group_wait = groupWait;
  if (config.route && groupInterval) config.route.group_interval = groupInterval;
  if (config.templates) {
    config.templates = config.templates.map((file) => (isAbsolute(file) ? file : join(dirname(source), file)));
  }
  return stringify(config);
}

export interface StartAlertmanagerOptions {
  runDir: string;
  /** YAML text of the config (see renderAlertmanagerConfig). */
  config: string;
  extraArgs?: string[];
}

export async function startAlertmanager(options: StartAlertmanagerOptions): Promise<AlertmanagerHandle> {
  const bin = requireBinary('alertmanager');
  const port = await freePort();
  const configFile = join(options.runDir, 'alertmanager.yml');
  writeFileSync(configFile, options.config);
  const proc = new ManagedProcess({
    name: 'alertmanager',
    command: bin,
    args: [
      `--config.file=${configFile}`,
      `--storage.path=${join(options.runDir, 'alertmanager-data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      // Empty: no gossip cluster (it would otherwise listen on 0.0.0.0:9094).
      '--cluster.listen-address=',
      ...(options.extraArgs ?? []),
    ],
    logFile: join(options.runDir, 'alertmanager.log'),
  });
  const url = `http://127.0.0.1:${port}`;
  await waitUntilReady('alertmanager', proc, `${url}/-/ready`);
  return { url, port, process: proc, stop: () => proc.stop() };
}
