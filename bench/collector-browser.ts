/**
 * Collector browser ingest: how many browser sessions one collector core folds,
 * and what the browser guards cost.
 *
 * Payload: one web SDK session's metrics export, made by the web SDK's own code
 * (its instruments, created from web-sdk/src/catalogue.ts, its MetricsRecorder
 * and its OTLP/JSON encoder) from a simulated busy session: page load and Web
 * Vitals, a connection that drops and reconnects, messages, heartbeats,
 * requests, queued and dropped messages, errors, interactions. Every client
 * metric is in it, so it is a session's heaviest export (its first); later
 * exports carry only what changed. The resource is the web SDK's (otel.ts)
 * plus per-session attributes other browser SDKs add (session id, user agent,
 * browser.*), which the pipeline strips. A pool of sessions with different
 * values and network types; every request gets its own session id.
 *
 * Subjects, each a fresh collector per round, rounds alternating:
 *   guarded:   the shipped otel-collector-config.yaml (metrics/browser:
 *              memory_limiter → filter/browser → batch → transform/browser →
 *              delta_to_cumulative → prometheus);
 *   unguarded: the same with an overlay whose metrics/browser runs
 *              memory_limiter → batch → transform/browser-stamp →
 *              delta_to_cumulative, where transform/browser-stamp keeps only the
 *              resource keep_keys and the two Now() stamps (so sessions still
 *              fold): the difference is filter/browser and the service-name and
 *              attribute guards.
 *
 * A closed loop of N requests in flight (node:http keep-alive, bodies encoded up
 * front, as bench/ingest.ts: the client shares the machine's cores with the
 * collector) posts OTLP/JSON to /v1/metrics on the browser receiver, a warm-up,
 * then a measured window; every response must be 200 (others are counted as
 * errors). Collector CPU is user + system time from procfs. After each round
 * the exporter's /metrics must hold exactly the series the pool's attribute
 * sets make (the same count after the warm-up and at the end, however many
 * sessions were sent) and counter totals equal to what the accepted requests
 * carried, so a broken pipeline cannot report throughput.
 *
 *   npm run bench -- collector-browser [--rounds 3] [--seconds 20] [--warmup 3] [--concurrency 8] [--sessions 256]
 *
 * Last line: key=value pairs; sessions_per_core = the web SDK's default metrics
 * export interval / the guarded collector's CPU seconds per export.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { AggregationTemporality, MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { median } from 'simple-statistics';
import { parse, stringify } from 'yaml';
import { CLIENT_METRICS } from '../web-sdk/src/catalogue.ts';
import { createInstruments } from '../web-sdk/src/metrics/instruments.ts';
import { encodeResourceMetrics } from '../web-sdk/src/metrics/otlp-json.ts';
import { MetricsRecorder } from '../web-sdk/src/metrics/recorder.ts';
import type { SocketScope } from '../web-sdk/src/scope.ts';
import type { VitalRating } from '../web-sdk/src/sink.ts';
import { otlpAttributes } from '../web-sdk/src/transport/otlp-json.ts';
import { SDK_NAME, SDK_VERSION } from '../web-sdk/src/version.ts';
import { prometheusName } from '../src/catalogue.ts';
import { type CollectorHandle, Stack, leaveShutdownToApp } from '../src/stack/index.ts';
import { COLLECTOR_CONFIG } from '../src/stack/collector.ts';
import { removeRunDir } from '../src/stack/run-dir.ts';
import { randomSource as prng } from '../test/helpers/random.ts';
import { busyShare, machineTicks, processCpuSeconds } from './_cpu.ts';

const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    seconds: { type: 'string', default: '20' },
    warmup: { type: 'string', default: '3' },
    concurrency: { type: 'string', default: '8' },
    sessions: { type: 'string', default: '256' },
  },
});
const ROUNDS = Number(args.rounds);
const SECONDS = Number(args.seconds);
const WARMUP = Number(args.warmup);
const CONCURRENCY = Number(args.concurrency);
const POOL = Number(args.sessions);

const SERVICE_NAME = 'shop-web';
/** As an operator sets it: an alternation of the web apps' names. */
const BROWSER_SERVICE_NAMES = 'shop-web|chat-web|admin-web';
const SESSION_PLACEHOLDER = 'SESSION-ID-PLACEHOLDER-00000000000000';

/** The web SDK's default metrics export interval (otlpExport's `metricsIntervalMs ?? …`), read from its source. */
function webSdkExportIntervalSeconds(): number {
  const source = readFileSync(fileURLToPath(new URL('../web-sdk/src/otel.ts', import.meta.url)), 'utf8');
  const match = /metricsIntervalMs \?\? ([\d_]+)/.exec(source);
  if (!match) throw new Error('web-sdk/src/otel.ts: no `metricsIntervalMs ?? <default>` found');
  return Number(match[1]!.replace(/_/g, '')) / 1000;
}

// ---------------------------------------------------------------------------------------------
// Payload: simulated sessions recorded through the web SDK's instruments and encoder.

/** A collecting reader with the web SDK exporter's temporality (DELTA). */
class DeltaReader extends MetricReader {
  constructor() {
    super({ aggregationTemporalitySelector: () => AggregationTemporality.DELTA });
  }
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

// network.connection.type / effective_type as browsers report them (Firefox and Safari: unknown).
const NETWORKS = [
  { weight: 0.4, type: 'wifi', effectiveType: '4g' },
  { weight: 0.18, type: 'cell', effectiveType: '4g' },
  { weight: 0.05, type: 'cell', effectiveType: '3g' },
  { weight: 0.1, type: 'wired', effectiveType: '4g' },
  { weight: 0.27, type: 'unknown', effectiveType: 'unknown' },
] as const;
const USER_AGENTS = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15',
  'Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0',
  'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36',
];
// web-vitals' thresholds (good ≤ first, poor > second), in its units (ms; CLS a score).
const VITALS = {
  lcp: { min: 600, max: 6000, good: 2500, poor: 4000 },
  fcp: { min: 300, max: 4000, good: 1800, poor: 3000 },
  ttfb: { min: 80, max: 2500, good: 800, poor: 1800 },
  inp: { min: 30, max: 800, good: 200, poor: 500 },
  cls: { min: 0, max: 0.4, good: 0.1, poor: 0.25 },
} as const;

interface Session {
  /** The request body with SESSION_PLACEHOLDER where the session id goes. */
  body: string;
  /** Bytes of the body that are the extra resource attributes (`,` + their OTLP key-values). */
  extraBytes: number;
  sentMessages: number;
  ioBytes: number;
  rttCount: number;
  /** Stream keys (metric + data point attributes) and the series each makes in Prometheus. */
  streams: Map<string, number>;
  metrics: number;
  dataPoints: number;
}

async function recordSession(index: number): Promise<Session> {
  const random = prng(0x5eed + index);
  const between = (min: number, max: number) => min + random() * (max - min);
  const int = (min: number, max: number) => Math.floor(between(min, max + 1));
  let pick = random();
  const network = NETWORKS.find((n) => (pick -= n.weight) < 0) ?? NETWORKS[0];
  const userAgent = USER_AGENTS[index % USER_AGENTS.length]!;
  const reader = new DeltaReader();
  // What other browser SDKs put on their resources (the web SDK does not): the pipeline strips it.
  const extras = {
    'session.id': SESSION_PLACEHOLDER,
    'user_agent.original': userAgent,
    'browser.language': ['en-US', 'de-DE', 'fr-FR', 'ja-JP'][index % 4]!,
    'browser.platform': userAgent.includes('Windows') ? 'Windows' : userAgent.includes('Mac') ? 'macOS' : userAgent.includes('Android') ? 'Android' : 'Linux',
    'browser.mobile': userAgent.includes('Mobile'),
    'browser.brands': ['Chromium 131', 'Google Chrome 131', 'Not_A Brand 24'],
  };
  // otel.ts's resource (service.namespace unset), plus the extras.
  const resource = resourceFromAttributes({
    'service.name': SERVICE_NAME,
    'service.version': '1.4.2',
    'deployment.environment.name': 'production',
    'telemetry.sdk.language': 'webjs',
    'telemetry.sdk.name': SDK_NAME,
    'telemetry.sdk.version': SDK_VERSION,
    ...extras,
  });
  const provider = new MeterProvider({ resource, readers: [reader] });
  const scope = { network: { type: network.type, effectiveType: network.effectiveType } } as unknown as SocketScope;
  const recorder = new MetricsRecorder(createInstruments(provider.getMeter(SDK_NAME, SDK_VERSION)), scope);

  let sentMessages = 0;
  let ioBytes = 0;
  let rttCount = 0;
  const messages = (sent: boolean, n: number, minBytes: number, maxBytes: number) => {
    for (let i = 0; i < n; i++) {
      const bytes = int(minBytes, maxBytes);
      recorder.message(sent, bytes);
      ioBytes += bytes;
      if (sent) sentMessages++;
    }
  };
  // Page load and Web Vitals.
  recorder.vital('page_load', between(700, 7000));
  for (const [name, v] of Object.entries(VITALS) as Array<[keyof typeof VITALS, (typeof VITALS)[keyof typeof VITALS]]>) {
    const value = between(v.min, v.max) * (random() < 0.7 ? 0.5 : 1);
    const rating: VitalRating = value <= v.good ? 'good' : value <= v.poor ? 'needs-improvement' : 'poor';
    recorder.vital(name, value, rating);
  }
  // Connect, traffic, heartbeats, requests.
  recorder.attempt(false);
  recorder.opened(between(0.03, 0.6), false);
  messages(true, int(10, 120), 40, 400);
  messages(false, int(30, 400), 60, 2000);
  for (let i = int(2, 3); i > 0; i--, rttCount++) recorder.rtt(between(0.015, 0.4));
  for (let i = int(3, 20); i > 0; i--) {
    const r = random();
    if (r < 0.92) recorder.request(between(0.01, 0.8), 'ok');
    else if (r < 0.97) recorder.request(between(0.01, 0.5), 'error');
    else recorder.request(10, 'timeout');
  }
  // The connection drops (network change, or the server going away), a reconnect fails, the next opens.
  const code = random() < 0.8 ? 1006 : random() < 0.5 ? 1001 : 1012;
  if (code === 1006) recorder.error('socket');
  recorder.closed(code, true, between(2, 25));
  for (let i = int(1, 5); i > 0; i--) recorder.queued();
  recorder.dropped(random() < 0.7 ? 'expired' : 'queue_full', int(1, 3));
  recorder.attempt(true);
  recorder.error('connect');
  recorder.attempt(true);
  recorder.opened(between(0.05, 1.5), true);
  recorder.outage('recovered', between(0.5, 12));
  messages(true, int(0, 20), 40, 400);
  // The user.
  for (let i = int(3, 60); i > 0; i--) recorder.interaction();
  recorder.pageError();

  const { resourceMetrics, errors } = await reader.collect();
  if (errors.length > 0) throw new Error(`collecting the session's metrics failed: ${String(errors[0])}`);
  await provider.shutdown();
  const encoded = encodeResourceMetrics(resourceMetrics) as {
    scopeMetrics: Array<{ metrics: Array<{ name: string; sum?: { dataPoints: Array<{ attributes: unknown }> }; histogram?: { dataPoints: Array<{ attributes: unknown; explicitBounds: number[] }> } }> }>;
  };
  const streams = new Map<string, number>();
  let metrics = 0;
  let dataPoints = 0;
  for (const { metrics: list } of encoded.scopeMetrics) {
    for (const metric of list) {
      metrics++;
      for (const dp of metric.sum?.dataPoints ?? []) streams.set(`${metric.name} ${JSON.stringify(dp.attributes)}`, 1);
      // Buckets (one per bound, +Inf), _sum, _count.
      for (const dp of metric.histogram?.dataPoints ?? []) streams.set(`${metric.name} ${JSON.stringify(dp.attributes)}`, dp.explicitBounds.length + 3);
      dataPoints += (metric.sum?.dataPoints.length ?? 0) + (metric.histogram?.dataPoints.length ?? 0);
    }
  }
  // What the web SDK's transport posts (transport/otlp-json.ts: `{ resourceMetrics: items }`, one export per request).
  const body = JSON.stringify({ resourceMetrics: [encoded] });
  const extraBytes = otlpAttributes(extras).reduce((n, kv) => n + 1 + Buffer.byteLength(JSON.stringify(kv)), 0);
  return { body, extraBytes, sentMessages, ioBytes, rttCount, streams, metrics, dataPoints };
}

// ---------------------------------------------------------------------------------------------
// Collector configs.

/** The overlay without the guards: resource keep_keys and the Now() stamps only, taken from the shipped config. */
function unguardedOverlay(runDir: string): string {
  interface Statements {
    context: string;
    statements: string[];
  }
  const shipped = parse(readFileSync(COLLECTOR_CONFIG, 'utf8')) as {
    processors: Record<string, { metric_statements: Statements[] }>;
    service: { pipelines: Record<string, { processors: string[] }> };
  };
  const statements = shipped.processors['transform/browser']!.metric_statements;
  const keepKeys = statements.find((s) => s.context === 'resource')!.statements.filter((s) => s.startsWith('keep_keys('));
  const stamps = statements.find((s) => s.context === 'datapoint')!.statements.filter((s) => /^set\((start_time|time), Now\(\)\)$/.test(s));
  if (keepKeys.length !== 1 || stamps.length !== 2) throw new Error('otel-collector-config.yaml: transform/browser no longer has one resource keep_keys and two Now() stamps');
  const guarded = shipped.service.pipelines['metrics/browser']!.processors.join(',');
  if (guarded !== 'memory_limiter,filter/browser,batch,transform/browser,delta_to_cumulative') throw new Error(`metrics/browser changed: ${guarded}`);
  const file = join(runDir, 'collector-browser-unguarded.yaml');
  writeFileSync(
    file,
    stringify({
      processors: {
        'transform/browser-stamp': {
          error_mode: 'ignore',
          metric_statements: [
            { context: 'resource', statements: keepKeys },
            { context: 'datapoint', statements: stamps },
          ],
        },
      },
      service: { pipelines: { 'metrics/browser': { processors: ['memory_limiter', 'batch', 'transform/browser-stamp', 'delta_to_cumulative'] } } },
    }),
  );
  return file;
}

// ---------------------------------------------------------------------------------------------
// Load and checks.

type Subject = 'guarded' | 'unguarded';

interface RoundResult {
  subject: Subject;
  round: number;
  exports: number;
  seconds: number;
  exportsPerS: number;
  cpuSeconds: number;
  usPerExport: number;
  clientUsPerExport: number;
  machineBusy: number;
  errors: number;
  sessionsSent: number;
  seriesAfterWarmup: number;
  seriesAtEnd: number;
  sentMessages: number;
}

const stack = new Stack('bench-collector-browser');
const abort = new AbortController();
let interrupted: NodeJS.Signals | undefined;
// The first SIGINT/SIGTERM ends the round and stops the stack below; on a second one
// (Ctrl-C reaches this process from the terminal and from bench/run.ts) the stack kills
// its processes at once, and the run directory goes here.
leaveShutdownToApp();
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (interrupted) removeRunDir(stack.runDir);
    interrupted ??= signal;
    abort.abort();
  });
}

interface Scrape {
  series: number;
  total(name: string): number;
}

async function scrape(collector: CollectorHandle, families: readonly string[]): Promise<Scrape> {
  const response = await fetch(`http://${collector.metricsEndpoint}/metrics`, { headers: { accept: 'text/plain;version=0.0.4' } });
  if (response.status !== 200) throw new Error(`/metrics answered ${response.status}`);
  const job = `job="${SERVICE_NAME}"`;
  const sums = new Map<string, number>();
  let series = 0;
  for (const line of (await response.text()).split('\n')) {
    if (line.startsWith('#') || !line.includes(job)) continue;
    const name = line.slice(0, line.indexOf('{'));
    if (!families.some((family) => name === family || name.startsWith(`${family}_`))) continue;
    series++;
    const value = Number(line.slice(line.lastIndexOf('}') + 1).trim().split(' ')[0]);
    sums.set(name, (sums.get(name) ?? 0) + value);
  }
  return { series, total: (name) => sums.get(name) ?? 0 };
}

async function runRound(stack: Stack, subject: Subject, round: number, pool: Session[], overlay: string, expectedSeries: number): Promise<RoundResult> {
  const collector = await stack.collector({
    env: { BROWSER_SERVICE_NAMES },
    configFiles: subject === 'guarded' ? [COLLECTOR_CONFIG] : [COLLECTOR_CONFIG, overlay],
  });
  const pid = collector.process.pid!;
  const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const target = new URL('/v1/metrics', collector.browserOtlpUrl);
  const families = CLIENT_METRICS.map((m) => prometheusName(m));
  const sent = { requests: 0, accepted: 0, errors: 0, sentMessages: 0, ioBytes: 0, rttCount: 0 };
  const errorSamples: string[] = [];
  const post = (i: number) =>
    new Promise<void>((resolve) => {
      const session = pool[i % pool.length]!;
      // A session id of the placeholder's length: every request is a session the collector has not seen.
      const body = Buffer.from(session.body.replace(SESSION_PLACEHOLDER, `${subject[0]}${round}-${String(i).padStart(SESSION_PLACEHOLDER.length - 3, '0')}`));
      const fail = (why: string) => {
        sent.errors++;
        if (errorSamples.length < 5) errorSamples.push(why);
        resolve();
      };
      const req = request(target, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': body.length } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          if (res.statusCode !== 200) return fail(`${res.statusCode}: ${Buffer.concat(chunks).toString().slice(0, 200)}`);
          sent.accepted++;
          sent.sentMessages += session.sentMessages;
          sent.ioBytes += session.ioBytes;
          sent.rttCount += session.rttCount;
          resolve();
        });
        res.on('error', (error) => fail(error.message));
      });
      req.on('error', (error) => fail(error.message));
      req.end(body);
    });
  let stop = false;
  const workers = Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (!stop) await post(sent.requests++);
    }),
  );
  try {
    await sleep(WARMUP * 1000, undefined, { signal: abort.signal });
    const afterWarmup = await scrape(collector, families);
    const before = { accepted: sent.accepted, cpu: processCpuSeconds(pid), client: process.cpuUsage(), machine: machineTicks(), at: performance.now() };
    await sleep(SECONDS * 1000, undefined, { signal: abort.signal });
    stop = true;
    await workers;
    const seconds = (performance.now() - before.at) / 1000;
    const cpuSeconds = processCpuSeconds(pid) - before.cpu;
    const client = process.cpuUsage(before.client);
    const machineBusy = busyShare(before.machine, machineTicks());
    const exports = sent.accepted - before.accepted;

    // The folded totals must equal what the accepted requests carried (batch flushes within 1 s).
    const sentName = prometheusName(CLIENT_METRICS.find((m) => m.name === 'websocket.client.sent.messages')!);
    const ioName = prometheusName(CLIENT_METRICS.find((m) => m.name === 'websocket.client.io')!);
    const rttName = `${prometheusName(CLIENT_METRICS.find((m) => m.name === 'websocket.client.rtt')!)}_count`;
    let end = await scrape(collector, families);
    for (let waited = 0; waited < 15_000 && end.total(sentName) !== sent.sentMessages; waited += 250) {
      await sleep(250, undefined, { signal: abort.signal });
      end = await scrape(collector, families);
    }
    const mismatches = [
      [sentName, end.total(sentName), sent.sentMessages],
      [ioName, end.total(ioName), sent.ioBytes],
      [rttName, end.total(rttName), sent.rttCount],
    ].filter(([, got, want]) => got !== want);
    if (mismatches.length > 0) {
      throw new Error(`${subject} round ${round}: folded totals differ from what was sent: ${mismatches.map(([name, got, want]) => `${name} ${got} != ${want}`).join(', ')}`);
    }
    if (afterWarmup.series !== expectedSeries || end.series !== expectedSeries) {
      throw new Error(`${subject} round ${round}: ${afterWarmup.series} series after the warm-up and ${end.series} at the end, expected ${expectedSeries} (the pool's attribute sets)`);
    }
    if (errorSamples.length > 0) console.log(`  ${subject} round ${round}: ${sent.errors} errors, e.g. ${errorSamples.join(' | ')}`);
    return {
      subject,
      round,
      exports,
      seconds,
      exportsPerS: exports / seconds,
      cpuSeconds,
      usPerExport: (cpuSeconds * 1e6) / exports,
      clientUsPerExport: (client.user + client.system) / exports,
      machineBusy,
      errors: sent.errors,
      sessionsSent: sent.requests,
      seriesAfterWarmup: afterWarmup.series,
      seriesAtEnd: end.series,
      sentMessages: sent.sentMessages,
    };
  } finally {
    stop = true;
    await workers;
    agent.destroy();
    await collector.stop();
  }
}

// ---------------------------------------------------------------------------------------------
// main

const results: RoundResult[] = [];
let failed = false;
let pool: Session[] = [];
let expectedSeries = 0;
const interval = webSdkExportIntervalSeconds();
try {
  pool = await Promise.all(Array.from({ length: POOL }, (_, i) => recordSession(i)));
  const streams = new Map<string, number>();
  for (const session of pool) for (const [key, series] of session.streams) streams.set(key, series);
  expectedSeries = [...streams.values()].reduce((a, b) => a + b, 0);
  const covered = new Set([...streams.keys()].map((key) => key.split(' ')[0]));
  const missing = CLIENT_METRICS.filter((m) => !covered.has(m.name)).map((m) => m.name);
  if (missing.length > 0) throw new Error(`the payload lacks ${missing.join(', ')}`);
  const bytes = pool.map((s) => Buffer.byteLength(s.body));
  const points = pool.map((s) => s.dataPoints);
  console.log(
    `payload: OTLP/JSON, 1 resource, ${pool[0]!.metrics} metrics (all ${CLIENT_METRICS.length} of the catalogue), ` +
      `${Math.min(...points)}–${Math.max(...points)} data points (median ${median(points)}), ${Math.min(...bytes)}–${Math.max(...bytes)} bytes ` +
      `(median ${Math.round(median(bytes))}, of which ${Math.round(median(pool.map((s) => s.extraBytes)))} per-session resource attributes the web SDK does not send); ` +
      `${POOL} sessions in the pool, ${streams.size} distinct streams = ${expectedSeries} Prometheus series; web SDK export interval ${interval} s`,
  );
  console.log(`machine: load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}; ${CONCURRENCY} requests in flight, ${WARMUP} s warm-up + ${SECONDS} s measured per round`);

  const overlay = unguardedOverlay(stack.runDir);
  for (let round = 1; round <= ROUNDS; round++) {
    for (const subject of ['guarded', 'unguarded'] as const) {
      const r = await runRound(stack, subject, round, pool, overlay, expectedSeries);
      results.push(r);
      console.log(
        `round ${round} ${subject.padEnd(9)}: ${r.exports} exports in ${r.seconds.toFixed(1)} s = ${Math.round(r.exportsPerS)}/s; ` +
          `collector CPU ${r.cpuSeconds.toFixed(2)} s = ${r.usPerExport.toFixed(1)} µs/export; client ${r.clientUsPerExport.toFixed(1)} µs/export; ` +
          `machine busy ${Math.round(r.machineBusy * 100)}%; ${r.sessionsSent} sessions, series ${r.seriesAfterWarmup} → ${r.seriesAtEnd}, ` +
          `${r.sentMessages} sent messages folded exactly; errors ${r.errors}`,
      );
    }
  }
} catch (error) {
  failed = true;
  if (!interrupted) console.error(error);
} finally {
  await stack.stop();
}
if (interrupted) {
  console.error(`interrupted (${interrupted}); collectors stopped`);
  process.exit(130);
}
if (failed) process.exit(1);

const bytes = pool.map((s) => Buffer.byteLength(s.body));
const points = pool.map((s) => s.dataPoints);
const of = (subject: Subject) => results.filter((r) => r.subject === subject);
const med = (subject: Subject, pick: (r: RoundResult) => number) => median(of(subject).map(pick));
const summary = (['guarded', 'unguarded'] as const).map((subject) => ({
  subject,
  exportsPerS: med(subject, (r) => r.exportsPerS),
  usPerExport: med(subject, (r) => r.usPerExport),
  clientUsPerExport: med(subject, (r) => r.clientUsPerExport),
  sessionsPerCore: interval / (med(subject, (r) => r.usPerExport) / 1e6),
}));
const [guarded, unguarded] = summary as [(typeof summary)[0], (typeof summary)[0]];
const errors = results.reduce((a, r) => a + r.errors, 0);

console.log('\n| subject | round | exports/s | collector µs/export | client µs/export | machine busy | series (after warm-up → end) | sessions sent | errors |');
console.log('|---|---|---:|---:|---:|---:|---|---:|---:|');
for (const r of results) {
  console.log(
    `| ${r.subject} | ${r.round} | ${Math.round(r.exportsPerS)} | ${r.usPerExport.toFixed(1)} | ${r.clientUsPerExport.toFixed(1)} | ${Math.round(r.machineBusy * 100)}% | ${r.seriesAfterWarmup} → ${r.seriesAtEnd} | ${r.sessionsSent} | ${r.errors} |`,
  );
}
for (const s of summary) {
  console.log(`| **${s.subject}** | median | **${Math.round(s.exportsPerS)}** | **${s.usPerExport.toFixed(1)}** | ${s.clientUsPerExport.toFixed(1)} | | | | |`);
}
console.log(
  `\nsessions per collector core (one export per ${interval} s): guarded ${Math.round(guarded.sessionsPerCore)}, unguarded ${Math.round(unguarded.sessionsPerCore)}; ` +
    `the guards cost ${(guarded.usPerExport - unguarded.usPerExport).toFixed(1)} µs per export (${((guarded.usPerExport / unguarded.usPerExport - 1) * 100).toFixed(1)}%)`,
);
console.log(
  `guarded_exports_per_s=${Math.round(guarded.exportsPerS)} unguarded_exports_per_s=${Math.round(unguarded.exportsPerS)} ` +
    `guarded_us_per_export=${guarded.usPerExport.toFixed(1)} unguarded_us_per_export=${unguarded.usPerExport.toFixed(1)} ` +
    `guard_cost_ratio=${(guarded.usPerExport / unguarded.usPerExport).toFixed(3)} sessions_per_core=${Math.round(guarded.sessionsPerCore)} ` +
    `unguarded_sessions_per_core=${Math.round(unguarded.sessionsPerCore)} series=${expectedSeries} payload_bytes=${Math.round(median(bytes))} data_points=${median(points)} ` +
    `rounds=${ROUNDS} concurrency=${CONCURRENCY} errors=${errors} loadavg1=${loadavg()[0]!.toFixed(1)}`,
);
