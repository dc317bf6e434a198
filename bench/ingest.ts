/**
 * Client report ingestion: reports/s through POST /api/ws/client-metrics
 * (batches of 100, HTTP keep-alive, the service in its own process, real
 * PostgreSQL) against raw COPY rows/s into the same table, in one run.
 * Target: ingestion >= 25% of COPY.
 *
 *   npm run bench -- ingest [reports=200000] [concurrency=32]
 */
import { loadavg } from 'node:os';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { CLIENT_REPORT_COLUMNS, type ClientReportRow, toCopyText } from '../src/analytics/storage/client-reports.ts';
import { Stack } from '../src/stack/index.ts';
import { startServeProcess } from './_analytics-service.ts';

const TOTAL = Number(process.argv[2] ?? 200_000);
const CONCURRENCY = Number(process.argv[3] ?? 32);
const BATCH = 100;

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
  try {
    // Bodies prepared up front: the load generator should cost as little CPU as possible.
    const bodies = Array.from({ length: 50 }, (_, b) => JSON.stringify({ reports: Array.from({ length: BATCH }, (_, i) => report(b * BATCH + i)) }));
    const requests = Math.ceil(TOTAL / BATCH);
    const post = async (i: number) => {
      const response = await fetch(`${service.url}/api/ws/client-metrics`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: bodies[i % bodies.length] });
      if (response.status !== 202) throw new Error(`POST answered ${response.status}: ${await response.text()}`);
      await response.arrayBuffer();
    };
    // Warm-up (JIT, connections), then truncate.
    for (let i = 0; i < 20; i++) await post(i);
    await client.query('TRUNCATE client_reports');

    let next = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < requests) await post(next++);
      }),
    );
    const ingestSeconds = (performance.now() - started) / 1000;
    const stored = Number((await client.query('SELECT count(*) AS n FROM client_reports')).rows[0].n);
    if (stored !== requests * BATCH) throw new Error(`expected ${requests * BATCH} rows, found ${stored}`);
    const ingestRate = stored / ingestSeconds;
    console.log(`POST /api/ws/client-metrics: ${stored} reports in ${ingestSeconds.toFixed(2)} s = ${Math.round(ingestRate)} reports/s (batches of ${BATCH}, ${CONCURRENCY} concurrent)`);

    await client.query('TRUNCATE client_reports');
    const rows = Array.from({ length: 5000 }, (_, i) => row(i));
    const chunk = toCopyText(rows);
    const chunks = Math.ceil(stored / rows.length);
    const copyStarted = performance.now();
    await pipeline(
      Readable.from((function* () {
        for (let i = 0; i < chunks; i++) yield chunk;
      })()),
      client.query(copyFrom(`COPY client_reports (${CLIENT_REPORT_COLUMNS.join(', ')}) FROM STDIN`)),
    );
    const copySeconds = (performance.now() - copyStarted) / 1000;
    const copied = chunks * rows.length;
    const copyRate = copied / copySeconds;
    console.log(`COPY client_reports: ${copied} rows in ${copySeconds.toFixed(2)} s = ${Math.round(copyRate)} rows/s`);
    const ratio = ingestRate / copyRate;
    console.log(`ingest_reports_per_s=${Math.round(ingestRate)} copy_rows_per_s=${Math.round(copyRate)} ingest_vs_copy=${ratio.toFixed(3)} target=0.25 met=${ratio >= 0.25} reports=${stored} batch=${BATCH} concurrency=${CONCURRENCY} loadavg1=${loadavg()[0]!.toFixed(1)}`);
  } finally {
    await client.end();
    await service.stop();
  }
} finally {
  await stack.stop();
}
