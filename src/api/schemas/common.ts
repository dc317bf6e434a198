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

/** Prometheus' duration units in the order they must come (1h30m, not 30m1h), in seconds. */
const DURATION_UNITS = [
  ['y', 365 * 86_400],
  ['w', 7 * 86_400],
  ['d', 86_400],
  ['h', 3_600],
  ['m', 60],
  ['s', 1],
  ['ms', 0.001],
] as const;
const DURATION = new RegExp(`^${DURATION_UNITS.map(([unit]) => `(?:(\\d+)${unit})?`).join('')}$`);
/** A decimal number of seconds, as Prometheus takes a step besides a duration (300, 1.5, 1e3). */
const SECONDS = /^(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?$/i;

/** Seconds of `text`: a number of seconds or a Prometheus duration (30s, 5m, 1h30m); undefined if it is neither. */
export function parseStepSeconds(text: string): number | undefined {
  if (SECONDS.test(text)) return Number(text);
  const match = text === '' ? null : DURATION.exec(text);
  if (!match) return undefined;
  // Whole milliseconds summed, so that 1s500ms is 1.5 exactly.
  const ms = DURATION_UNITS.reduce((sum, [, seconds], i) => sum + Number(match[i + 1] ?? 0) * seconds * 1000, 0);
  return ms / 1000;
}

/** A range query's step: seconds or a Prometheus duration, from 1 s to 1 day. */
export const stepQuery = z
  .string()
  .trim()
  .transform((text, ctx) => {
    const seconds = parseStepSeconds(text);
    if (seconds === undefined) {
      ctx.addIssue({ code: 'custom', message: `must be seconds (e.g. 300) or a Prometheus duration (e.g. 30s, 5m, 1h, 1h30m), not "${text}"` });
      return z.NEVER;
    }
    return seconds;
  })
  .pipe(z.number().min(1, 'must be at least 1 s').max(86_400, 'must be at most 86400 s (1d)'));

export const intervalSchema = z.object({ lower: z.number(), upper: z.number() }).meta({ id: 'Interval', description: '95% confidence interval' });
