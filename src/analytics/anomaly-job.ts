/**
 * Scheduled anomaly detection: each stream (server metrics from Prometheus,
 * aggregates of client reports from PostgreSQL) is read over a look-back
 * window and run through the same detector as `socketscope anomalies`. New
 * incident starts are stored and posted to Alertmanager as alerts, so they
 * route like every other alert; active ones are re-sent by every run, as
 * Alertmanager expects of its clients (it keeps alerts in memory only).
 */
import type pg from 'pg';
import type { AlertmanagerClient, PostableAlert } from './alertmanager.ts';
import { type DetectorOptions, detectAnomalies } from './detectors/seasonal-baseline.ts';
import type { PrometheusClient } from './prometheus.ts';
import { ROLLUP_GRACE_MS } from './rollups.ts';
import { SERVER_QUERIES } from './server-queries.ts';
import { type AnomalyRecord, type AnomalySource, type StoredAnomaly, activeAnomalyAlerts, judgedUntil, markAlertPosted, storeJudged, unpostedAnomalies } from './storage/anomalies.ts';
import { readOnly } from './storage/transaction.ts';

export const ANOMALY_ALERTNAME = 'WebSocketMetricAnomaly';
/** Routes a critical anomaly to on-call like the WebSocket alerts (alertmanager/alertmanager.yml). */
export const ANOMALY_COMPONENT = 'anomaly';
export const ANOMALY_RUNBOOK_URL = 'https://github.com/socketscope/socketscope/blob/main/docs/runbooks.md#websocketmetricanomaly';
const SEVERITY_LABEL = { low: 'info', medium: 'warning', high: 'critical' } as const;

export interface SeriesPoint {
  timestamp: number;
  value: number;
}

export interface AnomalyStream {
  name: string;
  source: AnomalySource;
  description: string;
  /** How far back this stream is read (default: the job's lookback). */
  lookbackMs?: number;
  /**
   * Samples from `start` to `end`, in time order. `run` is one run's cache, shared by the streams of
   * that run: streams read from one source (the client-report aggregates) keep what one read there.
   * `signal` (the scheduled run's) cuts a read over HTTP short on shutdown.
   */
  read(start: Date, end: Date, run?: RunCache, signal?: AbortSignal): Promise<SeriesPoint[]>;
}

/** What the streams of one run of the job share (see AnomalyStream.read). */
export type RunCache = Map<string, Promise<unknown>>;

export interface AnomalyJobOptions {
  pool: pg.Pool;
  prometheus?: PrometheusClient;
  alertmanager?: AlertmanagerClient;
  /** Step of the series, seconds. */
  stepSeconds?: number;
  /** How far back the detector reads (enough for a weekly cycle plus warm-up). */
  lookbackMs?: number;
  detector?: DetectorOptions;
  /** How long a posted anomaly alert stays firing (its endsAt; re-sent with the same endsAt until then). Default 30 min. */
  alertTtlMs?: number;
  /** How often the job runs (ANOMALY_INTERVAL_SECONDS): a failed post is retried by the next three runs at least. Default: the step. */
  intervalMs?: number;
  now?: () => Date;
  /** Public URL of the service, for the alerts' generatorURL. */
  publicUrl?: string;
  /** Aborted when the service stops: the calls to Prometheus and Alertmanager in flight are cut, and no further stream is read. */
  signal?: AbortSignal;
}

export interface AnomalyRunResult {
  streams: number;
  points: number;
  stored: number;
  /** Alerts Alertmanager took for the first time (new incidents, and retries of posts that failed). */
  posted: number;
  /** Active alerts sent again (same labels, startsAt and endsAt), so an Alertmanager that restarted has them. */
  reposted: number;
  errors: Array<{ stream: string; error: string }>;
}

/** The client-report aggregates of one bucket, as the streams take them (NaN: no value, e.g. no latency samples). */
interface BucketValues {
  reports: number;
  latency: number;
  dropsPerOpen: number;
}

/**
 * Reads the aggregates of all client-report streams per step bucket by one query (a pass over the raw
 * rows serves the three streams), under the pool's read timeout (readOnly: QUERY_TIMEOUT_MS), and
 * remembers the buckets that can no longer change: rows commit within ROLLUP_GRACE_MS of their receive
 * time (the report writer's bounds), so a bucket that ended that long before a read is final. A run
 * then reads only the buckets after those, not the whole look-back window again (three days of raw
 * rows: about a second per million reports).
 */
class ClientReportBuckets {
  /** Final buckets by start (ms), from `finalFrom` (inclusive) to `finalUntil` (exclusive). */
  private final = new Map<number, BucketValues>();
  private finalFrom = Number.POSITIVE_INFINITY;
  private finalUntil = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly pool: pg.Pool,
    private readonly stepMs: number,
    /** The clock (ms) that dates a read, for finality. */
    private readonly clock: () => number = Date.now,
  ) {}

  private async query(from: number, to: number): Promise<Map<number, BucketValues>> {
    const { rows } = await readOnly<{ bucket: number; reports: number; latency: number | null; drops_per_open: number | null }>(
      this.pool,
      `SELECT floor(extract(epoch FROM received_at) / $3) * $3 AS bucket,
              count(*) AS reports,
              sum(latency_avg_ms * latency_count) / nullif(sum(latency_count) FILTER (WHERE latency_avg_ms IS NOT NULL), 0) AS latency,
              sum(drops)::float8 / nullif(sum(opens), 0) AS drops_per_open
         FROM client_reports WHERE received_at >= $1 AND received_at < $2
        GROUP BY 1`,
      [new Date(from), new Date(to), this.stepMs / 1000],
    );
    const value = (v: number | null) => (v === null ? Number.NaN : Number(v));
    return new Map(rows.map((r) => [Number(r.bucket) * 1000, { reports: Number(r.reports), latency: value(r.latency), dropsPerOpen: value(r.drops_per_open) }]));
  }

  /** The non-empty buckets of [start, end) and whether any report is older than `start`. */
  async read(start: Date, end: Date): Promise<{ buckets: Map<number, BucketValues>; earlier: boolean }> {
    const step = this.stepMs;
    // Whole buckets only: the cache holds whole buckets.
    const from = Math.ceil(start.getTime() / step) * step;
    const to = Math.floor(end.getTime() / step) * step;
    // Reused when the cache covers the start: only what follows its end is read.
    const reuse = this.finalFrom <= from && this.finalUntil > from;
    const readFrom = reuse ? Math.min(this.finalUntil, to) : from;
    // The clock before the query starts: its snapshot holds every row committed by then, so every row of
    // a bucket that ended ROLLUP_GRACE_MS before this time. Taken after the query, a slow read would
    // move the cut-off past what the snapshot saw and keep buckets as final that miss rows.
    const readAt = this.clock();
    // One after the other: the second read is a single index probe, not worth a second pooled
    // connection (the embedded database has one).
    const fresh = readFrom < to ? await this.query(readFrom, to) : new Map<number, BucketValues>();
    const earlier = await readOnly<{ any: boolean }>(this.pool, 'SELECT EXISTS (SELECT 1 FROM client_reports WHERE received_at < $1) AS any', [new Date(from)]);
    const buckets = new Map<number, BucketValues>();
    if (reuse) for (const [t, v] of this.final) if (t >= from && t < readFrom) buckets.set(t, v);
    for (const [t, v] of fresh) buckets.set(t, v);
    // What is final now: buckets that ended ROLLUP_GRACE_MS before the read started (by this clock, or by
    // the caller's `end` when that is earlier: a test's clock), and that this read covered.
    const finalUntil = Math.min(to, Math.floor((Math.min(end.getTime(), readAt) - ROLLUP_GRACE_MS) / step) * step);
    this.final = new Map([...buckets].filter(([t]) => t < finalUntil));
    this.finalFrom = from;
    this.finalUntil = Math.max(from, finalUntil);
    return { buckets, earlier: earlier.rows[0]?.any ?? false };
  }
}

/**
 * Client-report aggregates per step bucket; empty buckets are 0 for counts and
 * missing for averages. Three days back: two daily cycles plus the current
 * one. The three streams share their reads (ClientReportBuckets): within one
 * run of the job (the same `run` cache) one query serves all three, and a
 * later run reads only the buckets that may have changed since.
 *
 * Counts are 0 only from the first report on: before any report there is no
 * history, not a quiet one (zeros there give a near-zero band and a fresh
 * database's first reports a +10,000,000,000σ anomaly).
 *
 * A series ends at the last whole bucket before `end`. `clock` dates the reads
 * for finality (tests set it).
 */
export function clientReportStreams(pool: pg.Pool, stepSeconds: number, clock: () => number = Date.now): AnomalyStream[] {
  const source = new ClientReportBuckets(pool, stepSeconds * 1000, clock);
  const shared = (start: Date, end: Date, run?: RunCache) => {
    if (!run) return source.read(start, end);
    const key = `client_reports ${start.getTime()} ${end.getTime()}`;
    let read = run.get(key) as ReturnType<typeof source.read> | undefined;
    if (!read) {
      read = source.read(start, end);
      run.set(key, read);
    }
    return read;
  };
  const bucketed = (pick: (v: BucketValues) => number, fillZero: boolean) => async (start: Date, end: Date, run?: RunCache) => {
    const { buckets, earlier } = await shared(start, end, run);
    const points: SeriesPoint[] = [];
    const step = stepSeconds * 1000;
    let from = Math.ceil(start.getTime() / step) * step;
    // Whole buckets only, as read: an `end` inside a bucket (the admin chart's `now`) ends the series at
    // the last whole one. The partial bucket is not read, and its count, even read, would not compare
    // with whole ones: the series would end in a false drop.
    const until = Math.floor(end.getTime() / step) * step;
    // Reports before the window: its empty buckets are real zeros. Else the first report's bucket starts the series.
    if (fillZero && !earlier) from = Math.max(from, buckets.size > 0 ? Math.min(...buckets.keys()) : until);
    for (let t = from; t < until; t += step) {
      const values = buckets.get(t);
      if (values !== undefined) points.push({ timestamp: t, value: pick(values) });
      else if (fillZero) points.push({ timestamp: t, value: 0 });
    }
    return points;
  };
  const lookbackMs = 3 * 86_400_000;
  return [
    { name: 'client_reports_per_bucket', lookbackMs, source: 'client_reports', description: 'Client reports received per step (traffic)', read: bucketed((v) => v.reports, true) },
    { name: 'client_latency_avg_ms', source: 'client_reports', lookbackMs, description: 'Mean WebSocket round trip reported by browsers', read: bucketed((v) => v.latency, false) },
    { name: 'client_drops_per_open', source: 'client_reports', lookbackMs, description: 'Connection drops per opened connection in browsers', read: bucketed((v) => v.dropsPerOpen, false) },
  ];
}

export function prometheusStreams(prometheus: PrometheusClient, stepSeconds: number): AnomalyStream[] {
  return SERVER_QUERIES.filter((q) => q.anomalyStream).map((q) => ({
    name: q.id,
    source: 'prometheus' as const,
    description: q.description,
    async read(start: Date, end: Date, _run?: RunCache, signal?: AbortSignal) {
      const series = await prometheus.queryRange(q.expr, start, end, stepSeconds, signal);
      // Aggregated expressions return one series; no data yields none.
      return (series[0]?.points ?? []).filter((p) => Number.isFinite(p.value));
    },
  }));
}

/**
 * A point inside its band is an incident as the latest of a run of moderate deviations the same way,
 * or as a level past any the stream had shown (a slow ramp; the detector's range rule).
 */
function where(anomaly: StoredAnomaly): string {
  const inside = anomaly.value >= anomaly.lower_bound && anomaly.value <= anomaly.upper_bound;
  if (!inside) return 'outside';
  const [side, extreme] = anomaly.deviation >= 0 ? ['above', 'above the highest'] : ['below', 'below the lowest'];
  return `after a run of samples ${side} what was expected or ${extreme} level seen before, inside`;
}

function toAlert(anomaly: StoredAnomaly, stream: AnomalyStream, endsAt: Date, publicUrl?: string): PostableAlert {
  const fmt = (v: number) => Number(v.toPrecision(6)).toString();
  return {
    labels: {
      alertname: ANOMALY_ALERTNAME,
      severity: SEVERITY_LABEL[anomaly.severity],
      component: ANOMALY_COMPONENT,
      stream: anomaly.stream,
      source: anomaly.source,
    },
    annotations: {
      summary: `Anomaly in ${anomaly.stream}: ${fmt(anomaly.value)} where ${fmt(anomaly.expected)} was expected`,
      description: `${stream.description} was ${fmt(anomaly.value)} at ${anomaly.observed_at.toISOString()}, ${where(anomaly)} the expected band [${fmt(anomaly.lower_bound)}, ${fmt(anomaly.upper_bound)}] (robust z ${fmt(anomaly.deviation)}, ${anomaly.severity}).`,
      runbook_url: ANOMALY_RUNBOOK_URL,
      anomaly_id: String(anomaly.id),
    },
    startsAt: anomaly.observed_at.toISOString(),
    endsAt: endsAt.toISOString(),
    ...(publicUrl ? { generatorURL: `${publicUrl.replace(/\/$/, '')}/api/ws/client-metrics/anomalies` } : {}),
  };
}

/**
 * Runs detection over every stream once; errors of one stream do not stop the others. Prometheus
 * streams go first (a range query each, cheap), then the client-report streams (a scan of raw rows,
 * which a busy database makes slow), in their order otherwise. An aborted `signal` ends the run
 * between streams by throwing its reason (what the streams before found stays stored).
 */
export async function runAnomalyDetection(options: AnomalyJobOptions, streams: AnomalyStream[]): Promise<AnomalyRunResult> {
  const now = options.now?.() ?? new Date();
  const step = (options.stepSeconds ?? 300) * 1000;
  // The current, incomplete bucket is left for the next run.
  const end = new Date(Math.floor(now.getTime() / step) * step);
  const lookback = options.lookbackMs ?? 8 * 86_400_000;
  const alertTtl = options.alertTtlMs ?? 30 * 60_000;
  // A stream's first run judges its whole look-back window: of what it finds, only incidents this recent page someone.
  const historyBefore = now.getTime() - Math.max(3 * step, alertTtl);
  // A post that failed is retried while its incident is this fresh: the alert's lifetime, and three runs at least.
  const retrySince = new Date(now.getTime() - Math.max(alertTtl, 3 * (options.intervalMs ?? step)));
  const result: AnomalyRunResult = { streams: streams.length, points: 0, stored: 0, posted: 0, reposted: 0, errors: [] };
  const run: RunCache = new Map();
  const ordered = [...streams.filter((s) => s.source === 'prometheus'), ...streams.filter((s) => s.source !== 'prometheus')];
  for (const stream of ordered) {
    options.signal?.throwIfAborted();
    try {
      const start = new Date(end.getTime() - (stream.lookbackMs ?? lookback));
      // Each run re-reads the window from a later start, and a different warm-up can flag points near an
      // earlier incident as new ones: only points no earlier run judged are taken (all on a first run).
      const judgedTime = await judgedUntil(options.pool, stream.name);
      const firstRun = judgedTime === null;
      const judged = judgedTime?.getTime() ?? Number.NEGATIVE_INFINITY;
      const points = await stream.read(start, end, run, options.signal);
      result.points += points.length;
      const records: AnomalyRecord[] = [];
      detectAnomalies(points, options.detector).forEach((p) => {
        if (p.timestamp <= judged) return;
        if (!p.isAnomaly || p.expected === null || p.lower === null || p.upper === null || p.deviation === null || p.severity === null) return;
        records.push({
          stream: stream.name,
          source: stream.source,
          observed_at: new Date(p.timestamp),
          value: p.value,
          expected: p.expected,
          lower_bound: p.lower,
          upper_bound: p.upper,
          score: p.score,
          deviation: p.deviation,
          severity: p.severity,
          detected_at: now,
          // Every incident a later run finds is new (after what earlier runs judged), however long ago its point was.
          alert_wanted: !firstRun || p.timestamp >= historyBefore,
        });
      });
      // Judged up to the last point read (a point that comes late, after it, is judged by the next run).
      const last = points.at(-1);
      const stored = last ? await storeJudged(options.pool, stream.name, records, new Date(last.timestamp)) : [];
      result.stored += stored.length;
      if (!options.alertmanager) continue;
      // The table is the outbox: what this run stored, and what earlier runs could not post.
      const due = new Map<number, StoredAnomaly>();
      for (const a of stored) if (a.alert_wanted) due.set(a.id, a);
      for (const a of await unpostedAnomalies(options.pool, stream.name, retrySince)) due.set(a.id, a);
      const active = await activeAnomalyAlerts(options.pool, stream.name, now);
      if (due.size === 0 && active.length === 0) continue;
      const endsAt = new Date(now.getTime() + alertTtl);
      await options.alertmanager.postAlerts([
        ...[...due.values()].map((a) => toAlert(a, stream, endsAt, options.publicUrl)),
        ...active.map((a) => toAlert(a, stream, a.alert_ends_at, options.publicUrl)),
      ], options.signal);
      await markAlertPosted(options.pool, [...due.keys()], now, endsAt);
      result.posted += due.size;
      result.reposted += active.length;
    } catch (error) {
      result.errors.push({ stream: stream.name, error: (error as Error).message });
    }
  }
  return result;
}
