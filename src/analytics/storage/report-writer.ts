/**
 * Group commit for client reports: requests that arrive while a write is in
 * flight are written together by the next statement, so under load one COPY
 * and one commit (one WAL flush) serve many requests instead of one each.
 * Every caller's promise settles only after the statement holding its rows
 * committed (or failed: then none of the statement's rows are written, and
 * each request is retried alone so that one the database refuses does not
 * fail the others), so a 2xx still means committed and a request is never
 * partially written.
 */
import { type ClientReportRow, type EncodedRows, encodeRows, insertEncoded } from './client-reports.ts';
import type { Database } from './database.ts';

interface Pending {
  batch: EncodedRows;
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
  private readonly maxRows: number;
  private readonly maxInFlight: number;
  private readonly maxQueuedRows: number;

  constructor(
    private readonly database: Database,
    options: ReportWriterOptions = {},
  ) {
    this.maxRows = options.maxRows ?? 10_000;
    this.maxInFlight = options.maxInFlight ?? 2;
    this.maxQueuedRows = options.maxQueuedRows ?? 50_000;
  }

  /** Resolves with the number of rows once they are committed. The rows are encoded at once: the caller's objects are not kept. */
  write(rows: readonly ClientReportRow[]): Promise<number> {
    if (rows.length === 0) return Promise.resolve(0);
    // A slow database must not turn into unbounded memory and answers long after clients gave up.
    if (this.queuedRows + rows.length > this.maxQueuedRows) return Promise.reject(new WriterOverloadedError(this.queuedRows));
    const batch = encodeRows(this.database, rows);
    this.queuedRows += batch.count;
    return new Promise((resolve, reject) => {
      this.queue.push({ batch, resolve, reject });
      this.drain();
    });
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
  }

  private async flush(group: Pending[]): Promise<void> {
    try {
      await insertEncoded(this.database, group.map((p) => p.batch));
      for (const pending of group) pending.resolve(pending.batch.count);
    } catch (error) {
      if (group.length === 1) {
        (group[0] as Pending).reject(error);
        return;
      }
      // Nothing of the group was written. Each request is written again on its own, so one that the
      // database refuses fails alone rather than with every request that happened to share its statement.
      for (const pending of group) {
        try {
          await insertEncoded(this.database, [pending.batch]);
          pending.resolve(pending.batch.count);
        } catch (own) {
          pending.reject(own);
        }
      }
    }
  }
}
