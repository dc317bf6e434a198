/** Totals of client reports over a time range: connection health, messages, latency, web vitals, UX. */
import type pg from 'pg';
import { CLUSTER_SUMS_SQL, GLOBAL, type MergedGroup, type RolledSpan, emptyGroup, histogramQuantile, mergeInto, mergedGroups, rolledSpan, successClusterSums } from './rollups.ts';
import { type Interval, clusteredWilsonInterval } from './statistics.ts';
import { readOnly } from './storage/transaction.ts';
import type { TimeRange } from './time-range.ts';

export interface ClientMetricsSummary {
  from: string;
  to: string;
  reports: number;
  clients: number;
  countries: number;
  connection: {
    attempts: number;
    opens: number;
    drops: number;
    reconnect_attempts: number;
    reconnect_successes: number;
    /** opens / attempts, with a 95% Wilson interval over the effective number of attempts, client reports taken as clusters (statistics.ts). */
    success_rate: number | null;
    success_rate_ci: Interval | null;
    /** Drops per hour connected. */
    drops_per_hour: number | null;
    outage_ms: number;
    connected_ms: number;
  };
  messages: { sent: number; received: number; queued: number; dropped: number; errors: number; error_rate: number | null };
  latency_ms: { samples: number; avg: number | null; p50: number | null; p95: number | null; max: number | null };
  /** 75th percentiles, the Core Web Vitals convention. */
  vitals_p75: { lcp_ms: number | null; inp_ms: number | null; cls: number | null; fcp_ms: number | null; ttfb_ms: number | null; page_load_ms: number | null };
  ux: { interactions: number; errors: number };
}

interface SummaryRow {
  reports: number;
  clients: number;
  countries: number;
  attempts: number | null;
  opens: number | null;
  drops: number | null;
  reconnect_attempts: number | null;
  reconnect_successes: number | null;
  outage_ms: number | null;
  connected_ms: number | null;
  sent: number | null;
  received: number | null;
  queued: number | null;
  dropped: number | null;
  errors: number | null;
  latency_samples: number | null;
  latency_avg: number | null;
  latency_p50: number | null;
  latency_p95: number | null;
  latency_max: number | null;
  lcp: number | null;
  inp: number | null;
  cls: number | null;
  fcp: number | null;
  ttfb: number | null;
  page_load: number | null;
  interactions: number | null;
  ux_errors: number | null;
  /** Per-report sums of the clustered interval (rollups.ts, CLUSTER_SUMS_SQL). */
  attempts_sq: number;
  opens_sq: number;
  attempts_opens: number;
  connection_reports: number;
}

const SUMMARY_SQL = `
SELECT count(*) AS reports,
       count(DISTINCT session_id) AS clients,
       count(DISTINCT country) AS countries,
       sum(attempts) AS attempts, sum(opens) AS opens, sum(drops) AS drops,
       sum(reconnect_attempts) AS reconnect_attempts, sum(reconnect_successes) AS reconnect_successes,
       sum(outage_ms) AS outage_ms, sum(connected_ms) AS connected_ms,
       sum(messages_sent) AS sent, sum(messages_received) AS received, sum(messages_queued) AS queued,
       sum(messages_dropped) AS dropped, sum(message_errors) AS errors,
       sum(latency_count) AS latency_samples,
       sum(latency_avg_ms * latency_count) / nullif(sum(latency_count) FILTER (WHERE latency_avg_ms IS NOT NULL), 0) AS latency_avg,
       percentile_disc(0.5) WITHIN GROUP (ORDER BY latency_p50_ms) AS latency_p50,
       percentile_disc(0.95) WITHIN GROUP (ORDER BY latency_p95_ms) AS latency_p95,
       max(latency_max_ms) AS latency_max,
       percentile_disc(0.75) WITHIN GROUP (ORDER BY lcp_ms) AS lcp,
       percentile_disc(0.75) WITHIN GROUP (ORDER BY inp_ms) AS inp,
       percentile_disc(0.75) WITHIN GROUP (ORDER BY cls) AS cls,
       percentile_disc(0.75) WITHIN GROUP (ORDER BY fcp_ms) AS fcp,
       percentile_disc(0.75) WITHIN GROUP (ORDER BY ttfb_ms) AS ttfb,
       percentile_disc(0.75) WITHIN GROUP (ORDER BY page_load_ms) AS page_load,
       sum(ux_interactions) AS interactions, sum(ux_errors) AS ux_errors,
       ${CLUSTER_SUMS_SQL}
  FROM client_reports
 WHERE received_at >= $1 AND received_at < $2`;

function ratio(numerator: number, denominator: number): number | null {
  return denominator > 0 ? numerator / denominator : null;
}

/** The same row from rollups plus raw edges (percentiles from histograms, clients and countries exact). */
async function summaryFromRollups(pool: pg.Pool, range: TimeRange, span: RolledSpan): Promise<SummaryRow> {
  // Histograms and clients of all groups together (GLOBAL); sums per group, which also gives the countries.
  const groups = await mergedGroups(pool, range, span, ['latency_p50', 'latency_p95', 'lcp', 'inp', 'cls', 'fcp', 'ttfb', 'page_load'], { global: true });
  const countries = new Set(groups.filter((g) => g.country !== GLOBAL && g.sums.reports > 0).map((g) => g.country));
  const total: MergedGroup = groups.reduce(
    (acc, g) => {
      mergeInto(acc, g);
      return acc;
    },
    emptyGroup('', ''),
  );
  const s = total.sums;
  const q = (metric: Parameters<typeof histogramQuantile>[1], p: number) => histogramQuantile(total, metric, p);
  return {
    reports: s.reports,
    clients: total.clients,
    countries: countries.size,
    attempts: s.attempts,
    opens: s.opens,
    drops: s.drops,
    reconnect_attempts: s.reconnect_attempts,
    reconnect_successes: s.reconnect_successes,
    outage_ms: s.outage_ms,
    connected_ms: s.connected_ms,
    sent: s.messages_sent,
    received: s.messages_received,
    queued: s.messages_queued,
    dropped: s.messages_dropped,
    errors: s.message_errors,
    latency_samples: s.latency_count,
    latency_avg: s.latency_count ? s.latency_sum / s.latency_count : null,
    latency_p50: q('latency_p50', 0.5),
    latency_p95: q('latency_p95', 0.95),
    latency_max: s.latency_max === undefined || Number.isNaN(s.latency_max) ? null : s.latency_max,
    lcp: q('lcp', 0.75),
    inp: q('inp', 0.75),
    cls: q('cls', 0.75),
    fcp: q('fcp', 0.75),
    ttfb: q('ttfb', 0.75),
    page_load: q('page_load', 0.75),
    interactions: s.ux_interactions,
    ux_errors: s.ux_errors,
    attempts_sq: s.attempts_sq,
    opens_sq: s.opens_sq,
    attempts_opens: s.attempts_opens,
    connection_reports: s.connection_reports,
  };
}

/**
 * Exact from the raw rows when the range holds no rolled-up hour (recent
 * data, short ranges); otherwise rollups plus raw edges. Percentiles are
 * nearest rank (percentile_disc: the value at rank ⌈q·n⌉); from histograms,
 * the middle of the bin holding that rank, within 4.9% of it (rollups.ts,
 * histogramQuantile).
 */
export async function clientMetricsSummary(pool: pg.Pool, range: TimeRange): Promise<ClientMetricsSummary> {
  const span = await rolledSpan(pool, range);
  const r = span ? await summaryFromRollups(pool, range, span) : ((await readOnly<SummaryRow>(pool, SUMMARY_SQL, [range.from, range.to])).rows[0] as SummaryRow);
  const n = (value: number | null) => value ?? 0;
  const attempts = n(r.attempts);
  const opens = Math.min(n(r.opens), attempts);
  const connectedMs = n(r.connected_ms);
  const sent = n(r.sent);
  const received = n(r.received);
  return {
    from: range.from.toISOString(),
    to: range.to.toISOString(),
    reports: r.reports,
    clients: r.clients,
    countries: r.countries,
    connection: {
      attempts,
      opens: n(r.opens),
      drops: n(r.drops),
      reconnect_attempts: n(r.reconnect_attempts),
      reconnect_successes: n(r.reconnect_successes),
      success_rate: ratio(opens, attempts),
      success_rate_ci: clusteredWilsonInterval(successClusterSums({ ...r, attempts, opens: n(r.opens) })),
      drops_per_hour: ratio(n(r.drops), connectedMs / 3_600_000),
      outage_ms: n(r.outage_ms),
      connected_ms: connectedMs,
    },
    messages: { sent, received, queued: n(r.queued), dropped: n(r.dropped), errors: n(r.errors), error_rate: ratio(n(r.errors), sent + received) },
    latency_ms: { samples: n(r.latency_samples), avg: r.latency_avg, p50: r.latency_p50, p95: r.latency_p95, max: r.latency_max },
    vitals_p75: { lcp_ms: r.lcp, inp_ms: r.inp, cls: r.cls, fcp_ms: r.fcp, ttfb_ms: r.ttfb, page_load_ms: r.page_load },
    ux: { interactions: n(r.interactions), errors: n(r.ux_errors) },
  };
}
