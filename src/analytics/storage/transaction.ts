import type pg from 'pg';

/**
 * Runs `work` on a connection of its own inside a transaction (`begin`, e.g.
 * 'BEGIN READ ONLY'): committed when it resolves, rolled back when it throws.
 * A connection whose transaction could not be ended is not reused.
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
    broken = await client.query('ROLLBACK').then(
      () => false,
      () => true,
    );
    throw error;
  } finally {
    client.release(broken);
  }
}
