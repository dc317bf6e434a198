/**
 * Group commit of client reports on a real PostgreSQL: concurrent writes
 * share statements, every promise settles after its statement committed, a
 * statement that fails for a request's data writes none of its rows before
 * its requests are written again in halves (the bad one fails alone), and a
 * database out of reach fails each statement's requests at once (no request
 * retried alone, no statement started for a request that waited too long).
 */
import net from 'node:net';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DatabaseUnavailableError } from '../../../src/analytics/storage/database-errors.ts';
import { type Database, openDatabase } from '../../../src/analytics/storage/database.ts';
import { migrate } from '../../../src/analytics/storage/migrate.ts';
import { ensurePartitions } from '../../../src/analytics/storage/partitions.ts';
import { MAX_QUEUE_WAIT_MS, ReportWriter, WRITE_STATEMENT_TIMEOUT_MS, WriterOverloadedError } from '../../../src/analytics/storage/report-writer.ts';
import { ROLLUP_GRACE_MS } from '../../../src/analytics/rollups.ts';
import { Stack, freePort } from '../../../src/stack/index.ts';
import { storedRow } from './analytics-fixture.ts';

const stack = new Stack('report-writer');
let database: Database;
let url: string;

beforeAll(async () => {
  const postgres = await stack.postgres();
  url = postgres.url;
  database = await openDatabase({ databaseUrl: postgres.url, dataDir: stack.runDir });
  await migrate(database.pool);
  await ensurePartitions(database.pool);
});

afterAll(async () => {
  await database?.close();
  await stack.stop();
});

/** Counts the connections the writer asks the pool for (one per statement). */
function countConnects(pool: pg.Pool): { count: () => number; restore: () => void } {
  let count = 0;
  const connect = pool.connect.bind(pool);
  pool.connect = (async () => {
    count++;
    return connect();
  }) as typeof pool.connect;
  return { count: () => count, restore: () => void (pool.connect = connect as typeof pool.connect) };
}

const rows = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => storedRow(new Date(), `${prefix}-${i}`));
const sessions = async () => (await database.pool.query<{ session_id: string }>('SELECT session_id FROM client_reports ORDER BY session_id')).rows.map((r) => r.session_id);


/** Runs `work` while another session holds client_reports locked; `release` commits that session (ended in any case). */
async function whileLocked(work: (release: () => Promise<void>) => Promise<void>): Promise<void> {
  const holder = new pg.Client({ connectionString: url });
  await holder.connect();
  try {
    await holder.query('BEGIN');
    await holder.query('LOCK TABLE client_reports IN EXCLUSIVE MODE');
    await work(async () => {
      await holder.query('COMMIT');
    });
  } finally {
    await holder.end();
  }
}
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

  it('isolates a bad request by halves: the other requests of its statement are committed', async () => {
    await database.pool.query('TRUNCATE client_reports');
    const writer = new ReportWriter(database, { maxInFlight: 1 });
    const connects = countConnects(database.pool);
    try {
      // The first write takes the statement alone; the next eight share one, whose sixth request is refused.
      const first = writer.write(rows('head', 1));
      const group = Array.from({ length: 8 }, (_, i) => writer.write(i === 5 ? [{ ...storedRow(new Date(), 'bad-5'), country: null as unknown as string }] : rows(`g${i}`, 1)));
      const outcomes = await Promise.allSettled([first, ...group]);
      expect(outcomes.map((o) => (o.status === 'fulfilled' ? o.value : (o.reason as { code?: string }).code))).toEqual([1, 1, 1, 1, 1, 1, '23502', 1, 1]);
      // head; the eight (fail); 0-3; 4-7 (fail); 4-5 (fail); 4; 5 (fail); 6-7: seven statements, not 1 + 8.
      expect(connects.count()).toBe(8);
    } finally {
      connects.restore();
    }
    expect(await sessions()).toEqual(['g0-0', 'g1-0', 'g2-0', 'g3-0', 'g4-0', 'g6-0', 'g7-0', 'head-0']);
  });

  it('never starts a statement for a request that waited longer than its bound, and answers it when the bound passes', async () => {
    await database.pool.query('TRUNCATE client_reports');
    const writer = new ReportWriter(database, { maxInFlight: 1, maxQueueWaitMs: 300 });
    // Another session holds client_reports: the first statement waits for it, the second request waits in the queue.
    await whileLocked(async (release) => {
      const first = writer.write(rows('started', 1));
      const waited = writer.write(rows('waited', 2));
      await expect(waited).rejects.toBeInstanceOf(DatabaseUnavailableError);
      await release();
      // The statement that had started commits; the waited request is not written by a later one.
      expect(await first).toBe(1);
      expect(await writer.write(rows('later', 1))).toBe(1);
    });
    expect(await sessions()).toEqual(['later-0', 'started-0']);
  });

  it('cancels a write that runs past its statement timeout: nothing of it is committed later', async () => {
    await database.pool.query('TRUNCATE client_reports');
    const writer = new ReportWriter(database, { statementTimeoutMs: 300 });
    await whileLocked(async (release) => {
      const failed = writer.write(rows('slow', 3));
      await expect(failed).rejects.toBeInstanceOf(DatabaseUnavailableError);
      await expect(failed).rejects.toMatchObject({ cause: { code: '57014' } });
      await release();
    });
    expect(await sessions()).toEqual([]);
    // The setting was local to the write's statement.
    expect((await database.pool.query('SHOW statement_timeout')).rows).toEqual([{ statement_timeout: '0' }]);
  });

  it('keeps commits within the lateness the rollups assume (one constant, ROLLUP_GRACE_MS)', () => {
    // Queue wait + statement timeout + the pool's connection timeout (10 s) stay well inside the grace.
    expect(MAX_QUEUE_WAIT_MS + WRITE_STATEMENT_TIMEOUT_MS + 10_000).toBeLessThan(ROLLUP_GRACE_MS);
  });
});

describe('ReportWriter without a database', () => {
  /** The writer on a pool to `port` of 127.0.0.1 (a 500 ms connection timeout). */
  const unreachable = (port: number): Database => {
    const pool = new pg.Pool({ host: '127.0.0.1', port, user: 'postgres', database: 'postgres', connectionTimeoutMillis: 500, max: 10 });
    return { pool, kind: 'server', location: `127.0.0.1:${port}`, close: () => pool.end() };
  };

  /** 22 concurrent requests (two statements in flight, the other 20 queued): every one fails as unavailable, with one connection attempt per statement. */
  async function failsAtOnce(db: Database): Promise<void> {
    const writer = new ReportWriter(db);
    const connects = countConnects(db.pool);
    const outcomes = await Promise.allSettled(Array.from({ length: 22 }, (_, i) => writer.write(rows(`down${i}`, 1))));
    expect(outcomes.map((o) => o.status)).toEqual(Array(22).fill('rejected'));
    for (const o of outcomes) expect((o as PromiseRejectedResult).reason).toBeInstanceOf(DatabaseUnavailableError);
    // Two statements of one request each, then one of the 20 that queued: no request retried alone.
    expect(connects.count()).toBe(3);
    // The 20 share one error (logged once by the API).
    expect(new Set(outcomes.slice(2).map((o) => (o as PromiseRejectedResult).reason)).size).toBe(1);
  }

  it('fails every statement at once against a server that never answers (connection timeout)', async () => {
    // Accepts connections and never says a word.
    const sockets = new Set<net.Socket>();
    const silent = net.createServer((socket) => void sockets.add(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const db = unreachable((silent.address() as net.AddressInfo).port);
    try {
      await failsAtOnce(db);
    } finally {
      await db.close();
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });

  it('fails every statement at once against a server that is not there (connection refused)', async () => {
    const db = unreachable(await freePort());
    try {
      await failsAtOnce(db);
    } finally {
      await db.close();
    }
  });
});
