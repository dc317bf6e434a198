/** Overview: live connection statistics and message/error rates, with the selected range's connections and traffic. */
import { h } from '../dom.ts';
import type { LiveClient } from '../live-client.ts';
import { load } from '../panel-state.ts';
import { section } from '../stat-cards.ts';
import type { TabView } from '../shell.ts';
import { SERVER_CHARTS, chartOf, hasPoints, historical } from './historical.ts';
import { type LiveCardSpec, liveCards, liveStatus, ratioCard } from './live-view.ts';

export const CONNECTION_CARDS: LiveCardSpec[] = [
  { id: 'active_connections', label: 'Active connections', unit: '{connection}' },
  { id: 'connections_opened_per_second', label: 'Opened', unit: '{connection}/s' },
  { id: 'connections_closed_per_second', label: 'Closed', unit: '{connection}/s' },
  { id: 'connections_rejected_per_second', label: 'Rejected upgrades', unit: '{connection}/s' },
];

export const MESSAGE_CARDS: LiveCardSpec[] = [
  { id: 'messages_received_per_second', label: 'Messages received', unit: '{message}/s' },
  { id: 'messages_sent_per_second', label: 'Messages sent', unit: '{message}/s' },
  { id: 'message_errors_per_second', label: 'Message errors', unit: '{error}/s', detail: 'send failures included' },
  { id: 'message_error_ratio', label: 'Error ratio', unit: '1', compute: ratioCard('message_error_ratio'), detail: 'of messages received' },
  { id: 'send_failure_ratio', label: 'Send failure ratio', unit: '1', compute: ratioCard('send_failure_ratio'), detail: 'of sends attempted' },
  { id: 'bytes_received_per_second', label: 'Bytes in', unit: 'By/s' },
  { id: 'bytes_sent_per_second', label: 'Bytes out', unit: 'By/s' },
];

/** The range charts under the live figures. */
const OVERVIEW_CHARTS = ['Active connections', 'Message rates', 'Errors and heartbeat timeouts'];
const RANGE_CHARTS = SERVER_CHARTS.filter((c) => OVERVIEW_CHARTS.includes(c.title));

export function overviewTab(live: LiveClient): TabView {
  return {
    id: 'overview',
    label: 'Overview',
    load(panel, range, signal) {
      const charts = h('div', { class: 'chart-grid', id: 'overview-range' });
      panel.replaceChildren(
        h('div', { class: 'live-head' }, h('h2', null, 'Right now'), liveStatus(live, signal)),
        section('Connections', liveCards(live, CONNECTION_CARDS, 'Live connection statistics', signal)),
        section('Messages and errors', liveCards(live, MESSAGE_CARDS, 'Live message and error rates', signal)),
        section(`Over the selected range`, charts),
      );
      void load(
        charts,
        () => historical(range, signal),
        (data) => RANGE_CHARTS.map((spec) => chartOf(data, spec)),
        { what: 'server metrics', signal, empty: (data) => (hasPoints(data) ? null : { message: 'No server metrics in this range.', hint: 'Is the server SDK exporting to the collector, and Prometheus scraping it?' }) },
      );
    },
  };
}
