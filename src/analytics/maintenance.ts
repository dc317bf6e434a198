/** Partition upkeep: the next days' partitions exist before rows arrive; expired days are dropped whole. */
import type pg from 'pg';
import { dropExpiredPartitions, ensurePartitions } from './storage/partitions.ts';

export async function maintainPartitions(pool: pg.Pool, { retentionDays, now = new Date() }: { retentionDays: number; now?: Date }): Promise<{ created: string[]; dropped: string[] }> {
  const created = await ensurePartitions(pool, { from: now, daysAhead: 2 });
  const dropped = await dropExpiredPartitions(pool, { retentionDays, now });
  return { created, dropped };
}
