/**
 * The series around one stored anomaly, for the Anomalies tab's chart: the
 * same stream the detector read (client-report aggregates from PostgreSQL or
 * a server metric from Prometheus), over a window around the incident.
 */
import type pg from 'pg';
import { type AnomalyStream, clientReportStreams, prometheusStreams } from '../analytics/anomaly-job.ts';
import type { PrometheusClient } from '../analytics/prometheus.ts';
import type { StoredAnomaly } from '../analytics/storage/anomalies.ts';

/** The detector's step in the service (src/api/service.ts runs it at 300 s). */
export const ANOMALY_STEP_SECONDS = 300;
/** Steps shown before and after the anomaly. */
const BEFORE_STEPS = 36;
const AFTER_STEPS = 12;

export interface AnomalyContext {
  id: number;
  stream: string;
  description: string | null;
  step_s: number;
  from: string;
  to: string;
  /** [ISO time, value] */
  points: Array<[string, number]>;
  /** Why there are no points, when there are none. */
  note: string | null;
}

export async function findAnomaly(pool: pg.Pool, id: number): Promise<StoredAnomaly | undefined> {
  const { rows } = await pool.query<StoredAnomaly>('SELECT * FROM anomalies WHERE id = $1', [id]);
  return rows[0];
}

export async function anomalyContext(anomaly: StoredAnomaly, pool: pg.Pool, prometheus: PrometheusClient | undefined, now = new Date()): Promise<AnomalyContext> {
  const step = ANOMALY_STEP_SECONDS * 1000;
  const from = new Date(anomaly.observed_at.getTime() - BEFORE_STEPS * step);
  const to = new Date(Math.min(anomaly.observed_at.getTime() + (AFTER_STEPS + 1) * step, now.getTime()));
  const streams: AnomalyStream[] = [...clientReportStreams(pool, ANOMALY_STEP_SECONDS), ...(prometheus ? prometheusStreams(prometheus, ANOMALY_STEP_SECONDS) : [])];
  const stream = streams.find((s) => s.name === anomaly.stream);
  const base = { id: anomaly.id, stream: anomaly.stream, description: stream?.description ?? null, step_s: ANOMALY_STEP_SECONDS, from: from.toISOString(), to: to.toISOString() };
  if (!stream) {
    const note = anomaly.source === 'prometheus' && !prometheus ? 'this stream comes from Prometheus: set PROMETHEUS_URL to see it' : `the stream ${anomaly.stream} is no longer watched`;
    return { ...base, points: [], note };
  }
  const points = await stream.read(from, to);
  return {
    ...base,
    points: points.filter((p) => Number.isFinite(p.value)).map((p) => [new Date(p.timestamp).toISOString(), p.value]),
    note: points.length === 0 ? 'no data around this time (retention may have removed it)' : null,
  };
}
