/**
 * Group commit for client reports: requests that arrive while a write is in
 * flight are written together by the next statement, so under load one COPY
 * and one commit (one WAL flush) serve many requests instead of one each.
 * Every caller's promise settles only after the statement holding its rows
 * committed (or failed: then none of the statement's rows are written), so a
 * 2xx still means committed and a request is never partially written.
 *
 * A statement the database refuses for a request's data (SQLSTATE class 22
 * or 23) is split and its halves written again, down to the request that
 * fails alone. Any other failure fails the whole statement's requests at
 * once: during an outage each of them would only wait for the same error
 * again. A lost connection, a timeout or a server refusing work is a
 * DatabaseUnavailableError (503 with Retry-After).
 *
 * Lateness: a request's rows are stamped (received_at) just before write().
 * A request that has waited MAX_QUEUE_WAIT_MS for its statement is refused
 * (DatabaseUnavailableError) rather than started, and a statement runs at most
 * WRITE_STATEMENT_TIMEOUT_MS (statement_timeout): rows commit within their sum
 * (plus getting a connection: the pool's connection timeout, 10 s) of their
 * receive time or not at all, well inside the ROLLUP_GRACE_MS the rollups wait
 * before rolling an hour up, which both bounds are derived from. And a client
 * gets its answer while it still waits for it, rather than retrying (the web
 * SDK retries 5xx) a request that later commits: a duplicate.
 */
import { ROLLUP_GRACE_MS } from '../rollups.ts';
import { type ClientReportRow, type EncodedRows, encodeRows, insertEncoded } from './client-reports.ts';
import { DatabaseUnavailableError, isDataError, isDatabaseUnavailable } from './database-errors.ts';
import type { Database } from './database.ts';

/** How long a request may wait for its statement to start (1/8 of ROLLUP_GRACE_MS: 15 s). */
export const MAX_QUEUE_WAIT_MS = ROLLUP_GRACE_MS / 8;
/** statement_timeout of a write (1/4 of ROLLUP_GRACE_MS: 30 s); with the wait, 3/8 of the grace, leaving the rest for the connection, the commit and clocks apart. */
export const WRITE_STATEMENT_TIMEOUT_MS = ROLLUP_GRACE_MS / 4;

interface Pending {
  batch: EncodedRows;
  /** Date.now() when it was queued. */
  queuedAt: number;
  resolve: (count: number) => void;
  reject: (error: unknown) => void;
}

export interface ReportWriterOptions {
  /** Rows per statement at most (several requests' worth). */
  maxRows?: number;
  /** Statements in flight at once (connections used for writing). */
  maxInFlight?: number;
  /** Rows waiting for a statement at most; past it a write is refused at once (default 50 000). */
  maxQueuedRows?: number;
  /** How long a request may wait for its statement to start (default MAX_QUEUE_WAIT_MS). */
  maxQueueWaitMs?: number;
  /** statement_timeout of a write (default WRITE_STATEMENT_TIMEOUT_MS). */
  statementTimeoutMs?: number;
}

/** The database is not keeping up: the write was refused before anything was queued. */
export class WriterOverloadedError extends Error {
  constructor(readonly queuedRows: number) {
    super(`${queuedRows} client report rows are already waiting for the database`);
    this.name = 'WriterOverloadedError';
  }
}

export class ReportWriter {
  private readonly queue: Pending[] = [];
  private inFlight = 0;
  private queuedRows = 0;
  private expiry: NodeJS.Timeout | undefined;
  private readonly maxRows: number;
  private readonly maxInFlight: number;
  private readonly maxQueuedRows: number;
  private readonly maxQueueWaitMs: number;
  private readonly statementTimeoutMs: number;

  constructor(
    private readonly database: Database,
    options: ReportWriterOptions = {},
  ) {
    this.maxRows = options.maxRows ?? 10_000;
    this.maxInFlight = options.maxInFlight ?? 2;
    this.maxQueuedRows = options.maxQueuedRows ?? 50_000;
    this.maxQueueWaitMs = options.maxQueueWaitMs ?? MAX_QUEUE_WAIT_MS;
    this.statementTimeoutMs = options.statementTimeoutMs ?? WRITE_STATEMENT_TIMEOUT_MS;
  }

  /** Resolves with the number of rows once they are committed. The rows are encoded at once: the caller's objects are not kept. */
  write(rows: readonly ClientReportRow[]): Promise<number> {
    if (rows.length === 0) return Promise.resolve(0);
    // A slow database must not turn into unbounded memory and answers long after clients gave up.
    if (this.queuedRows + rows.length > this.maxQueuedRows) return Promise.reject(new WriterOverloadedError(this.queuedRows));
    const batch = encodeRows(this.database, rows);
    this.queuedRows += batch.count;
    return new Promise((resolve, reject) => {
      this.queue.push({ batch, queuedAt: Date.now(), resolve, reject });
      this.drain();
      this.scheduleExpiry();
    });
  }

  private expired(pending: Pending, now = Date.now()): boolean {
    return now - pending.queuedAt >= this.maxQueueWaitMs;
  }

  private refuseWaited(pending: Pending): void {
    pending.reject(new DatabaseUnavailableError(`the client reports waited ${this.maxQueueWaitMs / 1000} s for the database and were not written`));
  }

  /** Refuses the queued requests that waited too long (the queue is in arrival order), when the oldest one's time is up. */
  private scheduleExpiry(): void {
    if (this.expiry !== undefined || this.queue.length === 0) return;
    const oldest = this.queue[0] as Pending;
    this.expiry = setTimeout(
      () => {
        this.expiry = undefined;
        const now = Date.now();
        while (this.queue.length > 0 && this.expired(this.queue[0] as Pending, now)) {
          const pending = this.queue.shift() as Pending;
          this.queuedRows -= pending.batch.count;
          this.refuseWaited(pending);
        }
        this.scheduleExpiry();
      },
      Math.max(0, oldest.queuedAt + this.maxQueueWaitMs - Date.now()),
    );
    // Nothing to wait for once the process ends; the requests' sockets keep it alive meanwhile.
    this.expiry.unref();
  }

  private drain(): void {
    while (this.inFlight < this.maxInFlight && this.queue.length > 0) {
      const group: Pending[] = [];
      let count = 0;
      while (this.queue.length > 0 && (group.length === 0 || count + (this.queue[0] as Pending).batch.count <= this.maxRows)) {
        const next = this.queue.shift() as Pending;
        group.push(next);
        count += next.batch.count;
        this.queuedRows -= next.batch.count;
      }
      this.inFlight++;
      void this.flush(group).finally(() => {
        this.inFlight--;
        this.drain();
      });
    }
    if (this.queue.length === 0 && this.expiry !== undefined) {
      clearTimeout(this.expiry);
      this.expiry = undefined;
    }
  }

  /** Writes the group by one statement; see the top of the file for what happens when it fails. */
  private async flush(group: Pending[]): Promise<void> {
    // Never started for a request that waited too long (the split halves of a failed statement are checked again).
    const now = Date.now();
    const live = group.filter((pending) => {
      if (!this.expired(pending, now)) return true;
      this.refuseWaited(pending);
      return false;
    });
    if (live.length === 0) return;
    try {
      await insertEncoded(
        this.database,
        live.map((p) => p.batch),
        { statementTimeoutMs: this.statementTimeoutMs },
      );
      for (const pending of live) pending.resolve(pending.batch.count);
    } catch (error) {
      if (live.length > 1 && isDataError(error)) {
        // Nothing of the statement was written. Its halves are written again (one after the other), so a
        // request the database refuses fails alone, after about 2·log2(n) statements rather than n.
        const half = Math.ceil(live.length / 2);
        await this.flush(live.slice(0, half));
        await this.flush(live.slice(half));
        return;
      }
      const failure =
        isDatabaseUnavailable(error) && !(error instanceof DatabaseUnavailableError)
          ? new DatabaseUnavailableError(`the database cannot take client reports now: ${(error as Error).message}`, { cause: error }) : error;
      for (const pending of live) pending.reject(failure);
    }
  }
}
