/**
 * The heartbeat's rounds with stand-in sockets: each socket's ping is timed
 * from just before its own ping(), a round over many sockets runs in slices
 * with I/O in between, and a socket pinged in one round is dead only if it is
 * still silent at its visit in the next.
 */
import { describe, expect, it } from 'vitest';
import type { WebSocket } from 'ws';
import { ConnectionState } from '../../../src/instrumentation/connection-state.ts';
import { Heartbeat } from '../../../src/instrumentation/heartbeat.ts';

const OPEN = 1;
const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Sockets with a state each and a clock that every ping() advances by 5 (as a real write takes time). */
function fixture(count: number) {
  let clock = 1000;
  const pings: number[] = [];
  const timedOut: number[] = [];
  const sockets = Array.from({ length: count }, (_, i) => ({
    id: i,
    readyState: OPEN,
    state: new ConnectionState(0, undefined),
    ping() {
      pings.push(i);
      clock += 5;
    },
  }));
  const target = {
    clients: () => sockets as unknown as WebSocket[],
    stateOf: (socket: WebSocket) => (socket as unknown as (typeof sockets)[number]).state,
    pinged: () => {},
    timedOut: (socket: WebSocket) => {
      const fake = socket as unknown as (typeof sockets)[number];
      timedOut.push(fake.id);
      fake.readyState = 3;
    },
  };
  const answer = (...ids: number[]): void => {
    for (const id of ids) sockets[id]!.state.pingSentAt = 0;
  };
  return { sockets, pings, timedOut, target, now: () => clock, answer };
}

describe('heartbeat rounds', () => {
  it("times each socket's ping from just before its own ping(), not from the start of the round", () => {
    const { sockets, target, now } = fixture(4);
    new Heartbeat(target, 1000, now).tick();
    expect(sockets.map((s) => s.state.pingSentAt)).toEqual([1000, 1005, 1010, 1015]);
  });

  it('runs a round over more sockets than a slice in slices: the first at once, each next one after a setImmediate', async () => {
    const { pings, target, now } = fixture(5);
    const heartbeat = new Heartbeat(target, 1000, now, 2);
    heartbeat.tick();
    expect(pings).toEqual([0, 1]);
    expect(heartbeat.inRound).toBe(true);
    await nextTurn();
    expect(pings).toEqual([0, 1, 2, 3]);
    await nextTurn();
    expect(pings).toEqual([0, 1, 2, 3, 4]);
    expect(heartbeat.inRound).toBe(false);
  });

  it('a tick during a round starts none; the next round terminates exactly the sockets still silent since their ping, pongs read between slices included', async () => {
    const { sockets, pings, timedOut, target, now, answer } = fixture(5);
    const heartbeat = new Heartbeat(target, 1000, now, 2);
    heartbeat.tick();
    answer(0);
    // The interval fires again before the round is over: nothing is pinged twice, nobody is terminated.
    heartbeat.tick();
    expect(pings).toEqual([0, 1]);
    await nextTurn();
    // Socket 1's pong arrives between slices, after sockets 2 and 3 were pinged.
    answer(1, 2);
    await nextTurn();
    expect(heartbeat.inRound).toBe(false);
    expect(pings).toEqual([0, 1, 2, 3, 4]);

    heartbeat.tick();
    await nextTurn();
    await nextTurn();
    expect(timedOut).toEqual([3, 4]);
    expect(pings).toEqual([0, 1, 2, 3, 4, 0, 1, 2]);
    expect(sockets.map((s) => s.readyState)).toEqual([OPEN, OPEN, OPEN, 3, 3]);
  });

  it('stop() ends the round in progress: no slice runs after it, and a new round starts from the first socket', async () => {
    const { pings, target, now } = fixture(5);
    const heartbeat = new Heartbeat(target, 1000, now, 2);
    heartbeat.start();
    heartbeat.tick();
    heartbeat.stop();
    expect(heartbeat).toMatchObject({ running: false, inRound: false });
    await nextTurn();
    await nextTurn();
    expect(pings).toEqual([0, 1]);
  });

  it('refuses a slice size that is not a positive integer', () => {
    const { target } = fixture(0);
    expect(() => new Heartbeat(target, 1000, undefined, 0)).toThrow('heartbeat sliceSize must be an integer >= 1, got 0');
  });
});
