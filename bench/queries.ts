/**
 * Read latency of the analytics API over a realistic volume: 10 million
 * client reports over 30 days (generated on the server with generate_series
 * into a fresh database), then p50/p95 of GET /api/ws/client-metrics/geographic,
 * /summary and /ux-correlation through the service (own process), for the default
 * range (last 24 h) and for all 30 days, after the hourly and daily rollups caught
 * up (as the service's rollup task keeps them). Target: p95 < 200 ms for the summary
 * and geography; UX correlation reads a row per session and hour (its most recent
 * 50 000 sessions), so it is reported against the same target but not held to it.
 * Then the SQL panels of the "WebSocket clients" Grafana dashboard, run as Grafana
 * runs them (time macros and variables expanded, its login's session settings) over the same
 * two ranges.
 *
 *   npm run bench -- queries [rows=10000000] [runs=20]
 */
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import pg from 'pg';
import { expandTimeMacros, sqlQueries, variableDefaults } from '../grafana/src/panels.ts';
import { grafanaReaderSettings } from '../grafana/src/reader-settings.ts';
import { openDatabase } from '../src/analytics/storage/database.ts';
import { migrate } from '../src/analytics/storage/migrate.ts';
import { rollUp } from '../src/analytics/rollups.ts';
import { ensurePartitions, partitionName, startOfUtcDay } from '../src/analytics/storage/partitions.ts';
import { Stack } from '../src/stack/index.ts';
import { startServeProcess } from './_analytics-service.ts';

const ROWS = Number(process.argv[2] ?? 10_000_000);
const RUNS = Number(process.argv[3] ?? 20);
const DAYS = 30;
const DAY_MS = 86_400_000;
const TOKEN = 'bench-admin-token-0123456789';

const COUNTRIES = ['US', 'DE', 'GB', 'FR', 'IN', 'BR', 'JP', 'CA', 'AU', 'NL', 'ES', 'IT', 'SE', 'PL', 'MX', 'KR', 'SG', 'ZA', 'AR', 'TR', 'NG', 'ID', 'VN', 'PH', 'EG', 'NO', 'FI', 'DK', 'IE', 'NZ'];

/** One day's rows: sessions of 60 reports (a report a minute for an hour, as the web SDK sends), each in one skewed-random country (with a region for some), plausible latencies and vitals. */
function daySql(day: Date, rows: number, seedOffset: number): string {
  const countries = `ARRAY[${COUNTRIES.map((c) => `'${c}'`).join(',')}]`;
  return `
INSERT INTO ${partitionName(day)} (received_at, schema_version, session_id, sent_at, window_start, window_end, page_path, app_name, app_version,
  country, region, attempts, opens, drops, reconnect_attempts, reconnect_successes, outage_ms, connected_ms, close_codes,
  messages_sent, messages_received, messages_queued, messages_dropped, message_errors, latency_count, latency_avg_ms, latency_p50_ms,
  latency_p95_ms, latency_max_ms, network_type, effective_type, network_rtt_ms, downlink_mbps, lcp_ms, inp_ms, cls, fcp_ms, ttfb_ms,
  page_load_ms, ux_interactions, ux_errors)
SELECT t, 1, 'bench-' || ${seedOffset} || '-' || (g / 60), t, t - interval '1 minute', t, '/app', 'bench', '1.0.0',
       c, CASE WHEN c IN ('US', 'DE', 'IN', 'BR') THEN c || '-' || (1 + ((g / 60) % 5)) END,
       a, a - (CASE WHEN r1 < 0.03 THEN 1 ELSE 0 END), CASE WHEN r1 < 0.05 THEN 1 ELSE 0 END, 0, 0, 0, 60000, '{}'::jsonb,
       20, 40, 0, 0, CASE WHEN r2 < 0.01 THEN 1 ELSE 0 END,
       n, CASE WHEN n > 0 THEN lat END, CASE WHEN n > 0 THEN lat * 0.9 END, CASE WHEN n > 0 THEN lat * 2 END, CASE WHEN n > 0 THEN lat * 3 END,
       'wifi', '4g', 50, 10, 1200 + lat * 4, 80 + lat, 0.02, 600 + lat, 100 + lat / 2, 1500 + lat * 5, 10, CASE WHEN r2 < 0.02 THEN 1 ELSE 0 END
  FROM (
    SELECT g,
           timestamptz '${day.toISOString()}' + (g * ${DAY_MS / rows}) * interval '1 millisecond' AS t,
           -- A session (60 consecutive reports) stays in one country: a pseudo-random of its number, skewed.
           (${countries})[1 + floor(power(((g / 60) * 2654435761::bigint % 1000) / 1000.0, 2.5) * ${COUNTRIES.length})::int] AS c,
           1 + (g % 3) AS a,
           (g % 61) AS n,
           20 + 300 * power(random(), 3) AS lat,
           random() AS r1, random() AS r2
      FROM generate_series(0, ${rows - 1}) AS g
  ) AS s`;
}

class SkipLoad extends Error {}

function percentile(sorted: number[], q: number): number {
  const position = (sorted.length - 1) * q;
  const lo = Math.floor(position);
  const hi = Math.ceil(position);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (position - lo);
}

const GRAFANA_RUNS = Math.max(3, Math.ceil(RUNS / 4));
const GRAFANA_PANELS: Record<string, string> = {
  'Client reports at a glance': 'grafana_glance',
  'Page load and LCP by WebSocket latency band (client reports)': 'grafana_ux_bands',
  'Geography: clients, latency and connection success by country (client reports)': 'grafana_geography',
};

/** p50/p95 of each SQL panel of the clients dashboard, as Grafana runs it (its login's settings, the variables' defaults), over the last 24 h and since `first`. */
async function timeGrafanaPanels(url: string, first: Date): Promise<Record<string, number>> {
  const dashboard = JSON.parse(readFileSync(new URL('../grafana/dashboards/websocket-clients.json', import.meta.url), 'utf8')) as Record<string, unknown>;
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const results: Record<string, number> = {};
  try {
    for (const [name, value] of grafanaReaderSettings()) await client.query(`SET ${name} = ${value}`);
    const to = new Date();
    for (const [rangeName, from] of [['24h', new Date(to.getTime() - DAY_MS)], ['30d', first]] as const) {
      // The panels; not the anomaly annotation (a lookup in the anomalies table, empty here).
      for (const { panel, sql } of sqlQueries(dashboard).filter((q) => !q.panel.startsWith('annotation: '))) {
        const key = GRAFANA_PANELS[panel];
        if (!key) throw new Error(`no bench key for the Grafana panel "${panel}"`);
        const expanded = expandTimeMacros(sql, from, to, variableDefaults(dashboard));
        const times: number[] = [];
        let rows = 0;
        for (let i = 0; i < GRAFANA_RUNS + 1; i++) {
          const t = performance.now();
          rows = (await client.query(expanded)).rowCount ?? 0;
          if (i >= 1) times.push(performance.now() - t); // one warm-up
        }
        times.sort((a, b) => a - b);
        results[`${key}_${rangeName}_p50_ms`] = percentile(times, 0.5);
        results[`${key}_${rangeName}_p95_ms`] = percentile(times, 0.95);
        console.log(`Grafana "${panel}" (${rangeName}, ${GRAFANA_RUNS} runs, ${rows} rows): p50 ${percentile(times, 0.5).toFixed(1)} ms, p95 ${percentile(times, 0.95).toFixed(1)} ms`);
      }
    }
  } finally {
    await client.end();
  }
  return results;
}

const stack = new Stack('bench-queries');
try {
  // BENCH_DATABASE_URL: a database of yours to load once and reuse (kept) for repeated query runs.
  const reuse = process.env.BENCH_DATABASE_URL;
  const postgres = reuse ? { url: reuse } : await stack.postgres();
  const database = await openDatabase({ databaseUrl: postgres.url, dataDir: stack.runDir });
  const today = startOfUtcDay(new Date());
  const first = new Date(today.getTime() - (DAYS - 1) * DAY_MS);
  try {
    const existing = await database.pool.query<{ t: string | null }>("SELECT to_regclass('client_reports')::text AS t");
    if (reuse && existing.rows[0]?.t && (await database.pool.query('SELECT 1 FROM client_reports LIMIT 1')).rowCount) throw new SkipLoad();
    await migrate(database.pool);
    await ensurePartitions(database.pool, { from: first, daysAhead: DAYS + 1 });
    // Bulk load without the btree indexes, then build them once.
    await database.pool.query('DROP INDEX client_reports_country_region_time, client_reports_session_time');
    const started = performance.now();
    const perDay = Math.ceil(ROWS / DAYS);
    const days = Array.from({ length: DAYS }, (_, d) => new Date(first.getTime() + d * DAY_MS));
    let next = 0;
    await Promise.all(
      [0, 1].map(async () => {
        const client = new pg.Client({ connectionString: postgres.url });
        await client.connect();
        try {
          await client.query('SET synchronous_commit = off');
          while (next < days.length) {
            const d = next++;
            await client.query(daySql(days[d]!, perDay, d));
          }
        } finally {
          await client.end();
        }
      }),
    );
    await database.pool.query('CREATE INDEX client_reports_country_region_time ON client_reports (country, region, received_at)');
    await database.pool.query('CREATE INDEX client_reports_session_time ON client_reports (session_id, received_at)');
    await database.pool.query('VACUUM ANALYZE client_reports');
    const rows = Number((await database.pool.query('SELECT count(*) AS n FROM client_reports')).rows[0].n);
    console.log(`loaded ${rows} reports over ${DAYS} days in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    // What the service's rollup task does every minute, here for all complete hours at once.
    const rollStarted = performance.now();
    const rolled = await rollUp(database.pool);
    await database.pool.query('VACUUM ANALYZE client_report_rollups, client_report_histograms, client_report_session_hours, client_report_session_rollups');
    console.log(`rolled up ${rolled.hours} hours in ${((performance.now() - rollStarted) / 1000).toFixed(1)} s`);
  } catch (error) {
    if (!(error instanceof SkipLoad)) throw error;
    console.log(`reusing ${reuse}`);
  } finally {
    await database.close();
  }

  const service = await startServeProcess({ DATABASE_URL: postgres.url, SOCKETSCOPE_ADMIN_TOKEN: TOKEN, ADMIN_RATE_LIMIT_PER_MINUTE: '100000' });
  const results: Record<string, number> = {};
  try {
    const now = new Date();
    const ranges = {
      '24h': '',
      '30d': `?from=${new Date(first.getTime()).toISOString()}&to=${now.toISOString()}`,
    };
    for (const [rangeName, query] of Object.entries(ranges)) {
      for (const [endpoint, key] of [['summary', 'summary'], ['geographic', 'geographic'], ['ux-correlation', 'ux_correlation']] as const) {
        const url = `${service.url}/api/ws/client-metrics/${endpoint}${query}`;
        const times: number[] = [];
        for (let i = 0; i < RUNS + 2; i++) {
          const t = performance.now();
          const response = await fetch(url, { headers: { authorization: `Bearer ${TOKEN}` } });
          const body = (await response.json()) as { reports?: number; countries?: unknown[]; sessions?: number; sessions_in_range?: number };
          if (response.status !== 200) throw new Error(`${url} answered ${response.status}: ${JSON.stringify(body)}`);
          if (i >= 2) times.push(performance.now() - t); // two warm-up requests
          if (i === 2) {
            const what = { summary: `${body.reports} reports`, geographic: `${body.countries?.length} countries`, 'ux-correlation': `${body.sessions} of ${body.sessions_in_range ?? '?'} sessions` }[endpoint];
            console.log(`${endpoint} ${rangeName}: ${what}`);
          }
        }
        times.sort((a, b) => a - b);
        results[`${key}_${rangeName}_p50_ms`] = percentile(times, 0.5);
        results[`${key}_${rangeName}_p95_ms`] = percentile(times, 0.95);
        console.log(`GET /${endpoint} (${rangeName}, ${RUNS} runs): p50 ${percentile(times, 0.5).toFixed(1)} ms, p95 ${percentile(times, 0.95).toFixed(1)} ms`);
      }
    }
  } finally {
    await service.stop();
  }
  Object.assign(results, await timeGrafanaPanels(postgres.url, first));
  const pairs = Object.entries(results).map(([k, v]) => `${k}=${v.toFixed(1)}`);
  console.log(`${pairs.join(' ')} rows=${ROWS} target_p95_ms=200 loadavg1=${loadavg()[0]!.toFixed(1)}`);
} finally {
  await stack.stop();
}
