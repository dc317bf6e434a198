/** `socketscope anomalies --input FILE.csv`: the CSV contract, end to end through the real CLI. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { detectAnomalies } from '../../../src/analytics/detectors/seasonal-baseline.ts';
import { OUTPUT_HEADER, firstBackwardsLine, parseSeriesCsv, parseTimestamp } from '../../../src/analytics/detectors/series-csv.ts';
import { run } from '../../helpers/exec.ts';

const dir = mkdtempSync(join(tmpdir(), 'socketscope-anomalies-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('parseTimestamp', () => {
  it('reads ISO 8601, "YYYY-MM-DD HH:MM:SS" as UTC, epoch seconds and epoch milliseconds', () => {
    const ms = Date.UTC(2026, 10, 24, 10, 5, 0);
    expect(parseTimestamp('2026-11-24T10:05:00Z')).toBe(ms);
    expect(parseTimestamp('2026-11-24T12:05:00+02:00')).toBe(ms);
    expect(parseTimestamp('2026-11-24 10:05:00')).toBe(ms);
    expect(parseTimestamp('2026-11-24T10:05:00')).toBe(ms);
    expect(parseTimestamp(String(ms / 1000))).toBe(ms);
    expect(parseTimestamp('1.5')).toBe(1500);
    // Epoch milliseconds, told apart by size (as seconds they would be past the year 5000).
    expect(parseTimestamp(String(ms))).toBe(ms);
    expect(parseTimestamp('99999999999')).toBe(99_999_999_999_000);
    expect(() => parseTimestamp('yesterday')).toThrow(/not a timestamp/);
  });

  it('reads PostgreSQL’s timestamptz output and every ISO 8601 offset form: ±hh, ±hhmm, ±hh:mm, Z', () => {
    const ms = Date.UTC(2024, 0, 1, 12, 0, 0);
    expect(parseTimestamp('2024-01-01 12:00:00+00')).toBe(ms);
    expect(parseTimestamp('2024-01-01 14:00:00+02')).toBe(ms);
    expect(parseTimestamp('2024-01-01 06:30:00-05:30')).toBe(ms);
    expect(parseTimestamp('2024-01-01T13:45:00+0145')).toBe(ms);
    expect(parseTimestamp('2024-01-01T12:00:00z')).toBe(ms);
    expect(parseTimestamp('2024-01-01 12:00:00.123456+00')).toBe(ms + 123);
    expect(parseTimestamp('2024-01-01 12:00')).toBe(ms);
    expect(parseTimestamp('2024-01-01')).toBe(Date.UTC(2024, 0, 1));
    // Years before 100 stay themselves (Date.UTC would read 0050 as 1950).
    expect(new Date(parseTimestamp('0050-06-01T00:00:00Z')).getUTCFullYear()).toBe(50);
  });

  it('reads 24:00:00, ISO 8601’s end of a day, as the next day’s midnight', () => {
    expect(parseTimestamp('2024-01-01T24:00:00Z')).toBe(Date.UTC(2024, 0, 2));
    expect(parseTimestamp('2024-01-01 24:00:00')).toBe(Date.UTC(2024, 0, 2));
    expect(parseTimestamp('2024-01-01T24:00:00.000Z')).toBe(Date.UTC(2024, 0, 2));
    expect(parseTimestamp('2024-01-01T24:00:00.000000+00')).toBe(Date.UTC(2024, 0, 2));
    expect(parseTimestamp('2024-01-01T24:00Z')).toBe(Date.UTC(2024, 0, 2));
    expect(parseTimestamp('2024-01-01T24:00:00+02:00')).toBe(Date.UTC(2024, 0, 1, 22));
    expect(parseTimestamp('2024-12-31T24:00:00Z')).toBe(Date.UTC(2025, 0, 1));
    expect(parseTimestamp('2024-02-29T24:00:00Z')).toBe(Date.UTC(2024, 2, 1));
  });

  it('refuses impossible dates and times instead of rolling them over, saying why', () => {
    expect(() => parseTimestamp('2024-02-30 00:00:00')).toThrow('not a valid date-time: "2024-02-30 00:00:00" (February 2024 has 29 days, not 30)');
    expect(() => parseTimestamp('2023-02-29')).toThrow('(February 2023 has 28 days, not 29)');
    expect(parseTimestamp('2024-02-29')).toBe(Date.UTC(2024, 1, 29));
    expect(() => parseTimestamp('2024-04-31T00:00:00Z')).toThrow('(April 2024 has 30 days, not 31)');
    expect(() => parseTimestamp('2024-13-01 00:00:00')).toThrow('(month 13 is not 01–12)');
    expect(() => parseTimestamp('2024-00-10')).toThrow('(month 00 is not 01–12)');
    expect(() => parseTimestamp('2024-01-00')).toThrow('(January 2024 has 31 days, not 00)');
    expect(() => parseTimestamp('2024-01-01T25:00:00')).toThrow('(hour 25 is not 00–23)');
    expect(() => parseTimestamp('2024-01-01T24:00:01Z')).toThrow('not a valid date-time: "2024-01-01T24:00:01Z" (hour 24 is only 24:00:00, the end of the day)');
    expect(() => parseTimestamp('2024-01-01T24:01:00Z')).toThrow('(hour 24 is only 24:00:00, the end of the day)');
    expect(() => parseTimestamp('2024-01-01T24:00:00.001Z')).toThrow('(hour 24 is only 24:00:00, the end of the day)');
    expect(() => parseTimestamp('2024-02-30T24:00:00Z')).toThrow('(February 2024 has 29 days, not 30)');
    expect(() => parseTimestamp('2024-01-01 12:60:00')).toThrow('(minute 60 is not 00–59)');
    expect(() => parseTimestamp('2024-01-01 12:00:61')).toThrow('(second 61 is not 00–59)');
    expect(() => parseTimestamp('2024-01-01 12:00:00+24')).toThrow('(offset +24 is not within ±23:59)');
    expect(() => parseTimestamp('2024-01-01 12:00:00+01:75')).toThrow('(offset +01:75 is not within ±23:59)');
    for (const text of ['2024-01-01 12:00:00 UTC', '2024-01-01T12:00:00+1', '2024-1-01', '2024-01-01T12', '2024-01-01+00']) {
      expect(() => parseTimestamp(text), text).toThrow(`not a timestamp: ${JSON.stringify(text)} (expected ISO 8601`);
    }
  });
});

describe('parseSeriesCsv', () => {
  it('keeps missing values as NaN and names the line of a bad one', () => {
    const rows = parseSeriesCsv('timestamp,value\n1,2\n2,\n3,NaN\n');
    expect(rows.map((r) => r.value)).toEqual([2, Number.NaN, Number.NaN]);
    expect(() => parseSeriesCsv('timestamp,value\n1,2\n2,abc\n')).toThrow(/line 3: not a number/);
    expect(() => parseSeriesCsv('time,amount\n1,2\n')).toThrow(/header must name/);
  });

  it('reads a row without the value column as malformed, an empty value as missing; lines count blank ones', () => {
    expect(parseSeriesCsv('timestamp,value\n1,\n2, \n').map((r) => r.value)).toEqual([Number.NaN, Number.NaN]);
    expect(() => parseSeriesCsv('timestamp,value\n1,2\n2\n3,4\n')).toThrow(
      'line 3: no value column (1 field where the header has 2); a missing value is written empty, as in `2024-01-01 12:00:00,`',
    );
    expect(() => parseSeriesCsv('value,x,timestamp\n1,a,2024-01-01\n2,b\n')).toThrow('line 3: no timestamp column (2 fields where the header has 3)');
    // Extra columns are ignored; a blank line still counts in the line numbers.
    const rows = parseSeriesCsv('timestamp,value,note\n2024-01-01 12:00:00+00,1,a\n\n2024-01-01 12:05:00+00,2\n2024-01-01 12:01:00+00,3\n');
    expect(rows.map((r) => [r.timestamp, r.value, r.line])).toEqual([
      [Date.UTC(2024, 0, 1, 12, 0), 1, 2],
      [Date.UTC(2024, 0, 1, 12, 5), 2, 4],
      [Date.UTC(2024, 0, 1, 12, 1), 3, 5],
    ]);
    expect(firstBackwardsLine(rows)).toBe(5);
    expect(() => parseSeriesCsv('timestamp,value\n1,1\n\n2024-02-30 00:00:00,2\n')).toThrow('line 4: not a valid date-time: "2024-02-30 00:00:00" (February 2024 has 29 days, not 30)');
    expect(() => parseSeriesCsv('timestamp,value\n1,"2\n')).toThrow(/^line 2: not valid CSV: Quote Not Closed/);
  });
});

describe('socketscope anomalies', () => {
  it('writes one scored row per input row, in order, from the same detector the service uses', async () => {
    const lines = ['timestamp,value'];
    const start = Date.UTC(2026, 0, 1);
    const values: number[] = [];
    for (let i = 0; i < 200; i++) {
      const value = i === 150 ? 500 : 100 + (i % 5);
      values.push(value);
      const iso = new Date(start + i * 300_000).toISOString().replace('T', ' ').slice(0, 19);
      lines.push(`${iso},${value}`);
    }
    const input = join(dir, 'series.csv');
    writeFileSync(input, `${lines.join('\n')}\n`);
    const result = await run(process.execPath, ['bin/socketscope.js', 'anomalies', '--input', input]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const out = result.stdout.trimEnd().split('\n');
    expect(out[0]).toBe(OUTPUT_HEADER);
    expect(out).toHaveLength(201);
    const rows = out.slice(1).map((line) => line.split(','));
    expect(rows.map((r) => r[0])).toEqual(lines.slice(1).map((l) => l.split(',')[0]));
    expect(rows.map((r) => Number(r[1]))).toEqual(values);
    // Warming up: no expectation, score 0.
    expect(rows[0]).toEqual([lines[1]!.split(',')[0], '100', '', '', '', '0.000000', 'false']);
    const scores = rows.map((r) => Number(r[5]));
    expect(scores.every((s) => s >= 0 && s <= 1)).toBe(true);
    expect(rows.flatMap((r, i) => (r[6] === 'true' ? [i] : []))).toEqual([150]);
    // Same numbers as the library.
    const direct = detectAnomalies(values.map((value, i) => ({ timestamp: start + i * 300_000, value })));
    expect(Number(rows[150]![2])).toBeCloseTo(direct[150]!.expected!, 6);
    expect(Number(rows[150]![5])).toBeCloseTo(direct[150]!.score, 6);
  });

  it('--json writes the CSV columns under their snake_case names, then deviation, severity, state and baseline', async () => {
    const start = Date.UTC(2026, 0, 1);
    const stamp = (i: number) => new Date(start + i * 300_000).toISOString().replace('T', ' ').slice(0, 19);
    const value = (i: number) => (i === 150 ? '500' : i === 160 ? '' : String(100 + (i % 5)));
    const input = join(dir, 'json.csv');
    writeFileSync(input, `timestamp,value\n${Array.from({ length: 200 }, (_, i) => `${stamp(i)},${value(i)}`).join('\n')}\n`);
    const [json, csv] = await Promise.all([
      run(process.execPath, ['bin/socketscope.js', 'anomalies', '--input', input, '--json']),
      run(process.execPath, ['bin/socketscope.js', 'anomalies', '--input', input]),
    ]);
    expect(json.stderr).toBe('');
    expect(json.code).toBe(0);
    const rows = json.stdout.trimEnd().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(rows).toHaveLength(200);
    expect(rows[0]).toEqual({ timestamp: stamp(0), value: 100, expected: null, lower: null, upper: null, anomaly_score: 0, is_anomaly: false, deviation: null, severity: null, state: 'warming_up', baseline: null });
    expect(Object.keys(rows[150]!)).toEqual(['timestamp', 'value', 'expected', 'lower', 'upper', 'anomaly_score', 'is_anomaly', 'deviation', 'severity', 'state', 'baseline']);
    expect(rows[150]).toMatchObject({ timestamp: stamp(150), value: 500, is_anomaly: true, severity: 'high', state: 'anomalous' });
    expect(rows[160]).toMatchObject({ value: null, anomaly_score: 0, is_anomaly: false, state: 'missing' });
    expect(rows.flatMap((r, i) => (r.is_anomaly === true ? [i] : []))).toEqual([150]);
    // The same numbers as the CSV (which writes 10 significant digits and 6 decimals of the score), column by column.
    const csvRows = csv.stdout.trimEnd().split('\n').slice(1).map((line) => line.split(','));
    const asCsv = (v: unknown) => (v === null ? '' : String(Number((v as number).toPrecision(10))));
    expect(rows.map((r) => [r.timestamp, r.value === null ? '' : String(r.value), asCsv(r.expected), asCsv(r.lower), asCsv(r.upper), (r.anomaly_score as number).toFixed(6), String(r.is_anomaly)])).toEqual(csvRows);
  });

  it('scores rows whose time goes back in input order, says where on stderr, and scores a later spike all the same', async () => {
    const start = Date.UTC(2026, 0, 1);
    const stamp = (i: number) => new Date(start + i * 300_000).toISOString().replace('T', ' ').slice(0, 19);
    // Row 60 (input line 62) carries the timestamp of row 58.
    const lines = ['timestamp,value', ...Array.from({ length: 120 }, (_, i) => `${stamp(i === 60 ? 58 : i)},${i === 100 ? 500 : 100 + (i % 5)}`)];
    const input = join(dir, 'backwards.csv');
    writeFileSync(input, `${lines.join('\n')}\n`);
    const result = await run(process.execPath, ['bin/socketscope.js', 'anomalies', '--input', input]);
    expect(result.code).toBe(0);
    expect(result.stderr).toBe(
      'socketscope anomalies: line 62: the timestamp is earlier than the line before; rows are scored in input order, each as no earlier than the one before\n',
    );
    const rows = result.stdout.trimEnd().split('\n').slice(1).map((line) => line.split(','));
    expect(rows.map((r) => r[0])).toEqual(lines.slice(1).map((l) => l.split(',')[0]));
    expect(rows.flatMap((r, i) => (r[6] === 'true' ? [i] : []))).toEqual([100]);
    expect(firstBackwardsLine(parseSeriesCsv(lines.join('\n')))).toBe(62);
    expect(firstBackwardsLine(parseSeriesCsv('timestamp,value\n1,1\n1,2\n2,3\n'))).toBeNull();
  });

  it('exits 1 with a message naming the bad line', async () => {
    const input = join(dir, 'bad.csv');
    writeFileSync(input, 'timestamp,value\n2026-01-01 00:00:00,1\nnot-a-time,2\n');
    const result = await run(process.execPath, ['bin/socketscope.js', 'anomalies', '--input', input]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('line 3: not a timestamp');
  });

  it('scores a series exported from PostgreSQL (timestamptz with a ±hh offset), and refuses a row without a value', async () => {
    const stamps = Array.from({ length: 30 }, (_, i) => new Date(Date.UTC(2024, 0, 1) + i * 300_000).toISOString().replace('T', ' ').replace('.000Z', '+00'));
    const input = join(dir, 'psql.csv');
    writeFileSync(input, `timestamp,value\n${stamps.map((t, i) => `${t},${100 + (i % 3)}`).join('\n')}\n`);
    const result = await run(process.execPath, ['bin/socketscope.js', 'anomalies', '--input', input]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout.trimEnd().split('\n').slice(1).map((line) => line.split(',')[0])).toEqual(stamps);

    const short = join(dir, 'short.csv');
    writeFileSync(short, `timestamp,value\n${stamps[0]},1\n${stamps[1]}\n`);
    const refused = await run(process.execPath, ['bin/socketscope.js', 'anomalies', '--input', short]);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toContain('line 3: no value column (1 field where the header has 2)');
  });
});
