/**
 * A server the Instrumentation class cannot instrument (here: its heartbeat
 * option on a server without clientTracking) keeps working without metrics,
 * and the refusal is a warning, once per server, not a debug line per
 * upgrade. Its own file: `ws` must be required for the first time after
 * registration (see otel-instrumentation.test.ts).
 */
import { type DiagLogger, DiagLogLevel, diag } from '@opentelemetry/api';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { createRequire } from 'node:module';
import { afterEach, describe, expect, it } from 'vitest';
import { WsServerInstrumentation } from '../../../src/instrumentation/instrumentation.ts';
import { Telemetry, connect } from './harness.ts';

afterEach(() => diag.disable());

describe('WsServerInstrumentation and a server it cannot instrument', () => {
  it('warns once, leaves the server working, and counts nothing for it', async () => {
    const warnings: string[] = [];
    const quiet = () => undefined;
    const logger: DiagLogger = { error: quiet, info: quiet, debug: quiet, verbose: quiet, warn: (...args: unknown[]) => void warnings.push(args.map(String).join(' ')) };
    diag.setLogger(logger, DiagLogLevel.WARN);
    const telemetry = new Telemetry();
    const instrumentation = new WsServerInstrumentation({ heartbeat: { intervalMs: 30_000 } });
    const unregister = registerInstrumentations({ instrumentations: [instrumentation], meterProvider: telemetry.meterProvider, tracerProvider: telemetry.tracerProvider });
    const ws = createRequire(import.meta.url)('ws') as typeof import('ws');
    const wss = new ws.WebSocketServer({ host: '127.0.0.1', port: 0, clientTracking: false });
    const sockets = new Set<import('ws').WebSocket>();
    wss.on('connection', (socket) => sockets.add(socket));
    await new Promise((resolve) => wss.once('listening', resolve));
    wss.on('connection', (socket) => socket.on('message', (data) => socket.send(data)));
    try {
      const url = `ws://127.0.0.1:${(wss.address() as { port: number }).port}`;
      const clients = await Promise.all([connect(url), connect(url)]);
      const echoed = await new Promise<string>((resolve) => {
        clients[0]!.once('message', (data) => resolve(String(data)));
        clients[0]!.send('still works');
      });
      expect(echoed).toBe('still works');
      // The component logger's namespace, our message, then the error saying why.
      expect(warnings).toEqual([
        'socketscope-instrumentation-ws server not instrumented: it runs without socketscope metrics Error: instrumentWebSocketServer: the heartbeat needs clientTracking: true',
      ]);
      expect(instrumentation.instrumentedServers).toBe(0);
      expect(await telemetry.value('websocket.server.connection.opened')).toBeUndefined();
      for (const client of clients) client.terminate();
    } finally {
      unregister();
      // Without clientTracking, close() leaves the connections to us.
      for (const socket of sockets) socket.terminate();
      await new Promise((resolve) => wss.close(resolve));
      await telemetry.shutdown();
    }
  });
});
