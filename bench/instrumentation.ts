/**
 * Server SDK overhead: a bare `ws` echo server, the same server with our
 * instrumentation (metrics + default tracing, collected every 5 s into a
 * discarding exporter) and with `opentelemetry-instrumentation-ws` from npm,
 * each in its own process, all three up at once.
 *
 * Throughput and latency: one load process holds N raw TCP WebSocket
 * connections to each server (each keeping 4 small messages in flight; far
 * cheaper per message than the server, so the server is the bottleneck) and
 * drives the servers in turn, in short slices, round-robin, for a fixed
 * total time each. Alternating every few hundred milliseconds spreads other
 * load on the machine evenly over the three, which back-to-back runs of
 * several seconds did not (this bench shares two cores with test suites).
 *
 * A round is three fresh server processes and a fresh load process; the
 * bench runs several and reports the median round's ratio, because a
 * process's own luck (code placement, JIT decisions, which CPU it lands on)
 * moves one round by a few per cent either way.
 *
 * Heap: 10 000 idle connections to one server at a time, heap used after
 * GC minus before, per connection.
 *
 *   npm run bench -- instrumentation [--rounds 3] [--seconds 8] [--slice 250] [--connections 100] [--idle 10000]
 *
 * Last line: key=value pairs; throughput_ratio = ours / bare, median of the rounds.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import type { Profiler } from 'node:inspector';
import { Session } from 'node:inspector/promises';
import { createRequire } from 'node:module';
import { type Socket, createConnection } from 'node:net';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { median } from 'simple-statistics';

type Subject = 'bare' | 'ours' | 'otel-ws';
const SUBJECTS: Subject[] = ['bare', 'ours', 'otel-ws'];
const SELF = fileURLToPath(import.meta.url);
const MESSAGE = JSON.stringify({ type: 'chat', sentAt: 0, data: 'x'.repeat(40) });
const WINDOW = 4;

// ---------------------------------------------------------------------------------------------
// role: server
async function runServer(subject: Subject): Promise<void> {
  const require = createRequire(import.meta.url);
  const { MeterProvider, PeriodicExportingMetricReader, AggregationTemporality } = await import('@opentelemetry/sdk-metrics');
  const { BasicTracerProvider, BatchSpanProcessor } = await import('@opentelemetry/sdk-trace-base');
  const discardMetrics = {
    export: (_m: unknown, done: (r: { code: number }) => void) => done({ code: 0 }),
    forceFlush: async () => {},
    shutdown: async () => {},
    selectAggregationTemporality: () => AggregationTemporality.CUMULATIVE,
  };
  const discardSpans = { export: (_s: unknown, done: (r: { code: number }) => void) => done({ code: 0 }), shutdown: async () => {} };
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new BatchSpanProcessor(discardSpans)] });

  let ws: typeof import('ws');
  let serverOptions: Record<string, unknown> = {};
  if (subject === 'otel-ws') {
    const { registerInstrumentations } = await import('@opentelemetry/instrumentation');
    const { WSInstrumentation } = require('opentelemetry-instrumentation-ws') as typeof import('opentelemetry-instrumentation-ws');
    registerInstrumentations({ tracerProvider, instrumentations: [new WSInstrumentation()] });
    // Through require(), which the instrumentation patches. The module export is its WebSocket
    // subclass (ws.WebSocket stays the original): serve the sockets with it so its per-socket
    // hooks run too, not only the upgrade spans.
    ws = require('ws') as typeof import('ws');
    serverOptions = { WebSocket: ws };
  } else {
    ws = require('ws') as typeof import('ws');
  }
  const wss = new ws.WebSocketServer({ host: '127.0.0.1', port: 0, ...serverOptions });
  await new Promise((resolve) => wss.once('listening', resolve));
  const meterProvider = new MeterProvider({ readers: [new PeriodicExportingMetricReader({ exporter: discardMetrics, exportIntervalMillis: 5000 })] });
  if (subject === 'ours') {
    const { instrumentWebSocketServer } = await import('../src/instrumentation/index.ts');
    instrumentWebSocketServer(wss, { meterProvider, tracerProvider });
  }
  wss.on('connection', (socket) => {
    socket.on('message', (data, isBinary) => socket.send(data, { binary: isBinary }));
  });
  const port = (wss.address() as { port: number }).port;
  const profiler = new Session();
  profiler.connect();
  process.on('message', async (message: { cmd: string }) => {
    if (message.cmd === 'profile-start') {
      await profiler.post('Profiler.enable');
      await profiler.post('Profiler.setSamplingInterval', { interval: 200 });
      await profiler.post('Profiler.start');
      process.send!({ profiling: true });
    } else if (message.cmd === 'profile-stop') {
      const { profile } = await profiler.post('Profiler.stop');
      process.send!({ profile: telemetryShare(profile) });
    } else if (message.cmd === 'cpu') {
      const usage = process.cpuUsage();
      process.send!({ cpu: usage.user + usage.system });
    } else if (message.cmd === 'heap') {
      // Spans waiting in the batch queue are not per-connection state: export them first.
      await Promise.all([tracerProvider.forceFlush(), meterProvider.forceFlush()]);
      for (let i = 0; i < 4; i++) globalThis.gc?.();
      process.send!({ heap: { heap: process.memoryUsage().heapUsed, clients: wss.clients.size } });
    } else if (message.cmd === 'exit') {
      process.exit(0);
    }
  });
  process.send!({ port });
}

/**
 * Of the CPU samples the server was busy in, the share spent in
 * OpenTelemetry code (our instrumentation, the API, the SDK's recording and
 * collection). A sample belongs to the nearest JavaScript frame of its stack
 * that is not a Node.js internal or native: so `performance.now()` called by
 * the instrumentation counts as telemetry, while ws, EventEmitter#emit and
 * the application's listener, called through the instrumentation's `emit`,
 * do not. A ratio
 * within one process, so other load on the machine barely moves it.
 */
interface ProfileShare {
  busy: number;
  telemetry: number;
  /** Busy time in V8's garbage collector (allocation anywhere, ours included, shows up here). */
  gc: number;
  /** The telemetry functions the time went to, largest first: [name, share of busy]. */
  top: Array<[string, number]>;
}

function telemetryShare(profile: Profiler.Profile): ProfileShare {
  const isTelemetry = (url: string) => url.includes('/src/instrumentation/') || url.includes('/@opentelemetry/');
  // EventEmitter#emit is what ws calls anyway; through our emit override it must not count as ours.
  const isNeutral = (url: string) => url === '' || (url.startsWith('node:') && url !== 'node:events');
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const owner = new Map<number, boolean>();
  const parents = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parents.set(child, node.id);
  const byFunction = new Map<string, number>();
  const visit = (id: number, inherited: boolean): void => {
    const node = byId.get(id)!;
    const url = node.callFrame.url;
    const telemetry = isTelemetry(url) ? true : isNeutral(url) ? inherited : false;
    owner.set(id, telemetry);
    for (const child of node.children ?? []) visit(child, telemetry);
  };
  visit(profile.nodes[0]!.id, false);
  let busy = 0;
  let telemetry = 0;
  let gc = 0;
  const deltas = profile.timeDeltas ?? [];
  (profile.samples ?? []).forEach((id, i) => {
    const name = byId.get(id)!.callFrame.functionName;
    if (name === '(idle)' || name === '(program)') return;
    const dt = deltas[i] ?? 0;
    busy += dt;
    if (name === '(garbage collector)') gc += dt;
    if (!owner.get(id)) return;
    telemetry += dt;
    // Charge it to the nearest telemetry frame (a native it called counts as that frame).
    let frame: number | undefined = id;
    while (frame !== undefined && !isTelemetry(byId.get(frame)!.callFrame.url)) frame = parents.get(frame);
    const call = byId.get(frame ?? id)!.callFrame;
    const key = `${call.functionName || '(anonymous)'} ${call.url.split('/').slice(-2).join('/')}`;
    byFunction.set(key, (byFunction.get(key) ?? 0) + dt);
  });
  const top = [...byFunction.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 8)
    .map(([name, dt]): [string, number] => [name, busy > 0 ? dt / busy : 0]);
  return { busy, telemetry, gc, top };
}

// ---------------------------------------------------------------------------------------------
// role: load

/** Client frames are masked; a zero mask key leaves the payload as is (the server still unmasks). */
function maskedTextFrame(text: string): Buffer {
  const payload = Buffer.from(text);
  if (payload.length > 125) throw new Error('bench messages must fit a 7-bit length');
  return Buffer.concat([Buffer.from([0x81, 0x80 | payload.length, 0, 0, 0, 0]), payload]);
}

const UPGRADE =
  'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
  'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n';

const FRAME = maskedTextFrame(MESSAGE);
const FRAMES = Buffer.concat(Array.from({ length: WINDOW }, () => FRAME));
const ECHO_SIZE = 2 + Buffer.byteLength(MESSAGE);

/** The connections to one server, driven only while its slice runs. */
class Group {
  readonly sockets: Socket[] = [];
  readonly latencies = new Float64Array(4_000_000);
  count = 0;
  inFlight = 0;
  active = false;
  activeMs = 0;
  private readonly sentAt: Float64Array[] = [];
  private readonly heads: number[] = [];
  private readonly pending: number[] = [];

  async connect(port: number, connections: number): Promise<void> {
    await Promise.all(Array.from({ length: connections }, (_, i) => this.open(port, i)));
  }

  private open(port: number, i: number): Promise<void> {
    this.sentAt[i] = new Float64Array(WINDOW);
    this.heads[i] = 0;
    this.pending[i] = 0;
    return new Promise((resolve, reject) => {
      const socket = createConnection({ host: '127.0.0.1', port, noDelay: true }, () => socket.write(UPGRADE));
      this.sockets[i] = socket;
      let upgraded = false;
      socket.on('error', reject);
      socket.on('data', (chunk: Buffer) => {
        if (!upgraded) {
          if (!chunk.toString('latin1', 0, 12).startsWith('HTTP/1.1 101')) reject(new Error(`upgrade refused: ${chunk.toString('latin1', 0, 40)}`));
          upgraded = true;
          resolve();
          return;
        }
        this.onEcho(i, chunk.length);
      });
    });
  }

  /** Starts a slice: every connection sends WINDOW messages. */
  start(): void {
    this.active = true;
    const now = performance.now();
    this.sockets.forEach((socket, i) => {
      this.sentAt[i]!.fill(now);
      this.heads[i] = 0;
      this.inFlight += WINDOW;
      socket.write(FRAMES);
    });
  }

  private onEcho(i: number, bytes: number): void {
    let pending = this.pending[i]! + bytes;
    const echoed = Math.floor(pending / ECHO_SIZE);
    pending -= echoed * ECHO_SIZE;
    this.pending[i] = pending;
    if (echoed === 0) return;
    this.inFlight -= echoed;
    const now = performance.now();
    const sentAt = this.sentAt[i]!;
    let head = this.heads[i]!;
    for (let k = 0; k < echoed; k++) {
      if (this.active && this.count < this.latencies.length) this.latencies[this.count++] = now - sentAt[head]!;
      sentAt[head] = now;
      head = (head + 1) % WINDOW;
    }
    this.heads[i] = head;
    if (this.active) {
      this.inFlight += echoed;
      this.sockets[i]!.write(echoed === WINDOW ? FRAMES : FRAMES.subarray(0, echoed * FRAME.length));
    }
  }

  /** Ends a slice: stop sending, wait for the messages in flight (not counted). */
  async stop(): Promise<void> {
    this.active = false;
    while (this.inFlight > 0) await new Promise((r) => setImmediate(r));
  }

  result(): { messages: number; seconds: number; p50: number; p99: number } {
    const sorted = this.latencies.subarray(0, this.count).sort();
    const pick = (q: number) => sorted[Math.min(this.count - 1, Math.floor(q * this.count))] ?? 0;
    return { messages: this.count, seconds: this.activeMs / 1000, p50: pick(0.5), p99: pick(0.99) };
  }
}

async function runAlternating(ports: number[], connections: number, seconds: number, sliceMs: number): Promise<void> {
  const groups = ports.map(() => new Group());
  await Promise.all(groups.map((group, i) => group.connect(ports[i]!, connections)));
  const slice = async (group: Group, measure: boolean): Promise<void> => {
    const started = performance.now();
    if (!measure) group.count = 0;
    group.start();
    await new Promise((r) => setTimeout(r, sliceMs));
    const elapsed = performance.now() - started;
    await group.stop();
    if (measure) group.activeMs += elapsed;
    else group.count = 0;
  };
  // Warm-up: a second per server, discarded.
  for (let i = 0; i < Math.ceil(1000 / sliceMs); i++) for (const group of groups) await slice(group, false);
  process.send!({ measuring: true });
  const slices = Math.ceil((seconds * 1000) / sliceMs);
  for (let s = 0; s < slices; s++) {
    // Rotate who goes first so no server always follows the same one.
    for (let k = 0; k < groups.length; k++) await slice(groups[(s + k) % groups.length]!, true);
  }
  process.send!({ done: groups.map((group) => group.result()) });
  for (const group of groups) for (const socket of group.sockets) socket.destroy();
  process.exit(0);
}

/** Idle connections for the heap measurement (real ws clients; they only stay open). */
async function runIdle(port: number, connections: number): Promise<void> {
  const { WebSocket } = await import('ws');
  const url = `ws://127.0.0.1:${port}/`;
  const sockets: InstanceType<typeof WebSocket>[] = [];
  const open = (): Promise<InstanceType<typeof WebSocket>> =>
    new Promise((resolve, reject) => {
      const socket = new WebSocket(url, { perMessageDeflate: false });
      socket.once('open', () => resolve(socket));
      socket.once('error', reject);
    });
  for (let i = 0; i < connections; i += 500) {
    const batch = await Promise.all(Array.from({ length: Math.min(500, connections - i) }, open));
    sockets.push(...batch);
  }
  process.send!({ ready: sockets.length });
  process.on('message', () => {
    for (const socket of sockets) socket.terminate();
    process.exit(0);
  });
}

// ---------------------------------------------------------------------------------------------
// role: orchestrator
function child(args: string[]): ChildProcess {
  // ulimit is a shell builtin: raise the descriptor limit for 10 000 sockets, then become node.
  const node = [process.execPath, '--expose-gc', ...(process.env.BENCH_NODE_FLAGS?.split(' ').filter(Boolean) ?? []), '--import', 'tsx', SELF, ...args]
    .map((a) => `'${a}'`)
    .join(' ');
  return spawn('bash', ['-c', `ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"; exec ${node}`], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
}

function next<T>(proc: ChildProcess, key: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMessage = (message: Record<string, unknown>) => {
      if (key in message) {
        proc.off('message', onMessage);
        proc.off('exit', onExit);
        resolve(message[key] as T);
      }
    };
    const onExit = (code: number | null) => reject(new Error(`child exited (${code}) before sending ${key}`));
    proc.on('message', onMessage);
    proc.once('exit', onExit);
  });
}

async function ask<T>(proc: ChildProcess, cmd: string, key: string): Promise<T> {
  const reply = next<T>(proc, key);
  proc.send({ cmd });
  return reply;
}

async function stop(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null) return;
  const exited = new Promise((resolve) => proc.once('exit', resolve));
  proc.send({ cmd: 'exit' });
  await exited;
}

interface Run {
  messages: number;
  seconds: number;
  throughput: number;
  p50: number;
  p99: number;
  cpuPerMessageUs: number;
  /** Share of the server's busy CPU spent in OpenTelemetry code during the run. */
  telemetryShare: number;
  /** Share of the server's busy CPU in garbage collection. */
  gcShare: number;
  top: Array<[string, number]>;
}

async function throughput(connections: number, seconds: number, sliceMs: number): Promise<Record<Subject, Run>> {
  const servers = SUBJECTS.map((subject) => child(['--server', subject]));
  try {
    const ports = await Promise.all(servers.map((server) => next<number>(server, 'port')));
    const load = child(['--alternate', ports.join(','), String(connections), String(seconds), String(sliceMs)]);
    const done = next<Array<{ messages: number; seconds: number; p50: number; p99: number }>>(load, 'done');
    await next(load, 'measuring');
    await Promise.all(servers.map((server) => ask(server, 'profile-start', 'profiling')));
    const cpuStart = await Promise.all(servers.map((server) => ask<number>(server, 'cpu', 'cpu')));
    const results = await done;
    const cpuEnd = await Promise.all(servers.map((server) => ask<number>(server, 'cpu', 'cpu')));
    const profiles = await Promise.all(servers.map((server) => ask<ProfileShare>(server, 'profile-stop', 'profile')));
    return Object.fromEntries(
      SUBJECTS.map((subject, i) => {
        const r = results[i]!;
        const p = profiles[i]!;
        return [
          subject,
          {
            messages: r.messages,
            seconds: r.seconds,
            throughput: r.messages / r.seconds,
            p50: r.p50,
            p99: r.p99,
            cpuPerMessageUs: (cpuEnd[i]! - cpuStart[i]!) / r.messages,
            telemetryShare: p.busy > 0 ? p.telemetry / p.busy : 0,
            gcShare: p.busy > 0 ? p.gc / p.busy : 0,
            top: p.top,
          },
        ];
      }),
    ) as Record<Subject, Run>;
  } finally {
    await Promise.all(servers.map(stop));
  }
}

async function heapPerConnection(subject: Subject, idle: number): Promise<number> {
  const server = child(['--server', subject]);
  try {
    const port = await next<number>(server, 'port');
    const before = await ask<{ heap: number }>(server, 'heap', 'heap');
    const load = child(['--load', String(port), String(idle)]);
    await next(load, 'ready');
    const after = await ask<{ heap: number; clients: number }>(server, 'heap', 'heap');
    if (after.clients !== idle) throw new Error(`${subject}: ${after.clients} of ${idle} connections open`);
    load.send({ cmd: 'close' });
    await new Promise((resolve) => load.once('exit', resolve));
    return (after.heap - before.heap) / idle;
  } finally {
    await stop(server);
  }
}

/**
 * The instrumentation's added cost per received message, without sockets:
 * `emit('message')` on a ws socket of our subclass versus a plain one, same
 * listener, alternating 10 rounds in this process (median of the paired
 * differences). Deterministic enough to read in nanoseconds.
 */
async function emitOverheadNs(): Promise<{ bare: number; ours: number }> {
  const { WebSocket, WebSocketServer } = await import('ws');
  const { MeterProvider, MetricReader } = await import('@opentelemetry/sdk-metrics');
  const { instrumentWebSocketServer } = await import('../src/instrumentation/index.ts');
  class Reader extends MetricReader {
    protected override async onForceFlush(): Promise<void> {}
    protected override async onShutdown(): Promise<void> {}
  }
  const wss = new WebSocketServer({ noServer: true });
  const handle = instrumentWebSocketServer(wss, { meterProvider: new MeterProvider({ readers: [new Reader()] }), eventLoopDelay: false });
  type Emitting = { emit(event: string, data: Buffer, isBinary: boolean): boolean; on(event: string, fn: () => void): void };
  const Instrumented = (wss as unknown as { options: { WebSocket: new (...args: unknown[]) => Emitting } }).options.WebSocket;
  const ours = new Instrumented(null, undefined, {});
  // Give it the per-connection state an open connection has.
  const slot = Object.getOwnPropertySymbols(ours)[0]!;
  const { ConnectionState } = await import('../src/instrumentation/connection-state.ts');
  (ours as unknown as Record<symbol, unknown>)[slot] = new ConnectionState(performance.now(), undefined);
  const bare = new (WebSocket as unknown as new (...args: unknown[]) => Emitting)(null, undefined, {});
  let received = 0;
  const listener = () => {
    received++;
  };
  ours.on('message', listener);
  bare.on('message', listener);
  const data = Buffer.from(MESSAGE);
  const run = (socket: Emitting, n: number): number => {
    const start = performance.now();
    for (let i = 0; i < n; i++) socket.emit('message', data, false);
    return ((performance.now() - start) * 1e6) / n;
  };
  // Warm-up, so both paths are optimized before measuring.
  for (let round = 0; round < 5; round++) {
    run(bare, 200_000);
    run(ours, 200_000);
  }
  const pairs: Array<[number, number]> = [];
  for (let round = 0; round < 10; round++) pairs.push([run(bare, 500_000), run(ours, 500_000)]);
  pairs.sort((a, b) => a[1] - a[0] - (b[1] - b[0]));
  handle.shutdown();
  if (received === 0) throw new Error('listener never ran');
  const [bareNs, oursNs] = pairs[5]!;
  return { bare: bareNs, ours: oursNs };
}

/**
 * One figure per subject over all rounds: throughput and CPU per message from
 * the totals, latency and profile shares as the median round's.
 */
function combine(rounds: Array<Record<Subject, Run>>): Record<Subject, Run> {
  const of = (subject: Subject): Run => {
    const runs = rounds.map((round) => round[subject]);
    const messages = runs.reduce((sum, r) => sum + r.messages, 0);
    const seconds = runs.reduce((sum, r) => sum + r.seconds, 0);
    const cpu = runs.reduce((sum, r) => sum + r.cpuPerMessageUs * r.messages, 0);
    const byShare = [...runs].sort((a, b) => a.telemetryShare - b.telemetryShare);
    return {
      messages,
      seconds,
      throughput: messages / seconds,
      p50: median(runs.map((r) => r.p50)),
      p99: median(runs.map((r) => r.p99)),
      cpuPerMessageUs: cpu / messages,
      telemetryShare: median(runs.map((r) => r.telemetryShare)),
      gcShare: median(runs.map((r) => r.gcShare)),
      top: byShare[byShare.length >> 1]!.top,
    };
  };
  return Object.fromEntries(SUBJECTS.map((subject) => [subject, of(subject)])) as Record<Subject, Run>;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      rounds: { type: 'string', default: '3' },
      seconds: { type: 'string', default: '8' },
      slice: { type: 'string', default: '250' },
      connections: { type: 'string', default: '100' },
      idle: { type: 'string', default: '10000' },
    },
  });
  const roundCount = Number(values.rounds);
  if (!Number.isInteger(roundCount) || roundCount < 1) throw new Error(`--rounds must be a positive integer, got ${values.rounds}`);
  const seconds = Number(values.seconds);
  const sliceMs = Number(values.slice);
  const connections = Number(values.connections);
  const idle = Number(values.idle);
  console.log(
    `server SDK overhead: ${connections} connections per server, ${MESSAGE.length}-byte messages, ${WINDOW} in flight per connection, ` +
      `${seconds} s per server in ${sliceMs} ms slices, round-robin, ${roundCount} rounds of fresh processes; heap with ${idle} idle connections`,
  );

  const emit = await emitOverheadNs();
  console.log(`emit('message'): bare ${emit.bare.toFixed(1)} ns, ours ${emit.ours.toFixed(1)} ns (median of 10 paired rounds)`);
  const rounds: Array<Record<Subject, Run>> = [];
  for (let round = 1; round <= roundCount; round++) {
    const result = await throughput(connections, seconds, sliceMs);
    rounds.push(result);
    const ratio = (s: Subject) => (result[s].throughput / result.bare.throughput).toFixed(3);
    console.log(`round ${round}: bare ${result.bare.throughput.toFixed(0)} msg/s, ours/bare ${ratio('ours')}, otel-ws/bare ${ratio('otel-ws')}`);
  }
  const runs = combine(rounds);
  const roundRatios = rounds.map((r) => r.ours.throughput / r.bare.throughput);
  const otelWsRatios = rounds.map((r) => r['otel-ws'].throughput / r.bare.throughput);
  const heap: Record<Subject, number> = { bare: 0, ours: 0, 'otel-ws': 0 };
  for (const subject of SUBJECTS) heap[subject] = await heapPerConnection(subject, idle);

  console.log('');
  console.log('| subject | throughput (msg/s) | p50 (ms) | p99 (ms) | server CPU (µs/msg) | CPU in OTel code | CPU in GC | heap per idle connection (B) |');
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|');
  for (const s of SUBJECTS) {
    const r = runs[s];
    console.log(
      `| ${s} | ${r.throughput.toFixed(0)} | ${r.p50.toFixed(3)} | ${r.p99.toFixed(3)} | ${r.cpuPerMessageUs.toFixed(2)} | ${(r.telemetryShare * 100).toFixed(1)}% | ${(r.gcShare * 100).toFixed(1)}% | ${heap[s].toFixed(0)} |`,
    );
  }
  console.log('');
  console.log(`where "ours" spends its ${(runs.ours.telemetryShare * 100).toFixed(1)}% (share of the server's busy CPU):`);
  for (const [name, share] of runs.ours.top) console.log(`  ${(share * 100).toFixed(2).padStart(5)}%  ${name}`);
  console.log('');
  console.log(
    [
      `throughput_ratio=${median(roundRatios).toFixed(3)}`,
      `throughput_ratio_rounds=${roundRatios.map((r) => r.toFixed(3)).join(',')}`,
      `heap_per_connection_bytes=${(heap.ours - heap.bare).toFixed(0)}`,
      `bare_msgs_per_s=${runs.bare.throughput.toFixed(0)}`,
      `ours_msgs_per_s=${runs.ours.throughput.toFixed(0)}`,
      `otel_ws_msgs_per_s=${runs['otel-ws'].throughput.toFixed(0)}`,
      `otel_ws_throughput_ratio=${median(otelWsRatios).toFixed(3)}`,
      `bare_p50_ms=${runs.bare.p50.toFixed(3)}`,
      `bare_p99_ms=${runs.bare.p99.toFixed(3)}`,
      `ours_p50_ms=${runs.ours.p50.toFixed(3)}`,
      `ours_p99_ms=${runs.ours.p99.toFixed(3)}`,
      `otel_ws_p50_ms=${runs['otel-ws'].p50.toFixed(3)}`,
      `otel_ws_p99_ms=${runs['otel-ws'].p99.toFixed(3)}`,
      `server_cpu_ratio=${(runs.ours.cpuPerMessageUs / runs.bare.cpuPerMessageUs).toFixed(3)}`,
      `added_ns_per_received_message=${(emit.ours - emit.bare).toFixed(1)}`,
      `ours_otel_cpu_share=${runs.ours.telemetryShare.toFixed(4)}`,
      `otel_ws_otel_cpu_share=${runs['otel-ws'].telemetryShare.toFixed(4)}`,
      `bare_gc_share=${runs.bare.gcShare.toFixed(4)}`,
      `ours_gc_share=${runs.ours.gcShare.toFixed(4)}`,
      // What the throughput ratio is when the server is CPU-bound: the CPU left for ws after our share.
      `profiled_throughput_ratio=${(1 - runs.ours.telemetryShare).toFixed(3)}`,
      `bare_heap_per_connection_bytes=${heap.bare.toFixed(0)}`,
      `otel_ws_heap_per_connection_bytes=${(heap['otel-ws'] - heap.bare).toFixed(0)}`,
    ].join(' '),
  );
}

const args = process.argv.slice(2);
// A child whose orchestrator is gone has nothing left to do.
if (args[0] !== undefined) process.on('disconnect', () => process.exit(0));
if (args[0] === '--server') {
  await runServer(args[1] as Subject);
} else if (args[0] === '--alternate') {
  await runAlternating(args[1]!.split(',').map(Number), Number(args[2]), Number(args[3]), Number(args[4]));
} else if (args[0] === '--load') {
  await runIdle(Number(args[1]), Number(args[2]));
} else {
  await main();
}
