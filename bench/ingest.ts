/**
 * Client report ingestion: reports/s through POST /api/ws/client-metrics
 * (batches of 100, HTTP keep-alive, the service in its own process, real
 * PostgreSQL) against raw COPY rows/s into the same table, in one run.
 * Target: ingestion >= 25% of COPY.
 *
 *   npm run bench -- ingest [reports=200000] [concurrency=32] [rounds=3]
 */
import { Agent, request } from 'node:http';
import { loadavg } from 'node:os';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { CLIENT_REPORT_COLUMNS, type ClientReportRow, toCopyText } from '../src/analytics/storage/client-reports.ts';
import { Stack } from '../src/stack/index.ts';
import { startServeProcess } from './_analytics-service.ts';
import { busyShare, machineTicks, processCpuSeconds } from './_cpu.ts';

const TOTAL = Number(process.argv[2] ?? 200_000);
const CONCURRENCY = Number(process.argv[3] ?? 32);
const BATCH = 100;
const ROUNDS = Number(process.argv[4] ?? 3);

function report(i: number) {
  return {
    schema_version: 1,
    session_id: `bench-session-${String(i % 5000).padStart(6, '0')}`,
    sent_at: '2026-11-24T10:00:00.000Z',
    window_start: '2026-11-24T09:59:00.000Z',
    window_end: '2026-11-24T10:00:00.000Z',
    page_path: '/dashboard',
    app: { name: 'dashboard', version: '1.4.2' },
    connection: { attempts: 3, opens: 2, drops: 1, reconnect_attempts: 2, reconnect_successes: 1, outage_ms: 4200, connected_ms: 55000, close_codes: { '1006': 1 } },
    messages: { sent: 120, received: 340, queued: 5, dropped: 0, errors: 1 },
    latency_ms: { count: 60, avg: 42.1 + (i % 7), p50: 38, p95: 95, max: 180 },
    network: { type: 'wifi', effective_type: '4g', rtt_ms: 50, downlink_mbps: 10 },
    vitals: { lcp_ms: 1800, inp_ms: 120, cls: 0.02, fcp_ms: 900, ttfb_ms: 200, page_load_ms: 2100 },
    ux: { interactions: 14, errors: 0 },
  };
}

function row(i: number): ClientReportRow {
  const r = report(i);
  return {
    received_at: new Date(),
    schema_version: 1,
    session_id: r.session_id,
    sent_at: r.sent_at,
    window_start: r.window_start,
    window_end: r.window_end,
    page_path: r.page_path,
    app_name: r.app.name,
    app_version: r.app.version,
    country: 'DE',
    region: null,
    ...{ attempts: 3, opens: 2, drops: 1, reconnect_attempts: 2, reconnect_successes: 1, outage_ms: 4200, connected_ms: 55000 },
    close_codes: r.connection.close_codes,
    messages_sent: 120,
    messages_received: 340,
    messages_queued: 5,
    messages_dropped: 0,
    message_errors: 1,
    latency_count: 60,
    latency_avg_ms: r.latency_ms.avg,
    latency_p50_ms: 38,
    latency_p95_ms: 95,
    latency_max_ms: 180,
    network_type: 'wifi',
    effective_type: '4g',
    network_rtt_ms: 50,
    downlink_mbps: 10,
    lcp_ms: 1800,
    inp_ms: 120,
    cls: 0.02,
    fcp_ms: 900,
    ttfb_ms: 200,
    page_load_ms: 2100,
    ux_interactions: 14,
    ux_errors: 0,
  };
}

const stack = new Stack('bench-ingest');
try {
  const postgres = await stack.postgres();
  const service = await startServeProcess({
    DATABASE_URL: postgres.url,
    SOCKETSCOPE_ADMIN_TOKEN: 'bench-admin-token-0123456789',
    INGEST_RATE_LIMIT_PER_MINUTE: '10000000',
  });
  const client = new pg.Client({ connectionString: postgres.url });
  await client.connect();
  const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  try {
    // Bodies encoded up front and sent with node:http over keep-alive sockets: the load
    // generator shares the machine's two cores with the service and PostgreSQL, so it
    // should cost as little CPU as possible (fetch costs several times more per request).
    const bodies = Array.from({ length: 50 }, (_, b) => Buffer.from(JSON.stringify({ reports: Array.from({ length: BATCH }, (_, i) => report(b * BATCH + i)) })));
    const requests = Math.ceil(TOTAL / BATCH);
    const target = new URL('/api/ws/client-metrics', service.url);
    const post = (i: number) =>
      new Promise<void>((resolve, reject) => {
        const body = bodies[i % bodies.length]!;
        const req = request(target, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': body.length } }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => (res.statusCode === 202 ? resolve() : reject(new Error(`POST answered ${res.statusCode}: ${Buffer.concat(chunks).toString()}`))));
          res.on('error', reject);
        });
        req.on('error', reject);
        req.end(body);
      });
    // Warm-up (JIT, connections), then truncate.
    for (let i = 0; i < 20; i++) await post(i);
    const copyRows = Array.from({ length: 5000 }, (_, i) => row(i));
    const copyChunk = toCopyText(copyRows);
    const copyPid = Number((await client.query('SELECT pg_backend_pid() AS pid')).rows[0].pid);
    // The service's PostgreSQL backends (its pool), for their CPU time.
    const servicePids = async () =>
      (await client.query('SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()')).rows.map((r) => Number(r.pid));
    const count = async () => Number((await client.query('SELECT count(*) AS n FROM client_reports')).rows[0].n);

    // Alternating rounds of the two subjects, so a change in the machine's background load hits both alike.
    const perRound = Math.ceil(requests / ROUNDS);
    const totals = { ingestSeconds: 0, ingested: 0, copySeconds: 0, copied: 0, serviceCpu: 0, ingestDbCpu: 0, copyDbCpu: 0, busy: 0 };
    const ratios: number[] = [];
    let next = 0;
    for (let round = 0; round < ROUNDS; round++) {
      await client.query('TRUNCATE client_reports');
      const first = next;
      const last = Math.min(requests, first + perRound);
      const pidsBefore = await servicePids();
      const dbBefore = new Map(pidsBefore.map((pid) => [pid, processCpuSeconds(pid)]));
      const cpuBefore = processCpuSeconds(service.pid);
      const machineBefore = machineTicks();
      const started = performance.now();
      await Promise.all(
        Array.from({ length: CONCURRENCY }, async () => {
          while (next < last) await post(next++);
        }),
      );
      const ingestSeconds = (performance.now() - started) / 1000;
      totals.busy += busyShare(machineBefore, machineTicks()) * ingestSeconds;
      totals.serviceCpu += processCpuSeconds(service.pid) - cpuBefore;
      for (const pid of new Set([...pidsBefore, ...(await servicePids())])) totals.ingestDbCpu += processCpuSeconds(pid) - (dbBefore.get(pid) ?? 0);
      const stored = await count();
      if (stored !== (last - first) * BATCH) throw new Error(`expected ${(last - first) * BATCH} rows, found ${stored}`);
      totals.ingestSeconds += ingestSeconds;
      totals.ingested += stored;

      await client.query('TRUNCATE client_reports');
      // Exactly as many rows as the round ingested: whole prepared chunks, then the rest.
      const whole = Math.floor(stored / copyRows.length);
      const rest = toCopyText(copyRows.slice(0, stored % copyRows.length));
      const copyCpuBefore = processCpuSeconds(copyPid);
      const copyStarted = performance.now();
      await pipeline(
        Readable.from((function* () {
          for (let i = 0; i < whole; i++) yield copyChunk;
          if (rest) yield rest;
        })()),
        client.query(copyFrom(`COPY client_reports (${CLIENT_REPORT_COLUMNS.join(', ')}) FROM STDIN`)),
      );
      const copySeconds = (performance.now() - copyStarted) / 1000;
      totals.copyDbCpu += processCpuSeconds(copyPid) - copyCpuBefore;
      totals.copySeconds += copySeconds;
      if ((await count()) !== stored) throw new Error(`COPY wrote ${await count()} rows, expected ${stored}`);
      totals.copied += stored;
      ratios.push(stored / ingestSeconds / (stored / copySeconds));
      console.log(
        `round ${round + 1}: POST ${stored} reports in ${ingestSeconds.toFixed(2)} s = ${Math.round(stored / ingestSeconds)} reports/s; ` +
          `COPY ${stored} rows in ${copySeconds.toFixed(2)} s = ${Math.round(stored / copySeconds)} rows/s`,
      );
    }
    const ingestRate = totals.ingested / totals.ingestSeconds;
    const copyRate = totals.copied / totals.copySeconds;
    const ratio = ingestRate / copyRate;
    const perReport = (seconds: number, n: number) => ((seconds * 1e6) / n).toFixed(1);
    console.log(
      `POST /api/ws/client-metrics: ${totals.ingested} reports in ${totals.ingestSeconds.toFixed(2)} s = ${Math.round(ingestRate)} reports/s (batches of ${BATCH}, ${CONCURRENCY} concurrent); ` +
        `CPU per report: service ${perReport(totals.serviceCpu, totals.ingested)} µs, its database backends ${perReport(totals.ingestDbCpu, totals.ingested)} µs; machine busy ${Math.round((100 * totals.busy) / totals.ingestSeconds)}%`,
    );
    console.log(`COPY client_reports: ${totals.copied} rows in ${totals.copySeconds.toFixed(2)} s = ${Math.round(copyRate)} rows/s; database backend CPU per row ${perReport(totals.copyDbCpu, totals.copied)} µs`);
    console.log(
      `ingest_reports_per_s=${Math.round(ingestRate)} copy_rows_per_s=${Math.round(copyRate)} ingest_vs_copy=${ratio.toFixed(3)} target=0.25 met=${ratio >= 0.25} ` +
        `round_ratios=${ratios.map((r) => r.toFixed(3)).join(',')} service_cpu_us_per_report=${perReport(totals.serviceCpu, totals.ingested)} ` +
        `reports=${totals.ingested} batch=${BATCH} concurrency=${CONCURRENCY} loadavg1=${loadavg()[0]!.toFixed(1)}`,
    );
  } finally {
    agent.destroy();
    await client.end();
    await service.stop();
  }
} finally {
  await stack.stop();
}
