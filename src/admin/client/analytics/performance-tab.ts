/** Performance: p50/p95/p99 of message latency, heartbeat round trip and handler time, live and over the range. */
import { LATENCY_FAMILIES, QUANTILES, quantileId } from '../../latency-families.ts';
import type { PerformanceSeries } from '../api-types.ts';
import { rangeQuery } from '../date-range.ts';
import { h, replace } from '../dom.ts';
import { secondsAsMs } from '../format.ts';
import { get } from '../http.ts';
import type { LiveClient, LiveSnapshot, LiveStatus } from '../live-client.ts';
import { load } from '../panel-state.ts';
import type { TabView } from '../shell.ts';
import { section } from '../stat-cards.ts';
import { chartOf, hasPoints, pointNote } from './historical.ts';
import { isStale, liveStatus, untilAborted } from './live-view.ts';

const pLabel = (q: number): string => `p${Math.round(q * 100)}`;

/** Rows: latency families; columns: quantiles; kept current by the live stream. */
function liveQuantileTable(live: LiveClient, signal: AbortSignal): HTMLElement {
  const body = h('tbody');
  const paint = (snapshot: LiveSnapshot | null): void =>
    replace(
      body,
      LATENCY_FAMILIES.map((family) =>
        h(
          'tr',
          { 'data-family': family.id },
          h('th', { scope: 'row' }, family.label),
          QUANTILES.map((q) => h('td', { 'data-metric': quantileId(family.id, q) }, secondsAsMs(snapshot?.values[quantileId(family.id, q)]))),
        ),
      ),
    );
  paint(live.last);
  const table = h(
    'table',
    { class: 'data-table quantiles', id: 'live-quantiles' },
    h('caption', { class: 'visually-hidden' }, 'Latency percentiles right now (over the last 5 minutes)'),
    h('thead', null, h('tr', null, h('th', { scope: 'col' }, 'Right now (5 min window)'), QUANTILES.map((q) => h('th', { scope: 'col' }, pLabel(q))))),
    body,
  );
  const mark = (status?: LiveStatus): void => {
    table.dataset.stale = String(isStale(live, status));
  };
  mark();
  untilAborted(signal, live.onSnapshot(paint), live.onStatus(mark));
  return table;
}

export function performanceTab(live: LiveClient): TabView {
  return {
    id: 'performance',
    label: 'Performance',
    load(panel, range, signal) {
      const charts = h('div', { class: 'chart-grid', id: 'performance-range' });
      panel.replaceChildren(
        h('div', { class: 'live-head' }, h('h2', null, 'Latency right now'), liveStatus(live, signal)),
        liveQuantileTable(live, signal),
        section('Percentiles over the selected range', charts),
      );
      void load(
        charts,
        () => get<PerformanceSeries>('/admin/api/performance', rangeQuery(range), signal),
        (data) => [
          pointNote(data, 'each percentile'),
          ...LATENCY_FAMILIES.map((family) =>
            chartOf(data, { title: family.label, unit: 's', series: QUANTILES.map((q) => ({ id: quantileId(family.id, q), label: pLabel(q) })) }),
          ),
        ],
        { what: 'latency percentiles', signal, empty: (data) => (hasPoints(data) ? null : { message: 'No latency histograms in this range.' }) },
      );
    },
  };
}
