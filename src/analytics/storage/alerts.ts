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
  received_at: Date;
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

/** Records webhook alerts: new instances are inserted, known ones (fingerprint + start) updated. */
export async function upsertAlerts(pool: pg.Pool, alerts: readonly AlertInstance[]): Promise<number> {
  if (alerts.length === 0) return 0;
  // One row per alert instance: a payload naming one twice keeps its last state (one statement cannot update a row twice).
  const instances = new Map<string, AlertInstance>();
  for (const a of alerts) instances.set(`${a.fingerprint}@${a.starts_at.getTime()}`, a);
  const rows = [...instances.values()].map((a) => ({ ...a, alertname: a.labels.alertname ?? 'unknown', severity: a.labels.severity ?? null }));
  const result = await pool.query(
    `INSERT INTO alerts (fingerprint, alertname, status, severity, labels, annotations, starts_at, ends_at, generator_url)
     SELECT fingerprint, alertname, status, severity, labels, annotations, starts_at, ends_at, generator_url
       FROM json_populate_recordset(NULL::alerts, $1::json)
     ON CONFLICT (fingerprint, starts_at) DO UPDATE
        SET status = excluded.status, labels = excluded.labels, annotations = excluded.annotations,
            ends_at = excluded.ends_at, generator_url = excluded.generator_url, updated_at = now()`,
    [JSON.stringify(rows)],
  );
  return result.rowCount ?? 0;
}

/** Alerts still firing, and alerts updated within the range. */
export async function listAlerts(pool: pg.Pool, range: TimeRange, limit = 500): Promise<StoredAlert[]> {
  const { rows } = await pool.query<StoredAlert>(
    `SELECT * FROM alerts
      WHERE status = 'firing' OR (updated_at >= $1 AND updated_at < $2)
      ORDER BY (status = 'firing') DESC, updated_at DESC, id DESC
      LIMIT $3`,
    [range.from, range.to, limit],
  );
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
