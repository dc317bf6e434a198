/**
 * CSV in and out of the anomaly detector (`socketscope anomalies`): input
 * `timestamp,value` (ISO 8601 with Z or a ±hh, ±hhmm or ±hh:mm offset,
 * `YYYY-MM-DD HH:MM:SS` UTC, epoch seconds, or epoch milliseconds),
 * output `timestamp,value,expected,lower,upper,anomaly_score,is_anomaly`,
 * one row per input row, in order.
 */
import { parse } from 'csv-parse/sync';
import type { DetectorPoint } from './seasonal-baseline.ts';

export interface SeriesRow {
  /** As written in the input, echoed in the output. */
  rawTimestamp: string;
  rawValue: string;
  timestamp: number;
  value: number;
  /** The input line (the last, for a quoted value over several). */
  line: number;
}

export class SeriesCsvError extends Error {
  override name = 'SeriesCsvError';
}

const TIMESTAMP_COLUMNS = ['timestamp', 'timestamps', 'time', 'ts', 'date', 'datetime'];
const VALUE_COLUMNS = ['value', 'values', 'y'];
const MISSING = new Set(['', 'nan', 'null', 'na', 'none']);

/** Epoch numbers from here on are milliseconds (as seconds they would be past the year 5000). */
const EPOCH_MS_FROM = 1e11;

/**
 * A date, optionally a time (`T` or a space between; seconds and a fraction
 * optional), optionally a zone: `Z`, or an offset ±hh, ±hhmm or ±hh:mm (the
 * first is how PostgreSQL writes timestamptz: `2024-01-01 12:00:00+00`).
 */
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?(Z|[+-]\d{2}(?::?\d{2})?)?)?$/i;
const FORMATS = 'ISO 8601 (2024-01-01T12:00:00Z, 2024-01-01 12:00:00+00, ±hh:mm or ±hhmm offsets), YYYY-MM-DD HH:MM:SS as UTC, or epoch seconds or milliseconds';
const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

function daysInMonth(year: number, month: number): number {
  return month === 2 ? (year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28) : [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/** Milliseconds of a UTC date-time, years 0–99 included (Date.UTC reads them as 1900–1999). */
function utcMs(year: number, month: number, day: number, hour: number, minute: number, second: number, ms: number): number {
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute, second, ms);
  return date.getTime();
}

/**
 * Milliseconds since the epoch; zone-less date-times are UTC; numbers are
 * epoch seconds, or milliseconds from 10^11. Every component is range-checked:
 * 2024-02-30 or 12:60 is an error, not a date rolled over into the next month
 * or hour. 24:00:00 (ISO 8601's end of a day) is the next day's 00:00:00; any
 * later time in hour 24 is an error. Fractions of a second beyond milliseconds
 * are cut off.
 */
export function parseTimestamp(text: string): number {
  const trimmed = text.trim();
  if (/^[+-]?\d+(\.\d+)?$/.test(trimmed)) {
    const n = Number(trimmed);
    return Math.abs(n) >= EPOCH_MS_FROM ? n : n * 1000;
  }
  const m = DATE_TIME.exec(trimmed);
  if (!m) throw new SeriesCsvError(`not a timestamp: ${JSON.stringify(text)} (expected ${FORMATS})`);
  const [year, month, day, hour, minute, second] = [m[1], m[2], m[3], m[4], m[5], m[6]].map((part) => Number(part ?? 0)) as [number, number, number, number, number, number];
  const bad = (why: string) => new SeriesCsvError(`not a valid date-time: ${JSON.stringify(text)} (${why})`);
  if (month < 1 || month > 12) throw bad(`month ${m[2]} is not 01–12`);
  if (day < 1 || day > daysInMonth(year, month)) throw bad(`${MONTHS[month - 1]} ${year} has ${daysInMonth(year, month)} days, not ${m[3]}`);
  // ISO 8601's end of a day, 24:00:00 (any fraction all zeros), is the next day's midnight; nothing later in hour 24 is a time.
  const endOfDay = hour === 24 && minute === 0 && second === 0 && !/[1-9]/.test(m[7] ?? '');
  if (hour > 23 && !endOfDay) throw bad(hour === 24 ? `hour 24 is only 24:00:00, the end of the day` : `hour ${m[4]} is not 00–23`);
  if (minute > 59) throw bad(`minute ${m[5]} is not 00–59`);
  if (second > 59) throw bad(`second ${m[6]} is not 00–59`);
  let offsetMinutes = 0;
  const zone = m[8]?.toUpperCase();
  if (zone && zone !== 'Z') {
    const digits = zone.slice(1).replace(':', '');
    const hours = Number(digits.slice(0, 2));
    const minutes = Number(digits.slice(2) || 0);
    if (hours > 23 || minutes > 59) throw bad(`offset ${zone} is not within ±23:59`);
    offsetMinutes = (zone.startsWith('-') ? -1 : 1) * (hours * 60 + minutes);
  }
  const ms = m[7] ? Number(m[7].slice(0, 3).padEnd(3, '0')) : 0;
  return utcMs(year, month, day, hour, minute, second, ms) - offsetMinutes * 60_000;
}

/**
 * The rows of a `timestamp,value` CSV. Every row needs both columns: one
 * without the value column is malformed (an error naming its line), an empty
 * value (or `NaN`, `null`, `NA`, `none`) is a missing value, scored 0 and not
 * learned from. Extra columns are ignored. Lines are the input's, counting
 * blank lines; a quoted value over several lines is named by its last.
 */
export function parseSeriesCsv(text: string): SeriesRow[] {
  let records: Array<{ record: string[]; info: { lines: number } }>;
  try {
    records = parse(text, { skip_empty_lines: true, trim: true, relax_column_count: true, info: true }) as unknown as typeof records;
  } catch (error) {
    const line = (error as { lines?: number }).lines;
    throw new SeriesCsvError(`${line ? `line ${line}: ` : ''}not valid CSV: ${(error as Error).message}`);
  }
  const header = records.shift()?.record.map((h) => h.toLowerCase().replace(/^\ufeff/, ''));
  if (!header) throw new SeriesCsvError('empty input: expected a header line `timestamp,value`');
  const timeColumn = header.findIndex((h) => TIMESTAMP_COLUMNS.includes(h));
  const valueColumn = header.findIndex((h) => VALUE_COLUMNS.includes(h));
  if (timeColumn < 0 || valueColumn < 0) throw new SeriesCsvError(`header must name the columns timestamp and value, got: ${header.join(',')}`);
  const needed = Math.max(timeColumn, valueColumn) + 1;
  return records.map(({ record, info }) => {
    const line = info.lines;
    if (record.length < needed) {
      const missing = record.length <= timeColumn ? 'timestamp' : 'value';
      const fields = `${record.length} field${record.length === 1 ? '' : 's'} where the header has ${header.length}`;
      throw new SeriesCsvError(`line ${line}: no ${missing} column (${fields})${missing === 'value' ? '; a missing value is written empty, as in `2024-01-01 12:00:00,`' : ''}`);
    }
    const rawTimestamp = record[timeColumn] as string;
    const rawValue = record[valueColumn] as string;
    let timestamp: number;
    try {
      timestamp = parseTimestamp(rawTimestamp);
    } catch (error) {
      throw new SeriesCsvError(`line ${line}: ${(error as Error).message}`);
    }
    let value = Number.NaN;
    if (!MISSING.has(rawValue.toLowerCase())) {
      value = Number(rawValue);
      if (!Number.isFinite(value)) throw new SeriesCsvError(`line ${line}: not a number: ${JSON.stringify(rawValue)}`);
    }
    return { rawTimestamp, rawValue, timestamp, value, line };
  });
}

/** The input line of the first row whose timestamp is earlier than the row before it, or null when time never goes back. */
export function firstBackwardsLine(rows: readonly SeriesRow[]): number | null {
  for (let i = 1; i < rows.length; i++) if ((rows[i] as SeriesRow).timestamp < (rows[i - 1] as SeriesRow).timestamp) return (rows[i] as SeriesRow).line;
  return null;
}

function formatNumber(value: number | null): string {
  if (value === null || !Number.isFinite(value)) return '';
  return String(Number(value.toPrecision(10)));
}

export const OUTPUT_HEADER = 'timestamp,value,expected,lower,upper,anomaly_score,is_anomaly';

function quote(text: string): string {
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function formatSeriesCsvRow(row: SeriesRow, point: DetectorPoint): string {
  return [
    quote(row.rawTimestamp),
    quote(row.rawValue),
    formatNumber(point.expected),
    formatNumber(point.lower),
    formatNumber(point.upper),
    point.score.toFixed(6),
    point.isAnomaly ? 'true' : 'false',
  ].join(',');
}
