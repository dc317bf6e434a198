/**
 * The NAB scorer behind `npm run bench -- anomalies`, on a stream small enough
 * to score by hand: 20 points one minute apart, one window over points 10–13,
 * probation floor(0.15 × 20) = 3 points.
 */
import { describe, expect, it } from 'vitest';
import { normalise, PROFILES, prepareStream, scaledSigmoid, scoreStream } from '../../../bench/_nab-score.ts';

const minute = 60_000;
const times = Array.from({ length: 20 }, (_, i) => i * minute);
const stream = prepareStream(times, [[10 * minute, 13 * minute]]);
const standard = PROFILES.find((p) => p.name === 'standard')!;
const detections = (...at: number[]) => times.map((_, i) => (at.includes(i) ? 0.9 : 0.1));

describe('NAB scorer', () => {
  it('weights a detection by where it falls: early in the window most, in full before the first window, less just after one', () => {
    expect(stream.from).toBe(3);
    // In the window: position −(13 − i + 1) / 4.
    expect(stream.sweep[10]).toBeCloseTo(2 / (1 + Math.exp(-5)) - 1, 12);
    expect(stream.sweep[11]).toBeCloseTo(2 / (1 + Math.exp(-3.75)) - 1, 12);
    expect(Array.from(stream.window.slice(9, 15))).toEqual([-1, 0, 0, 0, 0, -1]);
    expect(stream.sweep[5]).toBe(-1);
    // After the window: position |13 − i| / (4 − 1); from 3 window lengths on, −1.
    expect(stream.sweep[15]).toBeCloseTo(2 / (1 + Math.exp(5 * (2 / 3))) - 1, 12);
    expect(scaledSigmoid(3.01)).toBe(-1);
  });

  it('counts the earliest detection of a window once, charges false positives and ignores the probation period', () => {
    const s = scoreStream(stream, detections(1, 5, 11, 12, 15), 0.5, standard);
    expect(s).toEqual({ raw: expect.any(Number), found: 1, missed: 0, falsePositives: 2 });
    expect(s.raw).toBeCloseTo((2 / (1 + Math.exp(-3.75)) - 1) - 0.11 + 0.11 * (2 / (1 + Math.exp(10 / 3)) - 1), 12);
    expect(scoreStream(stream, detections(5), 0.5, standard)).toEqual({ raw: -1 - 0.11, found: 0, missed: 1, falsePositives: 1 });
    const lowFn = PROFILES.find((p) => p.name === 'reward_low_fn')!;
    expect(scoreStream(stream, detections(), 0.5, lowFn).raw).toBe(-2);
  });

  it('normalises so that detecting nothing is 0 and every window at its first point is 100', () => {
    expect(normalise(-116, 116, standard)).toBe(0);
    expect(normalise(116 * scaledSigmoid(-1), 116, standard)).toBeCloseTo(100, 12);
    const perfect = scoreStream(stream, detections(10), 0.5, standard);
    expect(normalise(perfect.raw, 1, standard)).toBeCloseTo(100, 12);
  });
});
