/**
 * The service's bearer tokens. The admin API's: SOCKETSCOPE_ADMIN_TOKEN, or for a service bound to loopback only a
 * token generated for the run. The generated token goes to a file only its owner can read (and to
 * the terminal when there is one), never into the log, which is shipped to places an admin token
 * should not be.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join, resolve } from 'node:path';
import type { Logger } from 'pino';
import type { Config } from '../config.ts';

export function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  const version = isIP(host);
  if (version === 4) return host.startsWith('127.');
  return version === 6 && (host === '::1' || host === '0:0:0:0:0:0:0:1');
}

/**
 * The rule for every bearer token of the service: it may be absent only while the service listens
 * on loopback; beyond this machine its absence stops the start, naming the variable and what
 * would happen without it.
 */
export function requireTokenBeyondLoopback(variable: string, token: string | undefined, host: string, without: string): void {
  if (token || isLoopback(host)) return;
  throw new Error(`${variable} must be set when the service listens on ${host}, beyond this machine: without it ${without}`);
}

export interface AdminToken {
  token: string;
  /**
   * Hands a generated token to the operator: the file (written beside and renamed over it, so no
   * reader sees half a token) and the terminal. A no-op for a configured token. The service calls
   * it once it listens: a start that fails (the data directory or the port in use by a running
   * service) must not replace that service's token in the file.
   */
  publish(): void;
}

export function resolveAdminToken(config: Pick<Config, 'adminToken' | 'host' | 'dataDir'>, logger: Logger): AdminToken {
  if (config.adminToken) return { token: config.adminToken, publish: () => undefined };
  requireTokenBeyondLoopback('SOCKETSCOPE_ADMIN_TOKEN', config.adminToken, config.host, 'the admin API would use a token generated for this run');
  const token = randomBytes(24).toString('base64url');
  return {
    token,
    publish() {
      const file = resolve(join(config.dataDir, 'admin-token'));
      mkdirSync(config.dataDir, { recursive: true });
      const temp = `${file}.${process.pid}.tmp`;
      writeFileSync(temp, `${token}\n`, { mode: 0o600 });
      renameSync(temp, file);
      logger.warn({ admin_token_file: file }, 'SOCKETSCOPE_ADMIN_TOKEN is not set: generated a token for this run (in the file named here)');
      if (process.stderr.isTTY) process.stderr.write(`admin token for this run: ${token}\n`);
    },
  };
}

/**
 * The Alertmanager webhook's bearer token: ALERTMANAGER_WEBHOOK_TOKEN, required beyond loopback
 * like the admin token (an open webhook lets anyone record alerts, and a forged firing Watchdog
 * makes /api/ws/health call the dead-man's switch fresh). Undefined: loopback, no auth.
 */
export function resolveWebhookToken(config: Pick<Config, 'webhookToken' | 'host'>): string | undefined {
  requireTokenBeyondLoopback('ALERTMANAGER_WEBHOOK_TOKEN', config.webhookToken, config.host, 'anyone who can reach the service could post alerts to POST /api/ws/alerts/webhook');
  return config.webhookToken;
}
