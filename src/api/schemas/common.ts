/** Query parameters shared by the read endpoints. */
import { z } from 'zod';
import type { TimeRange } from '../../analytics/time-range.ts';
import { ApiError } from '../errors.ts';

const DAY_MS = 86_400_000;

const isoDate = z.iso.datetime({ offset: true }).meta({ description: 'ISO 8601 date-time with zone, e.g. 2026-11-24T10:00:00Z' });

export const timeRangeQuery = z.object({
  from: isoDate.optional().meta({ description: 'Start (inclusive); default: 24 hours before `to`' }),
  to: isoDate.optional().meta({ description: 'End (exclusive); default: now' }),
});

/** Defaults (last 24 h), and from <= to. */
export function resolveRange(query: { from?: string; to?: string }, now = new Date()): TimeRange {
  const to = query.to ? new Date(query.to) : now;
  const from = query.from ? new Date(query.from) : new Date(to.getTime() - DAY_MS);
  if (from.getTime() > to.getTime()) throw new ApiError(400, 'invalid_range', '`from` must not be after `to`', { from: from.toISOString(), to: to.toISOString() });
  return { from, to };
}

export const intervalSchema = z.object({ lower: z.number(), upper: z.number() }).meta({ id: 'Interval', description: '95% confidence interval' });
