/** Partition upkeep: the next days' partitions exist before rows arrive; expired days are dropped whole. */
import type pg from 'pg';
import { dropRollupsBefore } from './rollups.ts';
import { dropExpiredPartitions, ensurePartitions, startOfUtcDay } from './storage/partitions.ts';

export async function maintainPartitions(pool: pg.Pool, { retentionDays, now = new Date() }: { retentionDays: number; now?: Date }): Promise<{ created: string[]; dropped: string[] }> {
  const created = await ensurePartitions(pool, { from: now, daysAhead: 2 });
  const dropped = await dropExpiredPartitions(pool, { retentionDays, now });
  await dropRollupsBefore(pool, new Date(startOfUtcDay(now).getTime() - retentionDays * 86_400_000));
  return { created, dropped };
}
