/**
 * A database connection that goes silent (a network partition, a failover
 * that leaves the old address black-holed): PostgreSQL's statement_timeout
 * cannot answer over it, so the client's own deadline (query_timeout) fails
 * the write and the read, closes the connection instead of reusing it, and
 * frees the writer's slot: when the network is back, ingest works again on a
 * fresh connection, and the pool closes without waiting for the lost ones.
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isDatabaseUnavailable } from '../../../src/analytics/storage/database-errors.ts';
import { DatabaseUnavailableError } from '../../../src/analytics/storage/database-errors.ts';
import { type Database, openDatabase } from '../../../src/analytics/storage/database.ts';
import { migrate } from '../../../src/analytics/storage/migrate.ts';
import { ensurePartitions } from '../../../src/analytics/storage/partitions.ts';
import { ReportWriter } from '../../../src/analytics/storage/report-writer.ts';
import { readOnly } from '../../../src/analytics/storage/transaction.ts';
import { Stack } from '../../../src/stack/index.ts';
import { storedRow } from './analytics-fixture.ts';

/** A TCP proxy to PostgreSQL that can stop passing bytes either way while keeping every socket open. */
class SilencingProxy {
  silent = false;
  private readonly sockets = new Set<net.Socket>();
  private readonly server = net.createServer((client) => {
    const upstream = net.connect(this.target);
    for (const socket of [client, upstream]) {
      this.sockets.add(socket);
      socket.on('error', () => socket.destroy());
      socket.on('close', () => this.sockets.delete(socket));
    }
    client.on('data', (chunk) => this.silent || upstream.write(chunk));
    upstream.on('data', (chunk) => this.silent || client.write(chunk));
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });

  constructor(private readonly target: { host: string; port: number }) {}

  async listen(): Promise<number> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return (this.server.address() as net.AddressInfo).port;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

const stack = new Stack('silent-database');
let proxy: SilencingProxy;
let database: Database;
let direct: Database;

beforeAll(async () => {
  const postgres = await stack.postgres();
  const url = new URL(postgres.url);
  proxy = new SilencingProxy({ host: url.hostname, port: Number(url.port) });
  url.port = String(await proxy.listen());
  database = await openDatabase({ databaseUrl: url.toString(), dataDir: stack.runDir, queryDeadlineMs: 1_500 });
  direct = await openDatabase({ databaseUrl: postgres.url, dataDir: stack.runDir });
  await migrate(database.pool);
  await ensurePartitions(database.pool);
});

afterAll(async () => {
  await direct?.close();
  await proxy?.close();
  await stack.stop();
});

const sessions = async () => (await direct.pool.query<{ session_id: string }>('SELECT session_id FROM client_reports ORDER BY session_id')).rows.map((r) => r.session_id);

describe('a database connection gone silent', () => {
  it('fails the write and the read at the client deadline, then ingests again on a new connection once the network is back', async () => {
    const writer = new ReportWriter(database, { statementTimeoutMs: 1_000 });
    expect(await writer.write([storedRow(new Date(), 'a-before')])).toBe(1);
    // Two open connections, so that the write and the read below each get one already made (a new one
    // would fail at the connection timeout instead, which is not what this test is about).
    const held = await Promise.all([database.pool.connect(), database.pool.connect()]);
    for (const client of held) client.release();

    proxy.silent = true;
    const write = await writer.write([storedRow(new Date(), 'b-during')]).catch((error: unknown) => error);
    expect(write).toBeInstanceOf(DatabaseUnavailableError);
    expect((write as Error).message).toBe('the database cannot take client reports now: Query read timeout');
    const read = await readOnly(database.pool, 'SELECT count(*) AS n FROM client_reports', [], { timeoutMs: 1_000 }).catch((error: unknown) => error);
    expect((read as Error).message).toBe('Query read timeout');
    expect(isDatabaseUnavailable(read)).toBe(true);

    proxy.silent = false;
    expect(await writer.write([storedRow(new Date(), 'c-after')])).toBe(1);
    // The silent statement never reached the server (the proxy dropped it): not written.
    expect(await sessions()).toEqual(['a-before', 'c-after']);
    const { rows } = await readOnly<{ n: number }>(database.pool, 'SELECT count(*) AS n FROM client_reports', []);
    expect(rows).toEqual([{ n: 2 }]);
    // No connection is left waiting on the silent statements: closing the pool returns.
    await database.close();
  });
});
