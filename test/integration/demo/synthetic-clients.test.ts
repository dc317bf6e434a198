/**
 * The demo's synthetic clients (src/demo/synthetic-clients.ts) against the
 * real demo app: their client reports are what the analytics API accepts
 * (its own schema), each client's windows follow one another without gap
 * or overlap, time connected and time in an outage never add up to more
 * than the window, and the reports' counts add up to what the clients did.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { clientReportSchema } from '../../../src/api/schemas/client-report.ts';
import { type DashboardApp, startDashboardApp } from '../../../src/demo/dashboard-app.ts';
import { SyntheticClients } from '../../../src/demo/synthetic-clients.ts';
import type { ClientReport } from '../../../web-sdk/src/report/schema.ts';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** An HTTP endpoint that keeps every JSON body POSTed to it and answers 202. */
async function reportSink(): Promise<{ url: string; bodies: unknown[] }> {
  const bodies: unknown[] = [];
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      bodies.push(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      response.writeHead(202).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise((resolve) => server.close(() => resolve())));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/ws/client-metrics`, bodies };
}

const sum = (reports: ClientReport[], pick: (report: ClientReport) => number | undefined): number => reports.reduce((total, report) => total + (pick(report) ?? 0), 0);

describe('synthetic clients', () => {
  it('send valid, contiguous client reports whose counts add up to what the clients did', async () => {
    const app: DashboardApp = await startDashboardApp({ heartbeatMs: 500 });
    cleanups.push(() => app.close());
    const sink = await reportSink();
    // A third of the tokens are bad and a third of the ticks drop the connection: every path is taken.
    const rolls = [0.03, 0.455, 0.3];
    let next = 0;
    const clients = new SyntheticClients({ wsUrl: app.wsUrl, clients: 30, reportUrl: sink.url, reportIntervalMs: 400, random: () => rolls[next++ % rolls.length]! });
    clients.start();
    await delay(4_000);
    await clients.stop();

    const reports = sink.bodies.map((body) => {
      const parsed = clientReportSchema.safeParse(body);
      expect(parsed.error?.issues ?? []).toEqual([]);
      return body as ClientReport;
    });
    const { stats } = clients;
    expect(stats.reportErrors).toBe(0);
    expect(stats.reportsSent).toBe(reports.length);
    expect(stats.opens).toBeGreaterThan(0);
    expect(stats.drops).toBeGreaterThan(0);
    expect(stats.authRejections).toBeGreaterThan(0);
    expect(stats.connected).toBe(0);

    expect(sum(reports, (r) => r.connection.attempts)).toBe(stats.attempts);
    expect(sum(reports, (r) => r.connection.opens)).toBe(stats.opens);
    expect(sum(reports, (r) => r.connection.drops)).toBe(stats.drops);
    expect(sum(reports, (r) => (r.connection.close_codes['4401'] ?? 0) + (r.connection.close_codes['4403'] ?? 0))).toBe(stats.authRejections);

    const bySession = new Map<string, ClientReport[]>();
    for (const report of reports) bySession.set(report.session_id, [...(bySession.get(report.session_id) ?? []), report]);
    expect(bySession.size).toBe(30);
    for (const windows of bySession.values()) {
      windows.sort((a, b) => Date.parse(a.window_start) - Date.parse(b.window_start));
      for (const [i, report] of windows.entries()) {
        if (i > 0) expect(report.window_start).toBe(windows[i - 1]!.window_end);
        const windowMs = Date.parse(report.window_end) - Date.parse(report.window_start);
        // One connection at a time: connected and outage time are disjoint stretches of the window (±1 ms rounding each).
        expect(report.connection.connected_ms + report.connection.outage_ms).toBeLessThanOrEqual(windowMs + 2);
        expect(report.connection.reconnect_successes).toBeLessThanOrEqual(report.connection.opens);
      }
    }
  });
});
