/**
 * Geography: per country (regions on demand) clients, latency and
 * connection success with its 95% Wilson interval (clustered by report), as a table and a ranked
 * bar chart whose ranking the user picks.
 */
import type { GeoCountry, Geography } from '../api-types.ts';
import { rangeQuery } from '../date-range.ts';
import { h, replace } from '../dom.ts';
import { countryName, int, interval, ms, percent } from '../format.ts';
import { get } from '../http.ts';
import { load } from '../panel-state.ts';
import type { TabView } from '../shell.ts';

type Row = Geography['countries'][number] | Geography['countries'][number]['regions'][number];

const RANKINGS = [
  { key: 'clients', label: 'Clients', value: (r: Row) => r.clients, fmt: (v: number) => int(v), descending: true },
  { key: 'latency_p95', label: 'Latency p95 (worst first)', value: (r: Row) => r.latency_ms.p95, fmt: (v: number) => ms(v), descending: true },
  { key: 'success_rate', label: 'Connection success (worst first)', value: (r: Row) => r.connection.success_rate, fmt: (v: number) => percent(v), descending: false },
] as const;

function successCell(r: Row): HTMLElement {
  const ci = r.connection.success_rate_ci;
  return h('td', { 'data-col': 'success' }, percent(r.connection.success_rate), ci ? h('span', { class: 'ci' }, ` (${interval(ci.lower, ci.upper, (v) => percent(v))})`) : null);
}

function cells(r: Row): HTMLElement[] {
  return [
    h('td', { 'data-col': 'clients' }, int(r.clients)),
    h('td', { 'data-col': 'reports' }, int(r.reports)),
    h('td', { 'data-col': 'latency_avg' }, ms(r.latency_ms.avg)),
    h('td', { 'data-col': 'latency_p50' }, ms(r.latency_ms.p50)),
    h('td', { 'data-col': 'latency_p95' }, ms(r.latency_ms.p95)),
    successCell(r),
  ];
}

function table(countries: GeoCountry[]): HTMLElement {
  const body = h('tbody');
  for (const country of countries) {
    const regionRows = country.regions
      .filter((r) => r.region !== null)
      .map((r) => h('tr', { class: 'region-row', hidden: true, 'data-region': `${country.country}/${r.region}` }, h('th', { scope: 'row', class: 'indent' }, r.region ?? ''), cells(r)));
    const toggle =
      regionRows.length > 0
        ? h(
            'button',
            {
              type: 'button',
              class: 'disclosure',
              'aria-expanded': 'false',
              'aria-label': `Regions of ${countryName(country.country)}`,
              onclick: (event: Event) => {
                const button = event.currentTarget as HTMLButtonElement;
                const open = button.getAttribute('aria-expanded') !== 'true';
                button.setAttribute('aria-expanded', String(open));
                regionRows.forEach((row) => (row.hidden = !open));
              },
            },
            '▸',
          )
        : null;
    body.append(
      h('tr', { 'data-country': country.country }, h('th', { scope: 'row' }, toggle, ` ${countryName(country.country)} `, h('span', { class: 'muted code' }, country.country)), cells(country)),
      ...regionRows,
    );
  }
  return h(
    'table',
    { class: 'data-table geo', id: 'geo-table' },
    h('caption', { class: 'visually-hidden' }, 'Clients, latency and connection success by country'),
    h(
      'thead',
      null,
      h('tr', null, ['Country', 'Clients', 'Reports', 'Latency mean', 'p50', 'p95', 'Connection success (95% CI)'].map((c) => h('th', { scope: 'col' }, c))),
    ),
    body,
  );
}

/** Horizontal bars, ranked; success rates carry their interval as a whisker. */
function rankedBars(countries: GeoCountry[], rankingKey: string): HTMLElement {
  const ranking = RANKINGS.find((r) => r.key === rankingKey) ?? RANKINGS[0];
  const rows = countries
    .map((c) => ({ c, v: ranking.value(c) }))
    .filter((x): x is { c: GeoCountry; v: number } => x.v !== null)
    .sort((a, b) => (ranking.descending ? b.v - a.v : a.v - b.v))
    .slice(0, 15);
  const max = ranking.key === 'success_rate' ? 1 : Math.max(...rows.map((r) => r.v), 0) || 1;
  return h(
    'ol',
    { class: 'bars', id: 'geo-bars', 'aria-label': `Countries ranked by ${ranking.label.toLowerCase()}` },
    rows.map(({ c, v }) => {
      const ci = ranking.key === 'success_rate' ? c.connection.success_rate_ci : null;
      return h(
        'li',
        { 'data-country': c.country },
        h('span', { class: 'bar-label' }, countryName(c.country)),
        h(
          'span',
          { class: 'bar-track' },
          h('span', { class: 'bar', style: `width:${((v / max) * 100).toFixed(2)}%` }),
          ci ? h('span', { class: 'whisker', style: `left:${(ci.lower * 100).toFixed(2)}%;width:${((ci.upper - ci.lower) * 100).toFixed(2)}%`, title: `95% CI ${percent(ci.lower)} – ${percent(ci.upper)}` }) : null,
        ),
        h('span', { class: 'bar-value' }, ranking.fmt(v)),
      );
    }),
  );
}

function geographyView(data: Geography): HTMLElement[] {
  const chartArea = h('div', { class: 'bars-area' });
  const select = h('select', { id: 'geo-rank', 'aria-label': 'Rank countries by' }, RANKINGS.map((r) => h('option', { value: r.key }, r.label)));
  select.addEventListener('change', () => replace(chartArea, rankedBars(data.countries, select.value)));
  replace(chartArea, rankedBars(data.countries, 'clients'));
  return [
    h(
      'section',
      { class: 'block' },
      h('div', { class: 'block-head' }, h('h2', null, 'Ranking'), h('label', { for: 'geo-rank', class: 'inline-label' }, 'Rank by ', select)),
      chartArea,
    ),
    h(
      'section',
      { class: 'block' },
      h('h2', null, 'By country'),
      h('p', { class: 'muted' }, `Countries with fewer than ${data.min_clients} clients are folded into “Other”. Latency is the browser-measured WebSocket round trip.`),
      table(data.countries),
    ),
  ];
}

export const geographicTab: TabView = {
  id: 'geographic',
  label: 'Geographic',
  load(panel, range, signal) {
    void load(panel, () => get<Geography>('/api/ws/client-metrics/geographic', rangeQuery(range), signal), geographyView, {
      what: 'geography',
      signal,
      empty: (d) => (d.countries.length === 0 ? { message: 'No client reports in this range.' } : null),
    });
  },
};
