/**
 * The admin pages' number formatting (src/admin/client/format.ts): small
 * magnitudes keep three significant digits instead of rounding to "0", exact
 * zero stays "0", and a deviation past 1000σ is shown as a bound.
 */
import { describe, expect, it } from 'vitest';
import { bytesPerSecond, byUnit, deviation, elapsed, ms, num, percent, perSecond, share } from '../../../src/admin/client/format.ts';

describe('num', () => {
  it('keeps three significant digits below 1', () => {
    expect(num(0.0046)).toBe('0.0046');
    expect(num(0.12345)).toBe('0.123');
    expect(num(0.5)).toBe('0.5');
    expect(num(-0.001234)).toBe('-0.00123');
    expect(num(0.000012345)).toBe('0.0000123');
    expect(num(1e-25)).toBe('0.0000000000000000000000001');
    expect(num(0.99996)).toBe('1');
  });

  it('keeps the decimals a caller asks for when they show more', () => {
    expect(num(0.12345, 4)).toBe('0.1235');
    expect(num(0.00012345, 4)).toBe('0.000123');
  });

  it('shows exact zero as 0 and larger values as before', () => {
    expect(num(0)).toBe('0');
    expect(num(1.2345)).toBe('1.23');
    expect(num(123.45)).toBe('123.5');
    expect(num(1234.5)).toBe('1,235');
    expect(num(Number.NaN)).toBe('–');
    expect(num(null)).toBe('–');
  });
});

describe('rates', () => {
  it('does not round a small rate to 0/s', () => {
    expect(perSecond(0.0046)).toBe('0.0046/s');
    expect(perSecond(0)).toBe('0/s');
    expect(perSecond(0.4)).toBe('0.4/s');
    expect(byUnit('{message}/s', 0.00123456)).toBe('0.00123/s');
    expect(bytesPerSecond(0.25)).toBe('0.25 B/s');
    expect(ms(0.0123)).toBe('0.0123 ms');
  });
});

describe('deviation', () => {
  it('shows a robust z with its sign, and caps it at 1000σ', () => {
    expect(deviation(8.44)).toBe('+8.4σ');
    expect(deviation(-4.2)).toBe('-4.2σ');
    expect(deviation(0)).toBe('+0σ');
    expect(deviation(1000)).toBe('+1,000σ');
    expect(deviation(10_000_000_000)).toBe('> +1,000σ');
    expect(deviation(-2e9)).toBe('< -1,000σ');
  });
});

describe('durations', () => {
  it('rounds milliseconds before choosing the unit', () => {
    expect(ms(38.8889)).toBe('38.9 ms');
    expect(ms(999.94)).toBe('999.9 ms');
    expect(ms(999.96)).toBe('1.00 s');
    expect(ms(9.996)).toBe('10 ms');
    expect(ms(99.96)).toBe('100 ms');
    expect(ms(1234)).toBe('1.23 s');
    expect(ms(9999)).toBe('10.0 s');
    expect(ms(12_345)).toBe('12.3 s');
    expect(ms(59_960)).toBe('1 min');
    expect(ms(-1500)).toBe('-1.50 s');
  });

  it('shows long spans in hours and days, not thousands of seconds', () => {
    expect(ms(83_000)).toBe('1 min 23 s');
    expect(ms(10_800_000)).toBe('3 h');
    expect(ms(5_184_000_000)).toBe('60 d');
    expect(elapsed(10_800_000)).toBe('3 h');
    expect(elapsed(5_194_800_000)).toBe('60 d 3 h');
    expect(elapsed(97_260_000)).toBe('1 d 3 h');
    expect(elapsed(3 * 3_600_000 + 59 * 60_000 + 40_000)).toBe('4 h');
    expect(elapsed(3_599_000)).toBe('59 min 59 s');
    expect(elapsed(59_400)).toBe('59 s');
    expect(elapsed(59_600)).toBe('1 min');
    expect(elapsed(0)).toBe('0 s');
    expect(elapsed(null)).toBe('–');
  });

  it('shows a share, keeping a small one visible', () => {
    expect(share(10_800 / 5_194_800)).toBe('0.21%');
    expect(share(60_000 / 780_000)).toBe('7.7%');
    expect(share(0)).toBe('0%');
    expect(share(0.000001)).toBe('< 0.01%');
    expect(share(1)).toBe('100.0%');
    expect(share(null)).toBe('–');
  });

  it('never rounds a share short of the whole up to 100%', () => {
    expect(percent(0.9996)).toBe('99.96%');
    expect(percent(0.99996)).toBe('99.996%');
    expect(percent(0.9999999)).toBe('> 99.99%');
    expect(percent(0.9994)).toBe('99.9%');
    expect(percent(1)).toBe('100.0%');
    expect(percent(0.98765, 2)).toBe('98.77%');
  });
});
