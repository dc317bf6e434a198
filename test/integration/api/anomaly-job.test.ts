/**
 * The scheduled anomaly job over a stream that grows between runs, each run
 * reading a sliding look-back window: every incident is stored once, at the
 * point where one causal pass of the detector over the whole series flags it.
 * (A window that starts later warms up differently and used to flag points
 * already judged calm as incidents of their own.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AnomalyStream, clientReportStreams, runAnomalyDetection } from '../../../src/analytics/anomaly-job.ts';
import { detectAnomalies } from '../../../src/analytics/detectors/seasonal-baseline.ts';
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
      errors: [],
    });
  });
});

describe('client report streams', () => {
  it('counts reports per bucket with 0 for empty buckets only from the first report on', async () => {
    const t0 = Date.UTC(2025, 5, 10, 12);
    const at = (i: number, offsetMs = 0) => new Date(t0 + i * STEP + offsetMs);
    const bucket = (i: number, value: number) => ({ timestamp: t0 + i * STEP, value });
    const [perBucket, latency] = clientReportStreams(database.pool, STEP / 1000);
    expect([perBucket?.name, latency?.name]).toEqual(['client_reports_per_bucket', 'client_latency_avg_ms']);
    if (!perBucket || !latency) return;
    // No report yet: no history at all (zeros would make the first reports a huge anomaly).
    expect(await perBucket.read(at(-864), at(6))).toEqual([]);

    await insertClientReports(database, [report('a', at(2, 30_000)), report('b', at(2, 90_000), { latency_avg_ms: 70 }), report('c', at(4, 10_000))]);
    expect(await perBucket.read(at(-864), at(6))).toEqual([bucket(2, 2), bucket(3, 0), bucket(4, 1), bucket(5, 0)]);
    // Reports before the window: its empty buckets are real zeros, from its start.
    expect(await perBucket.read(at(3), at(6))).toEqual([bucket(3, 0), bucket(4, 1), bucket(5, 0)]);
    expect(await perBucket.read(at(10), at(12))).toEqual([bucket(10, 0), bucket(11, 0)]);
    // Averages are never filled: (50 × 10 + 70 × 10) / 20 in bucket 2.
    expect(await latency.read(at(-864), at(6))).toEqual([bucket(2, 60), bucket(4, 50)]);
  });
});
