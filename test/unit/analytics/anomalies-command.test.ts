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
});

describe('parseSeriesCsv', () => {
  it('keeps missing values as NaN and names the line of a bad one', () => {
    const rows = parseSeriesCsv('timestamp,value\n1,2\n2,\n3,NaN\n');
    expect(rows.map((r) => r.value)).toEqual([2, Number.NaN, Number.NaN]);
    expect(() => parseSeriesCsv('timestamp,value\n1,2\n2,abc\n')).toThrow(/line 3: not a number/);
    expect(() => parseSeriesCsv('time,amount\n1,2\n')).toThrow(/header must name/);
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
});
