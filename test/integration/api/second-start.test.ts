/**
 * A second `serve` started by mistake on a running service's port and data
 * directory fails without touching that service: the generated admin token in
 * the file stays the running service's, and the failed start runs none of the
 * scheduled jobs (anomaly detection, maintenance) that write to the database.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { type RunningService, startService } from '../../../src/api/service.ts';
import { loadConfig } from '../../../src/config.ts';
import { Stack } from '../../../src/stack/index.ts';

const stack = new Stack('second-start');
let first: RunningService | undefined;

afterAll(async () => {
  await first?.close();
  await stack.stop();
});

describe('a second start on a busy port', () => {
  it('fails with EADDRINUSE, leaves the running service its token file, and ran no scheduled job', async () => {
    const postgres = await stack.postgres();
    const env = { HOST: '127.0.0.1', PORT: '0', DATABASE_URL: postgres.url, SOCKETSCOPE_DATA_DIR: stack.runDir, LOG_LEVEL: 'silent', ANOMALY_INTERVAL_SECONDS: '60' };
    first = await startService(loadConfig(env), { logger: pino({ level: 'silent' }) });
    const tokenFile = join(stack.runDir, 'admin-token');
    const token = readFileSync(tokenFile, 'utf8');
    expect(token).toBe(`${first.context.adminToken}\n`);

    const runs: string[] = [];
    const second = startService(loadConfig({ ...env, PORT: String(first.port) }), { logger: pino({ level: 'silent' }), now: () => (runs.push('clock'), new Date()) });
    await expect(second).rejects.toMatchObject({ code: 'EADDRINUSE' });
    expect(readFileSync(tokenFile, 'utf8')).toBe(token);
    // The jobs read the clock first thing; the startup partitions read it once before listening.
    expect(runs).toEqual(['clock']);
    // The token in the file still opens the running service's admin API.
    const summary = await fetch(`${first.url}/api/ws/client-metrics/summary`, { headers: { authorization: `Bearer ${token.trim()}` } });
    expect(summary.status).toBe(200);
  });
});
