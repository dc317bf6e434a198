/**
 * POST /admin/api/connection-tests: the Testing tab runs socketscope's
 * connection tests (basic, pool, echo) in-process. Bounded on every axis: a
 * deadline, small counts, one test at a time per client and a few at once
 * overall, ws:// and wss:// only; the test stops when the page goes away.
 */
import type { RequestHandler } from 'express';
import { z } from 'zod';
import { ApiError, zodDetails } from '../api/errors.ts';
import { runConnectionTest } from '../loadtest/index.ts';

export const CONNECTION_TEST_LIMITS = {
  /** The whole test, connect to close; below the HTTP server's request timeout. */
  deadlineMs: 45_000,
  echoCount: 1_000,
  payloadBytes: 64 * 1024,
  poolConnections: 500,
  poolWorkers: 4,
  poolHoldS: 30,
  concurrent: 2,
} as const;

const wsUrl = z
  .string()
  .trim()
  .max(2048)
  .pipe(z.url({ protocol: /^wss?$/, error: 'must be a ws:// or wss:// URL' }));

export const connectionTestBodySchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('basic'), url: wsUrl }),
  z.strictObject({
    kind: z.literal('echo'),
    url: wsUrl,
    count: z.int().min(1).max(CONNECTION_TEST_LIMITS.echoCount).default(20),
    payload_bytes: z.int().min(0).max(CONNECTION_TEST_LIMITS.payloadBytes).default(0),
  }),
  z.strictObject({
    kind: z.literal('pool'),
    url: wsUrl,
    connections: z.int().min(1).max(CONNECTION_TEST_LIMITS.poolConnections).default(20),
    workers: z.int().min(1).max(CONNECTION_TEST_LIMITS.poolWorkers).default(2),
    hold_s: z.number().min(0).max(CONNECTION_TEST_LIMITS.poolHoldS).default(1),
  }),
]);
export type ConnectionTestBody = z.input<typeof connectionTestBodySchema>;

export function connectionTestHandler(): RequestHandler {
  const running = new Set<string>();
  return async (req, res) => {
    const parsed = connectionTestBodySchema.safeParse(req.body);
    if (!parsed.success) throw new ApiError(400, 'validation_failed', 'invalid connection test', zodDetails(parsed.error));
    const client = req.ip ?? 'unknown';
    if (running.has(client)) throw new ApiError(409, 'test_in_progress', 'a connection test from this client is still running; wait for it to finish');
    if (running.size >= CONNECTION_TEST_LIMITS.concurrent) throw new ApiError(503, 'tests_busy', `${CONNECTION_TEST_LIMITS.concurrent} connection tests are running; try again shortly`);

    const body = parsed.data;
    const gone = new AbortController();
    // The page navigated away or the request was cancelled: stop the test.
    res.once('close', () => {
      if (!res.writableFinished) gone.abort(new Error('the client went away'));
    });
    const signal = AbortSignal.any([gone.signal, AbortSignal.timeout(CONNECTION_TEST_LIMITS.deadlineMs)]);
    const handshakeTimeoutMs = 10_000;
    running.add(client);
    try {
      const result =
        body.kind === 'basic'
          ? await runConnectionTest('basic', { url: body.url, handshakeTimeoutMs, signal })
          : body.kind === 'echo'
            ? await runConnectionTest('echo', { url: body.url, count: body.count, payloadBytes: body.payload_bytes, timeoutMs: 5_000, handshakeTimeoutMs, signal })
            : await runConnectionTest('pool', { url: body.url, connections: body.connections, workers: body.workers, holdS: body.hold_s, rampUpS: 0, handshakeTimeoutMs, signal });
      res.json(result);
    } catch (error) {
      if (gone.signal.aborted) return;
      if (signal.aborted) throw new ApiError(504, 'test_timed_out', `the test did not finish within ${CONNECTION_TEST_LIMITS.deadlineMs / 1000} s`);
      throw new ApiError(400, 'test_failed', (error as Error).message);
    } finally {
      running.delete(client);
    }
  };
}
