/** Summary of client reports in the range: connection health, messages, latency, web vitals, UX. */
import type { Summary } from '../api-types.ts';
import { rangeQuery } from '../date-range.ts';
import { NO_DATA, elapsed, int, interval, ms, num, percent, share } from '../format.ts';
import { get } from '../http.ts';
import { load } from '../panel-state.ts';
import type { TabView } from '../shell.ts';
import { section, statGrid } from '../stat-cards.ts';

/** Success below 95% is worth a look; below 90% is bad. */
const successTone = (rate: number | null): 'good' | 'warn' | 'bad' | undefined => (rate === null ? undefined : rate >= 0.95 ? 'good' : rate >= 0.9 ? 'warn' : 'bad');

export function summaryView(s: Summary): HTMLElement[] {
  const c = s.connection;
  return [
    section(
      'Clients',
      statGrid([
        { id: 'reports', label: 'Reports', value: int(s.reports) },
        { id: 'clients', label: 'Clients (sessions)', value: int(s.clients) },
        { id: 'countries', label: 'Countries', value: int(s.countries) },
        { id: 'ux_interactions', label: 'Interactions', value: int(s.ux.interactions) },
        { id: 'ux_errors', label: 'Page errors', value: int(s.ux.errors) },
      ]),
    ),
    section(
      'Connection stability',
      statGrid([
        {
          id: 'success_rate',
          label: 'Connection success',
          value: percent(c.success_rate),
          detail: c.success_rate_ci ? `95% CI ${interval(c.success_rate_ci.lower, c.success_rate_ci.upper, (v) => percent(v))}` : undefined,
          tone: successTone(c.success_rate),
        },
        { id: 'attempts', label: 'Attempts', value: int(c.attempts), detail: `${int(c.opens)} opened` },
        { id: 'drops', label: 'Drops', value: int(c.drops), detail: c.drops_per_hour === null ? undefined : `${num(c.drops_per_hour)} per connected hour` },
        { id: 'reconnects', label: 'Reconnects', value: `${int(c.reconnect_successes)} / ${int(c.reconnect_attempts)}`, detail: 'succeeded / attempted' },
        {
          id: 'outage',
          label: 'Time without connection',
          // A share of the time the clients wanted a connection; the sums themselves run to days.
          value: c.connected_ms + c.outage_ms > 0 ? share(c.outage_ms / (c.connected_ms + c.outage_ms)) : NO_DATA,
          detail: `${elapsed(c.outage_ms)} of ${elapsed(c.connected_ms + c.outage_ms)}`,
        },
      ]),
    ),
    section(
      'Messages and latency',
      statGrid([
        { id: 'messages_sent', label: 'Sent', value: int(s.messages.sent) },
        { id: 'messages_received', label: 'Received', value: int(s.messages.received) },
        { id: 'messages_queued', label: 'Queued while offline', value: int(s.messages.queued), detail: `${int(s.messages.dropped)} dropped` },
        { id: 'message_error_rate', label: 'Errors per message', value: percent(s.messages.error_rate, 2), detail: `${int(s.messages.errors)} WebSocket errors` },
        { id: 'latency_avg', label: 'Latency mean', value: ms(s.latency_ms.avg), detail: `${int(s.latency_ms.samples)} samples` },
        { id: 'latency_p50', label: 'Latency p50', value: ms(s.latency_ms.p50) },
        { id: 'latency_p95', label: 'Latency p95', value: ms(s.latency_ms.p95) },
        { id: 'latency_max', label: 'Latency max', value: ms(s.latency_ms.max) },
      ]),
    ),
    section(
      'Page experience (75th percentile)',
      statGrid([
        { id: 'lcp', label: 'Largest Contentful Paint', value: ms(s.vitals_p75.lcp_ms) },
        { id: 'inp', label: 'Interaction to Next Paint', value: ms(s.vitals_p75.inp_ms) },
        { id: 'cls', label: 'Cumulative Layout Shift', value: num(s.vitals_p75.cls, 3) },
        { id: 'fcp', label: 'First Contentful Paint', value: ms(s.vitals_p75.fcp_ms) },
        { id: 'ttfb', label: 'Time to First Byte', value: ms(s.vitals_p75.ttfb_ms) },
        { id: 'page_load', label: 'Page load', value: ms(s.vitals_p75.page_load_ms) },
      ]),
    ),
  ];
}

export const summaryTab: TabView = {
  id: 'summary',
  label: 'Summary',
  load(panel, range, signal) {
    void load(panel, () => get<Summary>('/api/ws/client-metrics/summary', rangeQuery(range), signal), summaryView, {
      what: 'the client summary',
      signal,
      empty: (s) => (s.reports === 0 ? { message: 'No client reports in this range.', hint: 'Reports arrive from the web SDK (POST /api/ws/client-metrics); widen the range or check the SDK’s reportUrl.' } : null),
    });
  },
};
