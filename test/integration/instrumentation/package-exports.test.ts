/**
 * The server SDK's package entry points under require(): the `register` entry is for
 * `node -r` setups, and CommonJS apps load the package with require(esm) (Node >= 20.19 /
 * 22.12), which needs a `default` export condition. The package is compiled into a temporary
 * node_modules (not dist/, which other tests build and pack) beside links to its peers.
 */
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { run } from '../../helpers/exec.ts';

const root = resolve(import.meta.dirname, '../../..');
const dir = mkdtempSync(join(tmpdir(), 'socketscope-exports-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const APP = `
const sdk = require('@socketscope/instrumentation-ws');
const { WsServerInstrumentation } = require('@socketscope/instrumentation-ws/register');
const { SERVER_METRICS } = require('@socketscope/instrumentation-ws/catalogue');
const { WebSocketServer } = require('ws');
const handle = sdk.instrumentWebSocketServer(new WebSocketServer({ noServer: true }), { eventLoopDelay: false });
handle.shutdown();
console.log(JSON.stringify({
  instrument: typeof sdk.instrumentWebSocketServer,
  register: typeof WsServerInstrumentation,
  catalogue: SERVER_METRICS.some((m) => m.name === 'websocket.server.connection.count'),
}));
`;

describe('@socketscope/instrumentation-ws under require()', () => {
  it('loads every entry point from a CommonJS app', async () => {
    const pkg = join(dir, 'node_modules', '@socketscope', 'instrumentation-ws');
    mkdirSync(pkg, { recursive: true });
    const tsc = await run(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'src/instrumentation/tsconfig.build.json'), '--outDir', join(pkg, 'dist')], {
      timeoutMs: 120_000,
    });
    expect(tsc.code, tsc.stdout + tsc.stderr).toBe(0);
    cpSync(join(root, 'src/instrumentation/package.json'), join(pkg, 'package.json'));
    for (const name of ['@opentelemetry/api', '@opentelemetry/instrumentation', 'ws']) {
      const target = join(dir, 'node_modules', name);
      mkdirSync(dirname(target), { recursive: true });
      symlinkSync(join(root, 'node_modules', name), target, 'dir');
    }
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'cjs-adopter', private: true, type: 'commonjs' }));
    writeFileSync(join(dir, 'app.cjs'), APP);
    const app = await run(process.execPath, ['app.cjs'], { cwd: dir, env: { PATH: process.env.PATH ?? '' } });
    expect(app.code, app.stderr).toBe(0);
    expect(JSON.parse(app.stdout)).toEqual({ instrument: 'function', register: 'function', catalogue: true });
  });
});
