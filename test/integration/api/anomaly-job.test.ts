/**
 * The scheduled anomaly job over a stream that grows between runs, each run
 * reading a sliding look-back window: every incident is stored once, at the
 * point where one causal pass of the detector over the whole series flags it.
 * (A window that starts later warms up differently and used to flag points
 * already judged calm as incidents of their own.) Against a real
 * Alertmanager: what a run newly stores is posted however long its interval,
 * a failed post is retried by the next runs, a first run's history is not
 * paged, and active alerts are re-sent every run, so an Alertmanager that
 * restarted (it keeps alerts in memory only) has the page again.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { anomalyContext } from '../../../src/admin/anomaly-context.ts';
import { AlertmanagerClient } from '../../../src/analytics/alertmanager.ts';
import { type AnomalyStream, clientReportStreams, runAnomalyDetection } from '../../../src/analytics/anomaly-job.ts';
import { detectAnomalies } from '../../../src/analytics/detectors/seasonal-baseline.ts';
import type { StoredAnomaly } from '../../../src/analytics/storage/anomalies.ts';
import { type Database, openDatabase } from '../../../src/analytics/storage/database.ts';
import { insertClientReports } from '../../../src/analytics/storage/client-reports.ts';
import { migrate } from '../../../src/analytics/storage/migrate.ts';
import { Stack } from '../../../src/stack/index.ts';
import { report } from '../../browser/admin/client-reports-seed.ts';
import { randomSource } from '../../helpers/random.ts';

const STEP = 300_000;
const stack = new Stack('anomaly-job');
let database: Database;

beforeAll(async () => {
  const { url } = await stack.postgres();
  database = await openDatabase({ databaseUrl: url, dataDir: stack.runDir });
  await migrate(database.pool);
});

afterAll(async () => {
  await database?.close();
  await stack.stop();
});

/** 600 five-minute samples around 100 (noise σ 3, rounded), spikes of 200–400 at irregular gaps of 50–129 samples. */
function spikySeries(seed: number, t0: number) {
  const random = randomSource(seed);
  const spikes = new Map<number, number>();
  for (let i = 60 + Math.floor(random() * 40); i < 600; i += 50 + Math.floor(random() * 80)) spikes.set(i, 200 + Math.round(random() * 200));
  const gaussian = () => Math.sqrt(-2 * Math.log(Math.max(random(), 1e-12))) * Math.cos(2 * Math.PI * random());
  const points = Array.from({ length: 600 }, (_, i) => ({ timestamp: t0 + i * STEP, value: spikes.get(i) ?? Math.round(100 + 3 * gaussian()) }));
  return { points, spikes: [...spikes.keys()].map((i) => t0 + i * STEP) };
}

const stored = async (stream: string) =>
  (await database.pool.query<{ observed_at: Date }>('SELECT observed_at FROM anomalies WHERE stream = $1 ORDER BY observed_at', [stream])).rows.map((r) => r.observed_at.getTime());

describe('scheduled anomaly detection over a sliding window', () => {
  it.each([
    { seed: 1, every: 7, runs: 'a run every 7 samples' },
    { seed: 2, every: 1, runs: 'a run every sample' },
  ])('stores the incidents of one causal pass over the whole series (seed $seed, $runs)', async ({ seed, every }) => {
    const t0 = Date.UTC(2026, 0, 5);
    const { points, spikes } = spikySeries(seed, t0);
    const name = `sliding_${seed}_${every}`;
    // The series as it grows: a run at `now` sees the samples before it, over the last 200 steps.
    const stream: AnomalyStream = {
      name,
      source: 'prometheus',
      description: 'A spiky stream',
      lookbackMs: 200 * STEP,
      read: async (start, end) => points.filter((p) => p.timestamp >= start.getTime() && p.timestamp < end.getTime()),
    };
    let total = 0;
    for (let i = 200; i <= points.length; i += every) {
      const result = await runAnomalyDetection({ pool: database.pool, stepSeconds: STEP / 1000, now: () => new Date(t0 + i * STEP + 1000) }, [stream]);
      expect(result.errors).toEqual([]);
      total += result.stored;
    }
    const causal = detectAnomalies(points)
      .filter((p) => p.isAnomaly)
      .map((p) => p.timestamp);
    expect(causal).toEqual(spikes);
    expect(await stored(name)).toEqual(causal);
    expect(total).toBe(spikes.length);
    // A run over what was judged already stores nothing.
    expect(await runAnomalyDetection({ pool: database.pool, stepSeconds: STEP / 1000, now: () => new Date(t0 + points.length * STEP + 1000) }, [stream])).toEqual({
      streams: 1,
      points: 200,
      stored: 0,
      posted: 0,
      reposted: 0,
      errors: [],
    });
  });
});

describe('client report streams', () => {
  it('counts reports per bucket with 0 for empty buckets only from the first report on', async () => {
    const t0 = Date.UTC(2025, 5, 10, 12);
    const at = (i: number, offsetMs = 0) => new Date(t0 + i * STEP + offsetMs);
    const bucket = (i: number, value: number) => ({ timestamp: t0 + i * STEP, value });
    const [before] = clientReportStreams(database.pool, STEP / 1000);
    // No report yet: no history at all (zeros would make the first reports a huge anomaly).
    expect(await before?.read(at(-864), at(6))).toEqual([]);

    await insertClientReports(database, [report('a', at(2, 30_000)), report('b', at(2, 90_000), { latency_avg_ms: 70 }), report('c', at(4, 10_000))]);
    // Streams of their own: these rows are stamped long before they commit, which the service's writer
    // never does (ROLLUP_GRACE_MS at most), and the streams above keep those buckets as read.
    const [perBucket, latency] = clientReportStreams(database.pool, STEP / 1000);
    expect([perBucket?.name, latency?.name]).toEqual(['client_reports_per_bucket', 'client_latency_avg_ms']);
    if (!perBucket || !latency) return;
    expect(await perBucket.read(at(-864), at(6))).toEqual([bucket(2, 2), bucket(3, 0), bucket(4, 1), bucket(5, 0)]);
    // Reports before the window: its empty buckets are real zeros, from its start.
    expect(await perBucket.read(at(3), at(6))).toEqual([bucket(3, 0), bucket(4, 1), bucket(5, 0)]);
    expect(await perBucket.read(at(10), at(12))).toEqual([bucket(10, 0), bucket(11, 0)]);
    // Averages are never filled: (50 × 10 + 70 × 10) / 20 in bucket 2.
    expect(await latency.read(at(-864), at(6))).toEqual([bucket(2, 60), bucket(4, 50)]);
  });

  /** The ranges [from, to] of the aggregate reads of client_reports while `work` runs. */
  async function aggregateReads(work: () => Promise<void>, onRead?: () => void): Promise<Array<[number, number]>> {
    const reads: Array<[number, number]> = [];
    const original = pg.Client.prototype.query;
    // Every query of the pool's clients (callback, promise and submittable forms) passes through here.
    pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
      const [text, values] = args as [unknown, unknown[] | undefined];
      if (typeof text === 'string' && text.includes('GROUP BY') && text.includes('FROM client_reports')) {
        reads.push([(values?.[0] as Date).getTime(), (values?.[1] as Date).getTime()]);
        onRead?.();
      }
      return (original as (...a: unknown[]) => unknown).apply(this, args);
    } as typeof original;
    try {
      await work();
    } finally {
      pg.Client.prototype.query = original;
    }
    return reads;
  }

  it('serves the three client-report streams of a run by one read, after the Prometheus streams', async () => {
    const end = Date.UTC(2025, 7, 4, 12);
    await insertClientReports(database, [report('one-read', new Date(end - 3 * STEP))]);
    const order: string[] = [];
    const logged = (stream: AnomalyStream): AnomalyStream => ({ ...stream, read: (start, until, run) => (order.push(stream.name), stream.read(start, until, run)) });
    const prometheus: AnomalyStream = { name: 'server_stream', source: 'prometheus', description: 'A server metric', read: async () => [] };
    const streams = [...clientReportStreams(database.pool, STEP / 1000), prometheus].map(logged);
    const reads = await aggregateReads(async () => {
      const result = await runAnomalyDetection({ pool: database.pool, stepSeconds: STEP / 1000, now: () => new Date(end + 1000) }, streams);
      expect(result.errors).toEqual([]);
    });
    expect(order).toEqual(['server_stream', 'client_reports_per_bucket', 'client_latency_avg_ms', 'client_drops_per_open']);
    expect(reads).toEqual([[end - 3 * 86_400_000, end]]);
  });

  it('reads only the buckets that may still change on later runs (rows commit within ROLLUP_GRACE_MS of their stamp)', async () => {
    const end = Date.UTC(2025, 8, 1, 12);
    const start = end - 3 * 86_400_000;
    const at = (stepsBeforeEnd: number) => new Date(end - stepsBeforeEnd * STEP + 1000);
    await insertClientReports(database, [report('inc-1', at(1)), report('inc-2', at(10))]);
    const [perBucket] = clientReportStreams(database.pool, STEP / 1000);
    if (!perBucket) throw new Error('no stream');
    const value = (points: Array<{ timestamp: number; value: number }>, stepsBeforeEnd: number) => points.find((p) => p.timestamp === end - stepsBeforeEnd * STEP)?.value;

    const first = await aggregateReads(async () => void (await perBucket.read(new Date(start), new Date(end))));
    expect(first).toEqual([[start, end]]);
    // A row of the last bucket commits late, inside the grace (120 s of its stamp); one stamped ten buckets back cannot come now.
    await insertClientReports(database, [report('inc-late', at(1)), report('inc-impossible', at(10))]);

    let next: Array<{ timestamp: number; value: number }> = [];
    const second = await aggregateReads(async () => void (next = await perBucket.read(new Date(start + STEP), new Date(end + STEP))));
    // The last bucket of the first read ended less than the grace before it: read again, with the new one.
    expect(second).toEqual([[end - STEP, end + STEP]]);
    expect([value(next, 1), value(next, 10), value(next, 0)]).toEqual([2, 1, 0]);
    // A read from scratch (a restarted service) sees every row.
    const [fresh] = clientReportStreams(database.pool, STEP / 1000);
    const all = (await fresh?.read(new Date(start + STEP), new Date(end + STEP))) ?? [];
    expect([value(all, 1), value(all, 10), value(all, 0)]).toEqual([2, 2, 0]);
    expect(all.map((p) => p.timestamp)).toEqual(next.map((p) => p.timestamp));
  });

  it('dates finality by the clock before the read: a slow read does not keep as final a bucket its snapshot may miss rows of', async () => {
    const end = Date.UTC(2025, 10, 3, 12);
    const start = end - 3 * 86_400_000;
    // The read starts 5 steps and 1 s before `end`; while it runs the clock passes `end`.
    let clock = end - 5 * STEP + 1000;
    const [perBucket] = clientReportStreams(database.pool, STEP / 1000, () => clock);
    if (!perBucket) throw new Error('no stream');
    const first = await aggregateReads(
      async () => void (await perBucket.read(new Date(start), new Date(end))),
      () => (clock = end + STEP),
    );
    expect(first).toEqual([[start, end]]);
    // Stamped 100 s before the read started and committed after it (inside the grace): its bucket was not final.
    await insertClientReports(database, [report('slow-read', new Date(end - 5 * STEP - 100_000))]);
    let next: Array<{ timestamp: number; value: number }> = [];
    const second = await aggregateReads(async () => void (next = await perBucket.read(new Date(start), new Date(end))));
    // Final were the buckets that ended ROLLUP_GRACE_MS (120 s) before the read started, not before it finished.
    expect(second).toEqual([[end - 6 * STEP, end]]);
    expect(next.find((p) => p.timestamp === end - 6 * STEP)?.value).toBe(1);
  });

  it('ends a series read up to a time inside a bucket at the last whole bucket, not with a false 0 (the admin chart reads up to now)', async () => {
    const base = Date.UTC(2025, 9, 1, 12);
    const now = base + 150_000;
    await insertClientReports(database, [
      report('partial-2', new Date(base - 2 * STEP + 10_000)),
      report('partial-1a', new Date(base - STEP + 10_000)),
      report('partial-1b', new Date(base - STEP + 20_000)),
      // In the bucket `now` falls in, which has not ended.
      report('partial-now-a', new Date(now - 1000)),
      report('partial-now-b', new Date(now - 500)),
    ]);
    const [perBucket] = clientReportStreams(database.pool, STEP / 1000, () => now);
    if (!perBucket) throw new Error('no stream');
    expect(await perBucket.read(new Date(base - 3 * STEP), new Date(now))).toEqual([
      { timestamp: base - 3 * STEP, value: 0 },
      { timestamp: base - 2 * STEP, value: 1 },
      { timestamp: base - STEP, value: 2 },
    ]);
    // The Anomalies tab's chart of an anomaly in the last whole bucket, seen now.
    const anomaly = { id: 1, stream: 'client_reports_per_bucket', source: 'client_reports', observed_at: new Date(base - STEP) } as StoredAnomaly;
    const context = await anomalyContext(anomaly, database.pool, undefined, new Date(now));
    expect(context.points.slice(-2)).toEqual([
      [new Date(base - 2 * STEP).toISOString(), 1],
      [new Date(base - STEP).toISOString(), 2],
    ]);
  });
});

/** Alertmanager with one receiver that notifies nobody: alerts are only held and listed. */
const QUIET_ALERTMANAGER = 'route:\n  receiver: quiet\nreceivers:\n  - name: quiet\n';

interface HeldAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
}

const held = async (url: string, stream: string) =>
  ((await fetch(`${url}/api/v2/alerts?filter=${encodeURIComponent(`stream="${stream}"`)}`).then((r) => r.json())) as HeldAlert[]).map((a) => ({
    labels: a.labels,
    startsAt: a.startsAt,
    endsAt: a.endsAt,
    anomaly_id: a.annotations.anomaly_id,
  }));

/** 200 calm samples up to `end` (exclusive), with a spike `spikeStepsAgo` steps before it. */
function spiked(name: string, end: number, spikeStepsAgo: number): { stream: AnomalyStream; spikeAt: number } {
  const points = Array.from({ length: 200 }, (_, i) => ({ timestamp: end - (200 - i) * STEP, value: 100 + (i % 3) }));
  points[200 - spikeStepsAgo]!.value = 400;
  const stream: AnomalyStream = {
    name,
    source: 'prometheus',
    description: 'A stream with a spike',
    read: async (start, until) => points.filter((p) => p.timestamp >= start.getTime() && p.timestamp < until.getTime()),
  };
  return { stream, spikeAt: end - spikeStepsAgo * STEP };
}

const row = async (stream: string) =>
  (
    await database.pool.query<{ observed_at: Date; alert_wanted: boolean; alert_posted_at: Date | null; alert_ends_at: Date | null }>(
      'SELECT observed_at, alert_wanted, alert_posted_at, alert_ends_at FROM anomalies WHERE stream = $1',
      [stream],
    )
  ).rows;

describe('anomaly alerts in Alertmanager', () => {
  const HOUR = 3_600_000;
  // The runs' clock ends at the real time's step: the alerts' ends lie ahead, so Alertmanager lists them as active.
  const end = Math.floor(Date.now() / STEP) * STEP;
  const quietStack = new Stack('anomaly-job-alertmanager');
  let first: { url: string; stop(): Promise<void> };
  let alertmanager: AlertmanagerClient;

  beforeAll(async () => {
    first = await quietStack.alertmanager(QUIET_ALERTMANAGER);
    alertmanager = new AlertmanagerClient(first.url, 5_000);
  });
  afterAll(() => quietStack.stop());

  it('re-sends an active alert every run, so an Alertmanager that restarted has it again, the same', async () => {
    const now = end;
    const { stream, spikeAt } = spiked('restart_stream', now, 1);
    const options = { pool: database.pool, alertmanager, stepSeconds: STEP / 1000, now: () => new Date(now + 1000) };
    expect(await runAnomalyDetection(options, [stream])).toEqual({ streams: 1, points: 200, stored: 1, posted: 1, reposted: 0, errors: [] });
    const [stored] = await row('restart_stream');
    expect(stored).toMatchObject({ observed_at: new Date(spikeAt), alert_wanted: true, alert_posted_at: new Date(now + 1000), alert_ends_at: new Date(now + 1000 + 30 * 60_000) });
    const posted = await held(first.url, 'restart_stream');
    expect(posted).toEqual([
      {
        labels: { alertname: 'WebSocketMetricAnomaly', severity: 'critical', component: 'anomaly', stream: 'restart_stream', source: 'prometheus' },
        startsAt: new Date(spikeAt).toISOString(),
        endsAt: stored!.alert_ends_at!.toISOString(),
        anomaly_id: expect.any(String),
      },
    ]);

    // Alertmanager restarts: alerts live in its memory only (silences and the notification log are on disk).
    await first.stop();
    const restarted = await quietStack.alertmanager(QUIET_ALERTMANAGER);
    expect(await held(restarted.url, 'restart_stream')).toEqual([]);

    // The next run (five minutes later, nothing new) sends it again: same labels, start and end.
    const later = { ...options, alertmanager: new AlertmanagerClient(restarted.url, 5_000), now: () => new Date(now + STEP + 1000) };
    expect(await runAnomalyDetection(later, [stream])).toEqual({ streams: 1, points: 200, stored: 0, posted: 0, reposted: 1, errors: [] });
    expect(await held(restarted.url, 'restart_stream')).toEqual(posted);
    expect(await row('restart_stream')).toEqual([stored]);

    // Once its end has passed, it is no longer sent.
    const after = { ...later, now: () => new Date(now + 1000 + 30 * 60_000) };
    expect(await runAnomalyDetection(after, [stream])).toMatchObject({ stored: 0, posted: 0, reposted: 0, errors: [] });
    alertmanager = later.alertmanager;
  });

  it('posts what a run newly stored however long ago its point was (an interval of an hour), and only recent ones of a first run', async () => {
    const options = (now: number) => ({ pool: database.pool, alertmanager, stepSeconds: STEP / 1000, intervalMs: HOUR, now: () => new Date(now + 1000) });
    // A first run an hour before: its history (a spike 2 hours before it) is stored, not paged.
    const { stream, spikeAt: oldSpike } = spiked('hourly_stream', end - HOUR, 24);
    expect(await runAnomalyDetection(options(end - HOUR), [stream])).toEqual({ streams: 1, points: 200, stored: 1, posted: 0, reposted: 0, errors: [] });
    expect(await row('hourly_stream')).toEqual([{ observed_at: new Date(oldSpike), alert_wanted: false, alert_posted_at: null, alert_ends_at: null }]);

    // The next run, an hour later, finds a spike 50 minutes back: new since the last run, so paged
    // (only incidents of the last 30 minutes were, and with this interval most were never posted).
    const { stream: grown, spikeAt } = spiked('hourly_stream', end, 10);
    expect(await runAnomalyDetection(options(end), [grown])).toEqual({ streams: 1, points: 200, stored: 1, posted: 1, reposted: 0, errors: [] });
    expect((await held(alertmanager.baseUrl, 'hourly_stream')).map((a) => a.startsAt)).toEqual([new Date(spikeAt).toISOString()]);
    // The history stays unposted.
    expect((await row('hourly_stream')).filter((r) => r.alert_posted_at === null)).toEqual([{ observed_at: new Date(oldSpike), alert_wanted: false, alert_posted_at: null, alert_ends_at: null }]);
  });

  it('retries a post that failed on the next run, an interval of an hour later', async () => {
    const down = { postAlerts: async () => Promise.reject(new Error('connect ECONNREFUSED')) } as unknown as AlertmanagerClient;
    const options = (now: number, am: AlertmanagerClient) => ({ pool: database.pool, alertmanager: am, stepSeconds: STEP / 1000, intervalMs: HOUR, now: () => new Date(now + 1000) });
    // Judged once before, so the spike is new to the failing run.
    const { stream: before } = spiked('retried_stream', end - 2 * HOUR, 100);
    expect(await runAnomalyDetection(options(end - 2 * HOUR, alertmanager), [before])).toMatchObject({ stored: 1, posted: 0 });
    const { stream, spikeAt } = spiked('retried_stream', end - HOUR, 3);
    expect(await runAnomalyDetection(options(end - HOUR, down), [stream])).toEqual({ streams: 1, points: 200, stored: 1, posted: 0, reposted: 0, errors: [{ stream: 'retried_stream', error: 'connect ECONNREFUSED' }] });
    const { stream: next } = spiked('retried_stream', end, 15);
    expect(await runAnomalyDetection(options(end, alertmanager), [next])).toEqual({ streams: 1, points: 200, stored: 0, posted: 1, reposted: 0, errors: [] });
    expect((await held(alertmanager.baseUrl, 'retried_stream')).map((a) => a.startsAt)).toEqual([new Date(spikeAt).toISOString()]);
  });
});
