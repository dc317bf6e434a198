/**
 * Server SDK overhead: a bare `ws` echo server, the same server with our
 * instrumentation (metrics + default tracing, exported periodically to a
 * discarding exporter) and with `opentelemetry-instrumentation-ws` from npm,
 * each in its own process, driven by the same closed-loop load for a fixed
 * duration, in interleaved rounds: a separate process with N raw TCP
 * WebSocket connections, each keeping 4 small messages in flight, cheap
 * enough per message that the server is the bottleneck. Then the heap each
 * server holds per idle connection (10 000 connections, after GC).
 *
 *   npm run bench -- instrumentation [--seconds 3] [--rounds 7] [--connections 100] [--idle 10000]
 *
 * Last line: key=value pairs (throughput_ratio = ours / bare, medians of the rounds).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { type Socket, createConnection } from 'node:net';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

type Subject = 'bare' | 'ours' | 'otel-ws';
const SUBJECTS: Subject[] = ['bare', 'ours', 'otel-ws'];
const SELF = fileURLToPath(import.meta.url);
const MESSAGE = JSON.stringify({ type: 'chat', sentAt: 0, data: 'x'.repeat(40) });

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
  const meterProvider = new MeterProvider({ readers: [new PeriodicExportingMetricReader({ exporter: discardMetrics, exportIntervalMillis: 1000 })] });
  if (subject === 'ours') {
    const { instrumentWebSocketServer } = await import('../src/instrumentation/index.ts');
    instrumentWebSocketServer(wss, { meterProvider, tracerProvider });
  }
  wss.on('connection', (socket) => {
    socket.on('message', (data, isBinary) => socket.send(data, { binary: isBinary }));
  });
  const port = (wss.address() as { port: number }).port;
  process.on('message', async (message: { cmd: string }) => {
    if (message.cmd === 'cpu') {
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

/**
 * The echo load: raw TCP WebSocket clients that write pre-built frames and
 * count echoed bytes, so the load generator spends far less per message
 * than the server and the server is the bottleneck being measured. Each
 * connection keeps WINDOW messages in flight (closed loop).
 */
async function runEcho(port: number, connections: number, seconds: number): Promise<void> {
  const WINDOW = 4;
  const frame = maskedTextFrame(MESSAGE);
  const echoSize = 2 + Buffer.byteLength(MESSAGE);
  const frames = Buffer.concat(Array.from({ length: WINDOW }, () => frame));
  const latencies = new Float64Array(8_000_000);
  let count = 0;
  let measuring = false;
  let stopping = false;
  const sockets: Socket[] = [];

  const start = (): Promise<void> =>
    new Promise((resolve, reject) => {
      const socket = createConnection({ host: '127.0.0.1', port, noDelay: true }, () => socket.write(UPGRADE));
      sockets.push(socket);
      // Send times of the messages in flight, oldest first (a ring of WINDOW slots).
      const sentAt = new Float64Array(WINDOW);
      let head = 0;
      let pending = 0;
      let upgraded = false;
      socket.on('error', reject);
      socket.on('data', (chunk: Buffer) => {
        let bytes = chunk.length;
        if (!upgraded) {
          const end = chunk.indexOf('\r\n\r\n');
          if (!chunk.toString('latin1', 0, 12).startsWith('HTTP/1.1 101') || end === -1) {
            reject(new Error(`upgrade refused: ${chunk.toString('latin1', 0, 40)}`));
            return;
          }
          upgraded = true;
          bytes = chunk.length - end - 4;
          const now = performance.now();
          for (let i = 0; i < WINDOW; i++) sentAt[i] = now;
          socket.write(frames);
          resolve();
        }
        pending += bytes;
        const echoed = Math.floor(pending / echoSize);
        if (echoed === 0) return;
        pending -= echoed * echoSize;
        const now = performance.now();
        for (let i = 0; i < echoed; i++) {
          if (measuring && count < latencies.length) latencies[count++] = now - sentAt[head]!;
          sentAt[head] = now;
          head = (head + 1) % WINDOW;
        }
        if (!stopping) socket.write(echoed === WINDOW ? frames : frames.subarray(0, echoed * frame.length));
      });
    });

  await Promise.all(Array.from({ length: connections }, start));
  await new Promise((r) => setTimeout(r, 1000)); // warm-up
  process.send!({ measuring: true });
  measuring = true;
  const started = performance.now();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  measuring = false;
  const elapsed = (performance.now() - started) / 1000;
  stopping = true;
  const sorted = latencies.subarray(0, count).sort();
  const pick = (q: number) => sorted[Math.min(count - 1, Math.floor(q * count))] ?? 0;
  process.send!({ done: { messages: count, seconds: elapsed, p50: pick(0.5), p99: pick(0.99) } });
  for (const socket of sockets) socket.destroy();
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
  const node = [process.execPath, '--expose-gc', ...(process.env.BENCH_NODE_FLAGS?.split(' ').filter(Boolean) ?? []), '--import', 'tsx', SELF, ...args].map((a) => `'${a}'`).join(' ');
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
  throughput: number;
  p50: number;
  p99: number;
  cpuPerMessageUs: number;
}

/**
 * One round: the given subjects' servers and loads run at once (the bench
 * runs one subject per round; running several together proved unfair under
 * the scheduler, one pair starving another).
 */
async function throughputRound(subjects: Subject[], connections: number, seconds: number): Promise<Run[]> {
  const servers = subjects.map((subject) => child(['--server', subject]));
  try {
    const ports = await Promise.all(servers.map((server) => next<number>(server, 'port')));
    const loads = ports.map((port) => child(['--load', String(port), String(connections), String(seconds), 'echo']));
    // Listen for every reply up front: one load may finish before another has started measuring.
    return await Promise.all(
      loads.map(async (load, i) => {
        const server = servers[i]!;
        const done = next<{ messages: number; seconds: number; p50: number; p99: number }>(load, 'done');
        await next(load, 'measuring');
        const cpuStart = await ask<number>(server, 'cpu', 'cpu');
        const d = await done;
        const cpuEnd = await ask<number>(server, 'cpu', 'cpu');
        return { throughput: d.messages / d.seconds, p50: d.p50, p99: d.p99, cpuPerMessageUs: (cpuEnd - cpuStart) / d.messages };
      }),
    );
  } finally {
    await Promise.all(servers.map(stop));
  }
}

async function heapPerConnection(subject: Subject, idle: number): Promise<number> {
  const server = child(['--server', subject]);
  try {
    const port = await next<number>(server, 'port');
    const before = await ask<{ heap: number }>(server, 'heap', 'heap');
    const load = child(['--load', String(port), String(idle), '0', 'idle']);
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

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      seconds: { type: 'string', default: '3' },
      rounds: { type: 'string', default: '7' },
      connections: { type: 'string', default: '100' },
      idle: { type: 'string', default: '10000' },
    },
  });
  const seconds = Number(values.seconds);
  const rounds = Number(values.rounds);
  const connections = Number(values.connections);
  const idle = Number(values.idle);
  console.log(`server SDK overhead: ${connections} connections, ${MESSAGE.length}-byte messages, ${rounds} interleaved rounds of ${seconds} s; heap with ${idle} idle connections`);

  const runs: Record<Subject, Run[]> = { bare: [], ours: [], 'otel-ws': [] };
  for (let round = 1; round <= rounds; round++) {
    // Rotate the order so no subject always runs first (warm caches, thermal drift).
    const order = SUBJECTS.map((_, i) => SUBJECTS[(i + round - 1) % SUBJECTS.length]!);
    for (const subject of order) {
      const [run] = await throughputRound([subject], connections, seconds);
      if (!run) throw new Error('no result');
      runs[subject].push(run);
      console.log(
        `round ${round} ${subject.padEnd(8)} ${run.throughput.toFixed(0).padStart(7)} msg/s  p50 ${run.p50.toFixed(3)} ms  p99 ${run.p99.toFixed(3)} ms  server cpu ${run.cpuPerMessageUs.toFixed(2)} µs/msg`,
      );
    }
  }
  const summary = Object.fromEntries(
    SUBJECTS.map((s) => [
      s,
      {
        throughput: median(runs[s].map((r) => r.throughput)),
        p50: median(runs[s].map((r) => r.p50)),
        p99: median(runs[s].map((r) => r.p99)),
        cpu: median(runs[s].map((r) => r.cpuPerMessageUs)),
      },
    ]),
  ) as Record<Subject, { throughput: number; p50: number; p99: number; cpu: number }>;
  // Paired per round (same machine state), then the median.
  const ratio = median(runs.ours.map((r, i) => r.throughput / runs.bare[i]!.throughput));
  const ratioOtel = median(runs['otel-ws'].map((r, i) => r.throughput / runs.bare[i]!.throughput));
  const cpuRatio = summary.ours.cpu / summary.bare.cpu;

  const heap: Record<Subject, number> = { bare: 0, ours: 0, 'otel-ws': 0 };
  for (const subject of SUBJECTS) {
    heap[subject] = await heapPerConnection(subject, idle);
    console.log(`heap ${subject.padEnd(8)} ${heap[subject].toFixed(0)} B per idle connection`);
  }
  const added = heap.ours - heap.bare;
  const addedOtel = heap['otel-ws'] - heap.bare;

  console.log('');
  console.log('| subject | throughput (msg/s) | p50 (ms) | p99 (ms) | server CPU (µs/msg) | heap per idle connection (B) |');
  console.log('|---|---:|---:|---:|---:|---:|');
  for (const s of SUBJECTS) {
    const r = summary[s];
    console.log(`| ${s} | ${r.throughput.toFixed(0)} | ${r.p50.toFixed(3)} | ${r.p99.toFixed(3)} | ${r.cpu.toFixed(2)} | ${heap[s].toFixed(0)} |`);
  }
  console.log('');
  console.log(
    [
      `throughput_ratio=${ratio.toFixed(3)}`,
      `heap_per_connection_bytes=${added.toFixed(0)}`,
      `bare_msgs_per_s=${summary.bare.throughput.toFixed(0)}`,
      `ours_msgs_per_s=${summary.ours.throughput.toFixed(0)}`,
      `otel_ws_msgs_per_s=${summary['otel-ws'].throughput.toFixed(0)}`,
      `otel_ws_throughput_ratio=${ratioOtel.toFixed(3)}`,
      `bare_p50_ms=${summary.bare.p50.toFixed(3)}`,
      `bare_p99_ms=${summary.bare.p99.toFixed(3)}`,
      `ours_p50_ms=${summary.ours.p50.toFixed(3)}`,
      `ours_p99_ms=${summary.ours.p99.toFixed(3)}`,
      `otel_ws_p50_ms=${summary['otel-ws'].p50.toFixed(3)}`,
      `otel_ws_p99_ms=${summary['otel-ws'].p99.toFixed(3)}`,
      `server_cpu_ratio=${cpuRatio.toFixed(3)}`,
      `otel_ws_heap_per_connection_bytes=${addedOtel.toFixed(0)}`,
    ].join(' '),
  );
}

const args = process.argv.slice(2);
// A child whose orchestrator is gone has nothing left to do.
if (args[0] === '--server' || args[0] === '--load') process.on('disconnect', () => process.exit(0));
if (args[0] === '--server') {
  await runServer(args[1] as Subject);
} else if (args[0] === '--load') {
  if (args[4] === 'idle') await runIdle(Number(args[1]), Number(args[2]));
  else await runEcho(Number(args[1]), Number(args[2]), Number(args[3]));
} else {
  await main();
}
