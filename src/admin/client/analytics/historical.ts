/** Server metrics over the selected range (GET /api/ws/metrics/historical), fetched once per range and shared by the tabs. */
import type { HistoricalMetrics } from '../api-types.ts';
import { type LineSeries, timeChart } from '../charts.ts';
import { type TimeRange, rangeQuery } from '../date-range.ts';
import { h } from '../dom.ts';
import { byUnit, duration } from '../format.ts';
import { get } from '../http.ts';

const cache = new WeakMap<TimeRange, Promise<HistoricalMetrics>>();

export function historical(range: TimeRange, signal: AbortSignal): Promise<HistoricalMetrics> {
  let pending = cache.get(range);
  if (!pending) {
    pending = get<HistoricalMetrics>('/api/ws/metrics/historical', rangeQuery(range), signal);
    // A failed or cancelled load is not kept: the next view asks again.
    pending.catch(() => cache.delete(range));
    cache.set(range, pending);
  }
  return pending;
}

export interface ChartSpec {
  title: string;
  unit: string;
  series: Array<{ id: string; label: string }>;
}

export function seriesOf(data: { series: HistoricalMetrics['series'] }, ids: ChartSpec['series']): LineSeries[] {
  return ids.map(({ id, label }) => ({ label, points: data.series.find((s) => s.id === id)?.points ?? [] }));
}

export function chartOf(data: { series: HistoricalMetrics['series'] }, spec: ChartSpec): HTMLElement {
  return timeChart(spec.title, seriesOf(data, spec.series), (v) => byUnit(spec.unit, v));
}

/** The fixed window of /api/ws/metrics/historical's rates while its response does not name one. */
const HISTORICAL_WINDOW_S = 300;

/**
 * What one point of a range chart stands for: "One point every 34 min; each percentile summarises
 * the 34 min before its point." When the window is shorter than the step, it says that what
 * happens between points may not show. `after` is a sentence added at the end.
 */
export function pointNote(data: { step_s: number; window_s?: number }, what: string, after?: string): HTMLElement {
  const windowS = data.window_s ?? HISTORICAL_WINDOW_S;
  const gap = windowS < data.step_s ? ', so what happens between points may not show' : '';
  return h(
    'p',
    { class: 'muted chart-grid-note', 'data-step-s': data.step_s, 'data-window-s': windowS },
    `One point every ${duration(data.step_s * 1000)}; ${what} summarises the ${duration(windowS * 1000)} before its point${gap}.${after ? ` ${after}` : ''}`,
  );
}

export const hasPoints = (data: { series: HistoricalMetrics['series'] }): boolean => data.series.some((s) => s.points.length > 0);

/** Every server metric of the historical endpoint, grouped into charts (Trends shows all, Overview a few). */
export const SERVER_CHARTS: ChartSpec[] = [
  { title: 'Active connections', unit: '{connection}', series: [{ id: 'active_connections', label: 'Active' }] },
  {
    title: 'Connection churn',
    unit: '{connection}/s',
    series: [
      { id: 'connections_opened_per_second', label: 'Opened' },
      { id: 'connections_closed_per_second', label: 'Closed' },
      { id: 'connections_rejected_per_second', label: 'Rejected' },
    ],
  },
  {
    title: 'Message rates',
    unit: '{message}/s',
    series: [
      { id: 'messages_received_per_second', label: 'Received' },
      { id: 'messages_sent_per_second', label: 'Sent' },
    ],
  },
  {
    title: 'Errors and heartbeat timeouts',
    unit: '{error}/s',
    series: [
      { id: 'message_errors_per_second', label: 'Message errors' },
      { id: 'ping_timeouts_per_second', label: 'Heartbeat timeouts' },
    ],
  },
  {
    title: 'Throughput',
    unit: 'By/s',
    series: [
      { id: 'bytes_received_per_second', label: 'In' },
      { id: 'bytes_sent_per_second', label: 'Out' },
    ],
  },
  {
    title: 'Latency p95',
    unit: 's',
    series: [
      { id: 'message_latency_p95_seconds', label: 'Message latency' },
      { id: 'ping_duration_p95_seconds', label: 'Heartbeat RTT' },
      { id: 'process_duration_p95_seconds', label: 'Handler time' },
    ],
  },
];
