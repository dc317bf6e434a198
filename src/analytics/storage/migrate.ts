/**
 * Versioned SQL migrations (./migrations, node-pg-migrate's `-- Up Migration`
 * / `-- Down Migration` files), run on a connection made with the service
 * pool's settings, so the embedded database and a real server take the same
 * path, but of its own: without the pool's query deadline (a migration over a
 * big table may rightly take minutes). Instances starting together (a rolling
 * deploy) take turns: the others wait for the advisory lock, up to
 * MIGRATION_LOCK_TIMEOUT_MS, then find nothing left to do.
 */
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { runner } from 'node-pg-migrate';

export const MIGRATIONS_DIR = fileURLToPath(new URL('./migrations', import.meta.url));
export const MIGRATIONS_TABLE = 'socketscope_migrations';
/** How long an instance waits for another one's migrations (lock_timeout, for their lock and any table lock). */
export const MIGRATION_LOCK_TIMEOUT_MS = 300_000;

export interface MigrationLog {
  info(message: string): void;
}

/** Applies every pending migration (or reverts `count` with direction `down`); returns the names run. */
export async function migrate(
  pool: pg.Pool,
  { direction = 'up', count, log }: { direction?: 'up' | 'down'; count?: number; log?: MigrationLog } = {},
): Promise<string[]> {
  const client = new pg.Client({ ...pool.options, query_timeout: undefined });
  await client.connect();
  try {
    await client.query(`SET lock_timeout = ${MIGRATION_LOCK_TIMEOUT_MS}`);
    const ran = await runner({
      dbClient: client,
      advisoryLockMode: 'wait',
      dir: MIGRATIONS_DIR,
      migrationsTable: MIGRATIONS_TABLE,
      direction,
      count: count ?? (direction === 'up' ? Infinity : 1),
      checkOrder: true,
      singleTransaction: true,
      logger: { debug: () => undefined, info: (m: string) => log?.info(m), warn: (m: string) => log?.info(m), error: (m: string) => log?.info(m) },
    });
    return ran.map((migration) => migration.name);
  } finally {
    await client.end();
  }
}
