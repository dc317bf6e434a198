import type pg from 'pg';
import { isQueryDeadline } from './database-errors.ts';

/**
 * Runs `work` on a connection of its own inside a transaction (`begin`, e.g.
 * 'BEGIN READ ONLY'): committed when it resolves, rolled back when it throws.
 * A connection whose transaction could not be ended is not reused, nor one
 * that went silent (query_timeout): a ROLLBACK there would only wait for the
 * same deadline again, and closing the connection ends the transaction.
 */
export async function inTransaction<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>, begin = 'BEGIN'): Promise<T> {
  const client = await pool.connect();
  let broken = false;
  try {
    await client.query(begin);
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    broken =
      isQueryDeadline(error) ||
      (await client.query('ROLLBACK').then(
        () => false,
        () => true,
      ));
    throw error;
  } finally {
    client.release(broken);
  }
}

/**
 * How long one analytics read (the summary, geography and UX correlation
 * queries) may run before PostgreSQL cancels it, unless the pool was given
 * its own (QUERY_TIMEOUT_MS, setReadTimeout): a wide range over raw rows must
 * not hold a pooled connection, which ingest needs, for minutes. The API
 * answers a canceled read with 503 `query_timeout`.
 */
export const READ_TIMEOUT_MS = 30_000;

/** How much longer than a statement's statement_timeout the client waits for its answer (query_timeout). */
export const QUERY_DEADLINE_MARGIN_MS = 15_000;

/** PostgreSQL's SQLSTATE for a statement canceled by statement_timeout (or pg_cancel_backend). */
export const QUERY_CANCELED = '57014';

const readTimeouts = new WeakMap<pg.Pool, number>();

/** Throws unless `timeoutMs` is a positive integer (a statement_timeout in milliseconds). */
export function assertReadTimeout(timeoutMs: number): void {
  if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) throw new RangeError(`read timeout must be a positive integer of milliseconds, got ${timeoutMs}`);
}

/** The statement timeout of readOnly() on this pool (openDatabase sets it from QUERY_TIMEOUT_MS). */
export function setReadTimeout(pool: pg.Pool, timeoutMs: number): void {
  assertReadTimeout(timeoutMs);
  readTimeouts.set(pool, timeoutMs);
}

/** A read PostgreSQL canceled at its statement timeout. */
export class ReadTimeoutError extends Error {
  constructor(
    readonly timeoutMs: number,
    options: { cause: unknown },
  ) {
    super(`the read ran past its ${timeoutMs} ms statement timeout`, options);
    this.name = 'ReadTimeoutError';
  }
}

/**
 * A read on its own connection in a read-only transaction, canceled after
 * `timeoutMs` (default: the pool's read timeout) with a ReadTimeoutError. `parallel: false` turns parallel workers off, for the rollup
 * reads: they take milliseconds, and starting workers cost more than they
 * saved (3–5× on a 2-core server). Scans of raw rows keep them.
 */
export async function readOnly<R extends pg.QueryResultRow>(
  pool: pg.Pool,
  text: string,
  params: unknown[],
  { parallel = true, indexOnlyScans = true, timeoutMs = readTimeouts.get(pool) ?? READ_TIMEOUT_MS }: { parallel?: boolean; indexOnlyScans?: boolean; timeoutMs?: number } = {},
): Promise<pg.QueryResult<R>> {
  assertReadTimeout(timeoutMs);
  return inTransaction(
    pool,
    async (client) => {
      await client.query(`SET LOCAL statement_timeout = ${timeoutMs}`);
      if (!parallel) await client.query('SET LOCAL max_parallel_workers_per_gather = 0');
      if (!indexOnlyScans) await client.query('SET LOCAL enable_indexonlyscan = off');
      return client.query<R>(text, params);
    },
    'BEGIN READ ONLY',
  ).catch((error: unknown) => {
    throw (error as { code?: unknown } | null)?.code === QUERY_CANCELED ? new ReadTimeoutError(timeoutMs, { cause: error }) : error;
  });
}

/**
 * statement_timeout of a maintenance statement (a rollup of a day of raw rows, a retention delete):
 * minutes are legitimate there after a backlog, where the pool's deadline is sized for requests.
 */
export const MAINTENANCE_STATEMENT_TIMEOUT_MS = 600_000;

/** What maintenance code runs statements on: a pool or a connection. */
export interface Statements {
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values?: unknown[]): Promise<pg.QueryResult<R>>;
}

/**
 * Statements on `target` with a client deadline above MAINTENANCE_STATEMENT_TIMEOUT_MS instead of the
 * pool's. On a pool they run outside a transaction: give them their statement_timeout with
 * inMaintenanceTransaction where the server should cancel them too.
 */
export function maintenanceStatements(target: pg.Pool | pg.ClientBase): Statements {
  const query_timeout = MAINTENANCE_STATEMENT_TIMEOUT_MS + QUERY_DEADLINE_MARGIN_MS;
  return { query: <R extends pg.QueryResultRow>(text: string, values: unknown[] = []) => target.query<R>({ text, values, query_timeout } as pg.QueryConfig) };
}

/** inTransaction for maintenance: statement_timeout MAINTENANCE_STATEMENT_TIMEOUT_MS and the deadline above it. */
export async function inMaintenanceTransaction<T>(pool: pg.Pool, work: (statements: Statements) => Promise<T>): Promise<T> {
  return inTransaction(pool, async (client) => {
    await client.query(`SET LOCAL statement_timeout = ${MAINTENANCE_STATEMENT_TIMEOUT_MS}`);
    return work(maintenanceStatements(client));
  });
}
