/**
 * Rollups of client reports, so that reads over days and weeks touch
 * thousands of rows instead of millions. Per hour, and per UTC day once all
 * its hours are rolled up, and per country and region: additive sums;
 * log-spaced histograms (bins 10% wide) of the percentile metrics; and the
 * sessions seen (distinct clients are not additive). Per session and hour too:
 * the sums behind each session's UX-correlation figures (correlation.ts).
 *
 * A read takes whole rolled-up days from the daily tables, the whole hours
 * around them from the hourly tables, and the rest (partial hours at the
 * edges, the hours not rolled up yet) from the raw rows, bucketed the same
 * way. Sums (among them the per-report squares of the clustered success-rate
 * interval), counts and distinct clients stay exact. Percentiles are nearest
 * rank on both paths: the raw path's percentile_disc is the value at rank
 * ⌈q·n⌉, and a histogram's estimate is the geometric middle of the bin holding
 * that rank, within 1.1^½ − 1 < 4.9% of it (bins below 1 too; 0 exactly; see
 * histogramQuantile). Ranges with no rolled-up hour are computed exactly from
 * the raw rows (see summary.ts, geography.ts).
 *
 * Distinct clients without DISTINCT: every hourly session row (per group, per
 * country and overall) carries the session's previous active hour there, so a
 * session is counted at its first row inside the range and nowhere else; days
 * keep only counts of sessions by that previous hour; raw rows at the edges add
 * the sessions that have no row inside the rolled span. DISTINCT over a month
 * of sessions would hash or sort them all (170 ms for 160 000 sessions here;
 * scanning a row per session and day, 200–290 ms for 480 000).
 */
import type pg from 'pg';
import type { ClusterSums } from './statistics.ts';
import { inMaintenanceTransaction, maintenanceStatements, readOnly } from './storage/transaction.ts';
import type { TimeRange } from './time-range.ts';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
/**
 * Rows are stamped when the request arrives and commit within this long or not at all: the report writer's
 * queue wait and statement timeout are derived from it (storage/report-writer.ts), and the anomaly job's
 * client-report streams take buckets this old as final.
 */
export const ROLLUP_GRACE_MS = 2 * 60_000;
export const BIN_RATIO = 1.1;
const MAX_BIN = 300;
/**
 * Bins at and below 1 (values from the metrics' units, CLS scaled): bin b in
 * [−FINE_BINS, −1] holds (1.1^b, 1.1^(b+1)] (−1: (0.909, 1]); TINY_BIN holds
 * (0, 1.1^−FINE_BINS] (below 1.1·10^−5); ZERO_BIN holds 0. Bin 0 is never
 * written any more: rollups made before these bins existed hold every value
 * in [0, 1] there (LEGACY_UNIT_BIN), and keep that meaning, so no stored
 * rollup needed rewriting.
 */
const FINE_BINS = 120;
export const TINY_BIN = -FINE_BINS - 1;
export const ZERO_BIN = -FINE_BINS - 2;
export const LEGACY_UNIT_BIN = 0;

/** Percentile metrics with histograms; `scale` maps the column onto the bins (CLS is unitless, around 0.1). */
export const HISTOGRAM_METRICS = [
  { id: 0, name: 'latency_p50', column: 'latency_p50_ms', scale: 1 },
  { id: 1, name: 'latency_p95', column: 'latency_p95_ms', scale: 1 },
  { id: 2, name: 'lcp', column: 'lcp_ms', scale: 1 },
  { id: 3, name: 'inp', column: 'inp_ms', scale: 1 },
  { id: 4, name: 'cls', column: 'cls', scale: 1000 },
  { id: 5, name: 'fcp', column: 'fcp_ms', scale: 1 },
  { id: 6, name: 'ttfb', column: 'ttfb_ms', scale: 1 },
  { id: 7, name: 'page_load', column: 'page_load_ms', scale: 1 },
] as const;
export type HistogramMetric = (typeof HISTOGRAM_METRICS)[number]['name'];

/** Country and region of the all-groups histograms and sessions. */
export const GLOBAL = '*';
/** Metrics with per-group histograms. */
const GROUP_METRICS: readonly HistogramMetric[] = ['latency_p50', 'latency_p95'];
const metricValuesSql = (names: readonly HistogramMetric[]) =>
  `(VALUES ${HISTOGRAM_METRICS.filter((m) => names.includes(m.name)).map((m) => `(${m.id}, ${m.scale === 1 ? m.column : `${m.column} * ${m.scale}`})`).join(', ')})`;
/** The histogram bin of a value (see FINE_BINS); above 1, bin i holds (1.1^(i−1), 1.1^i], the last everything above 1.1^299. */
const binSql = (value: string) =>
  `CASE WHEN ${value} <= 0 THEN ${ZERO_BIN} WHEN ${value} <= 1 THEN greatest(ceil(ln(${value}) / ln(${BIN_RATIO}))::int - 1, ${TINY_BIN})
        ELSE least(ceil(ln(${value}) / ln(${BIN_RATIO})), ${MAX_BIN})::int END`;
const METRIC_VALUES = `(VALUES ${HISTOGRAM_METRICS.map((m) => `(${m.id}, ${m.scale === 1 ? m.column : `${m.column} * ${m.scale}`})`).join(', ')})`;
const HOUR_OF = `date_bin('1 hour', received_at, timestamptz '2000-01-01 00:00:00+00')`;

/**
 * Sum columns, in the order both the rollup table and the raw aggregation produce them.
 * The last four are the per-report sums of the clustered success-rate interval
 * (statistics.ts, clusteredWilsonInterval): each report is a cluster of a_i attempts
 * and s_i opens, and Σa², Σs², Σa·s and the number of clusters are additive.
 */
export const SUM_COLUMNS = [
  'reports', 'attempts', 'opens', 'drops', 'reconnect_attempts', 'reconnect_successes', 'outage_ms', 'connected_ms', 'messages_sent',
  'messages_received', 'messages_queued', 'messages_dropped', 'message_errors', 'latency_count', 'latency_sum', 'latency_max', 'ux_interactions', 'ux_errors',
  'attempts_sq', 'opens_sq', 'attempts_opens', 'connection_reports',
] as const;
export type Sums = Record<(typeof SUM_COLUMNS)[number], number>;

/**
 * Per-report sums of the clustered interval, over rows of client_reports. Squares in
 * double precision: three reports at the int4 maximum would overflow a bigint (and
 * stall the rollup); below 2^53 the sums stay exact integers. Opens are not capped at
 * the report's attempts: a window may hold the open of an attempt made in the window
 * before (the web SDK counts per window), and the success rate caps only the totals,
 * so p̂ = Σopens / Σattempts and the residuals s_i − p̂·a_i sum to 0 as the ratio
 * estimator's must. The clusters are the reports with an attempt or an open: a report
 * with neither adds nothing to the residuals, and counting it would only shrink
 * k/(k−1) and hide k < 2 (one failing client among idle windows); when no report
 * holds more opens than attempts these are the reports with attempts > 0.
 */
export const CLUSTER_SUMS_SQL = `coalesce(sum(attempts::float8 * attempts), 0) AS attempts_sq, coalesce(sum(opens::float8 * opens), 0) AS opens_sq,
  coalesce(sum(attempts::float8 * opens), 0) AS attempts_opens, count(*) FILTER (WHERE attempts > 0 OR opens > 0) AS connection_reports`;

/** The raw aggregation matching SUM_COLUMNS. */
export const RAW_SUMS_SQL = `count(*), coalesce(sum(attempts), 0), coalesce(sum(opens), 0), coalesce(sum(drops), 0), coalesce(sum(reconnect_attempts), 0),
  coalesce(sum(reconnect_successes), 0), coalesce(sum(outage_ms), 0), coalesce(sum(connected_ms), 0), coalesce(sum(messages_sent), 0),
  coalesce(sum(messages_received), 0), coalesce(sum(messages_queued), 0), coalesce(sum(messages_dropped), 0), coalesce(sum(message_errors), 0),
  coalesce(sum(latency_count) FILTER (WHERE latency_avg_ms IS NOT NULL), 0), coalesce(sum(latency_avg_ms * latency_count), 0), max(latency_max_ms),
  coalesce(sum(ux_interactions), 0), coalesce(sum(ux_errors), 0), ${CLUSTER_SUMS_SQL}`;

/**
 * Per-session sums of UX correlation (correlation.ts) over rows of client_reports, in the column
 * order of client_report_session_rollups after hour and session_id: the last report, the number of
 * reports, and sums and counts behind each session's means and ratios.
 */
export const SESSION_SUMS_SQL = `max(received_at) AS last_at, count(*) AS reports,
  coalesce(sum(latency_avg_ms * latency_count), 0) AS latency_sum, coalesce(sum(latency_count) FILTER (WHERE latency_avg_ms IS NOT NULL), 0) AS latency_count,
  coalesce(sum(page_load_ms), 0) AS page_load_sum, count(page_load_ms) AS page_load_count, coalesce(sum(lcp_ms), 0) AS lcp_sum, count(lcp_ms) AS lcp_count,
  coalesce(sum(inp_ms), 0) AS inp_sum, count(inp_ms) AS inp_count, coalesce(sum(message_errors), 0) AS message_errors,
  coalesce(sum(messages_sent::bigint + messages_received), 0) AS messages, coalesce(sum(ux_errors), 0) AS ux_errors,
  coalesce(sum(drops), 0) AS drops, coalesce(sum(ux_interactions), 0) AS ux_interactions`;

/** The sums of the clustered success-rate interval of a group: opens capped at attempts in total, as the success rate is. */
export function successClusterSums(s: Pick<Sums, 'attempts' | 'opens' | 'attempts_sq' | 'opens_sq' | 'attempts_opens' | 'connection_reports'>): ClusterSums {
  return {
    successes: Math.min(s.opens, s.attempts),
    trials: s.attempts,
    clusters: s.connection_reports,
    trialsSquared: s.attempts_sq,
    successesSquared: s.opens_sq,
    trialsSuccesses: s.attempts_opens,
  };
}

export function floorHour(at: Date): Date {
  return new Date(Math.floor(at.getTime() / HOUR_MS) * HOUR_MS);
}

function ceilHour(at: Date): Date {
  return new Date(Math.ceil(at.getTime() / HOUR_MS) * HOUR_MS);
}

function floorDay(at: Date): Date {
  return new Date(Math.floor(at.getTime() / DAY_MS) * DAY_MS);
}

function ceilDay(at: Date): Date {
  return new Date(Math.ceil(at.getTime() / DAY_MS) * DAY_MS);
}

interface RollupState {
  rolled_until: Date;
  days_rolled_until: Date | null;
}

async function rollupState(pool: pg.Pool): Promise<RollupState | null> {
  const { rows } = await pool.query<RollupState>('SELECT rolled_until, days_rolled_until FROM client_report_rollup_state WHERE id = 1');
  return rows[0] ?? null;
}

export async function rolledUntil(pool: pg.Pool): Promise<Date | null> {
  return (await rollupState(pool))?.rolled_until ?? null;
}

/**
 * Rolls up every complete hour not rolled up yet (a day per transaction),
 * then every complete day; returns their numbers. The first run starts at the
 * oldest row.
 */
export async function rollUp(pool: pg.Pool, now = new Date()): Promise<{ hours: number; days: number; rolled_until: string | null }> {
  const target = floorHour(new Date(now.getTime() - ROLLUP_GRACE_MS));
  let from: Date;
  const until = await rolledUntil(pool);
  if (until) from = until;
  else {
    const { rows } = await maintenanceStatements(pool).query<{ oldest: Date | null }>('SELECT min(received_at) AS oldest FROM client_reports');
    from = floorHour(rows[0]?.oldest ?? target);
    await pool.query('INSERT INTO client_report_rollup_state (id, rolled_until) VALUES (1, $1) ON CONFLICT (id) DO NOTHING', [from]);
  }
  let hours = 0;
  while (from < target) {
    const to: Date = new Date(Math.min(target.getTime(), from.getTime() + 24 * HOUR_MS));
    await inMaintenanceTransaction(pool, async (client) => {
      const params = [from, to];
      const where = 'received_at >= $1 AND received_at < $2';
      await client.query(
        `INSERT INTO client_report_rollups (hour, country, region, ${SUM_COLUMNS.join(', ')})
         SELECT ${HOUR_OF}, country, coalesce(region, ''), ${RAW_SUMS_SQL}
           FROM client_reports WHERE ${where} GROUP BY 1, 2, 3
         ON CONFLICT DO NOTHING`,
        params,
      );
      // Per group only the latency histograms (geography); all metrics once per hour under GLOBAL (the summary).
      await client.query(
        `INSERT INTO client_report_histograms (hour, country, region, metric, bin, count)
         SELECT ${HOUR_OF}, country, coalesce(region, ''), m.metric, ${binSql('m.v')}, count(*)
           FROM client_reports CROSS JOIN LATERAL ${metricValuesSql(GROUP_METRICS)} AS m(metric, v)
          WHERE ${where} AND m.v IS NOT NULL GROUP BY 1, 2, 3, 4, 5
         ON CONFLICT DO NOTHING`,
        params,
      );
      await client.query(
        `INSERT INTO client_report_histograms (hour, country, region, metric, bin, count)
         SELECT ${HOUR_OF}, '${GLOBAL}', '${GLOBAL}', m.metric, ${binSql('m.v')}, count(*)
           FROM client_reports CROSS JOIN LATERAL ${METRIC_VALUES} AS m(metric, v)
          WHERE ${where} AND m.v IS NOT NULL GROUP BY 1, 4, 5
         ON CONFLICT DO NOTHING`,
        params,
      );
      // Per group, per country (region GLOBAL) and under GLOBAL, with each session's previous
      // active hour there: from earlier in this batch, else the latest row before it.
      await client.query(
        `INSERT INTO client_report_session_hours (hour, country, region, session_id, prev_hour)
         SELECT hour, country, region, session_id,
                coalesce(lag(hour) OVER (PARTITION BY country, region, session_id ORDER BY hour),
                         (SELECT max(p.hour) FROM client_report_session_hours p
                           WHERE p.session_id = s.session_id AND p.country = s.country AND p.region = s.region AND p.hour < $1))
           FROM (SELECT DISTINCT ${HOUR_OF} AS hour, country, coalesce(region, '') AS region, session_id FROM client_reports WHERE ${where}
                 UNION ALL
                 SELECT DISTINCT ${HOUR_OF}, country, '${GLOBAL}', session_id FROM client_reports WHERE ${where}
                 UNION ALL
                 SELECT DISTINCT ${HOUR_OF}, '${GLOBAL}', '${GLOBAL}', session_id FROM client_reports WHERE ${where}) AS s
         ON CONFLICT DO NOTHING`,
        params,
      );
      // Per session and hour, for UX correlation over long ranges.
      await client.query(
        `INSERT INTO client_report_session_rollups
         SELECT ${HOUR_OF}, session_id, ${SESSION_SUMS_SQL} FROM client_reports WHERE ${where} GROUP BY 1, 2
         ON CONFLICT DO NOTHING`,
        params,
      );
      await client.query('UPDATE client_report_rollup_state SET rolled_until = $1 WHERE id = 1', [to]);
    });
    hours += (to.getTime() - from.getTime()) / HOUR_MS;
    from = to;
  }
  const days = await rollUpDays(pool, from);
  return { hours, days, rolled_until: from.toISOString() };
}

/** Rolls every UTC day whose hours are all rolled up (before `hoursUntil`) into the daily tables, a day per transaction; returns the number of days. */
async function rollUpDays(pool: pg.Pool, hoursUntil: Date): Promise<number> {
  const state = await rollupState(pool);
  let day = state?.days_rolled_until ?? null;
  if (!day) {
    const { rows } = await pool.query<{ first: Date | null }>('SELECT min(hour) AS first FROM client_report_rollups');
    day = floorDay(rows[0]?.first ?? hoursUntil);
  }
  const last = floorDay(hoursUntil);
  let days = 0;
  for (; day < last; day = new Date(day.getTime() + DAY_MS), days++) {
    const params = [day, new Date(day.getTime() + DAY_MS)];
    await inMaintenanceTransaction(pool, async (client) => {
      await client.query(
        `INSERT INTO client_report_daily_rollups (day, country, region, ${SUM_COLUMNS.join(', ')})
         SELECT $1, country, region, ${SUM_COLUMNS.map((c) => (c === 'latency_max' ? `max(${c})` : `sum(${c})`)).join(', ')}
           FROM client_report_rollups WHERE hour >= $1 AND hour < $2 GROUP BY country, region
         ON CONFLICT DO NOTHING`,
        params,
      );
      await client.query(
        `INSERT INTO client_report_daily_histograms (day, country, region, metric, bin, count)
         SELECT $1, country, region, metric, bin, sum(count)
           FROM client_report_histograms WHERE hour >= $1 AND hour < $2 GROUP BY country, region, metric, bin
         ON CONFLICT DO NOTHING`,
        params,
      );
      // A session's first hour of the day carries its last active hour before the day.
      await client.query(
        `INSERT INTO client_report_session_day_counts (day, country, region, prev_hour, sessions)
         SELECT $1, country, region, coalesce(prev_hour, '-infinity'), count(*)
           FROM (SELECT DISTINCT ON (country, region, session_id) country, region, prev_hour
                   FROM client_report_session_hours WHERE hour >= $1 AND hour < $2 ORDER BY country, region, session_id, hour) AS first_hours
          GROUP BY 1, 2, 3, 4
         ON CONFLICT DO NOTHING`,
        params,
      );
      await client.query('UPDATE client_report_rollup_state SET days_rolled_until = $1 WHERE id = 1', [params[1]]);
    });
  }
  return days;
}

/** Deletes rollups of hours and days before `cutoff` (retention, with the partitions; `cutoff` is the start of a day), with maintenance deadlines. */
export async function dropRollupsBefore(pool: pg.Pool, cutoff: Date): Promise<void> {
  for (const table of ['client_report_rollups', 'client_report_histograms', 'client_report_session_hours', 'client_report_session_rollups']) {
    await maintenanceStatements(pool).query(`DELETE FROM ${table} WHERE hour < $1`, [cutoff]);
  }
  for (const table of ['client_report_daily_rollups', 'client_report_daily_histograms', 'client_report_session_day_counts']) {
    await maintenanceStatements(pool).query(`DELETE FROM ${table} WHERE day < $1`, [cutoff]);
  }
}

/**
 * Where a read over a range takes its rows from: whole rolled-up hours
 * [start, end), of which whole rolled-up days [daysFrom, daysTo) come from the
 * daily tables (daysFrom = daysTo = end when there are none), and raw rows
 * outside [start, end).
 */
export interface RolledSpan {
  start: Date;
  end: Date;
  daysFrom: Date;
  daysTo: Date;
  /** A session row is a session's first in the span when its previous active hour is before this: the start, or the oldest hour retention kept. */
  newBefore: Date;
}

/** The rolled-up part of the range, or null when it has no whole rolled-up hour holding data. */
export async function rolledSpan(pool: pg.Pool, range: TimeRange): Promise<RolledSpan | null> {
  const state = await rollupState(pool);
  if (!state) return null;
  const start = ceilHour(range.from);
  const end = new Date(Math.min(floorHour(range.to).getTime(), state.rolled_until.getTime()));
  if (start >= end) return null;
  // Hours rolled up but empty (a new service) gain nothing: the exact raw path is as cheap.
  const { rows } = await pool.query<{ any: number | null; oldest: Date | null }>(
    'SELECT (SELECT 1 FROM client_report_rollups WHERE hour >= $1 AND hour < $2 LIMIT 1) AS any, (SELECT min(hour) FROM client_report_session_hours) AS oldest',
    [start, end],
  );
  if (!rows[0]?.any) return null;
  let daysFrom = ceilDay(start);
  let daysTo = new Date(Math.min(floorDay(end).getTime(), state.days_rolled_until?.getTime() ?? 0));
  if (daysFrom >= daysTo) daysFrom = daysTo = end;
  const oldest = rows[0].oldest;
  return { start, end, daysFrom, daysTo, newBefore: oldest && oldest > start ? oldest : start };
}

/**
 * The same span computed in SQL, for a reader that cannot ask first and must
 * send one statement (Grafana's panels): a CTE `span` over the range
 * [fromSql, toSql) with one column per parameter of spanParams (and
 * new_before, $7 of clientsSql), without rolledSpan's check for data (an
 * empty rolled-up span reads nothing and the raw edges the rest). Bounds are
 * clamped so that the edges [from, start) and [end, to) never overlap the
 * span or leave the range.
 */
export function spanCteSql(fromSql: string, toSql: string): string {
  const origin = "timestamptz '2000-01-01 00:00:00+00'";
  // In hours: '1 day' added to a timestamptz follows the session's time zone across a DST change (23 or 25 hours).
  const ceil = (hours: 1 | 24, at: string) => `date_bin('${hours} hours', ${at} + interval '${hours} hours' - interval '1 microsecond', ${origin})`;
  return `span AS MATERIALIZED (
  SELECT range_from, range_to, start, "end",
         CASE WHEN days_from < days_to THEN days_from ELSE "end" END AS days_from,
         CASE WHEN days_from < days_to THEN days_to ELSE "end" END AS days_to,
         greatest(start, (SELECT min(hour) FROM client_report_session_hours)) AS new_before
    FROM (SELECT range_from, range_to, start, "end", ${ceil(24, 'start')} AS days_from,
                 least(date_bin('24 hours', "end", ${origin}), coalesce(days_rolled_until, '-infinity')) AS days_to
            FROM (SELECT range_from, range_to, start,
                         greatest(start, least(date_bin('1 hour', range_to, ${origin}), coalesce(rolled_until, '-infinity'))) AS "end", days_rolled_until
                    FROM (SELECT range_from, range_to, least(${ceil(1, 'range_from')}, range_to) AS start
                            FROM (SELECT (${fromSql})::timestamptz AS range_from, (${toSql})::timestamptz AS range_to) AS r) AS b
                    LEFT JOIN client_report_rollup_state ON id = 1) AS h) AS d
)`;
}

const SPAN_COLUMNS = ['range_from', 'range_to', 'start', '"end"', 'days_from', 'days_to', 'new_before'];

/** SQL written for spanParams ($1..$6, and $7 as clientsSql's new-session bound) reading the `span` CTE instead. */
export function overSpanCte(sql: string): string {
  return sql.replace(/\$([1-7])(?!\d)/g, (_match, n: string) => `(SELECT ${SPAN_COLUMNS[Number(n) - 1]} FROM span)`);
}

/** Query parameters of a read over rollups: $1 from, $2 to, $3 start, $4 end, $5 daysFrom, $6 daysTo (and a query's own from $7). */
export function spanParams(range: TimeRange, span: RolledSpan): Date[] {
  return [range.from, range.to, span.start, span.end, span.daysFrom, span.daysTo];
}

/** The hourly rows of the span outside its whole days; the daily rows. */
const IN_HOURS = '((hour >= $3 AND hour < $5) OR (hour >= $6 AND hour < $4))';
const IN_DAYS = '(day >= $5 AND day < $6)';
const FIRST_IN_SPAN = '(prev_hour IS NULL OR prev_hour < $7)';

/**
 * The raw rows outside the rolled-up span ($1..$3 and $4..$2), as two range
 * scans: an OR of the two ranges would defeat partition pruning.
 */
export const RAW_EDGES = `(SELECT * FROM client_reports WHERE received_at >= $1 AND received_at < $3
  UNION ALL SELECT * FROM client_reports WHERE received_at >= $4 AND received_at < $2)`;

/**
 * Distinct sessions over the range per (country, region) and per country
 * (region GLOBAL), or once under GLOBAL when `global`: sessions first seen in
 * the span, plus sessions of the raw edges with no row in the span.
 */
export function clientsSql(global: boolean): string {
  const filter = global ? `country = '${GLOBAL}'` : `country <> '${GLOBAL}'`;
  // Each raw row counts in its group and in its country's (region GLOBAL), or only under GLOBAL.
  const rawGroup = global
    ? `'${GLOBAL}' AS country, '${GLOBAL}' AS region, session_id FROM ${RAW_EDGES} AS edge`
    : `edge.country, r.region, edge.session_id FROM ${RAW_EDGES} AS edge CROSS JOIN LATERAL (VALUES (coalesce(edge.region, '')), ('${GLOBAL}')) AS r(region)`;
  return `SELECT country, region, sum(sessions) AS clients
    FROM (SELECT country, region, count(*) AS sessions FROM client_report_session_hours WHERE ${IN_HOURS} AND ${filter} AND ${FIRST_IN_SPAN} GROUP BY 1, 2
          UNION ALL
          SELECT country, region, sessions FROM client_report_session_day_counts WHERE ${IN_DAYS} AND ${filter} AND prev_hour < $7
          UNION ALL
          SELECT country, region, 1 FROM (SELECT DISTINCT ${rawGroup}) AS raw
           WHERE NOT EXISTS (SELECT 1 FROM client_report_session_hours h
                              WHERE h.session_id = raw.session_id AND h.country = raw.country AND h.region = raw.region AND h.hour >= $3 AND h.hour < $4)) AS parts
   GROUP BY 1, 2`;
}

/** Sums per (country, region) over the range (parameters of spanParams): rolled-up hours and days, and the raw edges. */
export const GROUP_SUMS_SQL = `SELECT country, region, ${SUM_COLUMNS.map((c) => (c === 'latency_max' ? `max(${c}) AS ${c}` : `sum(${c}) AS ${c}`)).join(', ')}
  FROM (SELECT country, region, ${SUM_COLUMNS.join(', ')} FROM client_report_rollups WHERE ${IN_HOURS}
        UNION ALL
        SELECT country, region, ${SUM_COLUMNS.join(', ')} FROM client_report_daily_rollups WHERE ${IN_DAYS}
        UNION ALL
        SELECT country, coalesce(region, '') AS region, ${RAW_SUMS_SQL} FROM ${RAW_EDGES} AS edge GROUP BY 1, 2) AS parts
 GROUP BY country, region`;

/**
 * Histogram bin counts of `metrics` per (country, region), or of all groups together under
 * (GLOBAL, GLOBAL) when `global`, over the range (parameters of spanParams).
 */
export function groupHistogramsSql(metrics: readonly HistogramMetric[], global: boolean): string {
  if (!global && metrics.some((m) => !GROUP_METRICS.includes(m))) throw new Error(`per-group histograms exist only for ${GROUP_METRICS.join(', ')}`);
  const ids = HISTOGRAM_METRICS.filter((m) => metrics.includes(m.name)).map((m) => m.id).join(', ');
  const group = global ? `'${GLOBAL}', '${GLOBAL}'` : `country, coalesce(region, '')`;
  const filter = `metric IN (${ids}) AND ${global ? `country = '${GLOBAL}'` : `country <> '${GLOBAL}'`}`;
  return `SELECT country, region, metric, bin, sum(count) AS count
  FROM (SELECT country, region, metric, bin, count FROM client_report_histograms WHERE ${IN_HOURS} AND ${filter}
        UNION ALL
        SELECT country, region, metric, bin, count FROM client_report_daily_histograms WHERE ${IN_DAYS} AND ${filter}
        UNION ALL
        SELECT ${group}, m.metric, ${binSql('m.v')}, count(*)
          FROM ${RAW_EDGES} AS edge CROSS JOIN LATERAL ${metricValuesSql(metrics)} AS m(metric, v)
         WHERE m.v IS NOT NULL GROUP BY 1, 2, 3, 4) AS parts
 GROUP BY 1, 2, 3, 4`;
}

/** A key per group: '' for the summary, `country\tregion` for geography. */
export interface MergedGroup {
  country: string;
  region: string;
  sums: Sums;
  clients: number;
  histograms: Map<number, Map<number, number>>;
}

/**
 * Sums, histograms and distinct clients per (country, region) over the range:
 * rolled-up days and hours from the rollups, everything else from raw rows.
 * `metrics` limits the histograms read. Distinct clients per country come as
 * groups (country, GLOBAL) with clients only (a session that moved between
 * regions counts once there). With `global`, histograms and clients are those
 * of all groups together, under (GLOBAL, GLOBAL).
 */
export async function mergedGroups(
  pool: pg.Pool,
  range: TimeRange,
  span: RolledSpan,
  metrics: readonly HistogramMetric[],
  { global = false }: { global?: boolean } = {},
): Promise<MergedGroup[]> {
  const params = spanParams(range, span);
  const [sums, histograms, clientRows] = await Promise.all([
    readOnly<Record<string, number | string>>(pool, GROUP_SUMS_SQL, params, { parallel: false }),
    metrics.length === 0
      ? Promise.resolve({ rows: [] as Array<{ country: string; region: string; metric: number; bin: number; count: number }> })
      : readOnly<{ country: string; region: string; metric: number; bin: number; count: number }>(pool, groupHistogramsSql(metrics, global), params, { parallel: false }),
    // Without index-only scans: for the raw sessions of an edge the planner prefers reading a day's
    // whole (session_id, received_at) index over the edge's few pages (20 ms per partition).
    readOnly<{ country: string; region: string; clients: number }>(pool, clientsSql(global), [...params, span.newBefore], { parallel: false, indexOnlyScans: false }),
  ]);
  const groups = new Map<string, MergedGroup>();
  const group = (country: string, region: string) => {
    const key = `${country}\t${region}`;
    let g = groups.get(key);
    if (!g) {
      g = emptyGroup(country, region);
      groups.set(key, g);
    }
    return g;
  };
  for (const row of sums.rows) {
    const g = group(row.country as string, row.region as string);
    for (const c of SUM_COLUMNS) g.sums[c] = row[c] === null ? (c === 'latency_max' ? Number.NaN : 0) : Number(row[c]);
  }
  for (const row of histograms.rows) {
    const bins = group(row.country, row.region).histograms;
    const metric = bins.get(row.metric) ?? new Map<number, number>();
    metric.set(row.bin, (metric.get(row.bin) ?? 0) + Number(row.count));
    bins.set(row.metric, metric);
  }
  for (const row of clientRows.rows) group(row.country, row.region).clients = row.clients;
  return [...groups.values()].filter((g) => g.sums.reports > 0 || g.region === GLOBAL);
}

/** A group with zero sums (no maximum: NaN), no clients and no histograms, to merge others into. */
export function emptyGroup(country: string, region: string): MergedGroup {
  const sums = Object.fromEntries(SUM_COLUMNS.map((c) => [c, c === 'latency_max' ? Number.NaN : 0])) as Sums;
  return { country, region, sums, clients: 0, histograms: new Map() };
}

/** Adds b's sums, histograms and clients into a. */
export function mergeInto(a: MergedGroup, b: MergedGroup): void {
  for (const c of SUM_COLUMNS) a.sums[c] = c === 'latency_max' ? Math.max(nanToMinus(a.sums[c]), nanToMinus(b.sums[c])) : a.sums[c] + b.sums[c];
  if (a.sums.latency_max === Number.NEGATIVE_INFINITY) a.sums.latency_max = Number.NaN;
  a.clients += b.clients;
  for (const [metric, bins] of b.histograms) {
    const target = a.histograms.get(metric) ?? new Map<number, number>();
    for (const [bin, count] of bins) target.set(bin, (target.get(bin) ?? 0) + count);
    a.histograms.set(metric, target);
  }
}

function nanToMinus(v: number): number {
  return Number.isNaN(v) ? Number.NEGATIVE_INFINITY : v;
}

/** The values a bin holds, [lower, upper] (see FINE_BINS and binSql). */
export function binBounds(bin: number): { lower: number; upper: number } {
  if (bin === ZERO_BIN) return { lower: 0, upper: 0 };
  if (bin === TINY_BIN) return { lower: 0, upper: BIN_RATIO ** -FINE_BINS };
  if (bin === LEGACY_UNIT_BIN) return { lower: 0, upper: 1 };
  if (bin < 0) return { lower: BIN_RATIO ** bin, upper: BIN_RATIO ** (bin + 1) };
  return { lower: BIN_RATIO ** (bin - 1), upper: BIN_RATIO ** bin };
}

/** The value histogramQuantile answers for a bin, in SQL, in the metric's unit (see binBounds). */
function binValueSql(bin: string, scale: number): string {
  const ratio = `${BIN_RATIO}::float8`;
  return `(CASE WHEN ${bin} = ${ZERO_BIN} THEN 0 WHEN ${bin} = ${TINY_BIN} THEN power(${ratio}, ${-FINE_BINS}) / 2 WHEN ${bin} = ${LEGACY_UNIT_BIN} THEN 0.5
    WHEN ${bin} < 0 THEN sqrt(power(${ratio}, ${bin}) * power(${ratio}, ${bin} + 1)) ELSE sqrt(power(${ratio}, ${bin} - 1) * power(${ratio}, ${bin})) END) / ${scale}`;
}

/**
 * histogramQuantile in SQL, for a reader that sends one statement (Grafana's panels): over
 * `bins`, a relation of (key, metric, bin, count) rows, one row per key with a column per
 * quantile asked (null where the metric has no values): the same rank ⌈q·n⌉ (at least 1), the
 * same bin and the same value as histogramQuantile.
 */
export function histogramQuantilesSql(bins: string, key: string, quantiles: ReadonlyArray<{ metric: HistogramMetric; q: number; as: string }>): string {
  const columns = quantiles.map(({ metric, q, as }) => {
    const definition = HISTOGRAM_METRICS.find((m) => m.name === metric)!;
    const bin = `min(bin) FILTER (WHERE metric = ${definition.id} AND below >= greatest(1, ceil(${q}::float8 * total)))`;
    return `${binValueSql(bin, definition.scale)} AS ${as}`;
  });
  return `SELECT ${key}, ${columns.join(', ')}
  FROM (SELECT ${key}, metric, bin, sum(count) OVER (PARTITION BY ${key}, metric ORDER BY bin) AS below, sum(count) OVER (PARTITION BY ${key}, metric)::float8 AS total
          FROM (SELECT ${key}, metric, bin, sum(count) AS count FROM (${bins}) AS b GROUP BY ${key}, metric, bin) AS per_bin
         WHERE count > 0) AS ranked
 GROUP BY ${key}`;
}

/** Histogram metrics bounded by the exact `latency_max` of the sums. */
const LATENCY_METRICS: ReadonlySet<HistogramMetric> = new Set(['latency_p50', 'latency_p95']);

/**
 * The q-quantile of a histogram metric (null when empty), as the raw path's
 * percentile_disc defines it: the value at rank ⌈q·n⌉ (at least 1) of the n
 * values in order, the same float arithmetic as PostgreSQL's. The histogram
 * knows which bin holds that value, and answers the bin's geometric middle:
 * within a factor 1.1^½ of the value (|estimate − value| < 4.9% of it), 0
 * for the zero bin, the middle of the bounds for the bins that start at 0
 * (within 5.5·10^−6 below 1.1·10^−5; 0.5 within [0, 1] for rollups made
 * before the fine bins), and never above the group's exact latency maximum
 * for the latency metrics. Interpolating by rank inside the bin, as this did
 * before, is no closer in the worst case (up to 10%), and with one bin for all
 * of [0, 1] read three values of 0.3 as 0.5 and zeros as 0.75.
 */
export function histogramQuantile(group: MergedGroup, metric: HistogramMetric, q: number): number | null {
  const definition = HISTOGRAM_METRICS.find((m) => m.name === metric)!;
  const bins = group.histograms.get(definition.id);
  if (!bins || bins.size === 0) return null;
  const ordered = [...bins.entries()].filter(([, count]) => count > 0).sort((a, b) => a[0] - b[0]);
  const total = ordered.reduce((sum, [, count]) => sum + count, 0);
  if (total === 0) return null;
  const rank = Math.max(1, Math.ceil(q * total));
  let before = 0;
  let holding = ordered[ordered.length - 1]![0];
  for (const [bin, count] of ordered) {
    before += count;
    if (before >= rank) {
      holding = bin;
      break;
    }
  }
  const { lower, upper } = binBounds(holding);
  const estimate = (lower > 0 ? Math.sqrt(lower * upper) : (lower + upper) / 2) / definition.scale;
  // A report's latency percentiles are at most its maximum, which the sums keep exactly: a bin's middle may lie above it.
  return LATENCY_METRICS.has(metric) && Number.isFinite(group.sums.latency_max) ? Math.min(estimate, group.sums.latency_max) : estimate;
}
