/**
 * The server SDK as an adopter gets it: `npm pack` of @socketscope/instrumentation-ws,
 * unpacked into an app directory that has only its peers (@opentelemetry/api, ws) and an
 * OTel SDK, then imported by plain JavaScript under plain `node` (no TypeScript loader).
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SCOPE_VERSION } from '../../src/instrumentation/scope.ts';
import { run } from '../helpers/exec.ts';

const root = resolve(import.meta.dirname, '../..');
const dir = mkdtempSync(join(tmpdir(), 'socketscope-package-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Links a package from the repository's node_modules into the app, as an install would place it. */
function provide(name: string): void {
  const target = join(dir, 'node_modules', name);
  mkdirSync(dirname(target), { recursive: true });
  symlinkSync(join(root, 'node_modules', name), target, 'dir');
}

const APP = `
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { WebSocket, WebSocketServer } from 'ws';
import { instrumentWebSocketServer, SERVER_METRICS } from '@socketscope/instrumentation-ws';
import { WsServerInstrumentation } from '@socketscope/instrumentation-ws/register';

class Reader extends MetricReader {
  async onForceFlush() {}
  async onShutdown() {}
}
const reader = new Reader();
const meterProvider = new MeterProvider({ readers: [reader] });
const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
await new Promise((r) => wss.once('listening', r));
const handle = instrumentWebSocketServer(wss, { meterProvider });
wss.on('connection', (socket) => socket.on('message', (data) => socket.send(data)));
const client = new WebSocket('ws://127.0.0.1:' + wss.address().port);
await new Promise((r) => client.once('open', r));
client.send('hello');
await new Promise((r) => client.once('message', r));
const { resourceMetrics } = await reader.collect();
const points = {};
for (const scope of resourceMetrics.scopeMetrics) {
  for (const metric of scope.metrics) points[metric.descriptor.name] = metric.dataPoints.reduce((sum, p) => sum + (typeof p.value === 'number' ? p.value : p.value.count), 0);
}
client.close();
await handle.shutdown();
await new Promise((r) => wss.close(r));
console.log(JSON.stringify({
  scope: resourceMetrics.scopeMetrics.map((s) => s.scope),
  active: points['websocket.server.connection.count'],
  received: points['websocket.server.received.messages'],
  catalogue: SERVER_METRICS.length,
  register: typeof WsServerInstrumentation,
}));
`;

describe('@socketscope/instrumentation-ws, packed', () => {
  it('depends on nothing but its peers and instruments a server from plain JavaScript under plain node', async () => {
    const build = await run('npm', ['run', '--silent', 'build', '-w', '@socketscope/instrumentation-ws'], { cwd: root, timeoutMs: 120_000 });
    expect(build.code, build.stderr).toBe(0);
    const pack = await run('npm', ['pack', '--json', '--pack-destination', dir, '-w', '@socketscope/instrumentation-ws'], { cwd: root, timeoutMs: 120_000 });
    expect(pack.code, pack.stderr).toBe(0);
    const [packed] = JSON.parse(pack.stdout) as Array<{ filename: string; files: Array<{ path: string }> }>;
    // What an adopter downloads: the manifest, the compiled JavaScript and its declarations, no sources or tests.
    const files = packed!.files.map((f) => f.path);
    expect(files).toContain('dist/index.js');
    expect(files).toContain('dist/index.d.ts');
    expect(files.filter((f) => f !== 'package.json' && !/^dist\/[\w-]+\.(js|d\.ts)$/.test(f))).toEqual([]);

    const installed = join(dir, 'node_modules', '@socketscope', 'instrumentation-ws');
    mkdirSync(installed, { recursive: true });
    const untar = await run('tar', ['-xzf', join(dir, packed!.filename), '-C', installed, '--strip-components=1']);
    expect(untar.code, untar.stderr).toBe(0);
    const manifest = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8')) as Record<string, Record<string, string> | string>;
    expect(manifest.dependencies).toBeUndefined();
    expect(Object.keys(manifest.peerDependencies as Record<string, string>).sort()).toEqual(['@opentelemetry/api', '@opentelemetry/instrumentation', 'ws']);
    expect(manifest.peerDependenciesMeta).toEqual({ '@opentelemetry/instrumentation': { optional: true } });
    // The scope version the SDK reports is the package's version.
    expect(manifest.version).toBe(SCOPE_VERSION);
    // No relative import in the declarations keeps a .ts extension an adopter's compiler would not find.
    for (const file of files.filter((f) => f.endsWith('.d.ts'))) expect(readFileSync(join(installed, file), 'utf8')).not.toMatch(/from '\.\.?\/[^']+\.ts'/);

    for (const name of ['@opentelemetry/api', '@opentelemetry/sdk-metrics', '@opentelemetry/instrumentation', 'ws']) provide(name);
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'adopter', private: true, type: 'module' }));
    writeFileSync(join(dir, 'app.mjs'), APP);
    const app = await run(process.execPath, ['app.mjs'], { cwd: dir, env: { PATH: process.env.PATH ?? '' }, timeoutMs: 60_000 });
    expect(app.code, app.stderr).toBe(0);
    expect(JSON.parse(app.stdout)).toEqual({
      scope: [{ name: 'socketscope-instrumentation-ws', version: SCOPE_VERSION }],
      active: 1,
      received: 1,
      catalogue: expect.any(Number),
      register: 'function',
    });
  });
});
