/**
 * Several servers under the Instrumentation class (its own file: `ws` must be
 * required for the first time after registration, see otel-instrumentation.test.ts).
 */
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { WsServerInstrumentation } from '../../../src/instrumentation/instrumentation.ts';
import { Telemetry, closed, connect, untilValue } from './harness.ts';

describe('WsServerInstrumentation with several servers', () => {
  it('reports the sum of several servers (two noServer paths on one HTTP server) and lets go of a server that closes', async () => {
    const telemetry = new Telemetry();
    const instrumentation = new WsServerInstrumentation();
    const unregister = registerInstrumentations({
      instrumentations: [instrumentation],
      meterProvider: telemetry.meterProvider,
      tracerProvider: telemetry.tracerProvider,
    });
    const ws = createRequire(import.meta.url)('ws') as typeof import('ws');
    const paths = { '/chat': new ws.WebSocketServer({ noServer: true }), '/graphql': new ws.WebSocketServer({ noServer: true }) };
    const http = createServer();
    http.on('upgrade', (request, socket, head) => {
      const wss = paths[request.url as keyof typeof paths];
      wss.handleUpgrade(request, socket, head, (client) => wss.emit('connection', client, request));
    });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    const base = `ws://127.0.0.1:${(http.address() as { port: number }).port}`;
    try {
      const chat = await Promise.all([connect(`${base}/chat`), connect(`${base}/chat`)]);
      const graphql = await connect(`${base}/graphql`);
      await untilValue(telemetry, 'websocket.server.connection.count', {}, 3);
      expect(await telemetry.value('websocket.server.connection.opened')).toBe(3);
      expect(instrumentation.instrumentedServers).toBe(2);

      const gone = closed(graphql);
      graphql.close(1000);
      await gone;
      await new Promise((resolve) => paths['/graphql'].close(resolve));
      // The closed server is let go of (not kept until disable()), its count stays in the total.
      expect(instrumentation.instrumentedServers).toBe(1);
      expect(await telemetry.value('websocket.server.connection.count')).toBe(2);
      expect(await telemetry.value('websocket.server.connection.opened')).toBe(3);
      expect(paths['/graphql'].listenerCount('close')).toBe(0);

      unregister();
      expect(instrumentation.instrumentedServers).toBe(0);
      expect(await telemetry.value('websocket.server.connection.count')).toBe(0);
      for (const client of chat) client.close();
    } finally {
      for (const wss of Object.values(paths)) {
        for (const client of wss.clients) client.terminate();
        wss.close();
      }
      await new Promise((resolve) => http.close(resolve));
      await telemetry.shutdown();
    }
  });
});
