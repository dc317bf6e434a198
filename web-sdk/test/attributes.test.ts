import { describe, expect, it } from 'vitest';
import { CLOSE_CODE_CLASSES, closeCodeClass, readNetwork } from '../src/attributes.ts';
import { byteLength, utf8Length } from '../src/byte-length.ts';

describe('closeCodeClass', () => {
  it('folds codes into the bounded classes', () => {
    expect([1000, 1001, 1002, 1005, 1006, 1008, 1009, 1011, 1013, 1015, 3001, 4000, 4999, 999, 2000, 5000].map(closeCodeClass)).toEqual([
      'normal',
      'going_away',
      'protocol_error',
      'no_status',
      'abnormal',
      'policy_violation',
      'message_too_big',
      'internal_error',
      'unavailable',
      'abnormal',
      'registered',
      'application',
      'application',
      '_OTHER',
      '_OTHER',
      '_OTHER',
    ]);
  });

  it('returns exactly the listed classes (the server SDK sizes its counters by the list)', () => {
    const seen = new Set<string>();
    for (let code = 0; code <= 5100; code++) seen.add(closeCodeClass(code));
    expect([...seen].sort()).toEqual([...CLOSE_CODE_CLASSES].sort());
  });
});

describe('readNetwork', () => {
  it('maps the Network Information API to bounded values', () => {
    const connection = (fields: object) => Object.assign(new EventTarget(), fields);
    expect(readNetwork(connection({ type: 'cellular', effectiveType: '3g', rtt: 300, downlink: 1.5 }))).toEqual({
      type: 'cell',
      effectiveType: '3g',
      rttMs: 300,
      downlinkMbps: 1.5,
    });
    expect(readNetwork(connection({ type: 'ethernet', effectiveType: '5g' }))).toEqual({ type: 'wired', effectiveType: 'unknown' });
    expect(readNetwork(connection({ type: 'bluetooth' }))).toEqual({ type: 'unknown', effectiveType: 'unknown' });
    expect(readNetwork(undefined)).toEqual({ type: 'unknown', effectiveType: 'unknown' });
  });
});

describe('byteLength', () => {
  it('counts UTF-8 bytes of text without encoding it', () => {
    for (const text of ['', 'ascii', 'é', '€', '😀', 'a😀b€é', '\ud800', 'x\udc00y']) {
      expect(utf8Length(text), JSON.stringify(text)).toBe(new TextEncoder().encode(text).length);
    }
  });

  it('measures binary payloads', () => {
    expect(byteLength(new ArrayBuffer(7))).toBe(7);
    expect(byteLength(new Uint16Array(4))).toBe(8);
    expect(byteLength(new Blob(['abc']))).toBe(3);
    expect(byteLength(42)).toBe(0);
  });
});
