/**
 * Synthetic metric streams with injected, labelled incidents for the detector
 * tests: daily seasonality (or none), noise, trend, spikes, level shifts and
 * dropouts. Seeded, so every run sees the same series.
 */
import { randomSource } from '../../helpers/random.ts';

export { randomSource };

export interface LabelledSeries {
  name: string;
  points: Array<{ timestamp: number; value: number }>;
  /** Index ranges [start, end] of injected incidents; a detection within the range counts. */
  incidents: Array<{ kind: 'spike' | 'level_shift' | 'dropout'; start: number; end: number }>;
}

function gaussian(random: () => number): number {
  const u = Math.max(random(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
}

export interface SeriesSpec {
  name: string;
  seed: number;
  days: number;
  stepSeconds: number;
  level: number;
  /** Daily amplitude as a fraction of the level (0: none). */
  seasonalAmplitude: number;
  noise: number;
  /** Level change per day. */
  trendPerDay?: number;
  /** Heavy-tailed noise: share of samples with 3× noise. */
  burstShare?: number;
  spikes: number;
  levelShifts: number;
  dropouts: number;
  /** Start timestamps at this epoch (ms); 0 models streams that carry sample numbers. */
  startMs?: number;
}

export function makeSeries(spec: SeriesSpec): LabelledSeries {
  const random = randomSource(spec.seed);
  const n = Math.round((spec.days * 86_400) / spec.stepSeconds);
  const perDay = 86_400 / spec.stepSeconds;
  const start = spec.startMs ?? Date.UTC(2026, 0, 5);
  const values: number[] = [];
  for (let i = 0; i < n; i++) {
    const phase = (2 * Math.PI * (i % perDay)) / perDay;
    const seasonal = spec.level * spec.seasonalAmplitude * (Math.sin(phase) + 0.3 * Math.sin(2 * phase + 1));
    const trend = ((spec.trendPerDay ?? 0) * i) / perDay;
    const burst = random() < (spec.burstShare ?? 0) ? 3 : 1;
    values.push(spec.level + seasonal + trend + spec.noise * burst * gaussian(random));
  }
  const incidents: LabelledSeries['incidents'] = [];
  // Incidents only after two days, and spaced so that windows do not overlap.
  const slots = spec.spikes + spec.levelShifts + spec.dropouts;
  const firstSlot = Math.ceil(2.2 * perDay);
  const slotLength = Math.floor((n - firstSlot) / Math.max(1, slots));
  const kinds: Array<'spike' | 'level_shift' | 'dropout'> = [
    ...Array<'spike'>(spec.spikes).fill('spike'),
    ...Array<'level_shift'>(spec.levelShifts).fill('level_shift'),
    ...Array<'dropout'>(spec.dropouts).fill('dropout'),
  ];
  // Shuffle kinds deterministically.
  for (let i = kinds.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [kinds[i], kinds[j]] = [kinds[j]!, kinds[i]!];
  }
  kinds.forEach((kind, slot) => {
    const at = firstSlot + slot * slotLength + Math.floor(slotLength * (0.2 + 0.5 * random()));
    const tolerance = Math.max(3, Math.round(perDay / 96)); // 15 minutes of samples
    if (kind === 'spike') {
      const sign = random() < 0.5 ? -1 : 1;
      values[at] = values[at]! + sign * spec.noise * (8 + 6 * random());
      incidents.push({ kind, start: at, end: at + tolerance });
    } else if (kind === 'level_shift') {
      const shift = (random() < 0.5 ? -1 : 1) * Math.max(spec.noise * 8, spec.level * 0.3);
      for (let i = at; i < n; i++) values[i] = values[i]! + shift;
      incidents.push({ kind, start: at, end: at + tolerance });
    } else {
      const length = Math.max(6, Math.round(perDay / 24));
      for (let i = at; i < Math.min(n, at + length); i++) values[i] = 0;
      incidents.push({ kind, start: at, end: at + tolerance });
    }
  });
  return {
    name: spec.name,
    points: values.map((value, i) => ({ timestamp: start + i * spec.stepSeconds * 1000, value })),
    incidents,
  };
}

export interface Evaluation {
  truePositives: number;
  falsePositives: number;
  detected: number;
  incidents: number;
  precision: number;
  recall: number;
}

/** Precision over flagged points (a flag inside an incident's range is a true positive), recall over incidents. */
export function evaluate(flags: boolean[], incidents: LabelledSeries['incidents']): Evaluation {
  let truePositives = 0;
  let falsePositives = 0;
  const hit = new Set<number>();
  flags.forEach((flag, i) => {
    if (!flag) return;
    const incident = incidents.findIndex((inc) => i >= inc.start && i <= inc.end);
    if (incident >= 0) {
      truePositives++;
      hit.add(incident);
    } else falsePositives++;
  });
  const flagged = truePositives + falsePositives;
  return {
    truePositives,
    falsePositives,
    detected: hit.size,
    incidents: incidents.length,
    precision: flagged === 0 ? 1 : truePositives / flagged,
    recall: incidents.length === 0 ? 1 : hit.size / incidents.length,
  };
}
