/**
 * The root package's library entry points (`socketscope/telemetry`,
 * `socketscope/catalogue`, `socketscope/loadtest`) as an app imports them:
 * plain JavaScript under plain `node`, no TypeScript loader. setup.sh compiles
 * them to dist/ (tsconfig.lib.json); the load test's worker threads run the
 * compiled worker too.
 */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../src/stack/binaries.ts';
import { run } from '../helpers/exec.ts';

const dir = mkdtempSync(join(tmpdir(), 'socketscope-root-exports-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const APP = `
import { WebSocketServer } from 'ws';
import { startTelemetry } from 'socketscope/telemetry';
import { METRICS, prometheusName } from 'socketscope/catalogue';
import { runLoadTest } from 'socketscope/loadtest';

const telemetry = await startTelemetry({ serviceName: 'plain-node-app', env: {}, prometheus: { host: '127.0.0.1', port: 0 }, global: false });
const meter = telemetry.meterProvider.getMeter('app');
const io = METRICS.find((m) => m.name === 'websocket.server.io');
meter.createCounter(io.name, { unit: io.unit }).add(42, { 'network.io.direction': 'receive' });
const exposition = await (await fetch(telemetry.prometheus.url)).text();
await telemetry.shutdown();

const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
await new Promise((resolve) => wss.once('listening', resolve));
wss.on('connection', (socket) => socket.on('message', (data) => socket.send(data)));
const report = await runLoadTest({ url: 'ws://127.0.0.1:' + wss.address().port, connections: 4, workers: 2, durationS: 1, rate: 10 });
wss.close();
console.log(JSON.stringify({
  name: prometheusName(io),
  line: exposition.split('\\n').find((l) => l.startsWith(prometheusName(io) + '{')),
  opened: report.connections.opened,
  failed: report.connections.failed,
  lost: report.messages.sent - report.messages.received,
}));
`;

describe('root package exports under plain node', () => {
  it('starts telemetry with a /metrics of collector names, reads the catalogue, and runs a load test on compiled workers', async () => {
    mkdirSync(join(dir, 'node_modules'), { recursive: true });
    // As an install would place them: the package itself (its own dependencies resolve from the repository) and ws.
    symlinkSync(REPO_ROOT, join(dir, 'node_modules', 'socketscope'), 'dir');
    symlinkSync(join(REPO_ROOT, 'node_modules', 'ws'), join(dir, 'node_modules', 'ws'), 'dir');
    writeFileSync(join(dir, 'app.mjs'), APP);
    const result = await run(process.execPath, ['app.mjs'], { cwd: dir, timeoutMs: 60_000 });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const out = JSON.parse(result.stdout) as { name: string; line: string; opened: number; failed: number; lost: number };
    expect(out.name).toBe('websocket_server_io_bytes_total');
    expect(out.line).toMatch(/^websocket_server_io_bytes_total\{network_io_direction="receive",.*\} 42$/);
    expect({ opened: out.opened, failed: out.failed, lost: out.lost }).toEqual({ opened: 4, failed: 0, lost: 0 });
  });
});
