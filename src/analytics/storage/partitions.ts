/**
 * Day partitions of client_reports (UTC days of the receive time): created
 * ahead by the service, dropped whole once older than the retention, which is
 * far cheaper than deleting rows and leaves no bloat.
 */
import type pg from 'pg';
import { inTransaction } from './transaction.ts';

const DAY_MS = 86_400_000;
/**
 * Partition DDL takes an ACCESS EXCLUSIVE lock on client_reports. Waiting for it behind a long read
 * would queue every insert behind the DDL, so it gives up after this long; the next maintenance run
 * tries again (partitions are created days ahead).
 */
export const PARTITION_LOCK_TIMEOUT_MS = 5_000;

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
async function partitionDdl(pool: pg.Pool, statement: (client: pg.PoolClient) => Promise<string | null>): Promise<boolean> {
  return inTransaction(pool, async (client) => {
    await client.query(`SET LOCAL lock_timeout = ${PARTITION_LOCK_TIMEOUT_MS}`);
    await client.query('SELECT pg_advisory_xact_lock($1)', [PARTITION_DDL_LOCK_KEY]);
    const sql = await statement(client);
    if (sql === null) return false;
    await client.query(sql);
    return true;
  });
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
    // Checked again under the lock: another instance may have created it since the listing.
    const made = await partitionDdl(pool, async (client) =>
      (await exists(client, name)) ? null : `CREATE TABLE IF NOT EXISTS ${name} PARTITION OF client_reports FOR VALUES FROM ('${day.toISOString()}') TO ('${next.toISOString()}')`,
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

/**
 * Drops the partitions whose whole day is older than `retentionDays` before
 * the start of today (UTC); returns their names.
 */
export async function dropExpiredPartitions(pool: pg.Pool, { retentionDays, now = new Date() }: { retentionDays: number; now?: Date }): Promise<string[]> {
  const cutoff = startOfUtcDay(now).getTime() - retentionDays * DAY_MS;
  const expired = (await listPartitions(pool)).filter((p) => p.day.getTime() + DAY_MS <= cutoff);
  const dropped: string[] = [];
  for (const partition of expired) {
    if (await partitionDdl(pool, async (client) => ((await exists(client, partition.name)) ? `DROP TABLE IF EXISTS ${partition.name}` : null))) dropped.push(partition.name);
  }
  return dropped;
}
