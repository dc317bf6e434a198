/** Stored anomalies: one row per incident start of a stream. */
import type pg from 'pg';
import type { Severity } from '../detectors/seasonal-baseline.ts';
import type { TimeRange } from '../time-range.ts';
import { inTransaction } from './transaction.ts';

export type AnomalySource = 'prometheus' | 'client_reports';

export interface AnomalyRecord {
  stream: string;
  source: AnomalySource;
  observed_at: Date;
  value: number;
  expected: number;
  lower_bound: number;
  upper_bound: number;
  score: number;
  deviation: number;
  severity: Severity;
  /** When it was found (default: the database's now). */
  detected_at?: Date;
  /** Whether it is to be posted to Alertmanager (default true; false for the history a stream's first run finds). */
  alert_wanted?: boolean;
}

export interface StoredAnomaly extends AnomalyRecord {
  id: number;
  detected_at: Date;
  alert_wanted: boolean;
  /** When Alertmanager first took its alert. */
  alert_posted_at: Date | null;
  /** The endsAt its alert was posted with: re-posted by every run until then. */
  alert_ends_at: Date | null;
}

/** Inserts anomalies not stored yet (same stream and time); returns the new rows. */
export async function insertAnomalies(db: pg.Pool | pg.PoolClient, anomalies: readonly AnomalyRecord[]): Promise<StoredAnomaly[]> {
  if (anomalies.length === 0) return [];
  const { rows } = await db.query<StoredAnomaly>(
    `INSERT INTO anomalies (stream, source, observed_at, value, expected, lower_bound, upper_bound, score, deviation, severity, detected_at, alert_wanted)
     SELECT stream, source, observed_at, value, expected, lower_bound, upper_bound, score, deviation, severity, coalesce(detected_at, now()), coalesce(alert_wanted, true)
       FROM json_populate_recordset(NULL::anomalies, $1::json)
     ON CONFLICT (stream, observed_at) DO NOTHING
     RETURNING *`,
    [JSON.stringify(anomalies)],
  );
  return rows;
}

/** The time up to which the scheduled detector has judged the stream's points (null: never). */
export async function judgedUntil(pool: pg.Pool, stream: string): Promise<Date | null> {
  const { rows } = await pool.query<{ judged_until: Date }>('SELECT judged_until FROM anomaly_stream_progress WHERE stream = $1', [stream]);
  return rows[0]?.judged_until ?? null;
}

/**
 * Stores a run's incidents and moves the stream's judged_until to `until` in one transaction, so
 * progress never gets ahead of what was stored. It never moves back (a concurrent run that got further).
 */
export async function storeJudged(pool: pg.Pool, stream: string, anomalies: readonly AnomalyRecord[], until: Date): Promise<StoredAnomaly[]> {
  return inTransaction(pool, async (client) => {
    const stored = await insertAnomalies(client, anomalies);
    await client.query(
      `INSERT INTO anomaly_stream_progress (stream, judged_until) VALUES ($1, $2)
       ON CONFLICT (stream) DO UPDATE SET judged_until = greatest(anomaly_stream_progress.judged_until, EXCLUDED.judged_until), updated_at = now()`,
      [stream, until],
    );
    return stored;
  });
}

/**
 * A stream's incidents to be paged whose alert has not reached Alertmanager yet and that were
 * detected since `since` (a post that failed is retried by the next runs).
 */
export async function unpostedAnomalies(pool: pg.Pool, stream: string, since: Date): Promise<StoredAnomaly[]> {
  const { rows } = await pool.query<StoredAnomaly>(
    'SELECT * FROM anomalies WHERE stream = $1 AND alert_wanted AND alert_posted_at IS NULL AND detected_at >= $2 ORDER BY observed_at, id',
    [stream, since],
  );
  return rows;
}

/** A stream's posted alerts that are still active at `now` (their endsAt ahead): re-sent by every run. */
export async function activeAnomalyAlerts(pool: pg.Pool, stream: string, now: Date): Promise<Array<StoredAnomaly & { alert_ends_at: Date }>> {
  const { rows } = await pool.query<StoredAnomaly & { alert_ends_at: Date }>('SELECT * FROM anomalies WHERE stream = $1 AND alert_ends_at > $2 ORDER BY observed_at, id', [stream, now]);
  return rows;
}

/** Marks alerts as taken by Alertmanager, with the endsAt they were posted with. */
export async function markAlertPosted(pool: pg.Pool, ids: readonly number[], at: Date, endsAt: Date): Promise<void> {
  if (ids.length > 0) await pool.query('UPDATE anomalies SET alert_posted_at = $2, alert_ends_at = $3 WHERE id = ANY($1::bigint[])', [ids, at, endsAt]);
}

export async function listAnomalies(
  pool: pg.Pool,
  range: TimeRange,
  { severity, stream, limit = 500 }: { severity?: Severity; stream?: string; limit?: number } = {},
): Promise<StoredAnomaly[]> {
  const { rows } = await pool.query<StoredAnomaly>(
    `SELECT * FROM anomalies
      WHERE observed_at >= $1 AND observed_at < $2
        AND ($3::text IS NULL OR severity = $3) AND ($4::text IS NULL OR stream = $4)
      ORDER BY observed_at DESC, id DESC
      LIMIT $5`,
    [range.from, range.to, severity ?? null, stream ?? null, limit],
  );
  return rows;
}

/** Counts of the anomalies in the range by severity and stream (all of them, however many a listing returns). */
export async function countAnomalies(
  pool: pg.Pool,
  range: TimeRange,
  { severity, stream }: { severity?: Severity; stream?: string } = {},
): Promise<Array<{ severity: Severity; stream: string; count: number }>> {
  const { rows } = await pool.query<{ severity: Severity; stream: string; count: number }>(
    `SELECT severity, stream, count(*)::int AS count FROM anomalies
      WHERE observed_at >= $1 AND observed_at < $2
        AND ($3::text IS NULL OR severity = $3) AND ($4::text IS NULL OR stream = $4)
      GROUP BY severity, stream`,
    [range.from, range.to, severity ?? null, stream ?? null],
  );
  return rows;
}
