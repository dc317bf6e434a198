/**
 * UX correlation: for each pair (WebSocket latency vs page load, LCP, INP;
 * error rate vs page errors; drops vs interactions) the per-session scatter
 * plot with Pearson and Spearman r, n, 95% CI, p-value, and a "strong" mark
 * when |r| >= 0.7.
 */
import type { UxCorrelation, UxPair, UxPoints } from '../api-types.ts';
import { PALETTE, scatterChart } from '../charts.ts';
import { rangeQuery } from '../date-range.ts';
import { h } from '../dom.ts';
import { int, ms, num, percent } from '../format.ts';
import { get } from '../http.ts';
import { load } from '../panel-state.ts';
import type { TabView } from '../shell.ts';

const AXES: Record<string, { label: string; fmt: (v: number | null | undefined) => string }> = {
  latency_ms: { label: 'WebSocket latency', fmt: ms },
  page_load_ms: { label: 'Page load', fmt: ms },
  lcp_ms: { label: 'LCP', fmt: ms },
  inp_ms: { label: 'INP', fmt: ms },
  ws_error_rate: { label: 'WebSocket errors per message', fmt: (v) => percent(v, 1) },
  ux_errors_per_window: { label: 'Page errors per report', fmt: (v) => num(v) },
  drops_per_window: { label: 'Drops per report', fmt: (v) => num(v) },
  interactions_per_window: { label: 'Interactions per report', fmt: (v) => num(v) },
};

const r3 = (v: number | null | undefined): string => (v === null || v === undefined ? '–' : v.toFixed(3));

function coefficient(name: string, side: UxPair['pearson']): HTMLElement {
  return h(
    'div',
    { class: 'coef', 'data-coef': name.toLowerCase() },
    h('dt', null, name),
    h('dd', null, side ? h('span', null, h('strong', { class: 'r' }, `r = ${r3(side.r)}`), side.ci95 ? h('span', { class: 'ci' }, ` 95% CI [${r3(side.ci95.lower)}, ${r3(side.ci95.upper)}]`) : null, h('span', { class: 'p' }, ` p ${side.p_value === null ? '–' : side.p_value < 0.001 ? '< 0.001' : `= ${side.p_value.toFixed(3)}`}`)) : '–'),
  );
}

function pairCard(pair: UxPair, points: UxPoints['pairs'][number] | undefined, minN: number, index: number): HTMLElement {
  const x = AXES[points?.x ?? ''] ?? { label: points?.x ?? 'x', fmt: (v: number | null | undefined) => num(v) };
  const y = AXES[points?.y ?? ''] ?? { label: points?.y ?? 'y', fmt: (v: number | null | undefined) => num(v) };
  const strong = pair.strength === 'strong';
  return h(
    'article',
    { class: `card ux-pair${strong ? ' strong' : ''}`, 'data-pair': pair.id, 'data-status': pair.status },
    h(
      'header',
      null,
      h('h3', null, pair.description),
      pair.status === 'insufficient_data'
        ? h('span', { class: 'badge strength-none' }, 'insufficient data')
        : h('span', { class: `badge strength-${pair.strength}` }, strong ? '★ strong' : (pair.strength ?? '')),
    ),
    h(
      'dl',
      { class: 'coefs' },
      h('div', { class: 'coef', 'data-coef': 'n' }, h('dt', null, 'n'), h('dd', null, h('strong', { class: 'n' }, int(pair.n)), pair.status === 'insufficient_data' ? ` (needs ${minN})` : ' sessions')),
      coefficient('Pearson', pair.pearson),
      coefficient('Spearman', pair.spearman),
    ),
    (points?.points.length ?? 0) > 0
      ? scatterChart(pair.description, points?.points ?? [], { x: x.label, y: y.label, fmtX: x.fmt, fmtY: y.fmt }, PALETTE[index % PALETTE.length])
      : h('p', { class: 'muted' }, 'No session in this range reports both values.'),
  );
}

export const uxTab: TabView = {
  id: 'ux',
  label: 'UX correlation',
  load(panel, range, signal) {
    void load(
      panel,
      () => Promise.all([get<UxCorrelation>('/api/ws/client-metrics/ux-correlation', rangeQuery(range), signal), get<UxPoints>('/admin/api/ux-correlation/points', rangeQuery(range), signal)]),
      ([data, points]) => [
        h(
          'p',
          { class: 'muted' },
          `One point per browser session (${int(data.sessions)} sessions${points.truncated ? `; the plots show the latest ${int(points.sessions)}` : ''}). `,
          'Strong means |r| ≥ 0.7: improving the WebSocket side should move the experience metric with it. Pairs under ',
          String(data.min_n),
          ' sessions are not scored.',
        ),
        h(
          'div',
          { class: 'ux-grid' },
          data.pairs.map((pair, i) => pairCard(pair, points.pairs.find((p) => p.id === pair.id), data.min_n, i)),
        ),
      ],
      { what: 'UX correlation', signal, empty: ([data]) => (data.sessions === 0 ? { message: 'No client sessions in this range.' } : null) },
    );
  },
};
