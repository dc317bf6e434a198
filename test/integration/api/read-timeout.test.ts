/**
 * Analytics reads have a statement timeout on a real PostgreSQL: a read that
 * runs past it is canceled by the server, its pooled connection comes back
 * usable, and the API answers 503 query_timeout instead of holding the
 * connection (or answering 500).
 */
import express from 'express';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Database, openDatabase } from '../../../src/analytics/storage/database.ts';
import { QUERY_CANCELED, READ_TIMEOUT_MS, ReadTimeoutError, readOnly } from '../../../src/analytics/storage/transaction.ts';
import { errorHandler } from '../../../src/api/errors.ts';
import { Stack } from '../../../src/stack/index.ts';

const stack = new Stack('read-timeout');
let database: Database;
let databaseUrl: string;

beforeAll(async () => {
  const postgres = await stack.postgres();
  databaseUrl = postgres.url;
  database = await openDatabase({ databaseUrl, dataDir: stack.runDir });
});

afterAll(async () => {
  await database?.close();
  await stack.stop();
});

const timeoutOf = async (db: Database) =>
  (await readOnly<{ t: string }>(db.pool, "SELECT current_setting('statement_timeout') AS t", [])).rows[0]?.t;

describe('readOnly', () => {
  it('runs read-only with the statement timeout, parallel workers as asked', async () => {
    const settings = async (options: Parameters<typeof readOnly>[3]) =>
      (
        await readOnly<{ timeout: string; workers: string; read_only: string }>(
          database.pool,
          "SELECT current_setting('statement_timeout') AS timeout, current_setting('max_parallel_workers_per_gather') AS workers, current_setting('transaction_read_only') AS read_only",
          [],
          options,
        )
      ).rows[0];
    expect(await settings({})).toEqual({ timeout: `${READ_TIMEOUT_MS / 1000}s`, workers: '2', read_only: 'on' });
    expect(await settings({ parallel: false, timeoutMs: 1500 })).toEqual({ timeout: '1500ms', workers: '0', read_only: 'on' });
    // SET LOCAL: the pooled connection keeps the server's defaults afterwards.
    expect((await database.pool.query<{ t: string }>("SELECT current_setting('statement_timeout') AS t")).rows[0]?.t).toBe('0');
  });

  it('is canceled by the server past its timeout, and its connection is usable again', async () => {
    const error = await readOnly(database.pool, 'SELECT pg_sleep(5)', [], { timeoutMs: 100 }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ReadTimeoutError);
    expect((error as ReadTimeoutError).timeoutMs).toBe(100);
    expect(((error as ReadTimeoutError).cause as { code?: string }).code).toBe(QUERY_CANCELED);
    const results = await Promise.all(Array.from({ length: 12 }, (_, i) => database.pool.query<{ n: number }>('SELECT $1::int AS n', [i])));
    expect(results.map((r) => r.rows[0]?.n)).toEqual(Array.from({ length: 12 }, (_, i) => i));
  });

  it('refuses a timeout that is not a positive integer', async () => {
    await expect(readOnly(database.pool, 'SELECT 1', [], { timeoutMs: 0 })).rejects.toThrow('read timeout must be a positive integer of milliseconds, got 0');
  });

  it("defaults to the pool's read timeout (QUERY_TIMEOUT_MS through openDatabase), else READ_TIMEOUT_MS", async () => {
    const own = await openDatabase({ databaseUrl, dataDir: stack.runDir, readTimeoutMs: 1500 });
    try {
      expect(await timeoutOf(own)).toBe('1500ms');
      expect(await timeoutOf(database)).toBe(`${READ_TIMEOUT_MS / 1000}s`);
    } finally {
      await own.close();
    }
    await expect(openDatabase({ databaseUrl, dataDir: stack.runDir, readTimeoutMs: 2.5 })).rejects.toThrow('read timeout must be a positive integer of milliseconds, got 2.5');
  });
});

describe('the API', () => {
  it('answers a canceled read with 503 query_timeout', async () => {
    const app = express();
    app.get('/slow', async (_req, _res, next) => {
      await readOnly(database.pool, 'SELECT pg_sleep(5)', [], { timeoutMs: 100 }).catch(next);
    });
    app.use(errorHandler(pino({ level: 'silent' })));
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    try {
      const { port } = server.address() as { port: number };
      const response = await fetch(`http://127.0.0.1:${port}/slow`);
      expect(response.status).toBe(503);
      expect(await response.json()).toEqual({
        error: { code: 'query_timeout', message: 'the query ran longer than 0.1 s (QUERY_TIMEOUT_MS) and was canceled; try a narrower range' },
      });
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
