/**
 * Instances starting together on a fresh database (a rolling deploy, `serve`
 * and `socketscope migrate` at once) take turns on the migrations' advisory
 * lock: each migration runs once, and no instance fails for finding the lock
 * taken.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { type Database, openDatabase } from '../../../src/analytics/storage/database.ts';
import { migrate } from '../../../src/analytics/storage/migrate.ts';
import { Stack } from '../../../src/stack/index.ts';

const stack = new Stack('concurrent-migrations');
const databases: Database[] = [];

afterAll(async () => {
  await Promise.all(databases.map((database) => database.close()));
  await stack.stop();
});

describe('migrations started by three instances at once', () => {
  it('run each migration exactly once and let every instance start', async () => {
    const postgres = await stack.postgres();
    for (let i = 0; i < 3; i++) databases.push(await openDatabase({ databaseUrl: postgres.url, dataDir: stack.runDir }));
    const results = await Promise.all(databases.map((database) => migrate(database.pool)));
    const applied = results.flat();
    const { rows } = await databases[0]!.pool.query<{ name: string }>('SELECT name FROM socketscope_migrations ORDER BY run_on, id');
    expect(applied.sort()).toEqual(rows.map((r) => r.name).sort());
    expect(new Set(applied).size).toBe(applied.length);
    // Whoever got the lock first ran them all; the others found none left.
    expect(results.map((r) => r.length).sort((a, b) => a - b)).toEqual([0, 0, rows.length]);
  });
});
