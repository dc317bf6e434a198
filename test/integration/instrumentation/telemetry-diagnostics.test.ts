/**
 * The SDK's own trouble reaches our log: an OTLP export to a collector that is
 * down is logged as a warning or error (not swallowed), and repeats of the
 * same message are held back for a minute.
 */
import { diag } from '@opentelemetry/api';
import { afterAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../../src/stack/index.ts';
import { diagnosticsLogger, routeDiagnostics, startTelemetry } from '../../../src/telemetry/index.ts';

afterAll(() => diag.disable());

describe('OpenTelemetry diagnostics in our log', () => {
  it('logs a failed span export to an unreachable collector', async () => {
    const logged: Array<{ level: string; obj: object; message: string }> = [];
    routeDiagnostics({
      warn: (obj, message) => logged.push({ level: 'warn', obj, message }),
      error: (obj, message) => logged.push({ level: 'error', obj, message }),
    });
    // The exporter reads its timeout from the process environment: give up on the dead port quickly.
    process.env.OTEL_EXPORTER_OTLP_TRACES_TIMEOUT = '500';
    const telemetry = await startTelemetry({
      serviceName: 'diagnostics-test',
      global: false,
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9', OTEL_METRICS_EXPORTER: 'none', OTEL_BSP_SCHEDULE_DELAY: '50' },
    });
    telemetry.tracerProvider.getTracer('test').startSpan('lost').end();
    await waitFor('the failed export to be logged', async () => logged.length > 0, { timeoutMs: 30_000 });
    delete process.env.OTEL_EXPORTER_OTLP_TRACES_TIMEOUT;
    // Shutting down flushes again into the same dead port; that failure is expected here.
    await telemetry.shutdown().catch(() => undefined);
    expect(logged[0]).toEqual({
      level: 'error',
      obj: { component: 'opentelemetry', err: { name: 'Error', code: 'ECONNREFUSED' } },
      message: 'OpenTelemetry: connect ECONNREFUSED 127.0.0.1:9',
    });
    // The same failure again within the minute is not logged again.
    expect(logged.filter((l) => l.message === logged[0]!.message)).toHaveLength(1);
  });

  it('holds back repeats of one message for the given time', () => {
    let t = 0;
    const lines: string[] = [];
    const logger = diagnosticsLogger({ warn: (_o, m) => lines.push(`warn ${m}`), error: (_o, m) => lines.push(`error ${m}`) }, { repeatAfterMs: 60_000, now: () => t });
    logger.error('export failed');
    t = 30_000;
    logger.error('export failed');
    logger.warn('another thing');
    logger.info('not logged');
    logger.debug('not logged');
    t = 60_000;
    logger.error('export failed');
    expect(lines).toEqual(['error OpenTelemetry: export failed', 'warn OpenTelemetry: another thing', 'error OpenTelemetry: export failed']);
  });
});
