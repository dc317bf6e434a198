import { describe, expect, it } from 'vitest';
import { closeCodeClass, readNetwork } from '../src/attributes.ts';
import { closeCodeClass as serverCloseCodeClass } from '../../src/instrumentation/close-codes.ts';
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

  it('agrees with the server SDK for every code, so client and server series line up', () => {
    for (let code = 0; code <= 5100; code++) expect(closeCodeClass(code), `code ${code}`).toBe(serverCloseCodeClass(code));
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
