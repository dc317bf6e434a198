/**
 * The admin API's bearer token: SOCKETSCOPE_ADMIN_TOKEN, or for a service bound to loopback only a
 * token generated for the run. The generated token goes to a file only its owner can read (and to
 * the terminal when there is one), never into the log, which is shipped to places an admin token
 * should not be.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
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

export function resolveAdminToken(config: Pick<Config, 'adminToken' | 'host' | 'dataDir'>, logger: Logger): string {
  if (config.adminToken) return config.adminToken;
  if (!isLoopback(config.host)) {
    throw new Error(`SOCKETSCOPE_ADMIN_TOKEN must be set when the service listens on ${config.host}, beyond this machine: without it the admin API would use a token generated for this run`);
  }
  const token = randomBytes(24).toString('base64url');
  const file = resolve(join(config.dataDir, 'admin-token'));
  mkdirSync(config.dataDir, { recursive: true });
  writeFileSync(file, `${token}\n`, { mode: 0o600 });
  logger.warn({ admin_token_file: file }, 'SOCKETSCOPE_ADMIN_TOKEN is not set: generated a token for this run (in the file named here)');
  if (process.stderr.isTTY) process.stderr.write(`admin token for this run: ${token}\n`);
  return token;
}
