/** A range query's step: seconds as before, or a Prometheus duration; anything else a 400 that says which forms are meant. */
import { describe, expect, it } from 'vitest';
import { parseStepSeconds, stepQuery } from '../../../src/api/schemas/common.ts';

const NOT_A_STEP = (text: string) => `must be seconds (e.g. 300) or a Prometheus duration (e.g. 30s, 5m, 1h, 1h30m), not "${text}"`;

describe('step', () => {
  it.each([
    ['300', 300],
    ['1.5', 1.5],
    ['30s', 30],
    ['5m', 300],
    ['1h', 3_600],
    ['1h30m', 5_400],
    ['1d', 86_400],
    ['1s500ms', 1.5],
    [' 15s ', 15],
  ])('reads %j as %d s', (text, seconds) => {
    expect(stepQuery.parse(text)).toBe(seconds);
  });

  it.each(['', 'm', '5 minutes', '1h 30m', '30m1h', '5M', '-5', 'PT5M'])('refuses %j, naming the accepted forms', (text) => {
    expect(parseStepSeconds(text.trim())).toBeUndefined();
    expect(stepQuery.safeParse(text).error?.issues.map((i) => i.message)).toEqual([NOT_A_STEP(text.trim())]);
  });

  it.each([
    ['0', 'must be at least 1 s'],
    ['500ms', 'must be at least 1 s'],
    ['2d', 'must be at most 86400 s (1d)'],
    ['86401', 'must be at most 86400 s (1d)'],
  ])('refuses %j out of 1 s..1 d', (text, message) => {
    expect(stepQuery.safeParse(text).error?.issues.map((i) => i.message)).toEqual([message]);
  });
});
