import { afterEach, describe, expect, it } from 'vitest';
import { checkGates, runLoadTest, type LoadProgress } from '../../../src/loadtest/index.ts';
import { ECHO_LATENCY } from '../../../src/loadtest/bucket-counts.ts';
import { startWsServer, type TestWsServer } from './servers.ts';

// HDR histograms keep 3 significant digits: a recorded value can read back up to 0.1 % lower.
const PRECISION = 0.001;

let server: TestWsServer | null = null;
afterEach(async () => {
  await server?.close();
  server = null;
});

describe('load engine against real ws servers', () => {
  it('counts every message exactly against an echo server and spreads connections over the workers', async () => {
    server = await startWsServer({ kind: 'echo' });
    const progress: LoadProgress[] = [];
    const report = await runLoadTest(
      { url: server.url, connections: 20, rampUpS: 0.2, warmupS: 0.3, durationS: 1, rate: 10, workers: 2 },
      { onProgress: (p) => progress.push(p), progressIntervalMs: 200 },
    );
    expect(report.aborted).toBe(false);
    expect(report.connections).toEqual({ target: 20, opened: 20, failed: 0, dropped: 0, abandoned: 0, peak_open: 20 });
    expect(report.messages).toEqual({ planned: 200, sent: 200, received: 200, matched: 200, lost: 0, skipped: 0, unsent: 0, in_flight: 0, per_second: 200 });
    expect(report.latency_ms.count).toBe(200);
    expect(report.latency_ms.lower_bounds).toBe(0);
    expect(report.connect_ms.count).toBe(20);
    expect(report.open_delay_ms.count).toBe(20);
    expect(report.errors).toEqual({});
    expect(report.close_codes).toEqual({ '1000': 20 });
    expect([report.connection_error_rate, report.message_error_rate, report.error_rate]).toEqual([0, 0, 0]);
    expect(report.duration_s).toBe(1);
    expect(report.workers).toEqual([
      { worker: 0, connections: 10, opened: 10, failed: 0 },
      { worker: 1, connections: 10, opened: 10, failed: 0 },
    ]);
    // The default template's payload filler is counted in the bytes sent.
    const withPayload = await runLoadTest({ url: server.url, connections: 2, durationS: 0.5, rate: 10, payloadBytes: 100, workers: 1 });
    expect(withPayload.messages.matched).toBe(10);
    expect(withPayload.bytes.sent).toBeGreaterThanOrEqual(10 * 100);
    expect(withPayload.bytes.received).toBe(withPayload.bytes.sent);
    expect(progress.map((p) => p.phase)).toContain('measure');
    expect(Math.max(...progress.map((p) => p.open))).toBe(20);
    // The exported histograms' counts: both workers, warm-up excluded, like the report.
    const { latency, handshake } = progress.at(-1)!.buckets;
    expect(latency.count).toBe(200);
    expect(latency.counts.reduce((a, n) => a + n, 0)).toBe(200);
    expect(handshake.count).toBe(20);
    expect(handshake.counts.reduce((a, n) => a + n, 0)).toBe(20);
  });

  it('measures latency no lower than the delay a server adds', async () => {
    server = await startWsServer({ kind: 'delay', ms: 40 });
    let last: LoadProgress | undefined;
    const report = await runLoadTest({ url: server.url, connections: 5, durationS: 1, rate: 10, workers: 1 }, { onProgress: (p) => (last = p) });
    expect(report.messages).toMatchObject({ sent: 50, matched: 50, lost: 0 });
    expect(report.latency_ms.count).toBe(50);
    // None in the buckets up to 25 ms.
    expect(last!.buckets.latency.counts.slice(0, ECHO_LATENCY.boundariesS.indexOf(0.025) + 1)).toEqual([0, 0, 0, 0, 0]);
    expect(last!.buckets.latency.count).toBe(50);
    for (const p of ['p50', 'p90', 'p95', 'p99', 'max'] as const) {
      expect(report.latency_ms[p]).toBeGreaterThanOrEqual(40 * (1 - PRECISION));
    }
  });

  it('counts what a dropping server never echoes as lost, exactly, and times the lost ones up to the drain timeout', async () => {
    server = await startWsServer({ kind: 'drop', dropEvery: 5 });
    // No ramp-up and no warm-up: every message of a connection is measured, so the server's count is ours.
    const report = await runLoadTest({ url: server.url, connections: 6, durationS: 1, rate: 20, workers: 2, drainTimeoutMs: 300 });
    expect(report.messages).toEqual({ planned: 120, sent: 120, received: 96, matched: 96, lost: 24, skipped: 0, unsent: 0, in_flight: 0, per_second: 96 });
    expect(report.message_error_rate).toBe(24 / 120);
    expect(report.connection_error_rate).toBe(0);
    // The 24 lost are in the histogram, each at least the 300 ms drain timeout (all were sent
    // before the window ended, and given up on when the drain ended): 20 % of it, so p90 shows them.
    expect(report.latency_ms.count).toBe(120);
    expect(report.latency_ms.lower_bounds).toBe(24);
    expect(report.latency_ms.p90).toBeGreaterThanOrEqual(300 * (1 - PRECISION));
  });

  it('charges a server that answers and then hangs in the percentiles, not only in the lost count', async () => {
    // Echoes the first 4 of each connection's 20 messages, then never answers: the rest were
    // invisible to the percentiles (p95 a few ms) and a --max-p95 50 gate passed.
    server = await startWsServer({ kind: 'hang', afterMessages: 4 });
    const report = await runLoadTest({ url: server.url, connections: 3, durationS: 1, rate: 20, workers: 1, drainTimeoutMs: 200 });
    expect(report.messages).toEqual({ planned: 60, sent: 60, received: 12, matched: 12, lost: 48, skipped: 0, unsent: 0, in_flight: 0, per_second: 12 });
    expect(report.latency_ms.count).toBe(60);
    expect(report.latency_ms.lower_bounds).toBe(48);
    for (const p of ['p50', 'p90', 'p95', 'p99', 'max'] as const) {
      expect(report.latency_ms[p]).toBeGreaterThanOrEqual(200 * (1 - PRECISION));
    }
    expect(checkGates(report, { maxP95Ms: 50 })).toEqual([
      `p95 latency ${report.latency_ms.p95} ms (48 lost messages counted at the time they were given up on) exceeds --max-p95 50 ms`,
    ]);
  });

  it('accounts for sends skipped because the server stopped reading', async () => {
    // 2 MB messages to a server that never reads: once 8 MB wait on the socket, sends are skipped.
    server = await startWsServer({ kind: 'unread' });
    const payloadBytes = 2 * 1024 * 1024;
    const echoed = await runLoadTest({ url: server.url, connections: 1, durationS: 1, rate: 20, payloadBytes, workers: 1, drainTimeoutMs: 100 });
    const { sent, skipped, lost, matched } = echoed.messages;
    expect(sent).toBe(20);
    expect(skipped).toBeGreaterThan(0);
    expect(echoed.errors['send:backpressure']).toBe(skipped);
    // Skipped sends are lost, and timed like the rest of the lost: none escapes the percentiles.
    expect({ matched, lost }).toEqual({ matched: 0, lost: 20 });
    expect(echoed.latency_ms).toMatchObject({ count: 20, lower_bounds: 20 });
    expect(echoed.message_error_rate).toBe(1);

    // Without echoes nothing is lost, but a skipped send still never reached the server.
    const silent = await runLoadTest({
      url: server.url,
      connections: 1,
      durationS: 1,
      rate: 20,
      payloadBytes,
      workers: 1,
      drainTimeoutMs: 100,
      expectEcho: false,
    });
    expect(silent.messages.lost).toBe(0);
    expect(silent.messages.skipped).toBeGreaterThan(0);
    expect(silent.message_error_rate).toBe(silent.messages.skipped / 20);
  });

  it('reports refused connections in their own rate, undiluted by the messages of the others', async () => {
    server = await startWsServer({ kind: 'echo' }, { refuseEvery: 2 });
    const report = await runLoadTest({ url: server.url, connections: 4, durationS: 1, rate: 10, workers: 1 });
    expect(report.connections).toMatchObject({ target: 4, opened: 2, failed: 2, dropped: 0 });
    expect(report.errors).toEqual({ 'connect:http-503': 2 });
    expect(report.messages).toMatchObject({ sent: 20, matched: 20, lost: 0 });
    // The old single rate was 2 / (4 + 20), 8 %.
    expect([report.connection_error_rate, report.message_error_rate, report.error_rate]).toEqual([0.5, 0, 0.5]);
  });

  it('keeps sending on schedule while the server stalls, and charges the stall to every message it delayed', async () => {
    server = await startWsServer({ kind: 'echo' });
    const stallMs = 1_000;
    let stalled = false;
    const report = await runLoadTest(
      { url: server.url, connections: 10, rampUpS: 0.2, warmupS: 0.2, durationS: 2.5, rate: 20, workers: 1 },
      {
        progressIntervalMs: 100,
        onProgress: (p) => {
          if (p.phase === 'measure' && !stalled) {
            stalled = true;
            server?.stall(stallMs);
          }
        },
      },
    );
    expect(stalled).toBe(true);
    // The sender did not wait for the stalled server: every scheduled message went out and came back.
    expect(report.messages).toMatchObject({ sent: 500, matched: 500, lost: 0 });
    // Messages meant for the first half of the stall waited at least half of it. Per connection
    // that is >= 20 msg/s * 0.5 s - 1 = 9 of 50 (18 %), so p90 sits above 500 ms. A closed-loop
    // tool would have recorded one slow message per connection (2 %) and a p90 of about 1 ms.
    expect(report.latency_ms.p90).toBeGreaterThanOrEqual((stallMs / 2) * (1 - PRECISION));
    expect(report.latency_ms.max).toBeGreaterThanOrEqual(stallMs * 0.9);
  });

  it('counts received messages separately for a server that does not echo', async () => {
    server = await startWsServer({ kind: 'silent' });
    const report = await runLoadTest({ url: server.url, connections: 4, durationS: 0.5, rate: 10, expectEcho: false, workers: 1 });
    expect(report.messages).toEqual({ planned: 20, sent: 20, received: 0, matched: 0, lost: 0, skipped: 0, unsent: 0, in_flight: 0, per_second: 0 });
    expect(report.latency_ms.count).toBe(0);
    expect(report.error_rate).toBe(0);
    expect(checkGates(report, {})).toEqual([]);
  });

  it('classifies refused handshakes and connections the server closes', async () => {
    server = await startWsServer({ kind: 'echo' }, { token: 's3cret' });
    const refused = await runLoadTest({ url: server.url, connections: 4, durationS: 0.2, rate: 0, workers: 2 });
    expect(refused.connections).toMatchObject({ target: 4, opened: 0, failed: 4 });
    expect(refused.errors).toEqual({ 'connect:http-401': 4 });
    // A refused handshake exchanged no close frame: it is a connect error, not a close code (ws calls it 1006).
    expect(refused.close_codes).toEqual({});
    const allowed = await runLoadTest({ url: server.url, connections: 4, durationS: 0.2, rate: 0, token: 's3cret', workers: 2 });
    expect(allowed.connections).toMatchObject({ opened: 4, failed: 0 });
    await server.close();

    server = await startWsServer({ kind: 'close', code: 1011, afterMessages: 3 });
    const dropped = await runLoadTest({ url: server.url, connections: 3, durationS: 1, rate: 10, workers: 1, drainTimeoutMs: 200 });
    expect(dropped.connections).toMatchObject({ opened: 3, failed: 0, dropped: 3 });
    expect(dropped.errors).toEqual({ 'dropped:1011': 3 });
    expect(dropped.close_codes).toEqual({ '1011': 3 });
    expect(dropped.messages.matched).toBe(9);
    expect(dropped.messages.sent).toBe(dropped.messages.matched + dropped.messages.lost);
  });

  it('counts the slots a dropped connection still had in the window as sent, lost and timed, so the gates fail', async () => {
    // The server closes each connection after echoing 3 messages, 0.3 s into a 1 s window at
    // 10/s: slots 3..9 of each connection were due and never sent (there is no reconnect). They
    // used to vanish: sent 6, lost 0, a p95 of a millisecond, and every latency gate passed.
    // One connection per worker, so each window starts as its connection opens (no warm-up send).
    server = await startWsServer({ kind: 'close', code: 1011, afterMessages: 3 });
    const report = await runLoadTest({ url: server.url, connections: 2, durationS: 1, rate: 10, workers: 2, drainTimeoutMs: 200 });
    expect(report.connections).toEqual({ target: 2, opened: 2, failed: 0, dropped: 2, abandoned: 0, peak_open: 2 });
    expect(report.messages).toEqual({ planned: 20, sent: 20, received: 6, matched: 6, lost: 14, skipped: 0, unsent: 14, in_flight: 0, per_second: 6 });
    expect(report.latency_ms).toMatchObject({ count: 20, lower_bounds: 14 });
    // Only messages actually written have a send lag.
    expect(report.send_lag_ms.count).toBe(6);
    // Each lost slot k of connection c (offset c/2 periods) is timed from when it was due,
    // (k + c/2) x 100 ms into the window, to the end of the run, at least the 1000 ms window:
    // >= 700, 600, ..., 100 ms and 650, 550, ..., 50 ms. Of the 20 values, p50 (the 10th)
    // is the 4th smallest of those, >= 200 ms, and p90 (the 18th) the 3rd largest, >= 600 ms.
    expect(report.latency_ms.p50).toBeGreaterThanOrEqual(200 * (1 - PRECISION));
    expect(report.latency_ms.p90).toBeGreaterThanOrEqual(600 * (1 - PRECISION));
    expect(report.message_error_rate).toBe(14 / 20);
    expect(checkGates(report, { maxP95Ms: 50, maxErrorRate: 0.05 })).toEqual([
      `p95 latency ${report.latency_ms.p95} ms (14 lost messages counted at the time they were given up on) exceeds --max-p95 50 ms`,
      'connection error rate 100.00 % (2 of 2 connections failed or dropped) exceeds --max-error-rate 5.00 %',
      'message error rate 70.00 % (14 of 20 messages lost) exceeds --max-error-rate 5.00 %',
    ]);

    // Without echoes nothing is lost, so the slots after a drop stay out of sent; planned shows them.
    const silent = await runLoadTest({ url: server.url, connections: 2, durationS: 1, rate: 10, workers: 2, expectEcho: false });
    expect(silent.messages).toMatchObject({ planned: 20, sent: 6, lost: 0, unsent: 0 });
    expect(silent.connections).toMatchObject({ opened: 2, dropped: 2 });
  });

  it('counts a connection dropped before the window starts as losing all its measured slots', async () => {
    // 0.5 s of warm-up at 10/s: the server closes each connection after its 2nd message, in the
    // warm-up, so all 10 slots of each connection in the 1 s window are lost.
    server = await startWsServer({ kind: 'close', code: 1011, afterMessages: 2 });
    const report = await runLoadTest({ url: server.url, connections: 3, warmupS: 0.5, durationS: 1, rate: 10, workers: 1, drainTimeoutMs: 100 });
    expect(report.connections).toMatchObject({ opened: 3, dropped: 3 });
    expect(report.messages).toMatchObject({ planned: 30, sent: 30, matched: 0, lost: 30, unsent: 30 });
    expect(report.latency_ms).toMatchObject({ count: 30, lower_bounds: 30 });
    expect(report.send_lag_ms.count).toBe(0);
  });

  it('reports the exact peak of open connections, even when they were open for less than a progress interval', async () => {
    // Every connection is dropped after 2 messages at 20/s, about 0.1 s after it opened: the
    // 250 ms progress samples the peak was read from saw few or none of them open (peak 0 to 9).
    server = await startWsServer({ kind: 'close', code: 1011, afterMessages: 2 });
    const report = await runLoadTest({ url: server.url, connections: 10, durationS: 0.5, rate: 20, workers: 2, drainTimeoutMs: 100 });
    expect(report.connections).toMatchObject({ target: 10, opened: 10, dropped: 10, peak_open: 10 });
  });

  it('reports the send lag of every measured message, never more than the latency it is part of', async () => {
    server = await startWsServer({ kind: 'echo' });
    const report = await runLoadTest({ url: server.url, connections: 5, durationS: 1, rate: 20, workers: 1 });
    expect(report.messages).toMatchObject({ planned: 100, sent: 100, matched: 100, lost: 0 });
    expect(report.send_lag_ms.count).toBe(100);
    // Each message's latency runs from the same intended time as its send lag, to its echo after
    // the send: each percentile of latency is at least that of the send lag (within HDR precision).
    for (const p of ['p50', 'p90', 'p95', 'p99', 'max'] as const) {
      expect(report.latency_ms[p]).toBeGreaterThanOrEqual(report.send_lag_ms[p] * (1 - 2 * PRECISION));
    }
  });

  it('follows stages up to the peak and reports refused connections when nothing listens', async () => {
    server = await startWsServer({ kind: 'echo' });
    const staged = await runLoadTest({
      url: server.url,
      stages: [
        { connections: 3, rampUpS: 0, holdS: 0.3 },
        { connections: 7, rampUpS: 0.2, holdS: 0.3 },
      ],
      rate: 0,
      workers: 2,
    });
    expect(staged.connections).toEqual({ target: 7, opened: 7, failed: 0, dropped: 0, abandoned: 0, peak_open: 7 });
    expect(server.accepted()).toBe(7);
    const url = server.url;
    await server.close();
    server = null;
    const nobody = await runLoadTest({ url, connections: 3, durationS: 0.2, rate: 1, workers: 1 });
    expect(nobody.connections).toMatchObject({ opened: 0, failed: 3 });
    expect(nobody.errors).toEqual({ 'connect:ECONNREFUSED': 3 });
    expect([nobody.connection_error_rate, nobody.error_rate]).toEqual([1, 1]);
    expect(checkGates(nobody, {})).toEqual(['no connection opened (3 of 3 failed: connect:ECONNREFUSED ×3)']);
  });

  it("plans a later stage's connections from their open, so a perfect server sends every planned message", async () => {
    server = await startWsServer({ kind: 'echo' });
    const report = await runLoadTest({
      url: server.url,
      stages: [
        { connections: 2, rampUpS: 0, holdS: 1 },
        { connections: 4, rampUpS: 0.5, holdS: 0.5 },
      ],
      rate: 10,
      workers: 1,
    });
    const { planned, sent, matched, lost, unsent } = report.messages;
    // Not every connection for the whole window (4 × 20 = 80): the two that open in the second stage send from then on.
    expect(planned).toBeLessThan(80);
    expect({ sent, matched, lost, unsent }).toEqual({ sent: planned, matched: planned, lost: 0, unsent: 0 });
  });

  it('lets handshakes still in flight at the end finish instead of counting them failed', async () => {
    server = await startWsServer({ kind: 'echo' }, { handshakeDelayMs: 400 });
    const report = await runLoadTest({ url: server.url, connections: 4, durationS: 0.1, rate: 0, workers: 1 });
    expect(report.connections).toEqual({ target: 4, opened: 4, failed: 0, dropped: 0, abandoned: 0, peak_open: 4 });
    expect(report.connect_ms.p50).toBeGreaterThanOrEqual(400 * (1 - PRECISION));
    expect(report.errors).toEqual({});
  });

  it('reports how long connections waited for a handshake slot (open delay), which connect time leaves out', async () => {
    // One handshake at a time, each answered after 100 ms: connection i opens no sooner than
    // (i + 1) x 100 ms after its intended open time, though each handshake takes about 100 ms.
    server = await startWsServer({ kind: 'echo' }, { handshakeDelayMs: 100 });
    const report = await runLoadTest({ url: server.url, connections: 4, durationS: 0.1, rate: 0, workers: 1, connectConcurrency: 1 });
    expect(report.connections).toMatchObject({ opened: 4, failed: 0 });
    expect(report.connect_ms.count).toBe(4);
    expect(report.open_delay_ms.count).toBe(4);
    // Sorted open delays are >= 100, 200, 300, 400 ms (timers may fire up to 1 ms early).
    expect(report.open_delay_ms.p50).toBeGreaterThanOrEqual(200 - 2);
    expect(report.open_delay_ms.max).toBeGreaterThanOrEqual(400 - 4);
    expect(report.connect_ms.p50).toBeGreaterThanOrEqual(100 - 1);
  });

  it('starts the measured window once the connections are open, so their handshakes are not charged to the messages', async () => {
    // Every handshake takes 500 ms and there is no warm-up: the window waits for the 4 opens
    // instead of sending each connection's first 10 slots late with the handshake in their latency.
    server = await startWsServer({ kind: 'echo' }, { handshakeDelayMs: 500 });
    const report = await runLoadTest({ url: server.url, connections: 4, durationS: 0.5, rate: 20, workers: 1 });
    expect(report.messages).toMatchObject({ sent: 40, received: 40, matched: 40, lost: 0 });
    expect(report.latency_ms.count).toBe(40);
    // The handshake shows where it belongs, in connect_ms ...
    expect(report.connect_ms.p50).toBeGreaterThanOrEqual(500 * (1 - PRECISION));
    // ... and in none of the echo latencies (a generous bound for a loopback echo; before, every one was >= 500 ms late).
    expect(report.latency_ms.max).toBeLessThan(500);

    // Opened one at a time (100 ms each): the first ones send and get echoes while the window
    // waits for the last. Those are warm-up, whenever their echo comes: counts stay exact.
    await server.close();
    server = await startWsServer({ kind: 'echo' }, { handshakeDelayMs: 100 });
    const staggered = await runLoadTest({ url: server.url, connections: 4, durationS: 0.5, rate: 20, workers: 1, connectConcurrency: 1 });
    expect(staggered.messages).toMatchObject({ sent: 40, received: 40, matched: 40, lost: 0 });
    expect(staggered.latency_ms).toMatchObject({ count: 40, lower_bounds: 0 });
  });

  it('counts the slots of a connection that opens after the measured window as sent and lost, and a window with nothing sent fails', async () => {
    // Stage 1: 1 connection; stage 2 adds 2 more 0.5 s into the 0.7 s window. Handshakes take
    // 400 ms, so the window starts when the first opens, and the stage-2 handshakes (started
    // 0.5 s into it) end 0.2 s after it: their slots 10..13 (4 each) were due and never sent.
    server = await startWsServer({ kind: 'echo' }, { handshakeDelayMs: 400 });
    const report = await runLoadTest({
      url: server.url,
      stages: [
        { connections: 1, rampUpS: 0, holdS: 0.5 },
        { connections: 3, rampUpS: 0, holdS: 0.2 },
      ],
      rate: 20,
      workers: 1,
    });
    expect(report.connections).toMatchObject({ target: 3, opened: 3, failed: 0 });
    expect(report.messages).toMatchObject({ sent: 22, received: 14, matched: 14, lost: 8, in_flight: 0 });
    expect(report.latency_ms).toMatchObject({ count: 22, lower_bounds: 8 });
    expect(checkGates(report, { maxErrorRate: 0 })).toEqual(['message error rate 36.36 % (8 of 22 messages lost) exceeds --max-error-rate 0.00 %']);
  });

  it('on abort reports the messages still awaiting their echo as in flight: not lost, not timed, and later echoes ignored', async () => {
    server = await startWsServer({ kind: 'delay', ms: 300 });
    const controller = new AbortController();
    const report = await runLoadTest(
      { url: server.url, connections: 2, durationS: 60, rate: 20, workers: 1 },
      {
        signal: controller.signal,
        progressIntervalMs: 100,
        onProgress: (p) => {
          if (p.phase === 'measure' && p.sent >= 4) controller.abort();
        },
      },
    );
    expect(report.aborted).toBe(true);
    const { sent, received, matched, lost, in_flight } = report.messages;
    expect(in_flight).toBeGreaterThan(0);
    expect(lost).toBe(0);
    expect(received).toBe(matched);
    expect(matched + lost + in_flight).toBe(sent);
    expect(report.latency_ms).toMatchObject({ count: matched, lower_bounds: 0 });
    expect(report.message_error_rate).toBe(0);
  });

  it('shows the traffic of ramp-up and warm-up in the progress rates, and no rate on the final sample', async () => {
    server = await startWsServer({ kind: 'echo' });
    const progress: LoadProgress[] = [];
    await runLoadTest(
      { url: server.url, connections: 4, warmupS: 0.6, durationS: 0.2, rate: 20, workers: 1 },
      { progressIntervalMs: 100, onProgress: (p) => progress.push(p) },
    );
    const warmup = progress.filter((p) => p.phase === 'warmup');
    expect(warmup.length).toBeGreaterThan(0);
    expect(warmup.some((p) => p.sentPerS! > 0 && p.receivedPerS! > 0)).toBe(true);
    // Nothing of the warm-up is in the measured counts.
    expect(warmup.every((p) => p.sent === 0)).toBe(true);
    expect(progress.at(-1)).toMatchObject({ phase: 'done', sentPerS: null, receivedPerS: null, sent: 16 });
  });

  it('stops early on abort and returns the partial report', async () => {
    server = await startWsServer({ kind: 'echo' });
    const controller = new AbortController();
    const report = await runLoadTest(
      { url: server.url, connections: 4, durationS: 60, rate: 5, workers: 1 },
      {
        signal: controller.signal,
        progressIntervalMs: 100,
        onProgress: (p) => {
          if (p.open === 4) controller.abort();
        },
      },
    );
    expect(report.aborted).toBe(true);
    expect(report.duration_s).toBeLessThan(60);
    expect(report.close_codes).toEqual({ '1001': 4 });
    expect(report.connections).toMatchObject({ opened: 4, failed: 0, abandoned: 0 });
  });

  it('does not count connections an abort stopped before they opened as failures', async () => {
    // One handshake at a time, each answered after 500 ms; aborted at the first progress report.
    server = await startWsServer({ kind: 'echo' }, { handshakeDelayMs: 500 });
    const controller = new AbortController();
    const report = await runLoadTest(
      { url: server.url, connections: 5, durationS: 60, rate: 1, workers: 1, connectConcurrency: 1 },
      { signal: controller.signal, progressIntervalMs: 50, onProgress: () => controller.abort() },
    );
    expect(report.aborted).toBe(true);
    const { opened, failed, abandoned } = report.connections;
    expect(failed).toBe(0);
    expect(opened + abandoned).toBe(5);
    expect(abandoned).toBeGreaterThan(0);
    expect(Object.keys(report.errors).filter((key) => key.startsWith('connect:'))).toEqual([]);
    expect(report.connection_error_rate).toBe(0);
  });
});
