/**
 * Day partitions created by several instances at once (each service creates
 * the next days' partitions at start and every maintenance run; ingest creates
 * a missing one): all succeed, and each partition is created exactly once,
 * on a real PostgreSQL and on the embedded PGlite. Retention (a concurrent
 * detach, outside a transaction, then the drop) works on both as well.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type Database, openDatabase } from '../../../src/analytics/storage/database.ts';
import { migrate } from '../../../src/analytics/storage/migrate.ts';
import { insertClientReports } from '../../../src/analytics/storage/client-reports.ts';
import { dropExpiredPartitions, ensurePartitions, listPartitions, partitionName, startOfUtcDay } from '../../../src/analytics/storage/partitions.ts';
import { Stack } from '../../../src/stack/index.ts';
import { storedRow } from './analytics-fixture.ts';

const DAY = 86_400_000;
const stack = new Stack('partitions');
const dataDir = mkdtempSync(join(tmpdir(), 'socketscope-partitions-'));
const databases: Database[] = [];

afterAll(async () => {
  for (const database of databases) await database.close();
  await stack.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

/** Six concurrent ensurePartitions of the same three new days, ten times over: every call succeeds and each day is created once. */
async function createConcurrently(database: Database): Promise<void> {
  await migrate(database.pool);
  for (let round = 0; round < 10; round++) {
    const from = new Date(Date.UTC(2030, 0, 1 + round * 5));
    const days = [0, 1, 2].map((d) => partitionName(new Date(from.getTime() + d * DAY)));
    const results = await Promise.allSettled(Array.from({ length: 6 }, () => ensurePartitions(database.pool, { from, daysAhead: 2 })));
    expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
    const created = results.flatMap((r) => (r.status === 'fulfilled' ? r.value : []));
    expect(created.sort()).toEqual(days);
    expect((await listPartitions(database.pool)).map((p) => p.name).filter((name) => days.includes(name))).toEqual(days);
  }
}

/** An expired day (with a row) is detached and dropped, today's (with a row) kept, and the connections are left as they were. */
async function retention(database: Database): Promise<void> {
  const today = startOfUtcDay(new Date());
  const expired = new Date(today.getTime() - 40 * DAY);
  await ensurePartitions(database.pool, { from: expired, daysAhead: 0 });
  await ensurePartitions(database.pool, { from: today, daysAhead: 0 });
  await insertClientReports(database, [storedRow(new Date(expired.getTime() + 60_000), 'expired'), storedRow(new Date(), 'kept')]);
  expect(await dropExpiredPartitions(database.pool, { retentionDays: 30 })).toEqual([partitionName(expired)]);
  expect((await database.pool.query<{ oid: string | null }>('SELECT to_regclass($1) AS oid', [partitionName(expired)])).rows).toEqual([{ oid: null }]);
  expect((await database.pool.query('SELECT session_id FROM client_reports')).rows).toEqual([{ session_id: 'kept' }]);
  expect(await dropExpiredPartitions(database.pool, { retentionDays: 30 })).toEqual([]);
  // The session setting is reset (on PGlite every connection shares the one backend's settings).
  expect((await database.pool.query('SHOW lock_timeout')).rows).toEqual([{ lock_timeout: '0' }]);
}

describe('concurrent partition creation, and retention', () => {
  it('on PostgreSQL: six instances creating the same days all succeed; retention drops an expired day', async () => {
    const { url } = await stack.postgres();
    const database = await openDatabase({ databaseUrl: url, dataDir, maxConnections: 12 });
    databases.push(database);
    await createConcurrently(database);
    await retention(database);
  });

  it('on the embedded PGlite (one backend) as well', async () => {
    const database = await openDatabase({ dataDir });
    databases.push(database);
    await createConcurrently(database);
    await retention(database);
  }, 120_000); // creating a PGlite data directory takes 3–20 s depending on load
});
