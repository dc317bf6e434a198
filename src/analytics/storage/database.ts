/**
 * One code path to PostgreSQL: node-postgres (`pg`) talks either to the
 * server at DATABASE_URL or, when there is none, to an embedded PGlite in a
 * data directory served over the wire protocol on 127.0.0.1 by
 * @electric-sql/pglite-socket. The rest of the service never knows which.
 */
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import pg from 'pg';
import { lockDataDir } from './data-dir-lock.ts';
import { QUERY_DEADLINE_MARGIN_MS, READ_TIMEOUT_MS, assertReadTimeout, setReadTimeout } from './transaction.ts';

// BIGINT (count(*), sums of integers) as JS numbers: our counts stay far below 2^53.
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number(value));
// NUMERIC results of avg()/sum() as numbers too.
pg.types.setTypeParser(pg.types.builtins.NUMERIC, (value) => Number(value));

export interface Database {
  pool: pg.Pool;
  /** `server` for DATABASE_URL, `embedded` for PGlite. */
  kind: 'server' | 'embedded';
  /** Where the data is, for logs and health (connection string without password, or the data dir). */
  location: string;
  close(): Promise<void>;
}

export interface OpenDatabaseOptions {
  databaseUrl?: string;
  /** Data directory of the embedded database (used when databaseUrl is absent). */
  dataDir: string;
  /** Pool size against a real server. */
  maxConnections?: number;
  /** Statement timeout of the analytics reads (readOnly); default READ_TIMEOUT_MS. */
  readTimeoutMs?: number;
  /**
   * How long the client waits for the answer to any statement before it gives the connection up
   * (node-postgres `query_timeout`; the connection is then closed, not reused). statement_timeout
   * is the server's: it cannot fire for a statement the server never got, nor reach us over a
   * connection gone silent (a partition, a failover), which would otherwise hold the pooled
   * connection and its caller until TCP gives up, many minutes later. Default: the read timeout
   * plus QUERY_DEADLINE_MARGIN_MS; give it above every statement_timeout used on the pool.
   */
  queryDeadlineMs?: number;
  onPoolError?: (error: Error) => void;
}

function redact(url: string): string {
  const parsed = new URL(url);
  if (parsed.password) parsed.password = '***';
  return parsed.toString();
}

export async function openDatabase(options: OpenDatabaseOptions): Promise<Database> {
  // Checked before anything is opened, so a bad value leaves nothing behind.
  if (options.readTimeoutMs !== undefined) assertReadTimeout(options.readTimeoutMs);
  const queryDeadlineMs = options.queryDeadlineMs ?? (options.readTimeoutMs ?? READ_TIMEOUT_MS) + QUERY_DEADLINE_MARGIN_MS;
  assertReadTimeout(queryDeadlineMs);
  if (options.databaseUrl) {
    const pool = new pg.Pool({
      connectionString: options.databaseUrl,
      max: options.maxConnections ?? 10,
      connectionTimeoutMillis: 10_000,
      query_timeout: queryDeadlineMs,
      // Probes an idle pooled connection, so one whose peer vanished is found and dropped.
      keepAlive: true,
      keepAliveInitialDelayMillis: 10_000,
    });
    pool.on('error', (error) => options.onPoolError?.(error));
    if (options.readTimeoutMs !== undefined) setReadTimeout(pool, options.readTimeoutMs);
    return { pool, kind: 'server', location: redact(options.databaseUrl), close: () => pool.end() };
  }
  return openEmbedded(options, queryDeadlineMs);
}

/** PGlite on `dataDir`, served over the wire protocol on a free port of 127.0.0.1. */
async function startPglite(dataDir: string) {
  const [{ PGlite }, { PGLiteSocketServer }] = await Promise.all([import('@electric-sql/pglite'), import('@electric-sql/pglite-socket')]);
  const db = await PGlite.create(dataDir);
  // One pooled connection (openEmbedded); the second slot lets the pool replace a
  // lost connection before the server has noticed the old one closed.
  const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0, maxConnections: 2 });
  try {
    await server.start();
  } catch (error) {
    await db.close();
    throw error;
  }
  return { db, server };
}

async function openEmbedded(options: OpenDatabaseOptions, queryDeadlineMs: number): Promise<Database> {
  const dataDir = resolve(options.dataDir, 'pglite');
  mkdirSync(dataDir, { recursive: true });
  // Before PGlite touches the files: a second process on the same directory corrupts the database.
  const unlock = lockDataDir(resolve(options.dataDir));
  const { db, server } = await startPglite(dataDir).catch((error: unknown) => {
    unlock();
    throw error;
  });
  const [host, port] = server.getServerConn().split(':');
  // One connection: PGlite is a single backend, and the socket server queues protocol
  // messages one by one, not a query's Parse…Sync together, so two connections'
  // extended queries interleave outside a transaction ('portal "" does not exist',
  // a query bound to the other's statement) and a failed one can stall the other.
  // pg-pool queues callers instead, as many as a server would run at once: one.
  const pool = new pg.Pool({ host, port: Number(port), user: 'postgres', database: 'postgres', max: 1, connectionTimeoutMillis: 10_000, query_timeout: queryDeadlineMs });
  pool.on('error', (error) => options.onPoolError?.(error));
  if (options.readTimeoutMs !== undefined) setReadTimeout(pool, options.readTimeoutMs);
  return {
    pool,
    kind: 'embedded',
    location: dataDir,
    async close() {
      await pool.end();
      await server.stop();
      try {
        // An unclosed PGlite keeps Node alive.
        await db.close();
      } finally {
        unlock();
      }
    },
  };
}
