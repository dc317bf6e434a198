/**
 * The admin pages' number formatting (src/admin/client/format.ts): small
 * magnitudes keep three significant digits instead of rounding to "0", exact
 * zero stays "0", and a deviation past 1000σ is shown as a bound.
 */
import { describe, expect, it } from 'vitest';
import { bytesPerSecond, byUnit, deviation, ms, num, perSecond } from '../../../src/admin/client/format.ts';

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
