/**
 * Ingest while PostgreSQL is down (a cluster of our own, stopped under the
 * running service): every request is answered 503 `database_unavailable`
 * with Retry-After at once, rather than retried one by one and answered 500
 * after many connection timeouts; a read is answered the same way; the outage
 * is logged as a warning, not as an unhandled error per request.
 */
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { type RunningService, startService } from '../../../src/api/service.ts';
import { loadConfig } from '../../../src/config.ts';
import { Stack } from '../../../src/stack/index.ts';
import { ADMIN_TOKEN, clientReport } from './analytics-fixture.ts';

const stack = new Stack('ingest-outage');
let service: RunningService | undefined;

afterAll(async () => {
  await service?.close();
  await stack.stop();
});

interface LogLine {
  level: number;
  msg: string;
}

describe('ingest during a database outage', () => {
  it('answers every request (and a read) 503 database_unavailable with Retry-After, and logs the outage as a warning', async () => {
    const postgres = await stack.postgres({ useServer: false });
    const logs: LogLine[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString('utf8').split('\n')) if (line.trim() !== '') logs.push(JSON.parse(line) as LogLine);
        done();
      },
    });
    const config = loadConfig({ PORT: '0', DATABASE_URL: postgres.url, SOCKETSCOPE_ADMIN_TOKEN: ADMIN_TOKEN, ANOMALY_INTERVAL_SECONDS: '0', ROLLUP_INTERVAL_SECONDS: '0', LOG_LEVEL: 'info' });
    service = await startService(config, { logger: pino({ level: 'info' }, sink) });
    const post = (session: string) =>
      fetch(`${(service as RunningService).url}/api/ws/client-metrics`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(clientReport({ session })) });
    expect((await post('before-the-outage')).status).toBe(202);
    // Partition maintenance (started with the service) is done before the server goes.
    await service.scheduler.runNow('partition-maintenance');

    await postgres.stop();
    const responses = await Promise.all(Array.from({ length: 12 }, (_, i) => post(`during-outage-${i}`)));
    for (const response of responses) {
      expect(response.status).toBe(503);
      expect(response.headers.get('retry-after')).toBe('5');
      expect(await response.json()).toMatchObject({ error: { code: 'database_unavailable', details: { retry_after_s: 5 } } });
    }
    // A read fails the same way: 503 with Retry-After, not an internal error.
    const summary = await fetch(`${service.url}/api/ws/client-metrics/summary`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(summary.status).toBe(503);
    expect(summary.headers.get('retry-after')).toBe('5');
    expect(await summary.json()).toEqual({ error: { code: 'database_unavailable', message: 'the database is unavailable; retry later', details: { retry_after_s: 5 } } });
    const messages = logs.map((l) => l.msg);
    expect(messages).not.toContain('unhandled error');
    expect(logs.filter((l) => l.msg === 'database unavailable').every((l) => l.level === 40)).toBe(true);
    // At most one warning per statement: no more than one per request (and the read's), and the requests that queued together share one.
    expect(messages.filter((m) => m === 'database unavailable').length).toBeGreaterThan(0);
    expect(messages.filter((m) => m === 'database unavailable').length).toBeLessThanOrEqual(responses.length + 1);
  }, 120_000);
});
