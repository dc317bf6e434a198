/**
 * The Instrumentation class: registerInstrumentations() patches `ws` as it
 * is required, and every server then instruments itself on its first upgrade.
 */
import { type InstrumentationModuleDefinition, registerInstrumentations } from '@opentelemetry/instrumentation';
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { WsServerInstrumentation } from '../../../src/instrumentation/instrumentation.ts';
import { Telemetry, closed, connect, untilValue } from './harness.ts';

describe('WsServerInstrumentation', () => {
  it('instruments servers created after registration, and disable() undoes it', async () => {
    const telemetry = new Telemetry();
    const instrumentation = new WsServerInstrumentation({ messageTypes: ['chat'], classify: (data) => (data.toString().startsWith('chat:') ? 'chat' : undefined) });
    const unregister = registerInstrumentations({
      instrumentations: [instrumentation],
      meterProvider: telemetry.meterProvider,
      tracerProvider: telemetry.tracerProvider,
    });
    const ws = createRequire(import.meta.url)('ws') as typeof import('ws');
    const wss = new ws.WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise((resolve) => wss.once('listening', resolve));
    const url = `ws://127.0.0.1:${(wss.address() as { port: number }).port}`;
    try {
      const client = await connect(url);
      client.send('chat:hello');
      await untilValue(telemetry, 'websocket.server.received.messages', { 'websocket.frame.type': 'text', 'websocket.message.type': 'chat' }, 1);
      expect(await telemetry.value('websocket.server.connection.opened')).toBe(1);
      expect(telemetry.spans.getFinishedSpans().map((s) => [s.name, s.instrumentationScope.name])).toEqual([['websocket.handshake', 'socketscope-instrumentation-ws']]);
      expect(instrumentation.instrumentedServers).toBe(1);
      const gone = closed(client);
      client.close();
      await gone;

      unregister();
      expect(instrumentation.instrumentedServers).toBe(0);
      expect(Object.hasOwn(wss, 'handleUpgrade')).toBe(false);
      const after = await connect(url);
      after.close();
      expect(await telemetry.value('websocket.server.connection.opened')).toBe(1);
    } finally {
      await new Promise((resolve) => wss.close(resolve));
      await telemetry.shutdown();
    }
  });
});

describe('two WsServerInstrumentation instances', () => {
  it('the first to patch ws keeps it: the second stays out of its way, and neither undoes the other', () => {
    // Patched by hand (enabled: false keeps require hooks out of it): `ws` is already loaded here.
    const ws = createRequire(import.meta.url)('ws') as typeof import('ws');
    const original = ws.WebSocketServer.prototype.handleUpgrade;
    const [first, second] = [new WsServerInstrumentation({ enabled: false }), new WsServerInstrumentation({ enabled: false })].map((i) => i.getModuleDefinitions()[0]) as [
      InstrumentationModuleDefinition,
      InstrumentationModuleDefinition,
    ];
    try {
      first.patch?.(ws);
      const firstWrapper = ws.WebSocketServer.prototype.handleUpgrade;
      expect(firstWrapper).not.toBe(original);
      second.patch?.(ws);
      expect(ws.WebSocketServer.prototype.handleUpgrade).toBe(firstWrapper);
      second.unpatch?.(ws);
      expect(ws.WebSocketServer.prototype.handleUpgrade).toBe(firstWrapper);
      first.unpatch?.(ws);
      expect(ws.WebSocketServer.prototype.handleUpgrade).toBe(original);
    } finally {
      ws.WebSocketServer.prototype.handleUpgrade = original;
    }
  });
});

describe('WsServerInstrumentation in an ES module app', () => {
  const fixtures = fileURLToPath(new URL('./fixtures/', import.meta.url));
  /** Runs fixtures/esm-app.mjs (a static `import ... from 'ws'`) with fixtures/esm-telemetry.mjs loaded first by --import. */
  async function runApp(hook: boolean): Promise<{ instrumentedServers: number; opened: number | null }> {
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', '--import', `${fixtures}esm-telemetry.mjs`, `${fixtures}esm-app.mjs`], {
      env: { ...process.env, ESM_HOOK: hook ? '1' : '0' },
      timeout: 60_000,
    });
    return JSON.parse(stdout.trim().split('\n').at(-1)!) as { instrumentedServers: number; opened: number | null };
  }

  it('instruments servers when the app registers @opentelemetry/instrumentation/hook.mjs', async () => {
    expect(await runApp(true)).toEqual({ instrumentedServers: 1, opened: 1 });
  });

  it('instruments nothing without the hook: import loads ws/wrapper.mjs, which require-patching never sees', async () => {
    expect(await runApp(false)).toEqual({ instrumentedServers: 0, opened: null });
  });
});
