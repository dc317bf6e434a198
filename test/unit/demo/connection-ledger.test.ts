/**
 * How the demo's synthetic clients count connected and outage time, drops
 * and attempts per report window (ConnectionLedger in
 * src/demo/synthetic-clients.ts): each stretch of time in the window it
 * falls in, once; a drop only for a connection that had opened.
 */
import { describe, expect, it } from 'vitest';
import { ConnectionLedger } from '../../../src/demo/synthetic-clients.ts';

const counts = (w: ReturnType<ConnectionLedger['take']>) => ({
  start: w.start,
  attempts: w.attempts,
  opens: w.opens,
  drops: w.drops,
  reconnectAttempts: w.reconnectAttempts,
  reconnectSuccesses: w.reconnectSuccesses,
  connectedMs: w.connectedMs,
  outageMs: w.outageMs,
  closeCodes: w.closeCodes,
});

describe('ConnectionLedger', () => {
  it('charges a connection spanning windows to each window once, and an outage from the drop to the next open', () => {
    const ledger = new ConnectionLedger(0);
    ledger.attempt();
    ledger.opened(1_000);
    // The first report: open since 1 s.
    expect(counts(ledger.take(15_000))).toEqual({ start: 0, attempts: 1, opens: 1, drops: 0, reconnectAttempts: 0, reconnectSuccesses: 0, connectedMs: 14_000, outageMs: 0, closeCodes: {} });

    // Dropped at 20 s: 5 s in this window (not 19 s again); a retry at 21 s fails before opening.
    expect(ledger.closed(20_000, 1006, true)).toBe('drop');
    ledger.attempt();
    expect(ledger.closed(21_500, 1006, true)).toBe('failed');
    expect(counts(ledger.take(30_000))).toEqual({
      start: 15_000,
      attempts: 1,
      opens: 0,
      drops: 1,
      reconnectAttempts: 1,
      reconnectSuccesses: 0,
      connectedMs: 5_000,
      outageMs: 10_000,
      closeCodes: { '1006': 1 },
    });

    // Back at 32 s: the outage's last 2 s are this window's.
    ledger.attempt();
    ledger.opened(32_000);
    expect(counts(ledger.take(45_000))).toEqual({
      start: 30_000,
      attempts: 1,
      opens: 1,
      drops: 0,
      reconnectAttempts: 1,
      reconnectSuccesses: 1,
      connectedMs: 13_000,
      outageMs: 2_000,
      closeCodes: {},
    });
  });

  it('counts no drop, no time and no close code for attempts that never opened', () => {
    const ledger = new ConnectionLedger(0);
    for (const at of [100, 700, 1_900]) {
      ledger.attempt();
      expect(ledger.closed(at, 1006, true)).toBe('failed');
    }
    expect(counts(ledger.take(15_000))).toEqual({ start: 0, attempts: 3, opens: 0, drops: 0, reconnectAttempts: 0, reconnectSuccesses: 0, connectedMs: 0, outageMs: 0, closeCodes: {} });
  });

  it('tells authentication and clean closes from drops, and starts no outage when the client stops', () => {
    const ledger = new ConnectionLedger(0);
    ledger.attempt();
    ledger.opened(100);
    expect(ledger.closed(150, 4401, true)).toBe('auth');
    ledger.attempt();
    ledger.opened(1_150);
    expect(ledger.closed(2_150, 1000, false)).toBe('clean');
    expect(counts(ledger.take(10_000))).toEqual({
      start: 0,
      attempts: 2,
      opens: 2,
      drops: 0,
      reconnectAttempts: 1,
      reconnectSuccesses: 1,
      connectedMs: 1_050,
      outageMs: 1_000,
      closeCodes: { '4401': 1, '1000': 1 },
    });
    expect(counts(ledger.take(20_000))).toMatchObject({ connectedMs: 0, outageMs: 0 });
  });
});
