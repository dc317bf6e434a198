/**
 * Instrumenting before the OpenTelemetry SDK registers its global
 * MeterProvider (the metrics API has no proxy provider, unlike the trace
 * API): a warning once, counting anyway, and binding to the global provider
 * once there is one. Its own file: it sets the process-global provider.
 */
import { DiagLogLevel, diag, metrics } from '@opentelemetry/api';
import { afterAll, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { instrumentWebSocketServer } from '../../../src/instrumentation/index.ts';
import { waitFor } from '../../../src/stack/ports.ts';
import { Telemetry, connect, untilValue } from './harness.ts';

const WARNING =
  'socketscope: instrumentWebSocketServer() was called before a global MeterProvider was registered, so there is nowhere to report metrics yet. ' +
  'The server counts anyway and binds to the global provider at the first upgrade request after one is registered. ' +
  'Start the OpenTelemetry SDK before instrumenting servers, or pass { meterProvider } (docs/server-sdk.md, start-up order).';

afterAll(() => {
  metrics.disable();
  diag.disable();
});

async function listening(): Promise<{ wss: WebSocketServer; url: string }> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise((resolve) => wss.once('listening', resolve));
  return { wss, url: `ws://127.0.0.1:${(wss.address() as { port: number }).port}` };
}

describe('instrumenting before the SDK starts', () => {
  it('warns once, counts anyway and reports to the global MeterProvider once one is registered', async () => {
    const warnings: string[] = [];
    const ignore = () => {};
    diag.setLogger({ warn: (message) => warnings.push(message), error: (message) => warnings.push(message), info: ignore, debug: ignore, verbose: ignore }, DiagLogLevel.WARN);
    const a = await listening();
    const b = await listening();
    const own = await listening();
    const ownTelemetry = new Telemetry();
    // No timing sampler timer on a: it binds at its next upgrade only.
    const handleA = instrumentWebSocketServer(a.wss, { eventLoopDelay: false, messageTimingPerSecond: Infinity });
    const handleB = instrumentWebSocketServer(b.wss, { eventLoopDelay: false });
    // With a provider of its own there is nothing to warn about.
    const handleOwn = instrumentWebSocketServer(own.wss, { eventLoopDelay: false, meterProvider: ownTelemetry.meterProvider });
    expect(warnings).toEqual([WARNING]);
    expect([handleA.stats().reporting, handleB.stats().reporting, handleOwn.stats().reporting]).toEqual([false, false, true]);

    // A connection before the SDK starts is counted, and reported once bound.
    const early = await connect(a.url);
    const telemetry = new Telemetry();
    metrics.setGlobalMeterProvider(telemetry.meterProvider);
    expect(await telemetry.value('websocket.server.connection.opened')).toBeUndefined();
    const late = await connect(a.url);
    expect(handleA.stats().reporting).toBe(true);
    await untilValue(telemetry, 'websocket.server.connection.count', {}, 2);
    expect(await telemetry.value('websocket.server.connection.opened')).toBe(2);

    // b binds without an upgrade, at its timing sampler's next check (about a second).
    await waitFor('b to bind', async () => handleB.stats().reporting, { timeoutMs: 10_000, intervalMs: 50 });
    const onB = await connect(b.url);
    await untilValue(telemetry, 'websocket.server.connection.count', {}, 3);
    expect(await telemetry.value('websocket.server.connection.opened')).toBe(3);
    expect(warnings).toEqual([WARNING]);

    for (const client of [early, late, onB]) client.terminate();
    for (const handle of [handleA, handleB, handleOwn]) handle.shutdown();
    for (const { wss } of [a, b, own]) await new Promise((resolve) => wss.close(resolve));
    await telemetry.shutdown();
    await ownTelemetry.shutdown();
  });
});
