/**
 * Group commit for client reports: requests that arrive while a write is in
 * flight are written together by the next statement, so under load one COPY
 * and one commit (one WAL flush) serve many requests instead of one each.
 * Every caller's promise settles only after the statement holding its rows
 * committed (or failed: then none of the statement's rows are written), so a
 * 2xx still means committed and a request is never partially written.
 */
import type { ClientReportRow } from './client-reports.ts';
import { insertClientReports } from './client-reports.ts';
import type { Database } from './database.ts';

interface Pending {
  rows: readonly ClientReportRow[];
  resolve: (count: number) => void;
  reject: (error: unknown) => void;
}

export interface ReportWriterOptions {
  /** Rows per statement at most (several requests' worth). */
  maxRows?: number;
  /** Statements in flight at once (connections used for writing). */
  maxInFlight?: number;
}

export class ReportWriter {
  private readonly queue: Pending[] = [];
  private inFlight = 0;
  private readonly maxRows: number;
  private readonly maxInFlight: number;

  constructor(
    private readonly database: Database,
    options: ReportWriterOptions = {},
  ) {
    this.maxRows = options.maxRows ?? 10_000;
    this.maxInFlight = options.maxInFlight ?? 2;
  }

  /** Resolves with the number of rows once they are committed. */
  write(rows: readonly ClientReportRow[]): Promise<number> {
    if (rows.length === 0) return Promise.resolve(0);
    return new Promise((resolve, reject) => {
      this.queue.push({ rows, resolve, reject });
      this.drain();
    });
  }

  private drain(): void {
    while (this.inFlight < this.maxInFlight && this.queue.length > 0) {
      const group: Pending[] = [];
      let count = 0;
      while (this.queue.length > 0 && (group.length === 0 || count + (this.queue[0] as Pending).rows.length <= this.maxRows)) {
        const next = this.queue.shift() as Pending;
        group.push(next);
        count += next.rows.length;
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
      await insertClientReports(this.database, group.length === 1 ? (group[0] as Pending).rows : group.flatMap((p) => p.rows));
      for (const pending of group) pending.resolve(pending.rows.length);
    } catch (error) {
      for (const pending of group) pending.reject(error);
    }
  }
}
