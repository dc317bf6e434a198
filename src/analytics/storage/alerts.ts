/** Alerts as Alertmanager's webhook reported them, and their acknowledgements. */
import type pg from 'pg';
import type { TimeRange } from '../time-range.ts';

export interface AlertInstance {
  fingerprint: string;
  status: 'firing' | 'resolved';
  labels: Record<string, string>;
  annotations: Record<string, string>;
  starts_at: Date;
  ends_at: Date | null;
  generator_url: string | null;
}

export interface StoredAlert extends AlertInstance {
  id: number;
  alertname: string;
  severity: string | null;
  /** null while firing; 'webhook': Alertmanager said so; 'reconciliation': Alertmanager no longer had it when read. */
  resolved_by: 'webhook' | 'reconciliation' | null;
  received_at: Date;
  /** The last webhook delivery of the instance (a reconciliation does not move it). */
  updated_at: Date;
}

export interface Acknowledgement {
  id: number;
  fingerprint: string;
  alertname: string;
  acknowledged_by: string;
  comment: string | null;
  acknowledged_at: Date;
  silence_id: string;
  silence_ends_at: Date;
}

/**
 * Records webhook alerts: new instances are inserted, known ones (fingerprint + start) updated;
 * returns the number of instances. A resolution Alertmanager sent is final for its instance: a
 * late or retried firing delivery of the same fingerprint and start leaves it resolved. One the
 * reconciliation inferred is not (an Alertmanager that restarted has the alert again once
 * Prometheus re-sends it, with the same start, and notifies it firing).
 */
export async function upsertAlerts(pool: pg.Pool, alerts: readonly AlertInstance[]): Promise<number> {
  if (alerts.length === 0) return 0;
  // One row per alert instance: a payload naming one twice keeps its last state (one statement cannot update a row twice).
  const instances = new Map<string, AlertInstance>();
  for (const a of alerts) instances.set(`${a.fingerprint}@${a.starts_at.getTime()}`, a);
  const rows = [...instances.values()].map((a) => ({
    ...a,
    alertname: a.labels.alertname ?? 'unknown',
    severity: a.labels.severity ?? null,
    resolved_by: a.status === 'resolved' ? 'webhook' : null,
  }));
  await pool.query(
    `INSERT INTO alerts (fingerprint, alertname, status, severity, labels, annotations, starts_at, ends_at, generator_url, resolved_by)
     SELECT fingerprint, alertname, status, severity, labels, annotations, starts_at, ends_at, generator_url, resolved_by
       FROM json_populate_recordset(NULL::alerts, $1::json)
     ON CONFLICT (fingerprint, starts_at) DO UPDATE
        SET status = excluded.status, labels = excluded.labels, annotations = excluded.annotations,
            ends_at = excluded.ends_at, generator_url = excluded.generator_url, resolved_by = excluded.resolved_by, updated_at = now()
      WHERE alerts.resolved_by IS DISTINCT FROM 'webhook' OR excluded.status = 'resolved'`,
    [JSON.stringify(rows)],
  );
  return instances.size;
}

/** The database's clock (what updated_at is stamped with). */
export async function databaseNow(pool: pg.Pool): Promise<Date> {
  const { rows } = await pool.query<{ now: Date }>('SELECT now() AS now');
  return rows[0]!.now;
}

/**
 * Resolves the firing rows whose alert Alertmanager no longer has: it sends no resolved
 * notification for an alert that resolved while silenced or inhibited (prometheus/alertmanager#226).
 * `live` is Alertmanager's list of unresolved alerts fetched at `checkedAt` (the database's clock,
 * read before fetching it); a row is still live when Alertmanager has its fingerprint with a
 * start no later than the row's (a later start is a new instance of the same labels: the row's
 * ended). Rows delivered after `checkedAt` are left alone. They get ends_at = checkedAt, the
 * time they were found gone (they ended then or earlier). Returns how many were resolved.
 */
export async function reconcileAlerts(pool: pg.Pool, live: ReadonlyArray<{ fingerprint: string; startsAt: string }>, checkedAt: Date): Promise<number> {
  const result = await pool.query(
    `UPDATE alerts a SET status = 'resolved', resolved_by = 'reconciliation', ends_at = $2
      WHERE a.status = 'firing' AND a.updated_at < $2
        AND NOT EXISTS (SELECT 1 FROM json_to_recordset($1::json) AS l(fingerprint text, "startsAt" timestamptz)
                         WHERE l.fingerprint = a.fingerprint AND l."startsAt" <= a.starts_at + interval '1 second')`,
    [JSON.stringify(live.map((a) => ({ fingerprint: a.fingerprint, startsAt: a.startsAt }))), checkedAt],
  );
  return result.rowCount ?? 0;
}

/**
 * The alert instances of a range, at most `limit`: those that fired at some time in it (started
 * before its end, and resolved after its start, or still firing), and those delivered within it.
 * With `staleBefore` (no Alertmanager to reconcile with), a firing row last delivered before it
 * counts as firing only up to its last delivery. Live firing ones first, then the latest
 * activity first; `truncated` when more than `limit` matched.
 */
export async function listAlerts(
  pool: pg.Pool,
  range: TimeRange,
  { limit = 500, staleBefore = null }: { limit?: number; staleBefore?: Date | null } = {},
): Promise<{ alerts: StoredAlert[]; truncated: boolean }> {
  const live = `(status = 'firing' AND ($3::timestamptz IS NULL OR updated_at >= $3))`;
  const { rows } = await pool.query<StoredAlert>(
    `SELECT * FROM alerts
      WHERE (starts_at < $2 AND (${live} OR (CASE WHEN status = 'resolved' THEN coalesce(ends_at, updated_at) ELSE updated_at END) >= $1))
         OR (updated_at >= $1 AND updated_at < $2)
      ORDER BY ${live} DESC, CASE WHEN status = 'resolved' THEN greatest(updated_at, ends_at) ELSE updated_at END DESC, id DESC
      LIMIT $4`,
    [range.from, range.to, staleBefore, limit + 1],
  );
  return { alerts: rows.slice(0, limit), truncated: rows.length > limit };
}

/** Every firing row delivered since `staleBefore` (the active alerts when Alertmanager is not configured). */
export async function listFiringAlerts(pool: pg.Pool, staleBefore: Date): Promise<StoredAlert[]> {
  const { rows } = await pool.query<StoredAlert>("SELECT * FROM alerts WHERE status = 'firing' AND updated_at >= $1 ORDER BY starts_at DESC, id DESC", [staleBefore]);
  return rows;
}

export async function findAlertByFingerprint(pool: pg.Pool, fingerprint: string): Promise<StoredAlert | undefined> {
  const { rows } = await pool.query<StoredAlert>('SELECT * FROM alerts WHERE fingerprint = $1 ORDER BY starts_at DESC LIMIT 1', [fingerprint]);
  return rows[0];
}

export async function insertAcknowledgement(pool: pg.Pool, ack: Omit<Acknowledgement, 'id' | 'acknowledged_at'>): Promise<Acknowledgement> {
  const { rows } = await pool.query<Acknowledgement>(
    `INSERT INTO alert_acknowledgements (fingerprint, alertname, acknowledged_by, comment, silence_id, silence_ends_at)
     VALUES ($1, $2, $3, $4, $5, $6) RETURNING *`,
    [ack.fingerprint, ack.alertname, ack.acknowledged_by, ack.comment, ack.silence_id, ack.silence_ends_at],
  );
  return rows[0] as Acknowledgement;
}

/** The latest acknowledgement of each of the given fingerprints. */
export async function latestAcknowledgements(pool: pg.Pool, fingerprints: readonly string[]): Promise<Map<string, Acknowledgement>> {
  if (fingerprints.length === 0) return new Map();
  const { rows } = await pool.query<Acknowledgement>(
    `SELECT DISTINCT ON (fingerprint) * FROM alert_acknowledgements
      WHERE fingerprint = ANY($1::text[]) ORDER BY fingerprint, acknowledged_at DESC, id DESC`,
    [fingerprints],
  );
  return new Map(rows.map((r) => [r.fingerprint, r]));
}
