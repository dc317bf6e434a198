/**
 * The ingest path checks bodies with zod's compiled schemas and asks the
 * runtime schemas only about bodies those reject. Here both must give the
 * same verdict (and the same output or issues) on a valid report and on
 * every mutation of it: each field removed, retyped, pushed past its limits,
 * unknown keys at every level, the cross-field rules, and random mixes.
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  clientReportBatchSchema,
  clientReportSchema,
  compiledClientReportBatchSchema,
  compiledClientReportSchema,
} from '../../../src/api/schemas/client-report.ts';
import { randomSource } from './synthetic-series.ts';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Mutation = [name: string, mutate: (report: Record<string, Json>) => void];

function validReport(): Record<string, Json> {
  return {
    schema_version: 1,
    session_id: 'compiled-session-0001',
    sent_at: '2026-11-24T10:00:00.000Z',
    window_start: '2026-11-24T09:59:00.000Z',
    window_end: '2026-11-24T10:00:00.000Z',
    page_path: '/dashboard',
    app: { name: 'dashboard', version: '1.4.2' },
    connection: { attempts: 3, opens: 2, drops: 1, reconnect_attempts: 2, reconnect_successes: 1, outage_ms: 4200, connected_ms: 55000, close_codes: { '1006': 1, '1000': 2 } },
    messages: { sent: 120, received: 340, queued: 5, dropped: 0, errors: 1 },
    latency_ms: { count: 60, avg: 42.5, p50: 38, p95: 95, max: 180 },
    network: { type: 'wifi', effective_type: '4g', rtt_ms: 50, downlink_mbps: 10 },
    vitals: { lcp_ms: 1800, inp_ms: 120, cls: 0.02, fcp_ms: 900, ttfb_ms: 200, page_load_ms: 2100 },
    ux: { interactions: 14, errors: 0 },
  };
}

/** Every leaf of the valid report as a path. */
function leafPaths(value: Json, prefix: string[] = []): string[][] {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return [prefix];
  return Object.entries(value).flatMap(([key, child]) => leafPaths(child, [...prefix, key]));
}

function objectPaths(value: Json, prefix: string[] = []): string[][] {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return [];
  return [prefix, ...Object.entries(value).flatMap(([key, child]) => objectPaths(child, [...prefix, key]))];
}

function at(report: Record<string, Json>, path: string[]): { parent: Record<string, Json>; key: string } {
  let parent = report;
  for (const key of path.slice(0, -1)) parent = parent[key] as Record<string, Json>;
  return { parent, key: path[path.length - 1]! };
}

const REPLACEMENTS: Json[] = [
  null, true, '3', '', 'x'.repeat(65), 'y'.repeat(257), -1, -0, 0, 1, 1.5, 0.02, 2 ** 31 - 1, 2 ** 31, 1e12, 1e12 + 1, 1e13, 2 ** 53, [], {}, [1], { nested: 1 },
  '2026-11-24T10:00:00Z', '2026-11-24T10:00:00+02:00', '2026-11-24T10:00Z', '2026-02-30T10:00:00Z', '2024-02-29T10:00:00.123456Z', '2026-11-24 10:00:00Z',
  // The stored range (PostgreSQL refuses year 0000): its bounds, each side of them, and an offset that crosses one.
  '0000-01-01T00:00:00Z', '1999-12-31T23:59:59.999Z', '2000-01-01T00:00:00Z', '2000-01-01T00:30:00+01:00', '2099-12-31T23:59:59.999Z', '2100-01-01T00:00:00Z', '9999-12-31T23:59:59Z',
  '/a?b', '/a#b', 'no-slash', `/${'é'.repeat(255)}`, `/${'😀'.repeat(200)}`, 'short', 'valid_session-id_0123456789', 'bad session id with spaces',
];

function mutations(): Mutation[] {
  const base = validReport();
  const list: Mutation[] = [['valid as is', () => undefined]];
  for (const path of leafPaths(base)) {
    const name = path.join('.');
    list.push([`${name} removed`, (r) => void delete at(r, path).parent[at(r, path).key]]);
    for (const value of REPLACEMENTS) {
      list.push([`${name} = ${JSON.stringify(value).slice(0, 40)}`, (r) => void (at(r, path).parent[at(r, path).key] = value)]);
    }
  }
  for (const path of objectPaths(base)) {
    const name = path.join('.') || '(report)';
    list.push([`unknown key in ${name}`, (r) => void ((path.length ? (at(r, path).parent[at(r, path).key] as Record<string, Json>) : r).extra = 1)]);
    list.push([`${name} is an array`, (r) => void (path.length ? (at(r, path).parent[at(r, path).key] = []) : undefined)]);
    if (path.length) list.push([`${name} is empty`, (r) => void (at(r, path).parent[at(r, path).key] = {})]);
  }
  list.push(
    ['21 close codes', (r) => void ((r.connection as Record<string, Json>).close_codes = Object.fromEntries(Array.from({ length: 21 }, (_, i) => [String(1000 + i), 1])))],
    ['20 close codes', (r) => void ((r.connection as Record<string, Json>).close_codes = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [String(1000 + i), 1])))],
    ['3-digit close code', (r) => void ((r.connection as Record<string, Json>).close_codes = { '999': 1 })],
    ['non-numeric close code', (r) => void ((r.connection as Record<string, Json>).close_codes = { abcd: 1 })],
    ['close code count -1', (r) => void ((r.connection as Record<string, Json>).close_codes = { '1006': -1 })],
    ['close code count 1.5', (r) => void ((r.connection as Record<string, Json>).close_codes = { '1006': 1.5 })],
    ['window_start after window_end', (r) => void (r.window_start = '2026-11-24T10:00:01.000Z')],
    ['window_start after window_end by offsets', (r) => void (r.window_start = '2026-11-24T11:30:00+01:00')],
    ['latency count 0 with nulls', (r) => void (r.latency_ms = { count: 0, avg: null, p50: null, p95: null, max: null })],
    ['latency count 1 with nulls', (r) => void (r.latency_ms = { count: 1, avg: null, p50: null, p95: null, max: null })],
    ['latency count 1 with one null', (r) => void (r.latency_ms = { count: 1, avg: 1, p50: 1, p95: null, max: 1 })],
    ['no optional objects', (r) => void (delete r.app, delete r.network, delete r.vitals)],
    ['schema_version 2', (r) => void (r.schema_version = 2)],
    // The plausibility bounds of a window (60 s here: 660 connection events, 1 000 s of connected time).
    ['a window of 15 minutes', (r) => void (r.window_start = '2026-11-24T09:45:00.000Z')],
    ['a window of 15 minutes and 1 ms', (r) => void (r.window_start = '2026-11-24T09:44:59.999Z')],
    ['a window of 0 ms', (r) => void (r.window_start = '2026-11-24T10:00:00.000Z')],
    ['attempts at the bound', (r) => void ((r.connection as Record<string, Json>).attempts = 660)],
    ['attempts past the bound', (r) => void ((r.connection as Record<string, Json>).attempts = 661)],
    ['connected_ms at the bound', (r) => void ((r.connection as Record<string, Json>).connected_ms = 601_000)],
    ['outage_ms past the bound', (r) => void ((r.connection as Record<string, Json>).outage_ms = 601_000.5)],
    ['a close code count past the bound', (r) => void ((r.connection as Record<string, Json>).close_codes = { '1006': 661 })],
    ['more reconnect attempts than attempts', (r) => void ((r.connection as Record<string, Json>).reconnect_attempts = 4)],
    ['more reconnect successes than opens', (r) => void ((r.connection as Record<string, Json>).reconnect_successes = 3)],
    ['messages past the bound', (r) => void ((r.messages as Record<string, Json>).errors = 700_001)],
    ['page errors past the bound, and a long window', (r) => void ((r.ux as Record<string, Json>).errors = 7_001, (r.window_start = '2026-11-24T08:00:00.000Z'))],
    ['__proto__ key', (r) => void Object.defineProperty(r, '__proto__', { value: { polluted: true }, enumerable: true, configurable: true, writable: true })],
  );
  return list;
}

function sameOutcome(compiled: z.ZodType, runtime: z.ZodType, body: unknown): void {
  const fast = compiled.safeParse(body);
  const slow = runtime.safeParse(body);
  expect(compiled.validate(body)).toBe(slow.success);
  expect(fast.success).toBe(slow.success);
  if (fast.success && slow.success) expect(fast.data).toEqual(slow.data);
  else expect(fast.error?.issues).toEqual(slow.error?.issues);
}

describe('compiled client report schemas', () => {
  it('compile (a schema zod cannot compile would silently stay on the slower runtime)', () => {
    expect(() => z.compile(clientReportSchema, { strict: true })).not.toThrow();
    expect(() => z.compile(clientReportBatchSchema, { strict: true })).not.toThrow();
  });

  it('give the runtime verdict, output and issues on every mutation of a report, alone and in a batch', () => {
    const list = mutations();
    let accepted = 0;
    for (const [name, mutate] of list) {
      const report = validReport();
      mutate(report);
      // JSON round trip: the route sees what JSON.parse makes of a body.
      const body = JSON.parse(JSON.stringify(report)) as unknown;
      const batch = JSON.parse(JSON.stringify({ reports: [validReport(), report] })) as unknown;
      try {
        sameOutcome(compiledClientReportSchema, clientReportSchema, body);
        sameOutcome(compiledClientReportBatchSchema, clientReportBatchSchema, batch);
      } catch (error) {
        throw new Error(`mutation "${name}": ${(error as Error).message}`);
      }
      if (clientReportSchema.safeParse(body).success) accepted++;
    }
    // Both verdicts occur in quantity: the comparison is not one-sided.
    expect(list.length).toBeGreaterThan(1000);
    expect(accepted).toBeGreaterThan(100);
    expect(list.length - accepted).toBeGreaterThan(500);
  });

  it('agree on random mixes of mutations and on batch limits', () => {
    const list = mutations();
    const random = randomSource(7);
    for (let i = 0; i < 2000; i++) {
      const report = validReport();
      const applied = Array.from({ length: 1 + Math.floor(random() * 3) }, () => list[Math.floor(random() * list.length)]!);
      for (const [, mutate] of applied) {
        try {
          mutate(report);
        } catch {
          // A mutation whose target an earlier one removed or retyped.
        }
      }
      const body = JSON.parse(JSON.stringify(report)) as unknown;
      sameOutcome(compiledClientReportSchema, clientReportSchema, body);
    }
    for (const n of [0, 1, 100, 101]) sameOutcome(compiledClientReportBatchSchema, clientReportBatchSchema, { reports: Array.from({ length: n }, validReport) });
    for (const body of [null, [], 'text', 1, { reports: null }, { reports: {} }, { reports: [], extra: 1 }]) sameOutcome(compiledClientReportBatchSchema, clientReportBatchSchema, body);
  });
});
