/**
 * Versioned SQL migrations (./migrations, node-pg-migrate's `-- Up Migration`
 * / `-- Down Migration` files), run on a client from the service's pool so
 * the embedded database and a real server take the same path.
 */
import { fileURLToPath } from 'node:url';
import type pg from 'pg';
import { runner } from 'node-pg-migrate';

export const MIGRATIONS_DIR = fileURLToPath(new URL('./migrations', import.meta.url));
export const MIGRATIONS_TABLE = 'socketscope_migrations';

export interface MigrationLog {
  info(message: string): void;
}

/** Applies every pending migration (or reverts `count` with direction `down`); returns the names run. */
export async function migrate(
  pool: pg.Pool,
  { direction = 'up', count, log }: { direction?: 'up' | 'down'; count?: number; log?: MigrationLog } = {},
): Promise<string[]> {
  const client = await pool.connect();
  try {
    const ran = await runner({
      dbClient: client,
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
    client.release();
  }
}
