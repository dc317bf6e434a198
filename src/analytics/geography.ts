/**
 * Client performance by country and region. A region (or a whole country)
 * with fewer than `minClients` distinct clients is folded into `other`, so
 * small groups neither leak individuals nor show noise as a finding. Success
 * rate = opens / attempts with a 95% Wilson interval over the effective number
 * of attempts, client reports taken as clusters (statistics.ts,
 * clusteredWilsonInterval): one client failing twenty times is not twenty
 * independent failures.
 */
import type pg from 'pg';
import { CLUSTER_SUMS_SQL, GLOBAL, type MergedGroup, type RolledSpan, emptyGroup, histogramQuantile, mergeInto, mergedGroups, rolledSpan, successClusterSums } from './rollups.ts';
import { type Interval, clusteredWilsonInterval } from './statistics.ts';
import { readOnly } from './storage/transaction.ts';
import type { TimeRange } from './time-range.ts';

export const OTHER = 'other';

export interface GeoGroupStats {
  clients: number;
  reports: number;
  latency_ms: { avg: number | null; p50: number | null; p95: number | null };
  connection: { attempts: number; opens: number; drops: number; success_rate: number | null; success_rate_ci: Interval | null };
}

export interface GeoRegion extends GeoGroupStats {
  /** Region/subdivision code, `other` for folded small regions, null where unknown. */
  region: string | null;
}

export interface GeoCountry extends GeoGroupStats {
  /** ISO 3166-1 alpha-2, `ZZ` for unknown, `other` for folded small countries. */
  country: string;
  regions: GeoRegion[];
}

export interface Geography {
  from: string;
  to: string;
  min_clients: number;
  countries: GeoCountry[];
}

interface GeoRow {
  country: string;
  region: string | null;
  is_country_total: boolean;
  clients: number;
  reports: number;
  latency_avg: number | null;
  latency_p50: number | null;
  latency_p95: number | null;
  attempts: number;
  opens: number;
  drops: number;
  /** Per-report sums of the clustered interval (rollups.ts, CLUSTER_SUMS_SQL). */
  attempts_sq: number;
  opens_sq: number;
  attempts_opens: number;
  connection_reports: number;
}

// Labels first (client counts per country and per region), then one pass
// aggregating per country and per (country, region) with GROUPING SETS.
const GEOGRAPHY_SQL = `
WITH base AS MATERIALIZED (
  SELECT country, region, session_id, attempts, opens, drops, latency_count, latency_avg_ms, latency_p50_ms, latency_p95_ms
    FROM client_reports
   WHERE received_at >= $1 AND received_at < $2
),
country_clients AS (SELECT country, count(DISTINCT session_id) AS n FROM base GROUP BY country),
region_clients AS (SELECT country, region, count(DISTINCT session_id) AS n FROM base WHERE region IS NOT NULL GROUP BY country, region),
labelled AS (
  SELECT CASE WHEN cc.n >= $3 THEN b.country ELSE '${OTHER}' END AS country_label,
         CASE WHEN cc.n < $3 OR b.region IS NULL THEN NULL
              WHEN rc.n >= $3 THEN b.region ELSE '${OTHER}' END AS region_label,
         b.*
    FROM base b
    JOIN country_clients cc ON cc.country = b.country
    LEFT JOIN region_clients rc ON rc.country = b.country AND rc.region = b.region
)
SELECT country_label AS country,
       region_label AS region,
       grouping(region_label) = 1 AS is_country_total,
       count(DISTINCT session_id) AS clients,
       count(*) AS reports,
       sum(latency_avg_ms * latency_count) / nullif(sum(latency_count) FILTER (WHERE latency_avg_ms IS NOT NULL), 0) AS latency_avg,
       percentile_disc(0.5) WITHIN GROUP (ORDER BY latency_p50_ms) AS latency_p50,
       percentile_disc(0.95) WITHIN GROUP (ORDER BY latency_p95_ms) AS latency_p95,
       coalesce(sum(attempts), 0) AS attempts,
       coalesce(sum(opens), 0) AS opens,
       coalesce(sum(drops), 0) AS drops,
       ${CLUSTER_SUMS_SQL}
  FROM labelled
 GROUP BY GROUPING SETS ((country_label), (country_label, region_label))`;

function stats(row: GeoRow): GeoGroupStats {
  const sums = successClusterSums(row);
  return {
    clients: row.clients,
    reports: row.reports,
    latency_ms: { avg: row.latency_avg, p50: row.latency_p50, p95: row.latency_p95 },
    connection: {
      attempts: row.attempts,
      opens: row.opens,
      drops: row.drops,
      success_rate: row.attempts > 0 ? sums.successes / row.attempts : null,
      success_rate_ci: clusteredWilsonInterval(sums),
    },
  };
}

function rowOf(group: MergedGroup, country: string, region: string | null, isCountryTotal: boolean): GeoRow {
  const s = group.sums;
  return {
    country,
    region,
    is_country_total: isCountryTotal,
    clients: group.clients,
    reports: s.reports,
    latency_avg: s.latency_count > 0 ? s.latency_sum / s.latency_count : null,
    latency_p50: histogramQuantile(group, 'latency_p50', 0.5),
    latency_p95: histogramQuantile(group, 'latency_p95', 0.95),
    attempts: s.attempts,
    opens: s.opens,
    drops: s.drops,
    attempts_sq: s.attempts_sq,
    opens_sq: s.opens_sq,
    attempts_opens: s.attempts_opens,
    connection_reports: s.connection_reports,
  };
}

/**
 * The same rows as GEOGRAPHY_SQL from rollups plus raw edges. Distinct
 * clients per country and per region are exact; a bucket folded into `other`
 * sums its members' clients, so a session that moved between two folded
 * countries (or regions) counts in each.
 */
async function geographyFromRollups(pool: pg.Pool, range: TimeRange, span: RolledSpan, minClients: number): Promise<GeoRow[]> {
  const groups = await mergedGroups(pool, range, span, ['latency_p50', 'latency_p95']);
  const countryClients = new Map(groups.filter((g) => g.region === GLOBAL).map((g) => [g.country, g.clients]));
  const keep = (country: string) => (countryClients.get(country) ?? 0) >= minClients;
  const labelled = new Map<string, { country: string; region: string | null; group: MergedGroup }>();
  const countryRows = new Map<string, MergedGroup>();
  const folded = new Set<string>();
  for (const g of groups) {
    if (g.region === GLOBAL) continue;
    const country = keep(g.country) ? g.country : OTHER;
    if (country === OTHER) folded.add(g.country);
    const region = country === OTHER || g.region === '' ? null : g.clients >= minClients ? g.region : OTHER;
    const key = `${country}\t${region}`;
    const entry = labelled.get(key) ?? { country, region, group: emptyGroup(country, region ?? '') };
    mergeInto(entry.group, g);
    labelled.set(key, entry);
    const total = countryRows.get(country) ?? emptyGroup(country, '');
    mergeInto(total, g);
    countryRows.set(country, total);
  }
  for (const [country, total] of countryRows) {
    total.clients = country === OTHER ? [...folded].reduce((sum, c) => sum + (countryClients.get(c) ?? 0), 0) : (countryClients.get(country) ?? 0);
  }
  return [
    ...[...countryRows.entries()].map(([country, group]) => rowOf(group, country, null, true)),
    ...[...labelled.values()].map(({ country, region, group }) => rowOf(group, country, region, false)),
  ];
}

/**
 * Exact from raw rows when the range holds no rolled-up hour; otherwise from
 * rollups plus raw edges. Percentiles are nearest rank (percentile_disc), from
 * histograms within 4.9% (rollups.ts, histogramQuantile).
 */
export async function geographicDistribution(pool: pg.Pool, range: TimeRange, minClients: number): Promise<Geography> {
  const span = await rolledSpan(pool, range);
  const rows = span ? await geographyFromRollups(pool, range, span, minClients) : (await readOnly<GeoRow>(pool, GEOGRAPHY_SQL, [range.from, range.to, minClients])).rows;
  const countries = new Map<string, GeoCountry>();
  for (const row of rows.filter((r) => r.is_country_total)) countries.set(row.country, { country: row.country, ...stats(row), regions: [] });
  for (const row of rows.filter((r) => !r.is_country_total)) {
    const country = countries.get(row.country);
    // Only countries with some known region list regions; "unknown" alone says nothing.
    if (country) country.regions.push({ region: row.region, ...stats(row) });
  }
  const ordered = [...countries.values()]
    .map((c) => ({ ...c, regions: c.regions.some((r) => r.region !== null) ? c.regions.sort(byClients) : [] }))
    .sort((a, b) => (a.country === OTHER ? 1 : b.country === OTHER ? -1 : byClients(a, b)));
  return { from: range.from.toISOString(), to: range.to.toISOString(), min_clients: minClients, countries: ordered };
}

function byClients(a: { clients: number; region?: string | null; country?: string }, b: { clients: number; region?: string | null; country?: string }): number {
  return b.clients - a.clients || String(a.country ?? a.region).localeCompare(String(b.country ?? b.region));
}
