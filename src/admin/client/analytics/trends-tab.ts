/** Historical trends of every server metric the API serves, over the selected range. */
import { h } from '../dom.ts';
import { load } from '../panel-state.ts';
import type { TabView } from '../shell.ts';
import { SERVER_CHARTS, chartOf, hasPoints, historical } from './historical.ts';


export const trendsTab: TabView = {
  id: 'trends',
  label: 'Trends',
  load(panel, range, signal) {
    const charts = h('div', { class: 'chart-grid', id: 'trends-charts' });
    panel.replaceChildren(charts);
    void load(
      charts,
      () => historical(range, signal),
      (data) => [h('p', { class: 'muted chart-grid-note' }, `One point every ${data.step_s} s.`), ...SERVER_CHARTS.map((spec) => chartOf(data, spec))],
      { what: 'historical metrics', signal, empty: (data) => (hasPoints(data) ? null : { message: 'No server metrics in this range.' }) },
    );
  },
};
