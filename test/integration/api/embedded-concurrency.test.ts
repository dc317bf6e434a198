/**
 * The embedded database under concurrent callers, as the service drives it
 * (ingest, reads, the scheduled jobs at once): every query gets its own
 * answer. PGlite is one backend and its socket server queues protocol
 * messages one at a time, so with two pooled connections the extended-query
 * messages of one (Parse, Bind, Execute, Sync) interleaved with the other's
 * and queries failed with `portal "" does not exist`; the pool has one
 * connection for that reason.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Database, openDatabase } from '../../../src/analytics/storage/database.ts';
import { inTransaction } from '../../../src/analytics/storage/transaction.ts';

const dir = mkdtempSync(join(tmpdir(), 'socketscope-embedded-'));
let database: Database;

beforeAll(async () => {
  database = await openDatabase({ dataDir: dir });
  await database.pool.query('CREATE TABLE seen (worker int, n int)');
});

afterAll(async () => {
  await database?.close();
  rmSync(dir, { recursive: true, force: true });
});

const WORKERS = 4;
const ROUNDS = 60;

describe('embedded database with concurrent callers', () => {
  it('answers each parameterised query and transaction of four concurrent workers with its own rows', async () => {
    const answers: number[][] = Array.from({ length: WORKERS }, () => []);
    const failures: string[] = [];
    async function worker(id: number): Promise<void> {
      for (let i = 0; i < ROUNDS; i++) {
        const n = id * 1000 + i;
        try {
          // A transaction that also fails a statement now and then, as a rejected write does.
          await inTransaction(database.pool, async (client) => {
            await client.query('SET LOCAL statement_timeout = 5000');
            if (i % 5 === id) {
              await client.query('SAVEPOINT s');
              await client.query('SELECT 1 / $1::int', [0]).catch(() => client.query('ROLLBACK TO SAVEPOINT s'));
            }
            await client.query('INSERT INTO seen (worker, n) VALUES ($1, $2)', [id, n]);
          });
          const { rows } = await database.pool.query<{ v: number }>('SELECT $1::int AS v', [n]);
          answers[id]!.push(rows[0]!.v);
        } catch (error) {
          failures.push(`${id}/${i}: ${(error as Error).message}`);
        }
      }
    }
    await Promise.all(Array.from({ length: WORKERS }, (_, id) => worker(id)));

    expect(failures).toEqual([]);
    expect(answers).toEqual(Array.from({ length: WORKERS }, (_, id) => Array.from({ length: ROUNDS }, (_, i) => id * 1000 + i)));
    const { rows } = await database.pool.query<{ worker: number; count: number; sum: number }>(
      'SELECT worker, count(*)::int AS count, sum(n)::int AS sum FROM seen GROUP BY worker ORDER BY worker',
    );
    expect(rows).toEqual(Array.from({ length: WORKERS }, (_, id) => ({ worker: id, count: ROUNDS, sum: ROUNDS * id * 1000 + (ROUNDS * (ROUNDS - 1)) / 2 })));
  });
});
