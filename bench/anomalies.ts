/**
 * The anomaly detector on real labelled streams: the Numenta Anomaly
 * Benchmark (58 streams, 116 labelled windows; not shipped here).
 *
 *   git clone --depth 1 https://github.com/numenta/NAB /tmp/NAB
 *   npm run bench -- anomalies --nab /tmp/NAB        (or NAB_DIR=/tmp/NAB)
 *
 * Each stream is read with the `socketscope anomalies` CSV reader and scored,
 * causally, by the service's detector; its `anomaly_score` is then scored by
 * bench/_nab-score.ts on NAB's three profiles, at the fixed threshold 0.5
 * (exactly the points `is_anomaly` marks) and at the threshold that is best
 * over the corpus (as NAB reports detectors). Subjects, side by side:
 *   socketscope       the detector with its defaults (as the service runs it);
 *   no-tail-gate      the same with the gate fixed at the threshold;
 *   no-seasonality    the same with only the rolling and trend baselines.
 * `--subject NAME` runs one of them. `--half even|odd` scores only the streams
 * at even or odd positions in name order: a change to the detector should help
 * on both halves, not just on the whole corpus (a guard against tuning to it).
 * Last line: key=value pairs for the default detector.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type DetectorOptions, detectAnomalies } from '../src/analytics/detectors/seasonal-baseline.ts';
import { parseSeriesCsv, parseTimestamp } from '../src/analytics/detectors/series-csv.ts';
import { normalise, PROFILES, type PreparedStream, prepareStream, type Profile, scoreStream } from './_nab-score.ts';

const argIndex = process.argv.indexOf('--nab');
const nabDir = argIndex > 0 ? process.argv[argIndex + 1] : process.env.NAB_DIR;
const labelsPath = nabDir ? join(nabDir, 'labels', 'combined_windows.json') : '';
if (!nabDir || !existsSync(labelsPath)) {
  console.error(
    `bench anomalies: needs a checkout of the Numenta Anomaly Benchmark${nabDir ? ` (no ${labelsPath})` : ''}:\n` +
      '  git clone --depth 1 https://github.com/numenta/NAB /tmp/NAB\n  npm run bench -- anomalies --nab /tmp/NAB',
  );
  process.exit(2);
}

const ALL_SUBJECTS: ReadonlyArray<{ name: string; options: DetectorOptions }> = [
  { name: 'socketscope', options: {} },
  { name: 'no-tail-gate', options: { tailQuantile: 1 } },
  { name: 'no-seasonality', options: { seasonality: 'none' } },
];
const only = process.argv.indexOf('--subject');
const SUBJECTS = only > 0 ? ALL_SUBJECTS.filter((s) => s.name === process.argv[only + 1]) : ALL_SUBJECTS;
if (SUBJECTS.length === 0) {
  console.error(`bench anomalies: --subject is one of ${ALL_SUBJECTS.map((s) => s.name).join(', ')}`);
  process.exit(2);
}
const halfIndex = process.argv.indexOf('--half');
const half = halfIndex > 0 ? process.argv[halfIndex + 1] : undefined;
if (half !== undefined && half !== 'even' && half !== 'odd') {
  console.error('bench anomalies: --half is even or odd');
  process.exit(2);
}
const THRESHOLDS = Array.from({ length: 121 }, (_, i) => 0.3 + i * 0.005);

interface Stream {
  prepared: PreparedStream;
  times: number[];
  values: number[];
}

const labels = JSON.parse(readFileSync(labelsPath, 'utf8')) as Record<string, string[][]>;
const streams: Stream[] = Object.keys(labels)
  .sort()
  .filter((_, i) => half === undefined || i % 2 === (half === 'even' ? 0 : 1))
  .map((file) => {
    const rows = parseSeriesCsv(readFileSync(join(nabDir, 'data', file), 'utf8'));
    const times = rows.map((r) => r.timestamp);
    const windows = (labels[file] ?? []).map(([start, end]) => [parseTimestamp(start as string), parseTimestamp(end as string)] as const);
    return { prepared: prepareStream(times, windows), times, values: rows.map((r) => r.value) };
  });
const totalWindows = streams.reduce((sum, s) => sum + s.prepared.windows, 0);
const totalPoints = streams.reduce((sum, s) => sum + s.times.length, 0);
console.log(`NAB${half ? ` (${half} half)` : ''}: ${streams.length} streams, ${totalPoints} points, ${totalWindows} windows`);

function corpusScore(scores: Float64Array[], threshold: number, profile: Profile) {
  let raw = 0;
  let found = 0;
  let falsePositives = 0;
  streams.forEach((stream, i) => {
    const s = scoreStream(stream.prepared, scores[i] as Float64Array, threshold, profile);
    raw += s.raw;
    found += s.found;
    falsePositives += s.falsePositives;
  });
  return { score: normalise(raw, totalWindows, profile), found, falsePositives };
}

const results: Record<string, Record<string, number>> = {};
for (const subject of SUBJECTS) {
  const started = process.hrtime.bigint();
  const scores = streams.map((stream) => {
    const points = detectAnomalies(
      stream.times.map((timestamp, i) => ({ timestamp, value: stream.values[i] as number })),
      subject.options,
    );
    return Float64Array.from(points, (p) => p.score);
  });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const row: Record<string, number> = { points_per_s: Math.round(totalPoints / seconds) };
  for (const profile of PROFILES) {
    const fixed = corpusScore(scores, 0.5, profile);
    let best = { threshold: 0.5, ...fixed };
    for (const threshold of THRESHOLDS) {
      const s = corpusScore(scores, threshold, profile);
      if (s.score > best.score) best = { threshold, ...s };
    }
    row[profile.name] = fixed.score;
    row[`${profile.name}_best`] = best.score;
    row[`${profile.name}_best_threshold`] = best.threshold;
    if (profile.name === 'standard') {
      row.windows_found = fixed.found;
      row.false_positives = fixed.falsePositives;
    }
  }
  results[subject.name] = row;
  const f = (x: number | undefined) => (x ?? Number.NaN).toFixed(1);
  console.log(
    `${subject.name.padEnd(15)} standard ${f(row.standard)} (best ${f(row.standard_best)} at ${row.standard_best_threshold?.toFixed(3)})` +
      `  low_fp ${f(row.reward_low_fp)} (best ${f(row.reward_low_fp_best)})  low_fn ${f(row.reward_low_fn)} (best ${f(row.reward_low_fn_best)})` +
      `  windows ${row.windows_found}/${totalWindows}  false positives ${row.false_positives}  ${row.points_per_s} points/s`,
  );
}

const ours = (results.socketscope ?? results[SUBJECTS[0]?.name ?? '']) as Record<string, number>;
const pairs = {
  nab_standard: ours.standard,
  nab_standard_best: ours.standard_best,
  nab_low_fp: ours.reward_low_fp,
  nab_low_fn: ours.reward_low_fn,
  windows_found: ours.windows_found,
  windows: totalWindows,
  false_positives: ours.false_positives,
  no_tail_gate_standard: results['no-tail-gate']?.standard,
  no_seasonality_standard: results['no-seasonality']?.standard,
  points_per_s: ours.points_per_s,
};
console.log(
  Object.entries(pairs)
    .filter((entry): entry is [string, number] => entry[1] !== undefined)
    .map(([k, v]) => `${k}=${Number.isInteger(v) ? v : v.toFixed(1)}`)
    .join(' '),
);
