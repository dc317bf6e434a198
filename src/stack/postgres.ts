import { chmodSync, chownSync, mkdirSync, mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { requireBinary } from './binaries.ts';
import { freePort, waitFor } from './ports.ts';
import { ManagedProcess } from './process.ts';

export interface PostgresHandle {
  /** Connection string of the fresh database. */
  url: string;
  database: string;
  /** `server`: a database on an already running server; `cluster`: our own throwaway cluster. */
  mode: 'server' | 'cluster';
  /** Mode `server`: the admin URL the database was created (and is dropped) through. */
  adminUrl?: string;
  /** Mode `cluster`: the pid of the cluster's postmaster. */
  pid?: number;
  stop(): Promise<void>;
}

/** Where an already running PostgreSQL server is looked for (trust auth on this project's machines). */
export const DEFAULT_ADMIN_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

async function canConnect(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
  try {
    await client.connect();
    await client.query('select 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function adminQuery(adminUrl: string, sql: string): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 5_000 });
  await client.connect();
  try {
    return await client.query(sql);
  } finally {
    await client.end();
  }
}

function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

/** Database names a run creates start with this, so a sweep can drop its leftovers. */
export function databasePrefix(runId = process.env.SOCKETSCOPE_RUN_ID ?? `p${process.pid}`): string {
  return `socketscope_${runId.toLowerCase().replace(/[^a-z0-9]/g, '')}_`;
}

async function createDatabaseOnServer(adminUrl: string): Promise<PostgresHandle> {
  const database = `${databasePrefix()}${Math.random().toString(36).slice(2, 10)}`;
  await adminQuery(adminUrl, `create database "${database}"`);
  return {
    url: withDatabase(adminUrl, database),
    database,
    mode: 'server',
    adminUrl,
    async stop() {
      await adminQuery(adminUrl, `drop database if exists "${database}" with (force)`);
    },
  };
}

/** Drops databases a (possibly crashed) run left on the shared server; returns their names. */
export async function dropLeftoverDatabases(adminUrl = postgresAdminUrl()): Promise<string[]> {
  if (!(await canConnect(adminUrl))) return [];
  const { rows } = await adminQuery(
    adminUrl,
    `select datname from pg_database where datname like '${databasePrefix()}%'`,
  );
  const names = rows.map((row: { datname: string }) => row.datname);
  for (const name of names) await adminQuery(adminUrl, `drop database if exists "${name}" with (force)`);
  return names;
}

/**
 * A throwaway cluster with Debian's initdb/postgres, in a directory of its own
 * under the stack's run directory (a stack may start several). initdb refuses
 * to run as root, so as root the cluster belongs to the `postgres` user.
 */
async function startCluster(stackRunDir: string): Promise<PostgresHandle> {
  const initdb = requireBinary('initdb');
  const postgresBin = join(initdb, '..', 'postgres');
  const runDir = mkdtempSync(join(stackRunDir, 'pg-'));
  const dataDir = join(runDir, 'pgdata');
  const socketDir = join(runDir, 'pgsocket');
  mkdirSync(dataDir, { recursive: true });
  mkdirSync(socketDir, { recursive: true });
  let owner: { uid: number; gid: number } | undefined;
  if (process.getuid?.() === 0) {
    const { execFileSync } = await import('node:child_process');
    const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
    owner = { uid, gid };
    chmodSync(stackRunDir, 0o755);
    chmodSync(runDir, 0o755);
    chownSync(dataDir, uid, gid);
    chownSync(socketDir, uid, gid);
  }
  const init = new ManagedProcess({
    name: 'initdb',
    command: initdb,
    args: ['-D', dataDir, '-U', 'postgres', '-A', 'trust', '--no-sync', '-E', 'UTF8', '--locale=C'],
    logFile: join(runDir, 'initdb.log'),
    ...owner,
  });
  const code = await init.waitForExit();
  if (code !== 0) throw new Error(`initdb failed (exit ${code}):\n${init.logTail()}`);

  const port = await freePort();
  const server = new ManagedProcess({
    name: 'postgres',
    command: postgresBin,
    args: ['-D', dataDir, '-k', socketDir, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off'],
    logFile: join(runDir, 'postgres.log'),
    stopSignal: 'SIGINT', // "fast" shutdown: does not wait for clients to leave
    ...owner,
  });
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  try {
    await waitFor('postgres to accept connections', async () => {
      if (!server.running) throw new Error(`postgres exited:\n${server.logTail()}`);
      return canConnect(url);
    });
  } catch (error) {
    await server.stop();
    throw error;
  }
  await adminQuery(url, 'create database socketscope');
  return { url: withDatabase(url, 'socketscope'), database: 'socketscope', mode: 'cluster', pid: server.pid, stop: () => server.stop() };
}

export interface StartPostgresOptions {
  /** false: always a throwaway cluster, even when a server answers. */
  useServer?: boolean;
  /** Where a running server is looked for: SOCKETSCOPE_PG_ADMIN_URL, else 127.0.0.1:5432. */
  adminUrl?: string;
}

/** The admin URL of the server a run uses when it answers (SOCKETSCOPE_PG_ADMIN_URL, else 127.0.0.1:5432). */
export function postgresAdminUrl(): string {
  return process.env.SOCKETSCOPE_PG_ADMIN_URL ?? DEFAULT_ADMIN_URL;
}

/**
 * A fresh, empty database: on the server at `adminUrl` when it answers,
 * otherwise in a throwaway cluster (the handle's `mode` says which).
 */
export async function startPostgres(runDir: string, { useServer = true, adminUrl = postgresAdminUrl() }: StartPostgresOptions = {}): Promise<PostgresHandle> {
  if (useServer && (await canConnect(adminUrl))) return createDatabaseOnServer(adminUrl);
  return startCluster(runDir);
}
