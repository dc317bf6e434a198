/**
 * Anomalies the scheduled detector stored in the range: severity, stream,
 * value against the expected value and band, deviation (robust z), and the
 * series around the selected one with the band drawn in.
 */
import type { Anomalies, Anomaly, AnomalyContext } from '../api-types.ts';
import { timeChart } from '../charts.ts';
import { rangeQuery } from '../date-range.ts';
import { h } from '../dom.ts';
import { deviation, duration, int, num, when } from '../format.ts';
import { dashboardUrl } from '../grafana-links.ts';
import { get, latestSignal } from '../http.ts';
import { load } from '../panel-state.ts';
import type { TabView } from '../shell.ts';
import { readSettings } from '../settings.ts';
import { section, statGrid } from '../stat-cards.ts';

const value = (v: number): string => num(v, Math.abs(v) < 1 ? 4 : 2);
const HOUR_MS = 3_600_000;

/** The Grafana dashboard of the anomaly's stream, an hour either side of it (the dashboards annotate stored anomalies). */
function grafanaLink(anomaly: Anomaly): HTMLElement | null {
  const settings = readSettings();
  const at = new Date(anomaly.observed_at).getTime();
  const uid = anomaly.source === 'prometheus' ? settings.dashboards.server : settings.dashboards.clients;
  const url = dashboardUrl(settings, uid, { from: new Date(at - HOUR_MS), to: new Date(at + HOUR_MS), key: 'custom', label: 'around the anomaly' });
  return url ? h('a', { id: 'anomaly-grafana', href: url, target: '_blank', rel: 'noopener' }, 'Open in Grafana ↗') : null;
}

function contextView(anomaly: Anomaly, context: AnomalyContext): HTMLElement {
  const link = grafanaLink(anomaly);
  return h(
    'div',
    { class: 'anomaly-context', 'data-anomaly': anomaly.id },
    h('p', { class: 'muted' }, context.description ?? anomaly.stream, ` · one point per ${duration(context.step_s * 1000)}`, link ? ' · ' : null, link),
    context.note ? h('p', { class: 'notice' }, context.note) : null,
    timeChart(`${anomaly.stream} around ${when(anomaly.observed_at)}`, [{ label: anomaly.stream, points: context.points }], (v) => (v === null || v === undefined ? '–' : value(v)), {
      height: 240,
      marker: { at: new Date(anomaly.observed_at), value: anomaly.value, expected: anomaly.expected, lower: anomaly.lower, upper: anomaly.upper },
    }),
  );
}

function anomaliesView(data: Anomalies, signal: AbortSignal): HTMLElement[] {
  const detail = h('div', { id: 'anomaly-detail', class: 'chart-host' });
  const rows = new Map<number, HTMLTableRowElement>();
  // Only the last "Show series" may draw: an earlier, slower answer would put its chart under another row.
  const nextSignal = latestSignal(signal);
  const show = (anomaly: Anomaly): void => {
    for (const [id, row] of rows) row.setAttribute('aria-selected', String(id === anomaly.id));
    const shown = nextSignal();
    void load(detail, () => get<AnomalyContext>(`/admin/api/anomalies/${anomaly.id}/context`, undefined, shown), (context) => contextView(anomaly, context), {
      what: 'the series around this anomaly',
      signal: shown,
    });
  };
  const body = h('tbody');
  for (const a of data.anomalies) {
    const row = h(
      'tr',
      { 'data-anomaly': a.id, 'aria-selected': 'false' },
      h('td', null, h('span', { class: `badge severity-${a.severity}` }, a.severity)),
      h('td', null, when(a.observed_at)),
      h('td', null, h('code', null, a.stream), h('div', { class: 'muted small' }, a.source === 'prometheus' ? 'server metric' : 'client reports')),
      h('td', { 'data-col': 'value' }, value(a.value)),
      h('td', { 'data-col': 'expected' }, value(a.expected)),
      h('td', { 'data-col': 'band' }, `${value(a.lower)} – ${value(a.upper)}`),
      h('td', { 'data-col': 'deviation', title: `robust z = ${a.deviation}` }, deviation(a.deviation)),
      h('td', { 'data-col': 'score' }, num(a.score, 2)),
      h('td', null, h('button', { type: 'button', class: 'button small', onclick: () => show(a) }, 'Show series')),
    );
    rows.set(a.id, row);
    body.append(row);
  }
  const last = data.detection.last_run as { last_started_at?: string | null; last_error?: string | null } | null;
  const first = data.anomalies[0];
  if (first) queueMicrotask(() => show(first));
  return [
    section(
      'In this range',
      statGrid([
        { id: 'total', label: 'Anomalies', value: int(data.total) },
        { id: 'high', label: 'High', value: int(data.by_severity.high), tone: data.by_severity.high > 0 ? 'bad' : undefined },
        { id: 'medium', label: 'Medium', value: int(data.by_severity.medium), tone: data.by_severity.medium > 0 ? 'warn' : undefined },
        { id: 'low', label: 'Low', value: int(data.by_severity.low) },
      ]),
      h(
        'p',
        { class: 'muted' },
        data.detection.interval_s > 0 ? `Detection runs every ${duration(data.detection.interval_s * 1000)}` : 'Scheduled detection is off (ANOMALY_INTERVAL_SECONDS=0)',
        last?.last_started_at ? ` (last ${when(last.last_started_at)}${last.last_error ? `, failed: ${last.last_error}` : ''})` : '',
        data.detection.prometheus_configured ? '' : '; server metric streams need Prometheus (PROMETHEUS_URL)',
        '. Deviation is a robust z-score: distance from the expected value in robust standard deviations. A value inside its band is the latest of a run of samples off the same way.',
      ),
    ),
    h(
      'section',
      { class: 'block' },
      h('h2', null, 'Anomalies'),
      data.truncated ? h('p', { class: 'muted', id: 'anomalies-truncated' }, `The ${int(data.anomalies.length)} most recent of ${int(data.total)}; narrow the range to see the others.`) : null,
      h(
        'table',
        { class: 'data-table anomalies', id: 'anomalies-table' },
        h('caption', { class: 'visually-hidden' }, 'Anomalies, newest first'),
        h('thead', null, h('tr', null, ['Severity', 'Observed', 'Metric', 'Value', 'Expected', 'Expected band', 'Deviation', 'Score', ''].map((c) => h('th', { scope: 'col' }, c)))),
        body,
      ),
    ),
    section('Series around the selected anomaly', detail),
  ];
}

export const anomaliesTab: TabView = {
  id: 'anomalies',
  label: 'Anomalies',
  load(panel, range, signal) {
    void load(panel, () => get<Anomalies>('/api/ws/client-metrics/anomalies', rangeQuery(range), signal), (data) => anomaliesView(data, signal), {
      what: 'anomalies',
      signal,
      empty: (d) => (d.total === 0 ? { message: 'No anomalies in this range.', hint: d.detection.interval_s > 0 ? `The detector runs every ${duration(d.detection.interval_s * 1000)} over the server metrics and client reports.` : 'Scheduled detection is off (ANOMALY_INTERVAL_SECONDS=0).' } : null),
    });
  },
};
