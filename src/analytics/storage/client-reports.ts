/**
 * Writing client reports. One statement per batch, so a batch is committed
 * whole or not at all: COPY against a PostgreSQL server (several times the
 * rows/s of INSERT), one INSERT … SELECT FROM json_populate_recordset on the
 * embedded database (PGlite's wire protocol has no COPY FROM STDIN).
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { Database } from './database.ts';
import { ensurePartitions, startOfUtcDay } from './partitions.ts';
import { inTransaction } from './transaction.ts';

/** A client report as stored: the validated report plus server-side fields. */
export interface ClientReportRow {
  received_at: Date;
  schema_version: number;
  session_id: string;
  sent_at: string;
  window_start: string;
  window_end: string;
  page_path: string;
  app_name: string | null;
  app_version: string | null;
  country: string;
  region: string | null;
  attempts: number;
  opens: number;
  drops: number;
  reconnect_attempts: number;
  reconnect_successes: number;
  outage_ms: number;
  connected_ms: number;
  close_codes: Record<string, number>;
  messages_sent: number;
  messages_received: number;
  messages_queued: number;
  messages_dropped: number;
  message_errors: number;
  latency_count: number;
  latency_avg_ms: number | null;
  latency_p50_ms: number | null;
  latency_p95_ms: number | null;
  latency_max_ms: number | null;
  network_type: string | null;
  effective_type: string | null;
  network_rtt_ms: number | null;
  downlink_mbps: number | null;
  lcp_ms: number | null;
  inp_ms: number | null;
  cls: number | null;
  fcp_ms: number | null;
  ttfb_ms: number | null;
  page_load_ms: number | null;
  ux_interactions: number;
  ux_errors: number;
}

/** Column order of the table (and of COPY). */
export const CLIENT_REPORT_COLUMNS = [
  'received_at', 'schema_version', 'session_id', 'sent_at', 'window_start', 'window_end', 'page_path', 'app_name', 'app_version',
  'country', 'region', 'attempts', 'opens', 'drops', 'reconnect_attempts', 'reconnect_successes', 'outage_ms', 'connected_ms',
  'close_codes', 'messages_sent', 'messages_received', 'messages_queued', 'messages_dropped', 'message_errors', 'latency_count',
  'latency_avg_ms', 'latency_p50_ms', 'latency_p95_ms', 'latency_max_ms', 'network_type', 'effective_type', 'network_rtt_ms',
  'downlink_mbps', 'lcp_ms', 'inp_ms', 'cls', 'fcp_ms', 'ttfb_ms', 'page_load_ms', 'ux_interactions', 'ux_errors',
] as const satisfies ReadonlyArray<keyof ClientReportRow>;

const COPY_ESCAPED = /[\\\t\n\r]/;
const COPY_ESCAPES = /[\\\t\n\r]/g;

function escapeCopy(text: string): string {
  // Most values need no escape: test before paying for a replace.
  return COPY_ESCAPED.test(text) ? text.replace(COPY_ESCAPES, (c) => (c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r')) : text;
}

/** COPY text format: tab-separated, \N for NULL, backslash escapes. Rows of one request share a Date: its text is made once. */
export function toCopyText(rows: readonly ClientReportRow[]): string {
  let out = '';
  let lastDate: Date | undefined;
  let lastDateText = '';
  for (const row of rows) {
    for (let i = 0; i < CLIENT_REPORT_COLUMNS.length; i++) {
      const value: unknown = row[CLIENT_REPORT_COLUMNS[i] as keyof ClientReportRow];
      if (i > 0) out += '\t';
      if (typeof value === 'number') out += value;
      else if (value === null || value === undefined) out += '\\N';
      else if (typeof value === 'string') out += escapeCopy(value);
      else if (value instanceof Date) {
        if (value !== lastDate) {
          lastDate = value;
          lastDateText = value.toISOString();
        }
        out += lastDateText;
      } else out += escapeCopy(JSON.stringify(value));
    }
    out += '\n';
  }
  return out;
}

const COPY_SQL = `COPY client_reports (${CLIENT_REPORT_COLUMNS.join(', ')}) FROM STDIN`;
const JSON_INSERT_SQL = `INSERT INTO client_reports (${CLIENT_REPORT_COLUMNS.join(', ')})
  SELECT ${CLIENT_REPORT_COLUMNS.join(', ')} FROM json_populate_recordset(NULL::client_reports, $1::json)`;

/**
 * Rows made ready for the database at hand: COPY data for a server, the rows
 * themselves for the embedded database. Encoding when a request arrives (not
 * when its statement runs) lets the request's objects die young: what waits
 * for the group commit is one buffer outside the JS heap, not the parsed
 * reports and the thousands of pieces of a concatenated string, which every
 * young-generation GC would have to copy while they wait.
 */
export interface EncodedRows {
  count: number;
  /** The distinct receive times, for creating a missing day partition. */
  receivedAt: readonly Date[];
  copyData?: Buffer;
  rows?: readonly ClientReportRow[];
}

export function encodeRows(database: Database, rows: readonly ClientReportRow[]): EncodedRows {
  const receivedAt: Date[] = [];
  for (const row of rows) if (!receivedAt.some((t) => t.getTime() === row.received_at.getTime())) receivedAt.push(row.received_at);
  return database.kind === 'server' ? { count: rows.length, receivedAt, copyData: Buffer.from(toCopyText(rows)) } : { count: rows.length, receivedAt, rows };
}

/** Options of a write. */
export interface WriteOptions {
  /**
   * statement_timeout of the statement (SET LOCAL in the same implicit transaction: no extra round
   * trip against a server), so that a write commits within a known time of its start or not at all.
   * Absent: the server's setting.
   */
  statementTimeoutMs?: number;
}

async function copyData(pool: pg.Pool, chunks: readonly Buffer[], { statementTimeoutMs }: WriteOptions): Promise<void> {
  const client = await pool.connect();
  try {
    // One Query message of two statements runs as one implicit transaction: the setting ends with the COPY.
    const sql = statementTimeoutMs === undefined ? COPY_SQL : `SET LOCAL statement_timeout = ${statementTimeoutMs}; ${COPY_SQL}`;
    await pipeline(Readable.from(chunks), client.query(copyFrom(sql)));
    client.release();
  } catch (error) {
    // A connection that failed mid-COPY is not reused.
    client.release(error as Error);
    throw error;
  }
}

async function insertRows(database: Database, batches: readonly EncodedRows[], options: WriteOptions): Promise<void> {
  if (database.kind === 'server') {
    await copyData(database.pool, batches.map((b) => b.copyData ?? Buffer.from(toCopyText(b.rows ?? []))), options);
    return;
  }
  const json = JSON.stringify(batches.flatMap((b) => b.rows ?? []));
  const { statementTimeoutMs } = options;
  if (statementTimeoutMs === undefined) await database.pool.query(JSON_INSERT_SQL, [json]);
  // A parameter needs the extended protocol, one statement per message: an explicit transaction.
  else
    await inTransaction(database.pool, async (client) => {
      await client.query(`SET LOCAL statement_timeout = ${statementTimeoutMs}`);
      await client.query(JSON_INSERT_SQL, [json]);
    });
}

/** PostgreSQL's "no partition of relation … found for row". */
function isMissingPartition(error: unknown): boolean {
  return (error as { code?: string }).code === '23514' && /no partition/i.test((error as Error).message);
}

/**
 * Stores encoded batches atomically, by one statement; returns the number of
 * rows. A missing day partition (a service that just crossed midnight before
 * its maintenance ran) is created and the statement retried once.
 */
export async function insertEncoded(database: Database, batches: readonly EncodedRows[], options: WriteOptions = {}): Promise<number> {
  const count = batches.reduce((sum, b) => sum + b.count, 0);
  if (count === 0) return 0;
  try {
    await insertRows(database, batches, options);
  } catch (error) {
    if (!isMissingPartition(error)) throw error;
    const days = new Set(batches.flatMap((b) => b.receivedAt.map((t) => startOfUtcDay(t).getTime())));
    for (const day of days) await ensurePartitions(database.pool, { from: new Date(day), daysAhead: 0 });
    await insertRows(database, batches, options);
  }
  return count;
}

/** Stores rows atomically, by one statement; returns the number of rows. */
export function insertClientReports(database: Database, rows: readonly ClientReportRow[]): Promise<number> {
  return insertEncoded(database, [encodeRows(database, rows)]);
}
