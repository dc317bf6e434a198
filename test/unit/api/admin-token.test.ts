/**
 * The admin token: required beyond loopback; generated on loopback into an owner-only file, never into the log.
 * The webhook token: the same rule (one function), absent only on loopback.
 */
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { isLoopback, resolveAdminToken, resolveWebhookToken } from '../../../src/api/admin-token.ts';
import { startService } from '../../../src/api/service.ts';
import { loadConfig } from '../../../src/config.ts';

const dir = mkdtempSync(join(tmpdir(), 'socketscope-token-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function capturingLogger() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return { logger: pino({ level: 'info' }, stream), lines };
}

describe('resolveAdminToken', () => {
  it('uses SOCKETSCOPE_ADMIN_TOKEN when set, on any address', () => {
    const { logger, lines } = capturingLogger();
    const configured = resolveAdminToken({ adminToken: 'a-configured-token-123', host: '0.0.0.0', dataDir: join(dir, 'configured') }, logger);
    expect(configured.token).toBe('a-configured-token-123');
    configured.publish();
    expect(existsSync(join(dir, 'configured'))).toBe(false);
    expect(lines).toEqual([]);
  });

  it('refuses to start beyond loopback without one, naming the variable', () => {
    const { logger } = capturingLogger();
    for (const host of ['0.0.0.0', '::', '10.0.0.5', 'example.internal']) {
      expect(() => resolveAdminToken({ adminToken: undefined, host, dataDir: dir }, logger)).toThrow(/^SOCKETSCOPE_ADMIN_TOKEN must be set when the service listens on /);
    }
  });

  it('generates one on loopback, writes it when published (not before) to a file only its owner reads, and keeps it out of the log', () => {
    const { logger, lines } = capturingLogger();
    const generated = resolveAdminToken({ adminToken: undefined, host: '127.0.0.1', dataDir: join(dir, 'data') }, logger);
    const { token } = generated;
    expect(token).toMatch(/^[A-Za-z0-9_-]{32}$/);
    const file = join(dir, 'data', 'admin-token');
    expect(existsSync(file)).toBe(false);
    expect(lines).toEqual([]);
    generated.publish();
    expect(readFileSync(file, 'utf8')).toBe(`${token}\n`);
    expect(readdirSync(join(dir, 'data'))).toEqual(['admin-token']);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ admin_token_file: file });
    expect(lines[0]).not.toContain(token);
  });

  it('knows loopback addresses', () => {
    expect(['127.0.0.1', '127.1.2.3', '::1', 'localhost'].map(isLoopback)).toEqual([true, true, true, true]);
    expect(['0.0.0.0', '::', '192.168.1.1', '128.0.0.1', 'localhost.example'].map(isLoopback)).toEqual([false, false, false, false, false]);
  });
});

describe('resolveWebhookToken', () => {
  it('uses ALERTMANAGER_WEBHOOK_TOKEN when set, on any address', () => {
    expect(resolveWebhookToken({ webhookToken: 'a-webhook-token-0123', host: '0.0.0.0' })).toBe('a-webhook-token-0123');
  });

  it('refuses beyond loopback without one, naming the variable, where the admin token is refused', () => {
    const { logger } = capturingLogger();
    for (const host of ['0.0.0.0', '::', '10.0.0.5', 'example.internal']) {
      expect(() => resolveWebhookToken({ webhookToken: undefined, host })).toThrow(
        `ALERTMANAGER_WEBHOOK_TOKEN must be set when the service listens on ${host}, beyond this machine: without it anyone who can reach the service could post alerts to POST /api/ws/alerts/webhook`,
      );
    }
    // Absent, it is accepted exactly where the admin token may be absent (loopback) and refused elsewhere.
    const throws = (f: () => unknown) => {
      try {
        f();
        return false;
      } catch {
        return true;
      }
    };
    const hosts = ['127.0.0.1', '127.1.2.3', '::1', 'localhost', '0.0.0.0', '::', '10.0.0.5', 'localhost.example'];
    const admin = hosts.map((host) => throws(() => resolveAdminToken({ adminToken: undefined, host, dataDir: join(dir, 'same-rule') }, logger)));
    const webhook = hosts.map((host) => throws(() => resolveWebhookToken({ webhookToken: undefined, host })));
    expect(webhook).toEqual([false, false, false, false, true, true, true, true]);
    expect(webhook).toEqual(admin);
    expect(resolveWebhookToken({ webhookToken: undefined, host: '127.0.0.1' })).toBeUndefined();
  });

  it('stops startService before it opens anything', async () => {
    const config = loadConfig({ HOST: '0.0.0.0', PORT: '0', SOCKETSCOPE_ADMIN_TOKEN: 'an-admin-token-0123456789', DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none', LOG_LEVEL: 'silent' });
    await expect(startService(config, { logger: pino({ level: 'silent' }) })).rejects.toThrow(/^ALERTMANAGER_WEBHOOK_TOKEN must be set when the service listens on 0\.0\.0\.0/);
  });
});
