/**
 * Graceful shutdown does not wait out a silent Prometheus: close() aborts the
 * scheduled anomaly run's query in flight (its connection is closed) and the
 * run is reported aborted, instead of every stream's PROMETHEUS_TIMEOUT_MS
 * one after another (7 streams, 70 s here: past this test's timeout).
 * And close() has a deadline: a task that ignores the abort is left behind
 * and logged, and close() resolves.
 */
import type { IncomingMessage } from 'node:http';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type RunningService, startService } from '../../../src/api/service.ts';
import { loadConfig } from '../../../src/config.ts';
import { Stack } from '../../../src/stack/index.ts';
import { type TestHttpServer, listenHttp } from '../../helpers/http.ts';
import { ADMIN_TOKEN } from './analytics-fixture.ts';

const stack = new Stack('graceful-shutdown');
let databaseUrl: string;
/** Takes requests and never answers them. */
let silent: TestHttpServer;
const received: IncomingMessage[] = [];
let requestArrived: () => void = () => undefined;
let service: RunningService | undefined;

beforeAll(async () => {
  databaseUrl = (await stack.postgres()).url;
  silent = await listenHttp((req) => {
    received.push(req);
    requestArrived();
  });
});

afterEach(async () => {
  await service?.close();
  service = undefined;
});

afterAll(async () => {
  await silent?.close();
  await stack.stop();
});

const config = (extra: Record<string, string>) =>
  loadConfig({ HOST: '127.0.0.1', PORT: '0', DATABASE_URL: databaseUrl, SOCKETSCOPE_ADMIN_TOKEN: ADMIN_TOKEN, ROLLUP_INTERVAL_SECONDS: '0', MAINTENANCE_INTERVAL_SECONDS: '0', LOG_LEVEL: 'info', ...extra });

/** A logger whose lines land in `lines`; `logged(msg)` resolves once a line with that message is there. */
function capturingLogger() {
  const lines: Array<Record<string, unknown>> = [];
  const waiting: Array<{ msg: string; resolve: () => void }> = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (!line) continue;
        const entry = JSON.parse(line) as Record<string, unknown>;
        lines.push(entry);
        for (const w of waiting) if (w.msg === entry.msg) w.resolve();
      }
      done();
    },
  });
  const logged = (msg: string) =>
    new Promise<void>((resolve) => {
      if (lines.some((l) => l.msg === msg)) resolve();
      else waiting.push({ msg, resolve });
    });
  return { logger: pino({ level: 'info' }, sink), lines, logged };
}

describe('graceful shutdown', () => {
  it('aborts the anomaly run waiting on a Prometheus that never answers, and reports the run aborted', { timeout: 20_000 }, async () => {
    const arrived = new Promise<void>((resolve) => (requestArrived = resolve));
    const { logger, lines } = capturingLogger();
    service = await startService(config({ PROMETHEUS_URL: silent.url, PROMETHEUS_TIMEOUT_MS: '10000', ANOMALY_INTERVAL_SECONDS: '60' }), { logger });
    // The run has reached its first Prometheus stream (they go first) and waits for the answer.
    await arrived;
    expect(received.map((r) => `${r.method} ${r.url}`)).toEqual(['POST /api/v1/query_range']);
    expect(service.scheduler.status().find((t) => t.name === 'anomaly-detection')).toMatchObject({ running: true, runs: 0 });
    const connectionClosed = new Promise<void>((resolve) => received[0]?.socket.once('close', resolve));

    await service.close();
    expect(service.scheduler.status().find((t) => t.name === 'anomaly-detection')).toMatchObject({
      running: false,
      runs: 1,
      last_error: 'aborted: the scheduler is stopping',
      last_result: null,
    });
    // The query in flight was cut (its connection closed), and no other stream was read after it.
    await connectionClosed;
    expect(received).toHaveLength(1);
    const messages = lines.map((l) => l.msg);
    expect(messages).toContain('anomaly-detection aborted');
    expect(messages).not.toContain('anomaly-detection failed');
    expect(messages.at(-1)).toBe('stopped');
  });

  it('resolves close() at its deadline when a task ignores the abort, logging what was left unfinished', async () => {
    const { logger, lines, logged } = capturingLogger();
    service = await startService(config({ ANOMALY_INTERVAL_SECONDS: '0' }), { logger, closeDeadlineMs: 500 });
    // Partition maintenance's run at start is over (runNow waits for it, then runs it once more).
    await service.scheduler.runNow('partition-maintenance');
    let release: () => void = () => undefined;
    // A task that does not take its signal: stop() cannot end it.
    service.scheduler.every('stubborn', 0, () => new Promise<void>((resolve) => (release = resolve)));

    await service.close();
    expect(lines.find((l) => l.msg === 'shutdown deadline passed: open connections cut, unfinished steps left behind')).toMatchObject({
      unfinished: ['scheduled tasks', 'database', 'metrics'],
      running_tasks: ['stubborn'],
      deadline_ms: 500,
    });
    expect(lines.map((l) => l.msg)).not.toContain('stopped');
    // Once the task returns, the rest of the shutdown (the database) completes in the background.
    release();
    await logged('stopped, after the shutdown deadline');
  });
});
