/**
 * Streaming anomaly detector for metric streams: seasonal robust baseline
 * with a rolling-window fallback. Causal: the point at time t is scored only
 * from points before it. Method (docs/analytics.md#anomaly-detection):
 *
 * - Sampling interval: median of the first inter-sample gaps.
 * - Candidate baselines, each a one-step-ahead forecast:
 *   rolling median of the last `window` samples; the same plus a robust slope
 *   (trend); seasonal naive — median of the values one, two, … cycles ago
 *   (daily, weekly, and a cycle found by autocorrelation), plus the median
 *   recent offset from it, so a level shift is absorbed after window/2 samples.
 * - The baseline with the smallest recent median absolute error is used; its
 *   scale is 1.4826 × the median absolute (clipped) error, floored by the data's
 *   resolution and a fraction of the level.
 * - Robust z = (value − expected) / scale. The gate is the threshold, or the
 *   0.999 quantile of recent |z| outside incidents (an incident's start
 *   counted at the gate) when that is higher (heavy-tailed noise). Strength =
 *   the largest of |z| / gate, a CUSUM of z / gate over calm stretches (a run
 *   of moderate deviations the same way), and, for a value beyond the whole
 *   range seen (incidents' first points left out) by more than 15% of it,
 *   1 + the excess in ranges (a level never seen, however gradually reached).
 *   score = s² / (s² + 1) for strength s, in [0,1), 0.5 at the gate; halved
 *   for the points of an incident already reported, so score ≥ 0.5 ⇔
 *   is_anomaly.
 * - is_anomaly marks only the start of an incident: a strength of 1 or more
 *   after `refractory` calm samples, not a return to the level before the
 *   previous incident, and not an excursion seen at the same phase in most
 *   past cycles (a nightly job).
 */
import { estimatePeriod } from './period.ts';
import { median, medianAbs, nearestIndex } from './robust.ts';

export type Severity = 'low' | 'medium' | 'high';
export type DetectorState = 'warming_up' | 'normal' | 'anomalous' | 'missing';
export type BaselineName = 'rolling' | 'trend' | 'daily' | 'weekly' | 'periodic';

export interface DetectorOptions {
  /** Robust z from which a point is anomalous (default 5). */
  threshold?: number;
  /** Rolling window in samples (default 24). */
  window?: number;
  /** Samples before any point is scored: the "not enough history" state (default 16). */
  minHistory?: number;
  /** Errors the scale is estimated from (default 160); baselines are compared over twice as many. */
  scaleWindow?: number;
  /** Calm samples after an incident before a new one may start (default: 2 × window). */
  refractory?: number;
  /** Scale floor as a fraction of |expected| (default 0.01). */
  relativeFloor?: number;
  /** Seasonal cycles looked back (default 4). */
  maxCycles?: number;
  /** `none` uses only the rolling baselines. */
  seasonality?: 'auto' | 'none';
  /** Quantile of past |deviation|s outside incidents that an incident must also reach, for heavy-tailed noise (default 0.999; 1 turns it off). */
  tailQuantile?: number;
}

export interface DetectorPoint {
  timestamp: number;
  value: number;
  expected: number | null;
  lower: number | null;
  upper: number | null;
  /** Robust z of the value against the band. */
  deviation: number | null;
  /** In [0,1]: 0.5 at the gate, monotone in |deviation| except that points of an incident already reported score half; 0 while warming up. */
  score: number;
  /** True only at the start of an incident. */
  isAnomaly: boolean;
  severity: Severity | null;
  state: DetectorState;
  baseline: BaselineName | null;
}

/** Defaults shared by the service and the `anomalies` command. */
export const DETECTOR_DEFAULTS = { threshold: 5, window: 24 } as const;

const DAY_MS = 86_400_000;
const WEEK_MS = 7 * DAY_MS;
const INTERVAL_SAMPLES = 101;
const TAIL_QUANTILE = 0.999;
/** Deviations the tail gate is estimated from, and how many it needs first. */
const TAIL_HISTORY = 4000;
const TAIL_MIN = 250;
const MAX_HISTORY = 60_000;
/** A past excursion at the same phase counts as the same pattern from this share of the current one… */
const RECURRENCE_SHARE = 0.5;
/** …and the pattern is one when it was there in this share of up to RECURRENCE_CYCLES past cycles (a week of days). */
const RECURRENCE_MAJORITY = 0.6;
const RECURRENCE_CYCLES = 7;
/** How far from the same phase a past excursion may be, as a share of the cycle (15 minutes of a day), at least 2 samples. */
const RECURRENCE_JITTER = 1 / 96;
/** CUSUM in gate units: deviations below RUN_SLACK of the gate do not add up; a run is an incident at RUN_LIMIT. */
const RUN_SLACK = 0.45;
const RUN_LIMIT = 2;
/** A value beyond the range seen so far by more than this share of it is a new level (scale-free, so a steady trend's small daily records are not). */
const RANGE_MARGIN = 0.15;

interface Baseline {
  name: BaselineName;
  /** Forecast for time t from the history, or NaN when this baseline cannot tell yet. */
  predict(t: number): number;
  errors: number[];
  /** Cycle length of a seasonal baseline. */
  cycleMs?: number;
  /** Cached scale for clipping errors, refreshed every few points. */
  clipScale: number;
}

export function severityOf(deviation: number, threshold: number): Severity {
  const ratio = Math.abs(deviation) / threshold;
  if (ratio < 1.5) return 'low';
  if (ratio < 3) return 'medium';
  return 'high';
}

/** Monotone map of a robust z to [0,1): 0.5 at the threshold, 0.8 at twice it. */
export function scoreOf(deviation: number, threshold: number): number {
  const z2 = deviation * deviation;
  return z2 / (z2 + threshold * threshold);
}

export class SeasonalBaselineDetector {
  readonly threshold: number;
  private readonly window: number;
  private readonly minHistory: number;
  private readonly scaleWindow: number;
  private readonly refractory: number;
  private readonly relativeFloor: number;
  private readonly maxCycles: number;
  private readonly seasonal: boolean;
  private readonly tailQuantile: number;
  /** |deviation| of recent scored points, and the incident gate derived from them. */
  private deviations: number[] = [];
  private gate: number;
  /** CUSUM sums of deviations in gate units, up and down. */
  private runUp = 0;
  private runDown = 0;
  /** Highest and lowest value seen, incidents' first points left out. */
  private highest = Number.NEGATIVE_INFINITY;
  private lowest = Number.POSITIVE_INFINITY;

  private times: number[] = [];
  private values: number[] = [];
  /** Rolling level (median of the window before each sample), for seasonal components. */
  private levels: number[] = [];
  /** Values with anomalous ones clipped to their band, so an incident does not echo a cycle later. */
  private cleaned: number[] = [];
  private currentLevel = Number.NaN;
  /** |error| of the baseline used at each sample (NaN while warming up), for the scale at the same phase of past cycles. */
  private usedErrors: number[] = [];
  /** The expected value at each sample (NaN while warming up), for excursions at the same phase of past cycles. */
  private expectations: number[] = [];
  /** Samples seen (never trimmed), the index of the next sample. */
  private count = 0;
  private diffs: number[] = [];
  private interval = Number.NaN;
  private resolution = Number.POSITIVE_INFINITY;
  private baselines: Baseline[] = [];
  private periodic: { baseline: Baseline; cycleMs: number } | null = null;
  private nextPeriodCheck = 0;
  private lastCandidate = Number.NEGATIVE_INFINITY;
  private lastIncident: { index: number; expected: number; scale: number; sign: number; run: number } | null = null;

  constructor(options: DetectorOptions = {}) {
    this.threshold = options.threshold ?? DETECTOR_DEFAULTS.threshold;
    this.window = Math.max(4, options.window ?? DETECTOR_DEFAULTS.window);
    this.minHistory = Math.max(4, options.minHistory ?? 16);
    this.scaleWindow = Math.max(8, options.scaleWindow ?? 160);
    this.refractory = options.refractory ?? 2 * this.window;
    this.relativeFloor = options.relativeFloor ?? 0.01;
    this.maxCycles = Math.max(2, options.maxCycles ?? 4);
    this.seasonal = (options.seasonality ?? 'auto') === 'auto';
    this.tailQuantile = options.tailQuantile ?? TAIL_QUANTILE;
    this.gate = this.threshold;
    this.baselines.push(this.rollingBaseline(), this.trendBaseline());
  }

  /**
   * Scores one sample (timestamps in ms, non-decreasing), then learns from it.
   * A timestamp earlier than the one before is taken as equal to it (the
   * history stays in time order); the point keeps its own timestamp.
   */
  push(timestamp: number, value: number): DetectorPoint {
    if (!Number.isFinite(value) || !Number.isFinite(timestamp)) {
      return { timestamp, value, expected: null, lower: null, upper: null, deviation: null, score: 0, isAnomaly: false, severity: null, state: 'missing', baseline: null };
    }
    const point = this.scoreAndLearn(Math.max(timestamp, this.times[this.times.length - 1] ?? timestamp), value);
    return point.timestamp === timestamp ? point : { ...point, timestamp };
  }

  private scoreAndLearn(timestamp: number, value: number): DetectorPoint {
    this.learnSampling(timestamp);
    if (this.seasonal) this.maybeAddSeasonalBaselines(timestamp);
    const n = this.values.length;
    this.currentLevel = n < 3 ? Number.NaN : median(this.values, Math.max(0, n - this.window), n);

    const forecasts = this.baselines.map((b) => b.predict(timestamp));
    const chosen = this.choose(forecasts);
    let point: DetectorPoint;
    if (chosen < 0 || this.count < this.minHistory) {
      point = { timestamp, value, expected: null, lower: null, upper: null, deviation: null, score: 0, isAnomaly: false, severity: null, state: 'warming_up', baseline: null };
    } else {
      point = this.score(timestamp, value, forecasts[chosen] as number, this.baselines[chosen] as Baseline);
    }
    const cleaned = this.cleanForSeasonalMemory(value, forecasts);
    // Clipped like the baselines' errors, so an incident does not widen the band at its phase a cycle later.
    const usedError = point.expected === null || point.upper === null ? Number.NaN : Math.min(Math.abs(value - point.expected), point.upper - point.expected);
    // An incident's first point does not widen the range, or one glitch would hide every later new level; its sustained points do.
    if (!point.isAnomaly) {
      this.highest = Math.max(this.highest, value);
      this.lowest = Math.min(this.lowest, value);
    }
    this.learn(timestamp, value, cleaned, forecasts, usedError, point.expected ?? Number.NaN);
    return point;
  }

  private score(timestamp: number, value: number, expected: number, baseline: Baseline): DetectorPoint {
    const scale = Math.max(this.scaleOf(baseline, expected), this.phaseScale(timestamp, baseline));
    const deviation = (value - expected) / scale;
    const gate = this.gate;
    const band = gate * scale;
    const run = this.accumulateRun(deviation / gate);
    const beyond = this.beyondRange(value);
    // In gate units: the point's own deviation, a run of moderate ones the same way, or a level never seen, whichever is larger.
    const strength = Math.max(Math.abs(deviation) / gate, Math.abs(run), Math.abs(beyond));
    const exceeds = Math.abs(deviation) >= gate || beyond !== 0;
    const anomalous = strength >= 1;
    let isAnomaly = false;
    let recovery = false;
    let recurring = false;
    const continues = exceeds && this.lastCandidate === this.count - 1;
    if (anomalous) {
      const sign = beyond !== 0 ? Math.sign(beyond) : exceeds ? Math.sign(deviation) : Math.sign(run);
      const calm = this.count - this.lastCandidate > this.refractory;
      const incident = this.lastIncident;
      if (exceeds && !calm && incident && sign === incident.sign) incident.run++;
      // Coming back to where the series was before a sustained incident (a dropout, an outage) is its end, not a new incident.
      recovery =
        exceeds &&
        incident !== null &&
        incident.run >= 3 &&
        sign === -incident.sign &&
        this.count - incident.index <= 16 * this.window &&
        Math.abs(value - incident.expected) <= this.threshold * incident.scale;
      recurring = calm && !recovery && this.recursAtPhase(timestamp, (value - expected) * sign, sign);
      if (calm && !recovery && !recurring) {
        isAnomaly = true;
        this.lastIncident = { index: this.count, expected, scale, sign, run: 1 };
      }
      // A run ends as an incident or as the pattern: either way it explains what it added up.
      if (isAnomaly || recurring) {
        this.runUp = 0;
        this.runDown = 0;
      }
      // A run's later points neither extend an incident nor hold off the next: only points past the gate do.
      if (exceeds || isAnomaly) this.lastCandidate = this.count;
    }
    // The gate learns what the noise is like: scattered exceedances count; an incident's sustained
    // points and its recovery do not, nor does a recurring pattern, which is explained by its phase.
    // An incident's start counts at the gate, not at its size: how often the gate is reached is the
    // tail's, how far past it an incident went is not, or each incident would raise the gate for the
    // next; left out altogether, a stream whose bursts keep passing the gate would see its gate fall.
    if (isAnomaly) this.trackDeviation(Math.min(Math.abs(deviation), gate));
    else if (!continues && !recovery && !recurring) this.trackDeviation(Math.abs(deviation));
    return {
      timestamp,
      value,
      expected,
      lower: expected - band,
      upper: expected + band,
      deviation,
      score: anomalous && !isAnomaly ? scoreOf(strength, 1) / 2 : scoreOf(strength, 1),
      isAnomaly,
      severity: anomalous ? severityOf(strength, 1) : null,
      state: anomalous ? 'anomalous' : 'normal',
      baseline: baseline.name,
    };
  }

  /**
   * Signed strength (1 and up) of a value outside the range seen so far by more
   * than RANGE_MARGIN of that range, else 0: a level the stream has never shown
   * is news even when it was reached too gradually (a ramp over hours) for any
   * one-step forecast to be surprised. Only once the range has as much history
   * behind it as the tail gate needs.
   */
  private beyondRange(value: number): number {
    const range = this.highest - this.lowest;
    if (this.count < TAIL_MIN || !(range > 0)) return 0;
    const over = (value - this.highest) / range - RANGE_MARGIN;
    const under = (this.lowest - value) / range - RANGE_MARGIN;
    return over > 0 ? 1 + over : under > 0 ? -(1 + under) : 0;
  }

  /**
   * Two-sided CUSUM of the deviations in gate units: each point adds what it
   * exceeds RUN_SLACK by, the same way as the run; returns the larger run over
   * RUN_LIMIT, signed. A sustained moderate deviation (a slow day, latency up by
   * a third for half an hour) reaches 1 where no single point reaches the gate.
   */
  private accumulateRun(units: number): number {
    // A run starts in calm: what an incident and its aftermath (a level the rolling baseline is still catching up with) deviate is that incident's.
    if (this.count - this.lastCandidate <= this.refractory) {
      this.runUp = 0;
      this.runDown = 0;
      return 0;
    }
    this.runUp = Math.max(0, this.runUp + units - RUN_SLACK);
    this.runDown = Math.max(0, this.runDown - units - RUN_SLACK);
    return this.runUp >= this.runDown ? this.runUp / RUN_LIMIT : -this.runDown / RUN_LIMIT;
  }

  /**
   * Whether an excursion the same way, at least half as large, happened at
   * the same phase (± 1% of the cycle) in most of the last RECURRENCE_CYCLES
   * cycles, and at least two: a nightly batch job, a daily report,
   * is the series' pattern, not an incident, even when it is too short or too
   * jittery for the seasonal forecast to follow.
   */
  private recursAtPhase(timestamp: number, excursion: number, sign: number): boolean {
    const n = this.times.length;
    const tolerance = Math.max(0.75 * this.interval, 1);
    for (const baseline of this.baselines) {
      const cycleMs = baseline.cycleMs;
      if (!cycleMs || timestamp - (this.times[0] as number) < 2 * cycleMs) continue;
      const radius = Math.max(2, Math.ceil((cycleMs / this.interval) * RECURRENCE_JITTER));
      let seen = 0;
      let cycles = 0;
      for (let k = 1; k <= RECURRENCE_CYCLES; k++) {
        const centre = nearestIndex(this.times, n, timestamp - k * cycleMs, tolerance);
        if (centre < 0) continue;
        cycles++;
        for (let i = Math.max(0, centre - radius); i <= Math.min(n - 1, centre + radius); i++) {
          const then = this.expectations[i] as number;
          if (Number.isFinite(then) && ((this.values[i] as number) - then) * sign >= RECURRENCE_SHARE * excursion) {
            seen++;
            break;
          }
        }
      }
      // Most past cycles, and at least two: frequent incidents at random times rarely line up so.
      if (seen >= Math.max(2, Math.ceil(RECURRENCE_MAJORITY * cycles))) return true;
    }
    return false;
  }

  /**
   * The gate a deviation must reach: the threshold, or on heavy-tailed series
   * (bursty traffic, spiky CPU) the `tailQuantile` of recent |deviation|s
   * outside incidents when that is higher, so noise that often reaches the
   * threshold is not an incident each time. Re-estimated every 16 points.
   */
  private trackDeviation(abs: number): void {
    if (this.tailQuantile >= 1) return;
    this.deviations.push(abs);
    if (this.deviations.length > 2 * TAIL_HISTORY) this.deviations.splice(0, this.deviations.length - TAIL_HISTORY);
    if (this.deviations.length < TAIL_MIN || this.count % 16 !== 0) return;
    const recent = Float64Array.from(this.deviations.slice(-TAIL_HISTORY)).sort();
    const tail = recent[Math.min(recent.length - 1, Math.floor(this.tailQuantile * recent.length))] as number;
    this.gate = Math.max(this.threshold, tail);
  }

  /**
   * The value as the seasonal memory keeps it: clipped to the band of the best
   * seasonal forecast, so a one-off incident does not echo a cycle later; raw
   * while no seasonal forecast exists, so the first cycles teach the shape
   * (including abrupt daily steps) rather than what a rolling window expected.
   */
  private cleanForSeasonalMemory(value: number, forecasts: number[]): number {
    let best = -1;
    let bestError = Number.POSITIVE_INFINITY;
    this.baselines.forEach((baseline, i) => {
      if (baseline.name === 'rolling' || baseline.name === 'trend' || !Number.isFinite(forecasts[i] as number) || baseline.errors.length < this.window) return;
      const error = this.recentError(baseline);
      if (error < bestError) {
        best = i;
        bestError = error;
      }
    });
    if (best < 0) return value;
    const forecast = forecasts[best] as number;
    const limit = this.threshold * this.scaleOf(this.baselines[best] as Baseline, forecast);
    return Math.max(forecast - limit, Math.min(forecast + limit, value));
  }

  /** Mean absolute (clipped) one-step error over the selection span: rare misses, like a missed daily step, count. */
  private recentError(baseline: Baseline): number {
    const errors = baseline.errors;
    const from = Math.max(0, errors.length - 2 * this.scaleWindow);
    let sum = 0;
    for (let i = from; i < errors.length; i++) sum += Math.abs(errors[i] as number);
    return errors.length > from ? sum / (errors.length - from) : Number.POSITIVE_INFINITY;
  }

  /**
   * Robust scale of the errors around the same phase of past cycles: noise
   * that is larger at some hours (daytime traffic) is expected there, even
   * when the last hours were quiet.
   */
  private phaseScale(timestamp: number, baseline: Baseline): number {
    const cycleMs = baseline.cycleMs ?? this.baselines.find((b) => b.name === 'daily')?.cycleMs;
    const n = this.times.length;
    if (!cycleMs || n === 0 || timestamp - (this.times[0] as number) < 2 * cycleMs) return 0;
    const half = this.window >> 1;
    const nearby: number[] = [];
    for (let k = 1; k <= this.maxCycles; k++) {
      const centre = nearestIndex(this.times, n, timestamp - k * cycleMs, Math.max(0.75 * this.interval, 1));
      if (centre < 0) continue;
      for (let i = Math.max(0, centre - half); i <= Math.min(n - 1, centre + half); i++) {
        const e = this.usedErrors[i] as number;
        if (Number.isFinite(e)) nearby.push(e);
      }
    }
    return nearby.length >= this.window ? 1.4826 * median(nearby) : 0;
  }

  /** Robust scale of a baseline's recent errors, with floors so a flat series does not make every wiggle infinite. */
  private scaleOf(baseline: Baseline, expected: number): number {
    const errors = baseline.errors;
    const from = Math.max(0, errors.length - this.scaleWindow);
    const robust = 1.4826 * medianAbs(errors, from, errors.length);
    const resolutionFloor = Number.isFinite(this.resolution) ? this.resolution : 0;
    return Math.max(robust, resolutionFloor, this.relativeFloor * Math.abs(expected), 1e-9);
  }

  /** The baseline with the smallest recent mean absolute error; seasonal ones win ties, trend pays a handicap. */
  private choose(forecasts: number[]): number {
    let best = -1;
    let bestError = Number.POSITIVE_INFINITY;
    this.baselines.forEach((baseline, i) => {
      if (!Number.isFinite(forecasts[i] as number)) return;
      const needed = baseline.name === 'rolling' ? Math.min(8, this.minHistory) : this.window;
      if (baseline.errors.length < needed) return;
      const handicap = baseline.name === 'trend' ? 1.15 : baseline.name === 'rolling' ? 1.02 : 1;
      const error = this.recentError(baseline) * handicap;
      if (error < bestError) {
        best = i;
        bestError = error;
      }
    });
    return best;
  }

  /** The sampling interval from the timestamps seen so far (the value itself is not looked at before it is scored). */
  private learnSampling(timestamp: number): void {
    const n = this.times.length;
    if (n === 0) return;
    const gap = timestamp - (this.times[n - 1] as number);
    if (gap > 0 && this.diffs.length < INTERVAL_SAMPLES) {
      this.diffs.push(gap);
      this.interval = median(this.diffs);
    }
  }

  private learn(timestamp: number, value: number, cleaned: number, forecasts: number[], usedError: number, expected: number): void {
    const previous = this.values[this.values.length - 1];
    const step = previous === undefined ? 0 : Math.abs(value - previous);
    if (step > 0 && step < this.resolution) this.resolution = step;
    this.baselines.forEach((baseline, i) => {
      const forecast = forecasts[i] as number;
      if (!Number.isFinite(forecast)) return;
      let error = value - forecast;
      // Clip so an incident does not inflate the scale it is judged by.
      if (baseline.errors.length >= this.minHistory) {
        if (this.count % 8 === 0 || !Number.isFinite(baseline.clipScale)) baseline.clipScale = this.scaleOf(baseline, forecast);
        const limit = this.threshold * baseline.clipScale;
        error = Math.max(-limit, Math.min(limit, error));
      }
      baseline.errors.push(error);
      if (baseline.errors.length > 4 * this.scaleWindow) baseline.errors.splice(0, baseline.errors.length - 2 * this.scaleWindow);
    });
    this.times.push(timestamp);
    this.values.push(value);
    this.levels.push(this.currentLevel);
    this.cleaned.push(cleaned);
    this.usedErrors.push(usedError);
    this.expectations.push(expected);
    this.count++;
    if (this.values.length > MAX_HISTORY + 10_000) {
      for (const list of [this.times, this.values, this.levels, this.cleaned, this.usedErrors, this.expectations]) list.splice(0, 10_000);
    }
  }

  private rollingBaseline(): Baseline {
    return {
      name: 'rolling',
      predict: () => this.currentLevel,
      errors: [],
      clipScale: Number.NaN,
    };
  }

  /** Rolling median moved along the slope between the medians of the window's two halves. */
  private trendBaseline(): Baseline {
    return {
      name: 'trend',
      predict: () => {
        const n = this.values.length;
        const w = this.window;
        if (n < w) return Number.NaN;
        const half = w >> 1;
        const slope = (median(this.values, n - half, n) - median(this.values, n - 2 * half, n - half)) / half;
        return median(this.values, n - w, n) + (slope * (w + 1)) / 2;
      },
      errors: [],
      clipScale: Number.NaN,
    };
  }

  /**
   * Current rolling level plus the median seasonal component of the same
   * phase in past cycles, where a component is (cleaned value − the rolling
   * level then). Components are level-free, so a level shift only has to be
   * absorbed by the rolling level (window/2 samples), not by every cycle.
   */
  private seasonalBaseline(name: BaselineName, cycleMs: number): Baseline {
    return {
      name,
      predict: (t) => {
        const n = this.values.length;
        if (n === 0) return Number.NaN;
        const cycles = Math.floor((t - (this.times[0] as number)) / cycleMs);
        if (cycles < 2) return Number.NaN;
        const level = this.currentLevel;
        if (!Number.isFinite(level)) return Number.NaN;
        const tolerance = Math.max(0.75 * this.interval, 1);
        const components: number[] = [];
        for (let k = 1; k <= Math.min(cycles, this.maxCycles); k++) {
          const index = nearestIndex(this.times, n, t - k * cycleMs, tolerance);
          const then = index >= 0 ? (this.levels[index] as number) : Number.NaN;
          if (Number.isFinite(then)) components.push((this.cleaned[index] as number) - then);
        }
        if (components.length < 2) return Number.NaN;
        return level + median(components);
      },
      errors: [],
      cycleMs,
      clipScale: Number.NaN,
    };
  }

  private maybeAddSeasonalBaselines(timestamp: number): void {
    if (!Number.isFinite(this.interval) || this.diffs.length < 8) return;
    const has = (name: BaselineName) => this.baselines.some((b) => b.name === name);
    // A cycle needs at least 12 samples to have a shape worth following.
    if (!has('daily') && this.interval * 12 <= DAY_MS) this.baselines.push(this.seasonalBaseline('daily', DAY_MS));
    if (!has('weekly') && this.interval * 12 <= WEEK_MS) this.baselines.push(this.seasonalBaseline('weekly', WEEK_MS));
    if (this.count >= this.nextPeriodCheck && this.values.length >= 48) {
      this.nextPeriodCheck = this.count + Math.max(64, Math.floor(this.values.length / 8));
      this.updatePeriodic(timestamp);
    }
  }

  /** Re-estimates a data-driven cycle from the recent history; replaces the periodic baseline when it changes. */
  private updatePeriodic(_timestamp: number): void {
    const n = this.values.length;
    const span = Math.min(n, 2048);
    const estimate = estimatePeriod(this.values.slice(n - span), { minLag: 4, maxLag: Math.floor(span / 3) });
    if (!estimate) return;
    const cycleMs = estimate.lag * this.interval;
    const nearKnown = [DAY_MS, WEEK_MS].some((known) => Math.abs(cycleMs - known) / known < 0.05);
    if (nearKnown) return;
    if (this.periodic && Math.abs(this.periodic.cycleMs - cycleMs) / cycleMs < 0.05) return;
    const baseline = this.seasonalBaseline('periodic', cycleMs);
    if (this.periodic) this.baselines.splice(this.baselines.indexOf(this.periodic.baseline), 1);
    this.baselines.push(baseline);
    this.periodic = { baseline, cycleMs };
  }
}

/** Runs the detector over a whole series in order (each point scored from the ones before it). */
export function detectAnomalies(points: ReadonlyArray<{ timestamp: number; value: number }>, options?: DetectorOptions): DetectorPoint[] {
  const detector = new SeasonalBaselineDetector(options);
  return points.map((p) => detector.push(p.timestamp, p.value));
}
