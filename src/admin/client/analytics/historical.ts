/** Server metrics over the selected range (GET /api/ws/metrics/historical), fetched once per range and shared by the tabs. */
import type { HistoricalMetrics } from '../api-types.ts';
import { type LineSeries, timeChart } from '../charts.ts';
import { type TimeRange, rangeQuery } from '../date-range.ts';
import { byUnit } from '../format.ts';
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

export const hasPoints = (data: { series: HistoricalMetrics['series'] }): boolean => data.series.some((s) => s.points.length > 0);
