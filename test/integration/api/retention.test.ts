/**
 * Partition upkeep next to long reads, on a real PostgreSQL: the service
 * starts while a read holds client_reports (an expired day waiting to be
 * dropped, today's partition missing), and gets on without the partitions it
 * cannot create then (once any exist); retention detaches concurrently, so it
 * neither fails behind a long read nor queues reads and inserts behind itself;
 * a detach cut short is finished by the next run.
 */
import { pino } from 'pino';
import { Writable } from 'node:stream';
import pg from 'pg';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { type Database, openDatabase } from '../../../src/analytics/storage/database.ts';
import { insertClientReports } from '../../../src/analytics/storage/client-reports.ts';
import { migrate } from '../../../src/analytics/storage/migrate.ts';
import { dropExpiredPartitions, ensurePartitions, listPartitions, partitionName, startOfUtcDay } from '../../../src/analytics/storage/partitions.ts';
import { type RunningService, startService } from '../../../src/api/service.ts';
import { loadConfig } from '../../../src/config.ts';
import { Stack } from '../../../src/stack/index.ts';
import { ADMIN_TOKEN, clientReport, storedRow } from './analytics-fixture.ts';

const DAY = 86_400_000;
const stack = new Stack('retention');
const cleanups: Array<() => Promise<unknown>> = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});
afterAll(() => stack.stop());

const today = () => startOfUtcDay(new Date());
const daysAgo = (n: number) => new Date(today().getTime() - n * DAY);

/** A fresh database (migrated unless told otherwise) and a pool on it. */
async function freshDatabase({ migrated = true } = {}): Promise<{ url: string; database: Database }> {
  const { url } = await stack.postgres();
  const database = await openDatabase({ databaseUrl: url, dataDir: stack.runDir });
  cleanups.push(() => database.close());
  if (migrated) await migrate(database.pool);
  return { url, database };
}

/** Another session, in a transaction that has read client_reports (a long admin read, an anomaly scan). */
async function longRead(url: string, lock = 'SELECT count(*) FROM client_reports'): Promise<{ end(): Promise<void> }> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  let ended = false;
  const end = async () => {
    if (ended) return;
    ended = true;
    await client.query('ROLLBACK');
    await client.end();
  };
  cleanups.push(end);
  await client.query('BEGIN');
  await client.query(lock);
  return { end };
}

interface LogLine {
  level: number;
  msg: string;
}

async function start(url: string, env: Record<string, string> = {}): Promise<{ service: RunningService; logs: LogLine[] }> {
  const logs: LogLine[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim() !== '') logs.push(JSON.parse(line) as LogLine);
      done();
    },
  });
  const config = loadConfig({ PORT: '0', DATABASE_URL: url, SOCKETSCOPE_ADMIN_TOKEN: ADMIN_TOKEN, ANOMALY_INTERVAL_SECONDS: '0', ROLLUP_INTERVAL_SECONDS: '0', LOG_LEVEL: 'info', ...env });
  const service = await startService(config, { logger: pino({ level: 'info' }, sink) });
  cleanups.push(() => service.close());
  return { service, logs };
}

const post = (service: RunningService, body: unknown) =>
  fetch(`${service.url}/api/ws/client-metrics`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

const exists = async (pool: pg.Pool, name: string) => (await pool.query<{ oid: string | null }>('SELECT to_regclass($1) AS oid', [name])).rows[0]?.oid != null;

/** Until a session of this database waits for a lock in a statement starting with one of `prefixes`, or `settled` says to stop looking. */
async function waitingOnLock(pool: pg.Pool, prefixes: string[], settled: () => boolean): Promise<void> {
  while (!settled()) {
    const { rows } = await pool.query(`SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE ANY ($1)`, [
      prefixes.map((p) => `${p}%`),
    ]);
    if (rows.length > 0) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('starting next to a long read', () => {
  it('starts while a read holds client_reports, with an expired day to drop and no partition for today yet; ingest works, and the day goes once the read ends', async () => {
    const { url, database } = await freshDatabase();
    const expired = daysAgo(40);
    await ensurePartitions(database.pool, { from: expired, daysAhead: 0 });
    await ensurePartitions(database.pool, { from: daysAgo(1), daysAhead: 0 });
    const read = await longRead(url);

    const { service } = await start(url);
    // Today's partition was created next to the read (attached: no lock the read holds is needed).
    expect((await listPartitions(database.pool)).map((p) => p.name)).toEqual(expect.arrayContaining([partitionName(today()), partitionName(daysAgo(-2))]));
    const response = await post(service, clientReport({ session: 'next-to-a-read' }));
    expect(response.status).toBe(202);
    expect(await response.json()).toEqual({ accepted: 1 });

    await read.end();
    // The run started at start waits for the read to end; then the next run finds nothing left to drop.
    await service.scheduler.runNow('partition-maintenance');
    expect(await exists(database.pool, partitionName(expired))).toBe(false);
    expect((await database.pool.query('SELECT session_id FROM client_reports')).rows).toEqual([{ session_id: 'next-to-a-read'.padEnd(16, '0') }]);
  });

  it('starts without the partitions it could not create when some exist, saying so, and partition maintenance creates them later', async () => {
    const { url, database } = await freshDatabase();
    await ensurePartitions(database.pool, { from: daysAgo(1), daysAhead: 0 });
    // What an attach needs (another instance's attach or detach in progress holds it): not granted within 5 s.
    const holder = await longRead(url, 'LOCK TABLE client_reports IN SHARE UPDATE EXCLUSIVE MODE');

    const { service, logs } = await start(url);
    expect(logs.filter((l) => l.level === 40).map((l) => l.msg)).toContain(
      "could not create the coming days' partitions at start; partition maintenance tries again, and ingest creates a missing one",
    );
    expect(await exists(database.pool, partitionName(today()))).toBe(false);

    await holder.end();
    await service.scheduler.runNow('partition-maintenance');
    expect((await listPartitions(database.pool)).map((p) => p.name)).toEqual([daysAgo(1), today(), daysAgo(-1), daysAgo(-2)].map(partitionName));
  });

  it('creates the partitions it needs on a first start, on an empty database', async () => {
    const { url, database } = await freshDatabase({ migrated: false });
    await start(url);
    expect((await listPartitions(database.pool)).map((p) => p.name)).toEqual([today(), daysAgo(-1), daysAgo(-2)].map(partitionName));
  });
});

describe('retention next to a long read', () => {
  it('waits for the read without queueing reads and inserts behind it, then drops the day', async () => {
    const { url, database } = await freshDatabase();
    const expired = daysAgo(45);
    await ensurePartitions(database.pool, { from: expired, daysAhead: 0 });
    await ensurePartitions(database.pool, { from: today(), daysAhead: 0 });
    await insertClientReports(database, [storedRow(new Date(expired.getTime() + 3_600_000), 'expired-row')]);
    const read = await longRead(url);

    let settled = false;
    const dropping = dropExpiredPartitions(database.pool, { retentionDays: 30 }).finally(() => (settled = true));
    // Waiting (for the read) is the state that used to hold up everyone else.
    await waitingOnLock(database.pool, ['ALTER TABLE client_reports DETACH', 'DROP TABLE'], () => settled);
    // A read and an insert of another session go ahead meanwhile (they give up after 2 s when queued behind the drop).
    const other = new pg.Client({ connectionString: url });
    await other.connect();
    try {
      await other.query("SET lock_timeout = '2s'");
      await other.query('INSERT INTO client_reports SELECT * FROM client_reports WHERE false');
      await insertClientReports(database, [storedRow(new Date(), 'during-the-drop')]);
      expect((await other.query("SELECT session_id FROM client_reports WHERE session_id = 'during-the-drop'")).rows).toHaveLength(1);
    } finally {
      await other.end();
    }

    await read.end();
    expect(await dropping).toEqual([partitionName(expired)]);
    expect(await exists(database.pool, partitionName(expired))).toBe(false);
    expect((await database.pool.query('SELECT session_id FROM client_reports ORDER BY 1')).rows).toEqual([{ session_id: 'during-the-drop' }]);
  });

  it('leaves a detach cut short by its timeout pending, and the next run finishes it; a table left detached is dropped too', async () => {
    const { url, database } = await freshDatabase();
    const [pending, detached] = [daysAgo(50), daysAgo(49)];
    await ensurePartitions(database.pool, { from: pending, daysAhead: 1 });
    // A run that detached this day and stopped before dropping it.
    await database.pool.query(`ALTER TABLE client_reports DETACH PARTITION ${partitionName(detached)}`);
    const read = await longRead(url);

    // The read outlasts the detach's wait: it gives up (55P03), the day is detach-pending.
    await expect(dropExpiredPartitions(database.pool, { retentionDays: 30, detachTimeoutMs: 200 })).rejects.toMatchObject({ code: '55P03' });
    const state = await database.pool.query('SELECT c.relname AS name, i.inhdetachpending AS pending FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE c.relname = $1', [partitionName(pending)]);
    expect(state.rows).toEqual([{ name: partitionName(pending), pending: true }]);

    await read.end();
    expect(await dropExpiredPartitions(database.pool, { retentionDays: 30 })).toEqual([partitionName(pending), partitionName(detached)]);
    expect(await exists(database.pool, partitionName(pending))).toBe(false);
    expect(await exists(database.pool, partitionName(detached))).toBe(false);
    // The connection it used went back clean: no lock_timeout left, the advisory lock released.
    expect((await database.pool.query('SHOW lock_timeout')).rows).toEqual([{ lock_timeout: '0' }]);
    expect((await database.pool.query("SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory'")).rows).toEqual([{ n: 0 }]);
  });
});
