/** Historical trends of every server metric the API serves, over the selected range. */
import { h } from '../dom.ts';
import { load } from '../panel-state.ts';
import type { TabView } from '../shell.ts';
import { SERVER_CHARTS, chartOf, hasPoints, historical, pointNote } from './historical.ts';

export const trendsTab: TabView = {
  id: 'trends',
  label: 'Trends',
  load(panel, range, signal) {
    const charts = h('div', { class: 'chart-grid', id: 'trends-charts' });
    panel.replaceChildren(charts);
    void load(
      charts,
      () => historical(range, signal),
      (data) => [pointNote(data, 'each rate and percentile', 'Active connections are the value at each point.'), ...SERVER_CHARTS.map((spec) => chartOf(data, spec))],
      { what: 'historical metrics', signal, empty: (data) => (hasPoints(data) ? null : { message: 'No server metrics in this range.' }) },
    );
  },
};
