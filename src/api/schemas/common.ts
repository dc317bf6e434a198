/** Query parameters shared by the read endpoints. */
import { z } from 'zod';
import type { TimeRange } from '../../analytics/time-range.ts';
import { ApiError } from '../errors.ts';

const DAY_MS = 86_400_000;

/** PostgreSQL text cannot hold NUL, and an unpaired surrogate is not UTF-8: either is a 400 here, never a failed write. */
// eslint-disable-next-line no-control-regex -- NUL is what this pattern exists to reject.
const STORABLE_TEXT = /^(?:[^\u0000\uD800-\uDFFF]|[\uD800-\uDBFF][\uDC00-\uDFFF])*$/;
export const storable = (schema: z.ZodString) => schema.regex(STORABLE_TEXT, 'must not contain NUL characters or unpaired surrogates');

/**
 * The instants a stored timestamp may take. ISO 8601 admits year 0000, which PostgreSQL refuses
 * (a 500 and a failed group commit, not a 400); nothing a client or Alertmanager reports is
 * legitimately outside this window.
 */
export const TIMESTAMP_MIN = '2000-01-01T00:00:00Z';
export const TIMESTAMP_MAX = '2100-01-01T00:00:00Z';
const MIN_MS = Date.parse(TIMESTAMP_MIN);
const MAX_MS = Date.parse(TIMESTAMP_MAX);
export const TIMESTAMP_RANGE_MESSAGE = `must be from ${TIMESTAMP_MIN} up to (not including) ${TIMESTAMP_MAX}`;

/** Whether `value` (an ISO date-time) lies in the stored range; an unparsable value is left to the format check. */
export function inTimestampRange(value: string): boolean {
  const ms = Date.parse(value);
  return Number.isNaN(ms) || (ms >= MIN_MS && ms < MAX_MS);
}

/** An ISO 8601 date-time with zone, within TIMESTAMP_MIN..TIMESTAMP_MAX. */
export const storedTimestamp = () => z.iso.datetime({ offset: true }).refine(inTimestampRange, TIMESTAMP_RANGE_MESSAGE);

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
