/**
 * Maintenance statements (rollups, retention of rollups) are not held to the
 * pool's request-sized client deadline: after a backlog a rollup statement may
 * rightly take minutes. Here the pool's deadline is 300 ms and the rollup waits
 * about a second for a lock another session holds; it completes, where a
 * request-sized deadline gave it up ('Query read timeout') on every run.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rollUp } from '../../../src/analytics/rollups.ts';
import { insertClientReports } from '../../../src/analytics/storage/client-reports.ts';
import { type Database, openDatabase } from '../../../src/analytics/storage/database.ts';
import { migrate } from '../../../src/analytics/storage/migrate.ts';
import { ensurePartitions, startOfUtcDay } from '../../../src/analytics/storage/partitions.ts';
import { Stack } from '../../../src/stack/index.ts';
import { storedRow } from './analytics-fixture.ts';

const HOUR = 3_600_000;
const stack = new Stack('maintenance-deadline');
let database: Database;
let url: string;
const day = new Date(startOfUtcDay(new Date()).getTime() - 86_400_000);

beforeAll(async () => {
  url = (await stack.postgres()).url;
  database = await openDatabase({ databaseUrl: url, dataDir: stack.runDir, queryDeadlineMs: 300 });
  await migrate(database.pool);
  await ensurePartitions(database.pool, { from: day, daysAhead: 2 });
  await insertClientReports(database, [storedRow(new Date(day.getTime() + 3 * HOUR), 'a'), storedRow(new Date(day.getTime() + 5 * HOUR), 'b')]);
});

afterAll(async () => {
  await database?.close();
  await stack.stop();
});

describe('maintenance under a short pool deadline', () => {
  it('rolls up while waiting longer than the pool deadline for a lock', async () => {
    const blocker = new pg.Client({ connectionString: url });
    await blocker.connect();
    try {
      await blocker.query('BEGIN');
      await blocker.query('LOCK TABLE client_report_rollups IN ACCESS EXCLUSIVE MODE');
      const rolled = rollUp(database.pool, new Date(day.getTime() + 24 * HOUR + 10 * 60_000));
      // The rollup is now waiting for the lock; let it wait past the 300 ms deadline.
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      await blocker.query('COMMIT');
      // From the oldest report's hour (03:00) to the end of that day.
      expect(await rolled).toMatchObject({ hours: 21, days: 1 });
    } finally {
      await blocker.end();
    }
    const { rows } = await database.pool.query<{ hours: number }>('SELECT count(DISTINCT hour)::int AS hours FROM client_report_rollups');
    expect(rows).toEqual([{ hours: 2 }]);
  });
});
