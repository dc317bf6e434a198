/**
 * The scheduler with a task slower than its interval: ticks during a run
 * start nothing, and stop() and runNow() wait for the run in progress (the
 * service closes the database right after stop()).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Scheduler } from '../../../src/analytics/scheduler.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const silent = { info: () => undefined, error: () => undefined };

/** A 300 ms task on a 20 ms interval, recording when each run started and ended. */
function slowTask() {
  const events: string[] = [];
  let runs = 0;
  const task = async () => {
    const n = ++runs;
    events.push(`start ${n}`);
    await sleep(300);
    events.push(`end ${n}`);
  };
  return { events, task };
}

let scheduler: Scheduler | undefined;
afterEach(async () => {
  await scheduler?.stop();
});

describe('Scheduler', () => {
  it('stop() returns only after the run in progress, and ticks during it start nothing', async () => {
    const { events, task } = slowTask();
    scheduler = new Scheduler(silent);
    scheduler.every('slow', 20, task);
    await sleep(150); // several ticks fire while the first run is in progress
    expect(scheduler.status()[0]).toMatchObject({ running: true, runs: 0 });
    await scheduler.stop();
    expect(events).toEqual(['start 1', 'end 1']);
    expect(scheduler.status()[0]).toMatchObject({ running: false, runs: 1 });
    await sleep(100);
    expect(events).toEqual(['start 1', 'end 1']);
  });

  it('runNow() waits for the run in progress, then runs once more and waits for that', async () => {
    const { events, task } = slowTask();
    scheduler = new Scheduler(silent);
    scheduler.every('slow', 20, task);
    await sleep(150);
    await scheduler.runNow('slow');
    expect(events.slice(0, 4)).toEqual(['start 1', 'end 1', 'start 2', 'end 2']);
    // No run overlapped another.
    expect(events.every((e, i) => e === `${i % 2 === 0 ? 'start' : 'end'} ${Math.floor(i / 2) + 1}`)).toBe(true);
  });
});

describe('Scheduler.stop()', () => {
  it('aborts the signal of the run in progress, and reports that run aborted, not failed', async () => {
    const logged: string[] = [];
    scheduler = new Scheduler({ info: (_o, m) => logged.push(`info ${m}`), error: (_o, m) => logged.push(`error ${m}`) });
    let started: () => void = () => undefined;
    const running = new Promise<void>((resolve) => (started = resolve));
    // Waits for its signal only, and rejects with its reason, as a fetch given the signal does.
    scheduler.every('waits', 60_000, (signal) => {
      started();
      return new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason), { once: true }));
    });
    await running;
    expect(scheduler.running()).toEqual(['waits']);
    await scheduler.stop();
    expect(scheduler.running()).toEqual([]);
    expect(scheduler.status()[0]).toMatchObject({ running: false, runs: 1, last_error: 'aborted: the scheduler is stopping' });
    expect(logged).toEqual(['info waits aborted']);
  });
});
