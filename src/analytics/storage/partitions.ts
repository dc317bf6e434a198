/**
 * Day partitions of client_reports (UTC days of the receive time): created
 * ahead by the service, detached and dropped whole once older than the
 * retention, which is far cheaper than deleting rows and leaves no bloat.
 *
 * Neither step waits behind the reads and inserts of client_reports, nor
 * makes them wait: a partition is created as a table of its own and then
 * attached (ATTACH PARTITION takes SHARE UPDATE EXCLUSIVE on client_reports,
 * which plain reads and inserts do not conflict with; CREATE TABLE … PARTITION
 * OF and DROP TABLE of a partition take ACCESS EXCLUSIVE, which queues behind
 * any read and queues every later read and insert behind itself), and an
 * expired one is detached with DETACH PARTITION … CONCURRENTLY (PostgreSQL 14
 * and later; PGlite too) before its table is dropped.
 */
import type pg from 'pg';
import { QUERY_DEADLINE_MARGIN_MS, inTransaction } from './transaction.ts';

const DAY_MS = 86_400_000;
/**
 * How long partition DDL waits for a lock (the advisory lock below, SHARE UPDATE EXCLUSIVE on
 * client_reports, which a concurrent attach or detach holds) before it gives up; the next maintenance
 * run tries again (partitions are created days ahead; ingest creates a missing one itself).
 */
export const PARTITION_LOCK_TIMEOUT_MS = 5_000;

/**
 * How long DETACH PARTITION … CONCURRENTLY (and FINALIZE) waits for the transactions that were using
 * client_reports when it started (a long analytics read: those stop at QUERY_TIMEOUT_MS, 30 s by
 * default) to end. Meanwhile reads and inserts go on; only other partition DDL waits. Past it the
 * partition stays "detach pending" (queries no longer see it) and the next run finalizes the detach.
 */
export const PARTITION_DETACH_TIMEOUT_MS = 60_000;

/**
 * Advisory lock key serialising partition DDL across instances (any fixed bigint: 'sspart' in ASCII).
 * `CREATE TABLE IF NOT EXISTS` alone races: two transactions that both find the table missing both
 * create it, and the later commit fails with 42P07 (duplicate_table).
 */
export const PARTITION_DDL_LOCK_KEY = 0x737370617274;

/**
 * Runs partition DDL in a transaction holding the advisory lock, so that `statement(client)` sees the
 * partitions as the previous holder committed them. Held until commit; on PGlite (one backend) it
 * never waits. lock_timeout covers the wait for it as well.
 */
async function partitionDdl(pool: pg.Pool, statement: (client: pg.PoolClient) => Promise<string[] | null>): Promise<boolean> {
  return inTransaction(pool, async (client) => {
    await client.query(`SET LOCAL lock_timeout = ${PARTITION_LOCK_TIMEOUT_MS}`);
    await client.query('SELECT pg_advisory_xact_lock($1)', [PARTITION_DDL_LOCK_KEY]);
    const sql = await statement(client);
    if (sql === null) return false;
    for (const text of sql) await client.query(text);
    return true;
  });
}

/**
 * Runs `work` outside a transaction (DETACH … CONCURRENTLY cannot run in one) on a connection that
 * holds the advisory lock at session level, with lock_timeout PARTITION_LOCK_TIMEOUT_MS. The lock and
 * the setting are undone before the connection goes back to the pool; a connection where that failed
 * is closed (which releases the lock). On PGlite every connection is the one backend: the lock never
 * waits, and the setting is reset all the same so that it does not leak to other statements.
 */
async function partitionSession<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let locked = false;
  let clean = false;
  try {
    await client.query(`SET lock_timeout = ${PARTITION_LOCK_TIMEOUT_MS}`);
    await client.query('SELECT pg_advisory_lock($1)', [PARTITION_DDL_LOCK_KEY]);
    locked = true;
    return await work(client);
  } finally {
    try {
      if (locked) await client.query('SELECT pg_advisory_unlock($1)', [PARTITION_DDL_LOCK_KEY]);
      locked = false;
      await client.query('RESET lock_timeout');
      clean = true;
    } catch {
      // The connection is closed below.
    }
    client.release(clean ? undefined : new Error('partition DDL left its session lock or setting behind: connection closed'));
  }
}

const exists = async (client: pg.PoolClient, name: string) => (await client.query<{ oid: string | null }>('SELECT to_regclass($1) AS oid', [name])).rows[0]?.oid != null;
const NAME = /^client_reports_(\d{4})(\d{2})(\d{2})$/;

export function startOfUtcDay(at: Date): Date {
  return new Date(Math.floor(at.getTime() / DAY_MS) * DAY_MS);
}

export function partitionName(day: Date): string {
  return `client_reports_${day.toISOString().slice(0, 10).replace(/-/g, '')}`;
}

/** Creates the partitions of the days from `from` through `from + daysAhead` that do not exist; returns their names. */
export async function ensurePartitions(pool: pg.Pool, { from = new Date(), daysAhead = 2 }: { from?: Date; daysAhead?: number } = {}): Promise<string[]> {
  const existing = new Set((await listPartitions(pool)).map((p) => p.name));
  const created: string[] = [];
  const first = startOfUtcDay(from);
  for (let d = 0; d <= daysAhead; d++) {
    const day = new Date(first.getTime() + d * DAY_MS);
    const name = partitionName(day);
    if (existing.has(name)) continue;
    const next = new Date(day.getTime() + DAY_MS);
    // Checked again under the lock: another instance may have created it since the listing. A table of
    // its own (the columns, NOT NULLs and indexes of client_reports), then attached: the attach does not
    // wait for reads of client_reports (see the top of this file) and finds the indexes it needs.
    const made = await partitionDdl(pool, async (client) =>
      (await exists(client, name))
        ? null
        : [
            `CREATE TABLE ${name} (LIKE client_reports INCLUDING ALL)`,
            `ALTER TABLE client_reports ATTACH PARTITION ${name} FOR VALUES FROM ('${day.toISOString()}') TO ('${next.toISOString()}')`,
          ],
    );
    if (made) created.push(name);
  }
  return created;
}

export interface Partition {
  name: string;
  day: Date;
}

export async function listPartitions(pool: pg.Pool): Promise<Partition[]> {
  const { rows } = await pool.query<{ name: string }>(
    `SELECT c.relname AS name FROM pg_inherits i
       JOIN pg_class c ON c.oid = i.inhrelid
       JOIN pg_class p ON p.oid = i.inhparent
      WHERE p.relname = 'client_reports'
      ORDER BY c.relname`,
  );
  return rows.flatMap(({ name }) => {
    const match = NAME.exec(name);
    return match ? [{ name, day: new Date(Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3]))) }] : [];
  });
}

/** Where a partition of client_reports is on its way out: attached, detach pending (interrupted), detached (not dropped yet), or gone. */
type PartitionState = 'attached' | 'pending' | 'detached' | 'gone';

async function partitionState(client: pg.PoolClient, name: string): Promise<PartitionState> {
  const { rows } = await client.query<{ pending: boolean | null }>(
    `SELECT i.inhdetachpending AS pending FROM pg_class c
       LEFT JOIN pg_inherits i ON i.inhrelid = c.oid AND i.inhparent = 'client_reports'::regclass
      WHERE c.oid = to_regclass($1)`,
    [name],
  );
  const row = rows[0];
  return row === undefined ? 'gone' : row.pending === null ? 'detached' : row.pending ? 'pending' : 'attached';
}

/** Day tables no longer attached to client_reports: a run that detached one and stopped before dropping it. */
async function detachedDayTables(pool: pg.Pool): Promise<Partition[]> {
  const { rows } = await pool.query<{ name: string }>(
    `SELECT c.relname AS name FROM pg_class c
      WHERE c.relkind = 'r' AND c.relname LIKE 'client\\_reports\\_%' AND pg_table_is_visible(c.oid)
        AND NOT EXISTS (SELECT 1 FROM pg_inherits i WHERE i.inhrelid = c.oid)
      ORDER BY c.relname`,
  );
  return rows.flatMap(({ name }) => {
    const match = NAME.exec(name);
    return match ? [{ name, day: new Date(Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3]))) }] : [];
  });
}

/**
 * Drops the partitions whose whole day is older than `retentionDays` before
 * the start of today (UTC); returns their names. Each is first detached
 * concurrently (or its interrupted detach finalized), which waits up to
 * `detachTimeoutMs` for the transactions using client_reports without holding
 * up reads or inserts; then only the detached table is dropped.
 */
export async function dropExpiredPartitions(
  pool: pg.Pool,
  { retentionDays, now = new Date(), detachTimeoutMs = PARTITION_DETACH_TIMEOUT_MS }: { retentionDays: number; now?: Date; detachTimeoutMs?: number },
): Promise<string[]> {
  const cutoff = startOfUtcDay(now).getTime() - retentionDays * DAY_MS;
  const expired = [...(await listPartitions(pool)), ...(await detachedDayTables(pool))]
    .filter((p) => p.day.getTime() + DAY_MS <= cutoff)
    .sort((a, b) => a.day.getTime() - b.day.getTime());
  const dropped: string[] = [];
  for (const partition of expired) {
    const done = await partitionSession(pool, async (client) => {
      // Looked at again under the lock: another instance may have detached or dropped it since the listing.
      const state = await partitionState(client, partition.name);
      if (state === 'gone') return false;
      if (state !== 'detached') {
        await client.query(`SET lock_timeout = ${detachTimeoutMs}`);
        // Its own client-side deadline, above the lock wait it is allowed (the pool's is shorter).
        await client.query({
          text: `ALTER TABLE client_reports DETACH PARTITION ${partition.name} ${state === 'pending' ? 'FINALIZE' : 'CONCURRENTLY'}`,
          query_timeout: detachTimeoutMs + QUERY_DEADLINE_MARGIN_MS,
        } as pg.QueryConfig);
        await client.query(`SET lock_timeout = ${PARTITION_LOCK_TIMEOUT_MS}`);
      }
      // No longer a partition: the drop locks this table alone.
      await client.query(`DROP TABLE ${partition.name}`);
      return true;
    });
    if (done) dropped.push(partition.name);
  }
  return dropped;
}
