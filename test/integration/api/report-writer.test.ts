/**
 * Group commit of client reports on a real PostgreSQL: concurrent writes
 * share statements, every promise settles after its statement committed, and
 * a failing statement writes none of its rows before its requests are retried
 * one by one.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Database, openDatabase } from '../../../src/analytics/storage/database.ts';
import { migrate } from '../../../src/analytics/storage/migrate.ts';
import { ensurePartitions } from '../../../src/analytics/storage/partitions.ts';
import { ReportWriter, WriterOverloadedError } from '../../../src/analytics/storage/report-writer.ts';
import { Stack } from '../../../src/stack/index.ts';
import { storedRow } from './analytics-fixture.ts';

const stack = new Stack('report-writer');
let database: Database;

beforeAll(async () => {
  const postgres = await stack.postgres();
  database = await openDatabase({ databaseUrl: postgres.url, dataDir: stack.runDir });
  await migrate(database.pool);
  await ensurePartitions(database.pool);
});

afterAll(async () => {
  await database?.close();
  await stack.stop();
});

const rows = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => storedRow(new Date(), `${prefix}-${i}`));
const sessions = async () => (await database.pool.query<{ session_id: string }>('SELECT session_id FROM client_reports ORDER BY session_id')).rows.map((r) => r.session_id);

describe('ReportWriter', () => {
  it('writes concurrent requests together and resolves each with its own count', async () => {
    const writer = new ReportWriter(database, { maxInFlight: 1 });
    const statements: number[] = [];
    const query = database.pool.connect.bind(database.pool);
    // Count statements: each flush takes one connection.
    database.pool.connect = (async () => {
      statements.push(1);
      return query();
    }) as typeof database.pool.connect;
    try {
      const results = await Promise.all([writer.write(rows('a', 3)), writer.write(rows('b', 2)), writer.write(rows('c', 4)), writer.write(rows('d', 1))]);
      expect(results).toEqual([3, 2, 4, 1]);
      // The first request starts a statement alone; the three that queued behind it share the next.
      expect(statements).toHaveLength(2);
    } finally {
      database.pool.connect = query as typeof database.pool.connect;
    }
    expect(await sessions()).toHaveLength(10);
  });

  it('writes none of a failing statement, then each of its requests alone: only the one the database refuses fails', async () => {
    await database.pool.query('TRUNCATE client_reports');
    const writer = new ReportWriter(database, { maxInFlight: 1 });
    const bad = { ...storedRow(new Date(), 'bad-0'), country: null as unknown as string };
    const outcomes = await Promise.allSettled([writer.write(rows('first', 2)), writer.write(rows('second', 2)), writer.write([bad]), writer.write(rows('third', 1))]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
    expect(outcomes.map((o) => (o.status === 'fulfilled' ? o.value : null))).toEqual([2, 2, null, 1]);
    expect((outcomes[2] as PromiseRejectedResult).reason).toMatchObject({ code: '23502' });
    expect(await sessions()).toEqual(['first-0', 'first-1', 'second-0', 'second-1', 'third-0']);
  });

  it('refuses a write at once when the rows waiting for the database would pass the limit, and takes writes again once they drain', async () => {
    await database.pool.query('TRUNCATE client_reports');
    const writer = new ReportWriter(database, { maxInFlight: 1, maxQueuedRows: 3 });
    // The first write goes straight to a statement; the second waits (2 rows queued); the third would make 4.
    const first = writer.write(rows('q1', 2));
    const second = writer.write(rows('q2', 2));
    const third = writer.write(rows('q3', 2));
    await expect(third).rejects.toBeInstanceOf(WriterOverloadedError);
    await expect(third).rejects.toMatchObject({ queuedRows: 2 });
    expect(await Promise.all([first, second])).toEqual([2, 2]);
    expect(await writer.write(rows('q4', 3))).toBe(3);
    expect(await sessions()).toEqual(['q1-0', 'q1-1', 'q2-0', 'q2-1', 'q4-0', 'q4-1', 'q4-2']);
  });
});
