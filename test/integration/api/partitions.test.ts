/**
 * Day partitions created by several instances at once (each service creates
 * the next days' partitions at start and every maintenance run; ingest creates
 * a missing one): all succeed, and each partition is created exactly once,
 * on a real PostgreSQL and on the embedded PGlite.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type Database, openDatabase } from '../../../src/analytics/storage/database.ts';
import { migrate } from '../../../src/analytics/storage/migrate.ts';
import { ensurePartitions, listPartitions, partitionName } from '../../../src/analytics/storage/partitions.ts';
import { Stack } from '../../../src/stack/index.ts';

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

describe('concurrent partition creation', () => {
  it('on PostgreSQL: six instances creating the same days all succeed', async () => {
    const { url } = await stack.postgres();
    const database = await openDatabase({ databaseUrl: url, dataDir, maxConnections: 12 });
    databases.push(database);
    await createConcurrently(database);
  });

  it('on the embedded PGlite (one backend) as well', async () => {
    const database = await openDatabase({ dataDir });
    databases.push(database);
    await createConcurrently(database);
  }, 120_000); // creating a PGlite data directory takes 3–20 s depending on load
});
