/**
 * `client.address` behind trusted proxies: the address a trusted proxy
 * appended to X-Forwarded-For, counted from the right, never the client's own
 * leftmost entries.
 */
import { describe, expect, it } from 'vitest';
import { clientAddress, trustedHops } from '../../../src/instrumentation/forwarded.ts';

describe('trustProxy', () => {
  it('is a hop count: false 0, true 1, or a non-negative integer', () => {
    expect([trustedHops(undefined), trustedHops(false), trustedHops(true), trustedHops(0), trustedHops(3)]).toEqual([0, 0, 1, 0, 3]);
    for (const bad of [-1, 1.5, Number.NaN, Infinity, '1', 'loopback']) {
      expect(() => trustedHops(bad), String(bad)).toThrow(`trustProxy must be a boolean or an integer >= 0 (trusted proxy hops), got ${String(bad)}`);
    }
  });
});

describe('client address from X-Forwarded-For', () => {
  const peer = '10.0.0.2';
  it('with one trusted proxy is the entry that proxy appended (the rightmost), not the one the client wrote', () => {
    expect(clientAddress(peer, '6.6.6.6, 203.0.113.7', 1)).toBe('203.0.113.7');
    expect(clientAddress(peer, '203.0.113.7', 1)).toBe('203.0.113.7');
  });

  it('with N trusted proxies is the entry N hops away, the TCP peer being hop 0', () => {
    // client (spoofing 6.6.6.6) -> proxy A appends 203.0.113.7 -> proxy B appends A's 10.0.0.1 -> us, peer B.
    const header = '6.6.6.6, 203.0.113.7, 10.0.0.1';
    expect(clientAddress(peer, header, 2)).toBe('203.0.113.7');
    expect(clientAddress(peer, header, 1)).toBe('10.0.0.1');
    // More trusted hops than entries: the leftmost entry, the furthest address known.
    expect(clientAddress(peer, '203.0.113.7, 10.0.0.1', 5)).toBe('203.0.113.7');
  });

  it('is the TCP peer with no trusted proxy or no header, and skips empty entries', () => {
    expect(clientAddress(peer, '6.6.6.6', 0)).toBe(peer);
    expect(clientAddress(peer, undefined, 1)).toBe(peer);
    expect(clientAddress(peer, ' , ', 1)).toBe(peer);
    expect(clientAddress(peer, '203.0.113.7, ,10.0.0.1 ', 2)).toBe('203.0.113.7');
    // Repeated headers are one list, in order.
    expect(clientAddress(peer, ['6.6.6.6', '203.0.113.7'], 1)).toBe('203.0.113.7');
  });
});
