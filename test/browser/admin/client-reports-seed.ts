/**
 * Client reports, anomalies and alerts with known figures for the client
 * metrics page: twelve recent sessions in four countries (the last hour) and
 * five older ones in Brazil (three days ago), so "last 24 hours" and "last 7
 * days" differ in every tab.
 */
import type { ClientReportRow } from '../../../src/analytics/storage/client-reports.ts';
import type { AnomalyRecord } from '../../../src/analytics/storage/anomalies.ts';

export const HOUR = 3_600_000;
export const DAY = 24 * HOUR;

/** Country of each recent session, in order; GEO_MIN_CLIENTS=2 folds FR into "other". */
export const RECENT_COUNTRIES = ['DE', 'DE', 'DE', 'DE', 'DE', 'US', 'US', 'US', 'US', 'JP', 'JP', 'FR'] as const;
/** Page load = 800 + 12 × latency + this, per session: a strong but imperfect correlation. */
const NOISE = [40, -30, 25, -45, 10, 35, -20, 50, -40, 15, -10, 5];
/** Sessions 3 and 7 open 9 of 10 connections, and are without one for 30 s of their minute. */
const SHORT_OPENS = new Set([3, 7]);
/** Sessions 0, 4, 8 and 11 each report one message error. */
const WITH_ERROR = new Set([0, 4, 8, 11]);
export const OLD_SESSIONS = 5;

export function recentLatency(i: number): number {
  return 20 + 10 * i;
}

export function recentPageLoad(i: number): number {
  return 800 + 12 * recentLatency(i) + (NOISE[i] ?? 0);
}

/** A client report with plain defaults; `fields` override them. */
export function report(session: string, receivedAt: Date, fields: Partial<ClientReportRow> = {}): ClientReportRow {
  const windowStart = new Date(receivedAt.getTime() - 60_000).toISOString();
  return {
    received_at: receivedAt,
    schema_version: 1,
    session_id: session,
    sent_at: receivedAt.toISOString(),
    window_start: windowStart,
    window_end: receivedAt.toISOString(),
    page_path: '/app',
    app_name: 'chat',
    app_version: '2.4.0',
    country: 'ZZ',
    region: null,
    attempts: 10,
    opens: 10,
    drops: 0,
    reconnect_attempts: 0,
    reconnect_successes: 0,
    outage_ms: 0,
    connected_ms: 60_000,
    close_codes: {},
    messages_sent: 100,
    messages_received: 100,
    messages_queued: 0,
    messages_dropped: 0,
    message_errors: 0,
    latency_count: 10,
    latency_avg_ms: 50,
    latency_p50_ms: 50,
    latency_p95_ms: 80,
    latency_max_ms: 100,
    network_type: 'wifi',
    effective_type: '4g',
    network_rtt_ms: 50,
    downlink_mbps: 10,
    lcp_ms: 1200,
    inp_ms: null,
    cls: 0.02,
    fcp_ms: 600,
    ttfb_ms: 150,
    page_load_ms: 1500,
    ux_interactions: 12,
    ux_errors: 0,
    ...fields,
  };
}

export function seedReports(now: number): ClientReportRow[] {
  const rows: ClientReportRow[] = RECENT_COUNTRIES.map((country, i) => {
    const latency = recentLatency(i);
    return report(`recent-${i}`, new Date(now - (50 - 4 * i) * 60_000), {
      country,
      region: country === 'DE' ? (i < 3 ? 'BE' : 'BY') : null,
      opens: SHORT_OPENS.has(i) ? 9 : 10,
      drops: SHORT_OPENS.has(i) ? 1 : 0,
      outage_ms: SHORT_OPENS.has(i) ? 30_000 : 0,
      message_errors: WITH_ERROR.has(i) ? 1 : 0,
      latency_avg_ms: latency,
      latency_p50_ms: latency,
      latency_p95_ms: latency * 1.5,
      latency_max_ms: latency * 2,
      page_load_ms: recentPageLoad(i),
      lcp_ms: 1000 + 5 * latency,
      ux_errors: i % 3 === 0 ? 1 : 0,
    });
  });
  for (let i = 0; i < OLD_SESSIONS; i++) {
    rows.push(report(`old-${i}`, new Date(now - 3 * DAY + i * 60_000), { country: 'BR', opens: 5, latency_avg_ms: 300, latency_p50_ms: 300, latency_p95_ms: 420, latency_max_ms: 500 }));
  }
  return rows;
}

/** One recent high anomaly on browser latency, one older medium one on a server metric. */
export function seedAnomalies(now: number): AnomalyRecord[] {
  const step = 300_000;
  return [
    {
      stream: 'client_latency_avg_ms',
      source: 'client_reports',
      observed_at: new Date(Math.floor((now - 30 * 60_000) / step) * step),
      value: 480,
      expected: 75,
      lower_bound: 40,
      upper_bound: 110,
      score: 0.97,
      deviation: 8.4,
      severity: 'high',
    },
    {
      stream: 'messages_received_per_second',
      source: 'prometheus',
      observed_at: new Date(Math.floor((now - 3 * DAY) / step) * step),
      value: 2,
      expected: 10,
      lower_bound: 7.5,
      upper_bound: 12.5,
      score: 0.81,
      deviation: -4.2,
      severity: 'medium',
    },
  ];
}
