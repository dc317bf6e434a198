/**
 * Drives one worker's share of the connections: opens them on schedule,
 * sends messages at their intended times (open model), matches echoes by id,
 * and counts everything. Latency is measured from the *intended* send time,
 * so when the server (or this event loop) stalls, the messages that should
 * have gone out during the stall carry the stall in their latency instead of
 * silently not being sent (coordinated omission). A measured message whose
 * echo never comes (the drain timeout ends, its connection closes, or it was
 * skipped for backpressure) is recorded too, at the time it was given up on
 * minus its intended send time: a lower bound, so a server that stops
 * answering cannot hide in the `lost` count either.
 *
 * The measured window starts once the connections planned to open before it
 * are open (or failed), at most one handshake timeout after its planned start,
 * and keeps its planned length; later stages move with it. Otherwise, with no
 * warm-up, every connection's first slots fell due while its handshake was
 * still in flight and went out late charged with it: this tool's own start-up
 * as server latency. Once the window is fixed the schedule is, so a server
 * that stalls mid-run is still charged from each message's intended time.
 *
 * A connection the server (or the network) closes inside the window does not
 * take its remaining slots out of the counts: each slot it was planned to send
 * in the window after it dropped is counted sent and lost, and timed from when
 * it was due to the end of the run (a lower bound), as for a connection that
 * opens only after the window. The tool does not reconnect. Otherwise a server
 * that drops its clients sent fewer messages, lost none and looked fast.
 *
 * One timer per worker serves all connections: a priority queue keyed by the
 * next intended send time, so 10,000 idle-ish connections cost nothing
 * between sends. Node's timers fire on a millisecond clock, up to about a
 * millisecond late; that lateness (and any other: a busy event loop) is part
 * of each message's latency, and is measured on its own in `sendLag` so a
 * reader can tell it from the server's. (Finishing each wait in setImmediate
 * turns cut it to ~0.015 ms at the median, but the busy-wait took the CPU the
 * server on the same machine needed: at 40,000 msg/s p95 went from 6 ms to
 * over 100 ms. See docs/load-testing.md.)
 */
import type { Socket } from 'node:net';
import FlatQueue from 'flatqueue';
import WebSocket from 'ws';
import { bump, classifyError } from './error-class.ts';
import { pinnedLookup } from './handshake.ts';
import { createHistogram, recordMs, type Histogram } from './histogram.ts';
import { ECHO_LATENCY, emptyRunBuckets, HANDSHAKE } from './bucket-counts.ts';
import { compileTemplate, MessageRenderer, parseCorrelationId } from './template.ts';
import { clock, emptyCounters, type MeasuredWindow, type WorkerCounters, type WorkerInit } from './worker-protocol.ts';

/** Above this many unsent bytes a connection skips its send (counted skipped, and lost when echoes are expected) rather than queue without bound. */
const MAX_BUFFERED_BYTES = 8 * 1024 * 1024;
/** Sends per timer turn before yielding, so receives are processed while catching up. */
const MAX_SENDS_PER_TURN = 2_000;
/** Waiting for the server's close replies: 2 s, plus 1 ms per connection unless aborted (a server answers thousands of closes slowly). */
const CLOSE_TIMEOUT_MS = 2_000;
const CLOSE_TIMEOUT_PER_CONNECTION_MS = 1;

type ConnState = 'pending' | 'connecting' | 'open' | 'closed';

interface Conn {
  /** Position in this driver's queue-addressable array. */
  slot: number;
  index: number;
  openAt: number;
  /** Planned to open by the window's planned start and not open or failed yet: the window waits for it. */
  initial: boolean;
  state: ConnState;
  ws: WebSocket | null;
  renderer: MessageRenderer;
  seq: number;
  /** This connection's offset within the send period, in periods (spreads sends evenly). */
  frac: number;
  /** Next send slot: slot k is due at measureStart + (k + frac) periods; k < 0 is warm-up. */
  k: number;
  /** First slot past the measured window (no sends from there on). */
  kEnd: number;
  /** seq → slot of requests awaiting their echo. */
  outstanding: Map<number, number>;
  /** Measured slots skipped for backpressure while echoes are expected: lost, timed when the connection is given up on. */
  skipped: number[];
  /**
   * Dropped by the server or network while echoes are expected: the first
   * measured slot it will never send (its slots from there to kEnd are
   * counted sent and lost when the run ends); null otherwise.
   */
  unsentFrom: number | null;
  closing: boolean;
  lastError: string | null;
}

export interface DriverResult {
  counters: WorkerCounters;
  latency: Histogram;
  connect: Histogram;
  openDelay: Histogram;
  sendLag: Histogram;
}

export class LoadDriver {
  readonly counters: WorkerCounters = emptyCounters();
  readonly latency = createHistogram();
  readonly connect = createHistogram();
  /** Open event minus the connection's intended open time: connect time plus any wait for a handshake slot. */
  readonly openDelay = createHistogram();
  /** Each measured message's actual send time minus its intended one: this process's own lateness, part of its latency. */
  readonly sendLag = createHistogram();
  /** Echo latencies since the last progress report, warm-up included. */
  readonly interval = createHistogram();
  /** Connect times and measured echo latencies again, on the exported histograms' buckets. */
  readonly buckets = emptyRunBuckets();

  private readonly conns: Conn[];
  private readonly queue = new FlatQueue<number>();
  private readonly tagWithDot: Buffer;
  private readonly periodMs: number;
  private epoch = 0;
  private measureStart = 0;
  private measureEnd = 0;
  /** Until the first connections are open the window is provisional (see the header); sends due in it are warm-up. */
  private windowFixed = false;
  private initialUnsettled = 0;
  private sendTimer: NodeJS.Timeout | null = null;
  private sendTimerAt = Number.POSITIVE_INFINITY;
  private openTimer: NodeJS.Timeout | null = null;
  private nextToOpen = 0;
  private connecting = 0;
  /** Measured requests still awaiting their echo. */
  private awaiting = 0;
  private aborted = false;
  private abortedAt = Number.POSITIVE_INFINITY;
  private wake: (() => void) | null = null;

  /** `beforeClose` runs once everything is sent and settled, just before the connections close (a last progress sample at full strength). */
  constructor(
    private readonly init: WorkerInit,
    private readonly beforeClose: () => void = () => {},
  ) {
    const template = compileTemplate(init.message);
    this.tagWithDot = Buffer.from(`${init.tag}.`);
    this.periodMs = init.rate > 0 ? 1000 / init.rate : Number.POSITIVE_INFINITY;
    this.conns = [...init.connections]
      .sort((a, b) => a.openAtMs - b.openAtMs)
      .map(({ index, openAtMs }, slot) => ({
        slot,
        index,
        openAt: openAtMs,
        initial: openAtMs <= init.measureStartMs,
        state: 'pending',
        ws: null,
        renderer: new MessageRenderer(template, init.tag, index, init.payloadBytes),
        seq: 0,
        frac: index / init.totalConnections,
        k: 0,
        // Whole slots in the window, computed from the rate (not the rounded period), so counts are exact.
        kEnd: Math.ceil(((init.measureEndMs - init.measureStartMs) * init.rate) / 1000 - index / init.totalConnections - 1e-9),
        outstanding: new Map(),
        skipped: [],
        unsentFrom: null,
        closing: false,
        lastError: null,
      }));
    // Each connection's slots from its first in the window: a later stage's connection starts at its open.
    if (init.rate > 0) {
      for (const conn of this.conns) {
        const first = conn.initial ? 0 : Math.max(Math.ceil((conn.openAt - init.measureStartMs) / this.periodMs - conn.frac), 0);
        this.counters.planned += Math.max(conn.kEnd - first, 0);
      }
    }
  }

  /** Runs the whole plan from `epoch` (absolute ms on the shared clock). */
  async run(epoch: number): Promise<DriverResult> {
    this.epoch = epoch;
    this.measureStart = epoch + this.init.measureStartMs;
    this.measureEnd = epoch + this.init.measureEndMs;
    for (const conn of this.conns) conn.openAt += epoch;
    this.initialUnsettled = this.conns.filter((conn) => conn.initial).length;
    this.windowFixed = this.initialUnsettled === 0;

    this.scheduleOpens();
    await this.untilWindowEnds();
    // Slots due just before the end whose timer has not fired yet still go out.
    if (!this.aborted) this.sendDue(Number.POSITIVE_INFINITY);
    // Handshakes still in flight (or waiting for a free slot) get one handshake timeout to
    // settle, so a slow server shows up as connect time rather than as invented failures.
    if (!this.aborted && !this.opensSettled()) {
      await this.until(clock() + this.init.handshakeTimeoutMs, () => this.opensSettled());
    }
    this.stopOpening();
    if (!this.aborted && this.init.expectEcho && this.awaiting > 0) {
      await this.until(clock() + this.init.drainTimeoutMs, () => this.awaiting === 0);
    }
    this.stopSending();
    // Whatever is still unanswered is lost, timed up to now (the drain timeout, or the abort);
    // so are the slots of dropped connections, which were never sent.
    const now = clock();
    for (const conn of this.conns) {
      this.giveUp(conn, now);
      this.loseDropped(conn, now);
    }
    this.beforeClose();
    await this.closeAll();
    return { counters: this.counters, latency: this.latency, connect: this.connect, openDelay: this.openDelay, sendLag: this.sendLag };
  }

  abort(): void {
    if (!this.aborted) this.abortedAt = clock();
    this.aborted = true;
    this.wake?.();
  }

  /** The measured window on the shared clock once fixed, else null. */
  window(): MeasuredWindow | null {
    return this.windowFixed ? { start: this.measureStart, end: this.measureEnd } : null;
  }

  private async untilWindowEnds(): Promise<void> {
    if (!this.windowFixed) {
      // The first connections get one handshake timeout past the planned start; then the window starts without the rest.
      await this.until(this.measureStart + this.init.handshakeTimeoutMs, () => this.windowFixed);
      if (this.aborted) return;
      this.fixWindow();
    }
    await this.until(this.measureEnd);
  }

  /** An initial connection opened, failed or was given up on. */
  private settleInitial(conn: Conn): void {
    if (!conn.initial) return;
    conn.initial = false;
    if (--this.initialUnsettled === 0) this.fixWindow();
  }

  /**
   * Fixes the measured window: as planned when every initial connection
   * settled before its start, else from now on, with the planned length.
   */
  private fixWindow(): void {
    if (this.windowFixed || this.aborted) return;
    this.windowFixed = true;
    const now = clock();
    if (now <= this.measureStart) return;
    const shift = now - this.measureStart;
    const plannedStart = this.measureStart;
    this.measureStart = now;
    this.measureEnd += shift;
    // Slot numbers are relative to the window's start: renumber the requests awaiting their echo
    // (all sent before now, so all warm-up: kept below 0 against rounding).
    const dk = this.init.rate > 0 ? shift / this.periodMs : 0;
    for (const conn of this.conns) {
      // Later stages keep their place relative to the window.
      if (conn.state === 'pending' && conn.openAt > plannedStart) conn.openAt += shift;
      for (const [seq, k] of conn.outstanding) conn.outstanding.set(seq, Math.min(k - dk, -Number.EPSILON));
    }
    this.stopSending();
    for (const conn of this.conns) if (conn.state === 'open' && !conn.closing) this.startSending(conn, now);
    this.scheduleOpens();
    this.wake?.();
  }

  private opensSettled(): boolean {
    return this.connecting === 0 && this.nextToOpen >= this.conns.length;
  }

  /** Resolves at `deadline`, when `done()` turns true (checked on each wake-up), or on abort. */
  private until(deadline: number, done: () => boolean = () => false): Promise<void> {
    return new Promise((resolve) => {
      const finish = (): void => {
        clearTimeout(timer);
        this.wake = null;
        resolve();
      };
      // Timers run on the event loop's millisecond clock and can fire a fraction early.
      const onTimer = (): void => {
        const left = deadline - clock();
        if (left > 0) timer = setTimeout(onTimer, Math.max(1, left));
        else finish();
      };
      let timer = setTimeout(onTimer, Math.max(0, deadline - clock()));
      this.wake = () => {
        if (this.aborted || done()) finish();
      };
      this.wake();
    });
  }

  // ---- opening connections -------------------------------------------------

  private scheduleOpens(): void {
    if (this.openTimer) clearTimeout(this.openTimer);
    this.openTimer = null;
    const now = clock();
    while (this.nextToOpen < this.conns.length && this.connecting < this.init.connectConcurrency && !this.aborted) {
      const conn = this.conns[this.nextToOpen] as Conn;
      if (conn.openAt > now) {
        this.openTimer = setTimeout(() => this.scheduleOpens(), conn.openAt - now);
        return;
      }
      this.nextToOpen++;
      this.open(conn);
    }
  }

  private stopOpening(): void {
    if (this.openTimer) clearTimeout(this.openTimer);
    this.openTimer = null;
    // Connections whose turn never came: an overloaded server kept the handshakes in flight
    // (a failure), or the run was aborted first (not the server's doing, so not a failure).
    for (; this.nextToOpen < this.conns.length; this.nextToOpen++) {
      (this.conns[this.nextToOpen] as Conn).initial = false;
      if (this.aborted) {
        this.counters.abandoned++;
      } else {
        this.counters.failed++;
        bump(this.counters.errors, 'connect:not-started');
      }
    }
  }

  private open(conn: Conn): void {
    const { init, counters } = this;
    conn.state = 'connecting';
    this.connecting++;
    const startedAt = clock();
    const ws = new WebSocket(init.url, init.subprotocols, {
      headers: init.headers,
      handshakeTimeout: init.handshakeTimeoutMs,
      ...(init.addresses ? { lookup: pinnedLookup(init.addresses) } : {}),
      perMessageDeflate: false,
      // Echoes are only scanned for an id; validating their UTF-8 would cost CPU per message for nothing.
      skipUTF8Validation: true,
    });
    conn.ws = ws;
    ws.on('open', () => {
      const now = clock();
      this.connecting--;
      conn.state = 'open';
      counters.opened++;
      counters.open++;
      if (counters.open > counters.peakOpen) counters.peakOpen = counters.open;
      recordMs(this.connect, now - startedAt);
      recordMs(this.openDelay, now - conn.openAt);
      HANDSHAKE.record(this.buckets.handshake, now - startedAt);
      this.startSending(conn, now);
      // After startSending: when this open fixes the window, every open connection is re-planned on it.
      this.settleInitial(conn);
      this.scheduleOpens();
      this.wake?.();
    });
    ws.on('message', (data: Buffer) => this.onMessage(conn, data));
    ws.on('error', (error) => {
      conn.lastError = classifyError(error);
    });
    ws.on('close', (code) => this.onClose(conn, code));
  }

  private onClose(conn: Conn, code: number): void {
    const { counters } = this;
    if (conn.state === 'connecting' && conn.closing && this.aborted) {
      // A handshake the abort cut short: neither a failure nor a close the server sent.
      this.connecting--;
      counters.abandoned++;
      conn.state = 'closed';
      conn.initial = false;
      this.wake?.();
      return;
    }
    if (conn.state === 'connecting') {
      // A handshake that failed: no close frame was exchanged (ws reports 1006), so no close code is counted.
      this.connecting--;
      counters.failed++;
      bump(counters.errors, `connect:${conn.lastError ?? `closed-${code}`}`);
      conn.state = 'closed';
      this.settleInitial(conn);
      this.scheduleOpens();
      this.wake?.();
      return;
    }
    bump(counters.closeCodes, String(code));
    counters.open--;
    conn.state = 'closed';
    if (!conn.closing) {
      counters.dropped++;
      bump(counters.errors, conn.lastError ? `dropped:${code}:${conn.lastError}` : `dropped:${code}`);
      // Its measured slots not sent yet never will be (no reconnect): lost, counted when the run ends.
      // Before the window is fixed (or during warm-up) that is all of them.
      if (this.init.rate > 0 && this.init.expectEcho) conn.unsentFrom = this.windowFixed ? Math.max(conn.k, 0) : 0;
    }
    // Whatever this connection still awaited can no longer arrive.
    this.giveUp(conn, clock());
    this.wake?.();
  }

  /**
   * Stops waiting for the echoes `conn` still owes: each measured one counts
   * lost and goes into the latency histograms at `now` minus its intended
   * send time. Its real latency is longer (it never came), so this is a lower
   * bound; but it keeps a server that stops answering out of the lost count
   * alone, where the percentiles would not see it. After an abort they are
   * in flight instead: the run, not the server, stopped waiting.
   */
  private giveUp(conn: Conn, now: number): void {
    for (const k of conn.outstanding.values()) {
      if (!this.isMeasured(k)) continue;
      this.awaiting--;
      if (this.aborted) {
        this.counters.inFlight++;
        continue;
      }
      this.counters.lost++;
      this.recordLatency(now - this.slotTime(conn, k), true);
    }
    conn.outstanding.clear();
    // Skipped sends were counted lost when skipped; they are timed with the rest.
    for (const k of conn.skipped) this.recordLatency(now - this.slotTime(conn, k), true);
    conn.skipped.length = 0;
  }

  /**
   * The measured slots a dropped connection was planned to send after it
   * dropped: sent and lost, each timed from when it was due to `now` (the end
   * of the run: the drain, or the abort), a lower bound, like loseUnsent. An
   * aborted run counts only those due before the abort.
   */
  private loseDropped(conn: Conn, now: number): void {
    if (conn.unsentFrom === null || !this.windowFixed) return;
    for (let k = conn.unsentFrom; k < conn.kEnd; k++) {
      const due = this.slotTime(conn, k);
      if (due >= this.abortedAt) break;
      this.counters.sent++;
      this.counters.lost++;
      this.counters.unsent++;
      this.recordLatency(now - due, true);
    }
    conn.unsentFrom = null;
  }

  /** A measured (or, with `measured` false, warm-up) latency into every histogram that keeps it. */
  private recordLatency(latencyMs: number, measured: boolean): void {
    recordMs(this.interval, latencyMs);
    if (!measured) return;
    recordMs(this.latency, latencyMs);
    ECHO_LATENCY.record(this.buckets.latency, latencyMs);
  }

  // ---- sending -------------------------------------------------------------

  /**
   * Whether slot `k` is in the measured window. Before the window is fixed,
   * slots past its planned start are warm-up too (fixing it renumbers them
   * below 0), and so are their echoes if they come back before that.
   */
  private isMeasured(k: number): boolean {
    return k >= 0 && this.windowFixed;
  }

  /** When slot `k` of `conn` is due; always computed from k, so no error accumulates. */
  private slotTime(conn: Conn, k: number): number {
    return this.measureStart + (k + conn.frac) * this.periodMs;
  }

  /**
   * Puts the connection on the send schedule. Before the measured window (or
   * while it waits for the first connections) it starts at its next slot;
   * inside it, at its first measured slot after the time it was *meant* to
   * open, so a slow handshake shows up as late messages (in the latency)
   * rather than as messages never sent. A connection that opens after the
   * window ended gets all its slots from then on counted sent and lost.
   */
  private startSending(conn: Conn, now: number): void {
    if (this.init.rate === 0) return;
    const firstSlotAfter = (t: number): number => Math.ceil((t - this.measureStart) / this.periodMs - conn.frac);
    if (now >= this.measureEnd) {
      // A provisional window is re-planned when it is fixed; an aborted run measures no more.
      if (this.windowFixed && !this.aborted) this.loseUnsent(conn, Math.max(firstSlotAfter(conn.openAt), 0), now);
      // Nothing left to send: a drop after this loses no more slots.
      conn.k = conn.kEnd;
      return;
    }
    const next = firstSlotAfter(now);
    conn.k = next <= 0 || !this.windowFixed ? next : Math.max(firstSlotAfter(conn.openAt), 0);
    if (conn.k >= conn.kEnd) return;
    this.queue.push(conn.slot, this.slotTime(conn, conn.k));
    this.armSendTimer();
  }

  /**
   * Slots `from`..kEnd of a connection that opened too late to send them: due,
   * never sent, so sent and lost, timed like other lost messages up to now.
   * Else they vanished from the counts and a run could pass having sent none.
   * Without echoes nothing is lost, so they stay out of the counts (like the
   * slots of a connection that never opened).
   */
  private loseUnsent(conn: Conn, from: number, now: number): void {
    if (!this.init.expectEcho) return;
    for (let k = from; k < conn.kEnd; k++) {
      this.counters.sent++;
      this.counters.lost++;
      this.counters.unsent++;
      this.recordLatency(now - this.slotTime(conn, k), true);
    }
  }

  private armSendTimer(): void {
    const head = this.queue.peekValue();
    if (head === undefined || head >= this.sendTimerAt) return;
    if (this.sendTimer) clearTimeout(this.sendTimer);
    this.sendTimerAt = head;
    this.sendTimer = setTimeout(() => this.sendDue(), Math.max(0, head - clock()));
  }

  private sendDue(maxSends = MAX_SENDS_PER_TURN): void {
    if (this.sendTimer) clearTimeout(this.sendTimer);
    this.sendTimer = null;
    this.sendTimerAt = Number.POSITIVE_INFINITY;
    const now = clock();
    let sends = 0;
    const corked: Socket[] = [];
    while (this.queue.length > 0 && (this.queue.peekValue() as number) <= now) {
      if (sends++ === maxSends) {
        // Far behind: let the event loop read echoes before catching up further.
        this.sendTimerAt = now;
        this.sendTimer = setTimeout(() => this.sendDue(), 0);
        break;
      }
      const slot = this.queue.pop() as number;
      const conn = this.conns[slot] as Conn;
      if (conn.state !== 'open' || conn.closing) continue;
      // Messages of one connection due in the same turn leave in one write (corked until the turn ends).
      const socket = (conn.ws as unknown as { _socket: Socket })._socket;
      if (socket.writableCorked === 0) {
        socket.cork();
        corked.push(socket);
      }
      this.send(conn);
      conn.k++;
      if (conn.k < conn.kEnd) this.queue.push(slot, this.slotTime(conn, conn.k));
    }
    for (const socket of corked) socket.uncork();
    if (this.sendTimer === null) this.armSendTimer();
  }

  private send(conn: Conn): void {
    const ws = conn.ws as WebSocket;
    const { counters } = this;
    const k = conn.k;
    const measured = this.isMeasured(k);
    if (measured) counters.sent++;
    if (ws.bufferedAmount > MAX_BUFFERED_BYTES) {
      bump(counters.errors, 'send:backpressure');
      if (measured) {
        counters.skipped++;
        if (this.init.expectEcho) {
          counters.lost++;
          conn.skipped.push(k);
        }
      }
      return;
    }
    const seq = conn.seq++;
    // As a Buffer, ws writes header and masked payload in one write; a string takes a corked two-buffer writev.
    const frame = Buffer.from(conn.renderer.render(seq, Date.now()));
    if (this.init.expectEcho) {
      conn.outstanding.set(seq, k);
      if (measured) this.awaiting++;
    }
    if (measured) {
      counters.bytesSent += frame.length;
      recordMs(this.sendLag, clock() - this.slotTime(conn, k));
    }
    counters.trafficSent++;
    ws.send(frame, { binary: false });
  }

  private stopSending(): void {
    if (this.sendTimer) clearTimeout(this.sendTimer);
    this.sendTimer = null;
    this.sendTimerAt = Number.POSITIVE_INFINITY;
    this.queue.clear();
  }

  // ---- receiving -----------------------------------------------------------

  private onMessage(conn: Conn, data: Buffer): void {
    // After an abort, echoes of requests counted in flight would count twice.
    if (this.aborted) return;
    const now = clock();
    const { counters } = this;
    counters.trafficReceived++;
    if (this.init.expectEcho) {
      const id = parseCorrelationId(data, this.tagWithDot);
      if (id !== null && id.conn === conn.index) {
        const k = conn.outstanding.get(id.seq);
        if (k !== undefined) {
          conn.outstanding.delete(id.seq);
          const measured = this.isMeasured(k);
          this.recordLatency(now - this.slotTime(conn, k), measured);
          if (measured) {
            counters.matched++;
            counters.received++;
            counters.bytesReceived += data.length;
            if (--this.awaiting === 0) this.wake?.();
          }
          return;
        }
      }
    }
    // Not an echo of a measured request: broadcasts, pushes, duplicates.
    if (this.windowFixed && now >= this.measureStart && now < this.measureEnd) {
      counters.received++;
      counters.bytesReceived += data.length;
    }
  }

  // ---- closing -------------------------------------------------------------

  private async closeAll(): Promise<void> {
    const code = this.aborted ? 1001 : 1000;
    const closing: Promise<void>[] = [];
    for (const conn of this.conns) {
      const ws = conn.ws;
      if (!ws || conn.state === 'closed') continue;
      conn.closing = true;
      closing.push(
        new Promise<void>((resolve) => {
          if (ws.readyState === WebSocket.CLOSED) return resolve();
          ws.once('close', () => resolve());
          if (conn.state === 'connecting') ws.terminate();
          else ws.close(code, this.aborted ? 'load test aborted' : 'load test done');
        }),
      );
    }
    const deadline = setTimeout(() => {
      // Servers that never answer the close handshake: cut the TCP connection.
      for (const conn of this.conns) if (conn.ws && conn.state !== 'closed') conn.ws.terminate();
    }, this.aborted ? CLOSE_TIMEOUT_MS : CLOSE_TIMEOUT_MS + closing.length * CLOSE_TIMEOUT_PER_CONNECTION_MS);
    await Promise.all(closing);
    clearTimeout(deadline);
  }
}
