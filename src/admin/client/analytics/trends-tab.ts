/** Historical trends of every server metric the API serves, over the selected range. */
import { h } from '../dom.ts';
import { load } from '../panel-state.ts';
import type { TabView } from '../shell.ts';
import { type ChartSpec, chartOf, hasPoints, historical } from './historical.ts';

const TREND_CHARTS: ChartSpec[] = [
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

export const trendsTab: TabView = {
  id: 'trends',
  label: 'Trends',
  load(panel, range, signal) {
    const charts = h('div', { class: 'chart-grid', id: 'trends-charts' });
    panel.replaceChildren(charts);
    void load(
      charts,
      () => historical(range, signal),
      (data) => [h('p', { class: 'muted chart-grid-note' }, `One point every ${data.step_s} s.`), ...TREND_CHARTS.map((spec) => chartOf(data, spec))],
      { what: 'historical metrics', signal, empty: (data) => (hasPoints(data) ? null : { message: 'No server metrics in this range.' }) },
    );
  },
};
