/**
 * A scorer for the Numenta Anomaly Benchmark, written from its published
 * description (Lavin & Ahmad, "Evaluating Real-time Anomaly Detection
 * Algorithms — the Numenta Anomaly Benchmark", 2015):
 *
 * - each stream has labelled anomaly windows; the first 15% of a stream (at
 *   most 750 points) is a probation period whose detections are not scored;
 * - a detection is a point whose anomaly score reaches the threshold;
 * - in a window only the earliest detection counts, weighted by a scaled
 *   sigmoid of its position (about +1 at the window's start, 0 at its end);
 * - a missed window costs the false-negative weight;
 * - a detection outside every window costs the false-positive weight, less
 *   just after a window (the same sigmoid, past the window's end), in full
 *   before the first window;
 * - the total over all streams is normalised: 0 = detect nothing,
 *   100 = every window found at its first point, nothing else.
 */

export interface Profile {
  name: string;
  tp: number;
  fp: number;
  fn: number;
}

/** NAB's three application profiles. */
export const PROFILES: readonly Profile[] = [
  { name: 'standard', tp: 1, fp: 0.11, fn: 1 },
  { name: 'reward_low_fp', tp: 1, fp: 0.22, fn: 1 },
  { name: 'reward_low_fn', tp: 1, fp: 0.11, fn: 2 },
];

const PROBATION_FRACTION = 0.15;
const PROBATION_MAX = 0.15 * 5000;

/** 2 / (1 + e^(5x)) − 1: +0.987 at x = −1 (a window's first point), 0 at its end, −1 from 3 window-lengths past it. */
export function scaledSigmoid(x: number): number {
  return x > 3 ? -1 : 2 / (1 + Math.exp(5 * x)) - 1;
}

/** One stream prepared for scoring: per scored point its weight and window (−1 outside windows). */
export interface PreparedStream {
  /** Index of the first scored point (after probation). */
  from: number;
  sweep: Float64Array;
  window: Int32Array;
  windows: number;
}

/** Windows are [start, end] in ms, inclusive, in time order; times ascending. */
export function prepareStream(times: readonly number[], windows: ReadonlyArray<readonly [number, number]>): PreparedStream {
  const n = times.length;
  const bounds = windows.map(([start, end]) => {
    let left = -1;
    let right = -1;
    for (let i = 0; i < n; i++) {
      const t = times[i] as number;
      if (t >= start && t <= end) {
        if (left < 0) left = i;
        right = i;
      }
    }
    return { start, end, left, right, width: right - left + 1 };
  });
  const sweep = new Float64Array(n);
  const window = new Int32Array(n).fill(-1);
  let next = 0;
  let previous: { right: number; width: number } | null = null;
  for (let i = 0; i < n; i++) {
    const t = times[i] as number;
    while (next < bounds.length && t > (bounds[next] as { end: number }).end) {
      const passed = bounds[next] as { right: number; width: number };
      if (passed.right >= 0) previous = passed;
      next++;
    }
    const current = bounds[next];
    if (current && t >= current.start) {
      window[i] = next;
      sweep[i] = scaledSigmoid(-(current.right - i + 1) / current.width);
    } else if (previous === null) {
      sweep[i] = -1;
    } else {
      sweep[i] = scaledSigmoid(Math.abs(previous.right - i) / Math.max(1, previous.width - 1));
    }
  }
  return { from: Math.floor(Math.min(PROBATION_FRACTION * n, PROBATION_MAX)), sweep, window, windows: windows.length };
}

export interface StreamScore {
  raw: number;
  found: number;
  missed: number;
  falsePositives: number;
}

/** Raw NAB score of one stream's anomaly scores at a threshold. */
export function scoreStream(stream: PreparedStream, scores: ArrayLike<number>, threshold: number, profile: Profile): StreamScore {
  const best = new Float64Array(stream.windows).fill(Number.NaN);
  let raw = 0;
  let falsePositives = 0;
  for (let i = stream.from; i < stream.sweep.length; i++) {
    if (!((scores[i] as number) >= threshold)) continue;
    const w = stream.window[i] as number;
    const weight = stream.sweep[i] as number;
    if (w < 0) {
      raw += profile.fp * weight;
      falsePositives++;
    } else if (!(weight <= (best[w] as number))) {
      best[w] = weight;
    }
  }
  let found = 0;
  for (const weight of best) {
    if (Number.isNaN(weight)) {
      raw -= profile.fn;
    } else {
      raw += profile.tp * weight;
      found++;
    }
  }
  return { raw, found, missed: stream.windows - found, falsePositives };
}

/** 100 × (raw − null) / (perfect − null) over a corpus, null detecting nothing, perfect each window at its first point. */
export function normalise(raw: number, windows: number, profile: Profile): number {
  const none = -profile.fn * windows;
  const perfect = profile.tp * scaledSigmoid(-1) * windows;
  return (100 * (raw - none)) / (perfect - none);
}
