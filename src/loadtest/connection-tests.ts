/**
 * Connection tests (`socketscope test basic|pool|echo`, and the admin pages'
 * Testing tab in-process). A test that cannot connect is a result with
 * `ok: false`, not an exception; invalid options throw, and aborting the
 * signal rejects with the signal's reason.
 */
import WebSocket from 'ws';
import { z } from 'zod';
import { runLoadPlan } from './engine.ts';
import { classifyError } from './error-class.ts';
import { createHistogram, recordMs, summarize } from './histogram.ts';
import { handshakeOptionsProblem, pinnedLookup, resolvedAddressSchema } from './handshake.ts';
import { MAX_DURATION_S, resolveLoadPlan } from './plan.ts';
import { compileTemplate, DEFAULT_TEMPLATE, MessageRenderer, parseCorrelationId, runTag } from './template.ts';
import type { LatencySummary, WorkerShare } from './types.ts';
import { clock } from './worker-protocol.ts';

export const CONNECTION_TESTS = ['basic', 'pool', 'echo'] as const;

/** The echo test gives up after this many echoes in a row time out: the server is not echoing, and waiting out the rest would take count × timeout. */
export const ECHO_MAX_CONSECUTIVE_TIMEOUTS = 3;

const millis = (min: number) => z.number().int().min(min).max(MAX_DURATION_S * 1000, `at most ${MAX_DURATION_S * 1000} ms (24 h)`);
const seconds = () => z.number().min(0).max(MAX_DURATION_S, `at most ${MAX_DURATION_S} s (24 h)`);
export type ConnectionTestKind = (typeof CONNECTION_TESTS)[number];

const commonSchema = z.object({
  url: z
    .string()
    .url()
    .refine((u) => /^wss?:\/\//i.test(u), 'must be a ws:// or wss:// URL'),
  headers: z.record(z.string(), z.string()).optional(),
  token: z.string().min(1).optional(),
  subprotocols: z.array(z.string().min(1)).optional(),
  handshakeTimeoutMs: millis(1).optional(),
  /** Connect to these addresses only (resolved and checked by the caller) instead of resolving the URL's host again. */
  addresses: z.array(resolvedAddressSchema).min(1).optional(),
  signal: z.instanceof(AbortSignal).optional(),
});

const basicSchema = commonSchema.strict();
const echoSchema = commonSchema
  .extend({
    count: z.number().int().min(1).max(100_000).optional(),
    payloadBytes: z.number().int().min(0).max(16 * 1024 * 1024).optional(),
    message: z.string().min(1).optional(),
    timeoutMs: millis(1).optional(),
  })
  .strict();
const poolSchema = commonSchema
  .extend({
    connections: z.number().int().min(1).max(100_000).optional(),
    workers: z.number().int().min(1).max(64).optional(),
    holdS: seconds().optional(),
    rampUpS: seconds().optional(),
  })
  .strict();

export type BasicTestOptions = z.input<typeof basicSchema>;
export type EchoTestOptions = z.input<typeof echoSchema>;
export type PoolTestOptions = z.input<typeof poolSchema>;

interface TestResultBase {
  url: string;
  ok: boolean;
  /** Why the test failed, in a sentence; absent when ok. */
  error?: string;
  duration_ms: number;
}

export interface BasicTestResult extends TestResultBase {
  kind: 'basic';
  connect_ms: number | null;
  /** Round trip of a protocol-level ping. */
  ping_ms: number | null;
  protocol: string;
  extensions: string;
  close: { code: number; reason: string } | null;
}

export interface EchoTestResult extends TestResultBase {
  kind: 'echo';
  connect_ms: number | null;
  sent: number;
  received: number;
  lost: number;
  /** Messages never sent: the connection closed, or the test stopped after consecutive timeouts. */
  not_attempted: number;
  /** Echoes whose body equals what was sent, byte for byte. */
  identical: number;
  rtt_ms: LatencySummary;
}

export interface PoolTestResult extends TestResultBase {
  kind: 'pool';
  connections: { target: number; opened: number; failed: number; dropped: number };
  workers: WorkerShare[];
  connect_ms: LatencySummary;
  errors: Record<string, number>;
}

export type ConnectionTestResult = BasicTestResult | EchoTestResult | PoolTestResult;

type OptionsFor<K extends ConnectionTestKind> = K extends 'basic' ? BasicTestOptions : K extends 'echo' ? EchoTestOptions : PoolTestOptions;
type ResultFor<K extends ConnectionTestKind> = K extends 'basic' ? BasicTestResult : K extends 'echo' ? EchoTestResult : PoolTestResult;

/** Runs one connection test: `runConnectionTest('echo', { url, count: 20 })`. */
export async function runConnectionTest<K extends ConnectionTestKind>(kind: K, options: OptionsFor<K>): Promise<ResultFor<K>> {
  switch (kind) {
    case 'basic':
      return (await basicTest(parse(basicSchema, options))) as ResultFor<K>;
    case 'echo':
      return (await echoTest(parse(echoSchema, options))) as ResultFor<K>;
    case 'pool':
      return (await poolTest(parse(poolSchema, options))) as ResultFor<K>;
    default:
      throw new Error(`unknown connection test "${String(kind)}"; known: ${CONNECTION_TESTS.join(', ')}`);
  }
}

function parse<T extends z.ZodType<Common>>(schema: T, options: unknown): z.output<T> {
  const parsed = schema.safeParse(options);
  if (!parsed.success) {
    throw new Error(`invalid test options: ${parsed.error.issues.map((i) => `${i.path.join('.') || 'options'}: ${i.message}`).join('; ')}`);
  }
  // Checked here so a bad header or subprotocol is an option error, not a test that "failed" to connect.
  const problem = handshakeOptionsProblem(parsed.data);
  if (problem) throw new Error(`invalid test options: ${problem}`);
  return parsed.data;
}

type Common = z.output<typeof commonSchema>;

function headersOf(o: Common): Record<string, string> {
  return o.token ? { ...o.headers, authorization: `Bearer ${o.token}` } : { ...o.headers };
}

const ms = (start: number): number => Math.round((clock() - start) * 1000) / 1000;

/** Opens a socket; resolves with it and the connect time, rejects with a classified message. */
function connect(o: Common): Promise<{ ws: WebSocket; connectMs: number }> {
  return new Promise((resolve, reject) => {
    const started = clock();
    const ws = new WebSocket(o.url, o.subprotocols ?? [], {
      headers: headersOf(o),
      handshakeTimeout: o.handshakeTimeoutMs ?? 10_000,
      ...(o.addresses ? { lookup: pinnedLookup(o.addresses) } : {}),
    });
    const onAbort = (): void => ws.terminate();
    o.signal?.addEventListener('abort', onAbort, { once: true });
    ws.once('open', () => {
      o.signal?.removeEventListener('abort', onAbort);
      resolve({ ws, connectMs: ms(started) });
    });
    ws.once('error', (error) => {
      o.signal?.removeEventListener('abort', onAbort);
      if (o.signal?.aborted) reject(o.signal.reason);
      else reject(new Error(`could not connect (${classifyError(error)}): ${error.message}`));
    });
  });
}

/** Closes with 1000 and resolves with what the server answered (or null when it never did). */
function closeNormally(ws: WebSocket, timeoutMs = 5_000): Promise<{ code: number; reason: string } | null> {
  return new Promise((resolve) => {
    if (ws.readyState === WebSocket.CLOSED) return resolve(null);
    const timer = setTimeout(() => {
      ws.terminate();
      resolve(null);
    }, timeoutMs);
    ws.once('close', (code, reason) => {
      clearTimeout(timer);
      resolve({ code, reason: reason.toString() });
    });
    // Servers commonly echo the code and reason back: the close reported is theirs, often this one.
    ws.close(1000, 'socketscope test done');
  });
}

function throwIfAborted(signal: AbortSignal | undefined, ws?: WebSocket): void {
  if (signal?.aborted) {
    ws?.terminate();
    throw signal.reason;
  }
}

async function basicTest(o: z.output<typeof basicSchema>): Promise<BasicTestResult> {
  const started = clock();
  const result: BasicTestResult = {
    kind: 'basic',
    url: o.url,
    ok: false,
    duration_ms: 0,
    connect_ms: null,
    ping_ms: null,
    protocol: '',
    extensions: '',
    close: null,
  };
  let opened: { ws: WebSocket; connectMs: number };
  try {
    opened = await connect(o);
  } catch (error) {
    throwIfAborted(o.signal);
    return { ...result, error: (error as Error).message, duration_ms: ms(started) };
  }
  const { ws } = opened;
  result.connect_ms = opened.connectMs;
  result.protocol = ws.protocol;
  result.extensions = ws.extensions;
  try {
    result.ping_ms = await ping(ws, 5_000);
  } catch (error) {
    result.error = (error as Error).message;
  }
  throwIfAborted(o.signal, ws);
  result.close = await closeNormally(ws);
  if (!result.error && result.close === null) result.error = 'the server did not answer the close handshake within 5 s';
  else if (!result.error && result.close && result.close.code !== 1000) {
    result.error = `the server answered the close with code ${result.close.code}, not 1000`;
  }
  result.ok = result.error === undefined;
  result.duration_ms = ms(started);
  return result;
}

function ping(ws: WebSocket, timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = clock();
    const timer = setTimeout(() => reject(new Error(`no pong within ${timeoutMs} ms`)), timeoutMs);
    ws.once('pong', () => {
      clearTimeout(timer);
      resolve(ms(started));
    });
    ws.ping();
  });
}

async function echoTest(o: z.output<typeof echoSchema>): Promise<EchoTestResult> {
  const count = o.count ?? 20;
  const timeoutMs = o.timeoutMs ?? 5_000;
  const template = compileTemplate(o.message ?? DEFAULT_TEMPLATE);
  if (!template.correlates) throw new Error('invalid test options: message: the echo test needs {{id}} in the message to match echoes');
  const started = clock();
  const rtt = createHistogram();
  const result: EchoTestResult = {
    kind: 'echo',
    url: o.url,
    ok: false,
    duration_ms: 0,
    connect_ms: null,
    sent: 0,
    received: 0,
    lost: 0,
    not_attempted: 0,
    identical: 0,
    rtt_ms: summarize(rtt),
  };
  let ws: WebSocket;
  try {
    const opened = await connect(o);
    ws = opened.ws;
    result.connect_ms = opened.connectMs;
  } catch (error) {
    throwIfAborted(o.signal);
    rtt.destroy();
    return { ...result, error: (error as Error).message, duration_ms: ms(started) };
  }

  const tag = runTag();
  const tagWithDot = Buffer.from(`${tag}.`);
  const renderer = new MessageRenderer(template, tag, 0, o.payloadBytes ?? 0);
  // One request in flight at a time: the echo test measures round trips, not throughput.
  let timeoutsInARow = 0;
  for (let seq = 0; seq < count && ws.readyState === WebSocket.OPEN && timeoutsInARow < ECHO_MAX_CONSECUTIVE_TIMEOUTS; seq++) {
    throwIfAborted(o.signal, ws);
    const text = renderer.render(seq, Date.now());
    const sentAt = clock();
    result.sent++;
    const echo = await sendAndAwaitEcho(ws, tagWithDot, seq, text, timeoutMs, o.signal);
    throwIfAborted(o.signal, ws);
    if (echo === null) {
      result.lost++;
      timeoutsInARow++;
      continue;
    }
    timeoutsInARow = 0;
    recordMs(rtt, clock() - sentAt);
    result.received++;
    if (echo.toString() === text) result.identical++;
  }
  result.not_attempted = count - result.sent;
  // Still open with messages left: only the consecutive timeouts stop the loop so.
  const stoppedEarly = ws.readyState === WebSocket.OPEN && result.not_attempted > 0;
  throwIfAborted(o.signal, ws);
  if (ws.readyState === WebSocket.OPEN) await closeNormally(ws);
  result.rtt_ms = summarize(rtt);
  rtt.destroy();
  const errors: string[] = [];
  if (result.lost > 0) errors.push(`${result.lost} of ${count} messages got no echo within ${timeoutMs} ms`);
  if (result.not_attempted > 0) {
    const why = stoppedEarly ? `stopped after ${ECHO_MAX_CONSECUTIVE_TIMEOUTS} consecutive timeouts` : 'the connection closed';
    errors.push(`${why}, ${result.not_attempted} not attempted`);
  }
  if (errors.length > 0) result.error = errors.join('; ');
  result.ok = result.error === undefined;
  result.duration_ms = ms(started);
  return result;
}

/** Sends `text` and resolves with the frame that echoes its id, or null on timeout or close. */
function sendAndAwaitEcho(
  socket: WebSocket,
  tagBytes: Buffer,
  seq: number,
  text: string,
  waitMs: number,
  signal: AbortSignal | undefined,
): Promise<Buffer | null> {
  return new Promise((resolve) => {
    const done = (value: Buffer | null): void => {
      clearTimeout(timer);
      socket.off('message', onMessage);
      socket.off('close', onClose);
      signal?.removeEventListener('abort', onAbort);
      resolve(value);
    };
    const onAbort = (): void => done(null);
    signal?.addEventListener('abort', onAbort, { once: true });
    const onMessage = (data: Buffer): void => {
      const id = parseCorrelationId(data, tagBytes);
      if (id !== null && id.seq === seq) done(data);
    };
    const onClose = (): void => done(null);
    const timer = setTimeout(() => done(null), waitMs);
    socket.on('message', onMessage);
    socket.on('close', onClose);
    socket.send(text);
  });
}

async function poolTest(o: z.output<typeof poolSchema>): Promise<PoolTestResult> {
  const started = clock();
  const connections = o.connections ?? 20;
  const plan = resolveLoadPlan({
    url: o.url,
    stages: [{ connections, rampUpS: o.rampUpS ?? 0, holdS: o.holdS ?? 1 }],
    rate: 0,
    expectEcho: false,
    workers: o.workers ?? 2,
    ...(o.headers ? { headers: o.headers } : {}),
    ...(o.token ? { token: o.token } : {}),
    ...(o.subprotocols ? { subprotocols: o.subprotocols } : {}),
    ...(o.handshakeTimeoutMs ? { handshakeTimeoutMs: o.handshakeTimeoutMs } : {}),
    ...(o.addresses ? { addresses: o.addresses } : {}),
  });
  const report = await runLoadPlan(plan, o.signal ? { signal: o.signal } : {});
  throwIfAborted(o.signal);
  const { target, opened, failed, dropped } = report.connections;
  const result: PoolTestResult = {
    kind: 'pool',
    url: o.url,
    ok: failed === 0 && dropped === 0,
    duration_ms: ms(started),
    connections: { target, opened, failed, dropped },
    workers: report.workers,
    connect_ms: report.connect_ms,
    errors: report.errors,
  };
  if (!result.ok) result.error = `${failed} of ${target} connections failed and ${dropped} dropped`;
  return result;
}
