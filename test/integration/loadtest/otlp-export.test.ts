/**
 * `socketscope load --otlp`: the run's own numbers reach the real collector
 * over OTLP/HTTP and come out of its Prometheus exporter under the catalogue's
 * names, equal to the report; an unreachable endpoint is reported, not fatal.
 */
import { spawn } from 'node:child_process';
import { createServer, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOAD_METRICS, prometheusName, prometheusSeries } from '../../../src/catalogue.ts';
import { loadMetric } from '../../../src/loadtest/catalogue.ts';
import { ECHO_LATENCY } from '../../../src/loadtest/bucket-counts.ts';
import type { LoadReport } from '../../../src/loadtest/index.ts';
import { type CollectorHandle, Stack, waitFor } from '../../../src/stack/index.ts';
import { run } from '../../helpers/exec.ts';
import { startWsServer, type TestWsServer } from './servers.ts';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const socketscope = (...args: string[]) => run(process.execPath, ['bin/socketscope.js', ...args], { cwd: root });

let stack: Stack;
let collector: CollectorHandle;
let server: TestWsServer;

beforeAll(async () => {
  stack = new Stack('load-otlp');
  collector = await stack.collector({ env: { TRACES_OTLP_ENDPOINT: '127.0.0.1:9' } });
  server = await startWsServer({ kind: 'drop', dropEvery: 4 });
});

afterAll(async () => {
  await server?.close();
  await stack?.stop();
});

/** The value of the one sample of `name` whose labels include every given label. */
function sample(exposition: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of exposition.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)\{([^}]*)\} (\S+)/.exec(line);
    if (!match || match[1] !== name) continue;
    const has = Object.entries(labels).every(([k, v]) => match[2]!.includes(`${k}="${v}"`));
    if (has) return Number(match[3]);
  }
  return undefined;
}

describe('socketscope load --otlp', () => {
  it("exports the run's connections, messages and errors to the collector, equal to the report", async () => {
    const port = new URL(server.url).port;
    const result = await socketscope('load', '--url', server.url, '-c', '3', '--rate', '20', '-d', '0.5s', '--drain-timeout', '300ms', '--otlp', collector.otlpHttpUrl, '--json');
    expect(result.code).toBe(0);
    expect(result.stderr).toBe(`socketscope load: metrics exported to ${collector.otlpHttpUrl}/v1/metrics\n`);
    const report = JSON.parse(result.stdout) as LoadReport;
    // 3 connections x 10 messages, every 4th dropped by the server.
    expect(report.messages).toMatchObject({ sent: 30, received: 24, lost: 6 });

    let exposition = '';
    // The collector batches before its Prometheus exporter shows the data.
    await waitFor('the collector to expose the load metrics', async () => {
      exposition = await (await fetch(`http://${collector.metricsEndpoint}/metrics`)).text();
      return exposition.includes('socketscope_load_sent_total{');
    });
    const labels = { job: 'socketscope-load', server_address: '127.0.0.1', server_port: port };
    const value = (name: string) => sample(exposition, name, labels);
    expect(value('socketscope_load_sent_total')).toBe(30);
    expect(value('socketscope_load_received_total')).toBe(24);
    expect(value('socketscope_load_connection_target')).toBe(3);
    expect(value('socketscope_load_connection_count')).toBe(0);
    expect(value('socketscope_load_connection_failed_total')).toBe(0);
    expect(value('socketscope_load_connection_dropped_total')).toBe(0);
    expect(value('socketscope_load_errors_total')).toBe(0);
    // The latency histogram holds the report's population, in the catalogue's buckets: every
    // measured echo, and the 6 lost messages at their lower bound (at least the 300 ms drain timeout).
    const latencyName = prometheusName(loadMetric('socketscope.load.latency'));
    expect(value(`${latencyName}_count`)).toBe(report.latency_ms.count);
    expect(report.latency_ms).toMatchObject({ count: 30, lower_bounds: 6 });
    expect(sample(exposition, `${latencyName}_bucket`, { ...labels, le: '+Inf' })).toBe(30);
    expect(sample(exposition, `${latencyName}_bucket`, { ...labels, le: '0.25' })).toBeLessThanOrEqual(24);
    // The report rounds to the microsecond; the buckets see the unrounded latency.
    const maxMs = report.latency_ms.max + 0.001;
    const aboveMax = ECHO_LATENCY.boundariesS.find((bound) => bound * 1000 >= maxMs)!;
    expect(sample(exposition, `${latencyName}_bucket`, { ...labels, le: String(aboveMax) })).toBe(30);
    const sum = value(`${latencyName}_sum`)!;
    expect(sum).toBeGreaterThanOrEqual((6 * 300) / 1000);
    expect(sum).toBeLessThanOrEqual((30 * maxMs) / 1000);
    // One connect time per connection opened.
    expect(value(`${prometheusName(loadMetric('socketscope.load.handshake.duration'))}_count`)).toBe(report.connect_ms.count);
    expect(report.connect_ms.count).toBe(3);
    for (const def of LOAD_METRICS) {
      for (const series of prometheusSeries(def)) expect(exposition).toContain(`${series}{`);
    }
  });

  it('counts connections the server drops, equal to the report', async () => {
    const closing = await startWsServer({ kind: 'close', code: 1011, afterMessages: 3 });
    try {
      const result = await socketscope('load', '--url', closing.url, '-c', '2', '--rate', '20', '-d', '0.5s', '--drain-timeout', '300ms', '--otlp', collector.otlpHttpUrl, '--json');
      expect(result.code).toBe(0);
      const report = JSON.parse(result.stdout) as LoadReport;
      expect(report.connections).toMatchObject({ target: 2, opened: 2, failed: 0, dropped: 2 });
      const errors = Object.values(report.errors).reduce((a, b) => a + b, 0);
      const labels = { job: 'socketscope-load', server_port: new URL(closing.url).port };
      let exposition = '';
      await waitFor('the collector to expose the dropped connections', async () => {
        exposition = await (await fetch(`http://${collector.metricsEndpoint}/metrics`)).text();
        return sample(exposition, 'socketscope_load_connection_dropped_total', labels) !== undefined;
      });
      expect(sample(exposition, 'socketscope_load_connection_dropped_total', labels)).toBe(2);
      expect(sample(exposition, 'socketscope_load_errors_total', labels)).toBe(errors);
      expect(sample(exposition, 'socketscope_load_sent_total', labels)).toBe(report.messages.sent);
      expect(sample(exposition, 'socketscope_load_received_total', labels)).toBe(report.messages.received);
    } finally {
      await closing.close();
    }
  });

  it('reports an unreachable endpoint on stderr and still prints the report with the exit code of its gates', async () => {
    const result = await socketscope('load', '--url', server.url, '-c', '1', '--rate', '4', '-d', '0.5s', '--drain-timeout', '300ms', '--otlp', 'http://127.0.0.1:9', '--json');
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/^socketscope load: OTLP export to http:\/\/127\.0\.0\.1:9\/v1\/metrics failed: .+\n$/);
    expect((JSON.parse(result.stdout) as LoadReport).messages.sent).toBe(2);
  });

  it('prints the report and the gates before the export to a collector that does not answer, and Ctrl-C then keeps them', async () => {
    // A collector that accepts and never answers: the export would wait out its timeout.
    const held: Socket[] = [];
    const mute = createServer((socket) => held.push(socket));
    await new Promise<void>((resolve) => mute.listen(0, '127.0.0.1', resolve));
    const endpoint = `http://127.0.0.1:${(mute.address() as { port: number }).port}`;
    try {
      const child = spawn(
        process.execPath,
        ['bin/socketscope.js', 'load', '--url', server.url, '-c', '1', '--rate', '8', '-d', '0.5s', '--drain-timeout', '300ms', '--max-error-rate', '0', '--otlp', endpoint, '--json'],
        { cwd: root },
      );
      let stdout = '';
      let stderr = '';
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      // The whole JSON report (and the gate's verdict on stderr) arrives while the export still waits.
      await new Promise<void>((resolve) => {
        const check = (): void => {
          if (stdout.endsWith('}\n') && stderr.includes('FAILED')) resolve();
        };
        child.stdout.on('data', (chunk: Buffer) => {
          stdout += chunk.toString();
          check();
        });
        child.stderr.on('data', (chunk: Buffer) => {
          stderr += chunk.toString();
          check();
        });
      });
      const report = JSON.parse(stdout) as LoadReport & { gates: { passed: boolean } };
      // The server drops every 4th message: 1 of 4 lost, so the zero error budget fails.
      expect(report.messages).toMatchObject({ sent: 4, lost: 1 });
      expect(report.gates.passed).toBe(false);
      expect(stderr).not.toContain('OTLP export');
      child.kill('SIGINT');
      // The run's exit code stays the gates' (1), the report stays whole, the export is abandoned.
      expect(await exited).toBe(1);
      expect(stderr).toContain('socketscope load: FAILED: message error rate 25.00 % (1 of 4 messages lost) exceeds --max-error-rate 0.00 %\n');
      expect(stderr).toContain(`socketscope load: OTLP export to ${endpoint}/v1/metrics abandoned (interrupted)\n`);
      expect(JSON.parse(stdout)).toEqual(report);
    } finally {
      for (const socket of held) socket.destroy();
      await new Promise((resolve) => mute.close(resolve));
    }
  });

  it('refuses an endpoint that is not http(s) before connecting anything', async () => {
    const result = await socketscope('load', '--url', server.url, '-c', '1', '--otlp', 'grpc://127.0.0.1:4317');
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('--otlp expects an http(s):// OTLP endpoint, got "grpc://127.0.0.1:4317"');
    expect(result.stdout).toBe('');
  });
});
