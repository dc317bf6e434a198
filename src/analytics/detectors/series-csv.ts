/**
 * CSV in and out of the anomaly detector (`socketscope anomalies`): input
 * `timestamp,value` (ISO 8601, `YYYY-MM-DD HH:MM:SS` UTC, epoch seconds, or
 * epoch milliseconds),
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
}

export class SeriesCsvError extends Error {
  override name = 'SeriesCsvError';
}

const TIMESTAMP_COLUMNS = ['timestamp', 'timestamps', 'time', 'ts', 'date', 'datetime'];
const VALUE_COLUMNS = ['value', 'values', 'y'];
const MISSING = new Set(['', 'nan', 'null', 'na', 'none']);

/** Epoch numbers from here on are milliseconds (as seconds they would be past the year 5000). */
const EPOCH_MS_FROM = 1e11;

/** Milliseconds since the epoch; zone-less date-times are UTC; numbers are epoch seconds, or milliseconds from 10^11. */
export function parseTimestamp(text: string): number {
  const trimmed = text.trim();
  if (/^[+-]?\d+(\.\d+)?$/.test(trimmed)) {
    const n = Number(trimmed);
    return Math.abs(n) >= EPOCH_MS_FROM ? n : n * 1000;
  }
  let iso = trimmed.replace(/^(\d{4}-\d{2}-\d{2})[ T]/, '$1T');
  if (/^\d{4}-\d{2}-\d{2}$/.test(iso)) iso += 'T00:00:00';
  if (/T[\d:.]+$/.test(iso)) iso += 'Z';
  const ms = Date.parse(iso);
  if (!/^\d{4}-\d{2}-\d{2}T/.test(iso) || Number.isNaN(ms)) throw new SeriesCsvError(`not a timestamp: ${JSON.stringify(text)}`);
  return ms;
}

export function parseSeriesCsv(text: string): SeriesRow[] {
  const records = parse(text, { skip_empty_lines: true, trim: true, relax_column_count: true }) as string[][];
  const header = records.shift()?.map((h) => h.toLowerCase().replace(/^\ufeff/, ''));
  if (!header) throw new SeriesCsvError('empty input: expected a header line `timestamp,value`');
  const timeColumn = header.findIndex((h) => TIMESTAMP_COLUMNS.includes(h));
  const valueColumn = header.findIndex((h) => VALUE_COLUMNS.includes(h));
  if (timeColumn < 0 || valueColumn < 0) throw new SeriesCsvError(`header must name the columns timestamp and value, got: ${header.join(',')}`);
  return records.map((record, i) => {
    const line = i + 2;
    const rawTimestamp = record[timeColumn] ?? '';
    const rawValue = record[valueColumn] ?? '';
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
    return { rawTimestamp, rawValue, timestamp, value };
  });
}

/** The input line of the first row whose timestamp is earlier than the row before it, or null when time never goes back. */
export function firstBackwardsLine(rows: readonly SeriesRow[]): number | null {
  for (let i = 1; i < rows.length; i++) if ((rows[i] as SeriesRow).timestamp < (rows[i - 1] as SeriesRow).timestamp) return i + 2;
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
