/**
 * Charts with uPlot: time series (with an optional expected band and marked
 * point, for anomalies) and scatter plots. Each chart comes with a small
 * table of its numbers, which is also its text alternative. uPlot needs a
 * width, so a chart is drawn when its figure is in the page: mountCharts()
 * after inserting, and on window resize.
 */
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { type Child, h } from './dom.ts';
import { NO_DATA } from './format.ts';

export const PALETTE = ['#2563eb', '#d97706', '#059669', '#dc2626', '#7c3aed', '#0891b2'];

type Fmt = (v: number | null | undefined) => string;

export interface LineSeries {
  label: string;
  /** [ISO time, value] */
  points: ReadonlyArray<readonly [string, number]>;
}

export interface Marker {
  at: Date;
  value: number;
  expected: number;
  lower: number;
  upper: number;
}

const pending = new WeakMap<HTMLElement, (width: number) => uPlot>();
const mounted = new Set<{ el: HTMLElement; plot: uPlot }>();

function stats(values: number[]): { latest: number | null; min: number | null; mean: number | null; max: number | null } {
  if (values.length === 0) return { latest: null, min: null, mean: null, max: null };
  return {
    latest: values[values.length - 1] ?? null,
    min: Math.min(...values),
    mean: values.reduce((a, b) => a + b, 0) / values.length,
    max: Math.max(...values),
  };
}

function summaryTable(caption: string, rows: Array<{ label: string; cells: string[] }>, headings: string[]): HTMLElement {
  return h(
    'table',
    { class: 'chart-summary' },
    h('caption', { class: 'visually-hidden' }, caption),
    h('thead', null, h('tr', null, h('th', { scope: 'col' }, 'Series'), headings.map((c) => h('th', { scope: 'col' }, c)))),
    h(
      'tbody',
      null,
      rows.map((r) => h('tr', { 'data-series': r.label }, h('th', { scope: 'row' }, r.label), r.cells.map((c) => h('td', null, c)))),
    ),
  );
}

function figure(title: string, plotArea: HTMLElement, ...rest: Child[]): HTMLElement {
  return h('figure', { class: 'chart', 'data-chart': title }, h('figcaption', { class: 'chart-title' }, title), plotArea, ...rest);
}

/** One or more series over time on one axis; `fmt` formats values in the legend, axis and table. */
export function timeChart(title: string, series: readonly LineSeries[], fmt: Fmt, options: { height?: number; marker?: Marker; axisFmt?: Fmt } = {}): HTMLElement {
  const times = [...new Set(series.flatMap((s) => s.points.map((p) => Date.parse(p[0]) / 1000)))].sort((a, b) => a - b);
  const index = new Map(times.map((t, i) => [t, i]));
  const columns = series.map((s) => {
    const column: Array<number | null> = times.map(() => null);
    for (const [iso, v] of s.points) column[index.get(Date.parse(iso) / 1000) as number] = v;
    return column;
  });
  const marker = options.marker;
  const data: uPlot.AlignedData = [times, ...columns];
  const plotSeries: uPlot.Series[] = [
    {},
    ...series.map((s, i) => ({ label: s.label, stroke: PALETTE[i % PALETTE.length], width: 1.75, value: (_u: uPlot, v: number | null) => fmt(v), points: { show: s.points.length < 40 } })),
  ];
  if (marker) {
    // The expected value and band of the anomaly, drawn across the window for reference.
    for (const [label, value, dash] of [
      ['expected', marker.expected, [6, 4]],
      ['band low', marker.lower, [2, 3]],
      ['band high', marker.upper, [2, 3]],
    ] as const) {
      data.push(times.map(() => value));
      plotSeries.push({ label, stroke: '#64748b', width: 1, dash: [...dash], points: { show: false }, value: (_u: uPlot, v: number | null) => fmt(v) });
    }
  }
  const axisFmt = options.axisFmt ?? fmt;
  const plotArea = h('div', { class: 'chart-plot', role: 'img', 'aria-label': `${title}: chart; the numbers are in the table below` });
  pending.set(plotArea, (width) =>
    new uPlot(
      {
        width,
        height: options.height ?? 220,
        series: plotSeries,
        scales: {
          x: { time: true },
          // The marked point and its band stay in view even when the series never reaches them.
          y: marker
            ? {
                range: (_u, min, max) => {
                  const lo = Math.min(min, marker.value, marker.lower);
                  const hi = Math.max(max, marker.value, marker.upper);
                  const pad = (hi - lo) * 0.08 || 1;
                  return [lo - pad, hi + pad];
                },
              }
            : {},
        },
        axes: [{ stroke: '#475569', grid: { stroke: '#e2e8f0' } }, { stroke: '#475569', grid: { stroke: '#e2e8f0' }, size: 70, values: (_u, ticks) => ticks.map((t) => axisFmt(t)) }],
        legend: { live: true },
        cursor: { drag: { x: true, y: false } },
        hooks: marker
          ? {
              draw: [
                (u) => {
                  const x = u.valToPos(marker.at.getTime() / 1000, 'x', true);
                  const y = u.valToPos(marker.value, 'y', true);
                  const ctx = u.ctx;
                  ctx.save();
                  ctx.fillStyle = '#dc2626';
                  ctx.strokeStyle = '#ffffff';
                  ctx.lineWidth = 2 * devicePixelRatio;
                  ctx.beginPath();
                  ctx.arc(x, y, 6 * devicePixelRatio, 0, 2 * Math.PI);
                  ctx.fill();
                  ctx.stroke();
                  ctx.restore();
                },
              ],
            }
          : {},
      },
      data,
      plotArea,
    ),
  );
  const table = summaryTable(
    title,
    series.map((s) => {
      const st = stats(s.points.map((p) => p[1]));
      return { label: s.label, cells: [fmt(st.latest), fmt(st.min), fmt(st.mean), fmt(st.max)] };
    }),
    ['Latest', 'Min', 'Mean', 'Max'],
  );
  const empty = series.every((s) => s.points.length === 0) ? h('p', { class: 'chart-empty' }, 'No data in this range.') : null;
  return figure(title, plotArea, empty, table);
}

/** Points of one pair (x, y), unordered; uPlot's faceted mode. */
export function scatterChart(title: string, points: ReadonlyArray<readonly [number, number]>, axes: { x: string; y: string; fmtX: Fmt; fmtY: Fmt }, color = PALETTE[0]): HTMLElement {
  const xs = points.map((p) => p[0]);
  const ys = points.map((p) => p[1]);
  const plotArea = h('div', { class: 'chart-plot', role: 'img', 'aria-label': `${title}: scatter plot of ${points.length} sessions` });
  const drawPoints: uPlot.Series.PathBuilder = (u, seriesIdx) => {
    const [px, py] = u.data[seriesIdx] as unknown as [number[], number[]];
    const ctx = u.ctx;
    ctx.save();
    ctx.fillStyle = `${color}99`;
    ctx.strokeStyle = color ?? '#2563eb';
    ctx.lineWidth = devicePixelRatio;
    const r = 3.5 * devicePixelRatio;
    for (let i = 0; i < px.length; i++) {
      const x = u.valToPos(px[i] as number, 'x', true);
      const y = u.valToPos(py[i] as number, 'y', true);
      ctx.beginPath();
      ctx.arc(x, y, r, 0, 2 * Math.PI);
      ctx.fill();
      ctx.stroke();
    }
    ctx.restore();
    return null;
  };
  pending.set(plotArea, (width) =>
    new uPlot(
      {
        mode: 2,
        width,
        height: 240,
        legend: { show: false },
        cursor: { show: false },
        scales: { x: { time: false }, y: {} },
        axes: [
          { label: axes.x, stroke: '#475569', grid: { stroke: '#e2e8f0' }, values: (_u, ticks) => ticks.map((t) => axes.fmtX(t)) },
          { label: axes.y, stroke: '#475569', grid: { stroke: '#e2e8f0' }, size: 70, values: (_u, ticks) => ticks.map((t) => axes.fmtY(t)) },
        ],
        series: [
          {},
          {
            label: title,
            stroke: color,
            facets: [
              { scale: 'x', auto: true },
              { scale: 'y', auto: true },
            ],
            paths: drawPoints,
          },
        ],
      },
      [null, [xs, ys]] as unknown as uPlot.AlignedData,
      plotArea,
    ),
  );
  return figure(title, plotArea, points.length === 0 ? h('p', { class: 'chart-empty' }, NO_DATA) : null);
}

/** Draws every chart under `root` that is waiting for a width. */
export function mountCharts(root: HTMLElement): void {
  for (const el of root.querySelectorAll<HTMLElement>('.chart-plot')) {
    const create = pending.get(el);
    if (!create) continue;
    const width = Math.floor(el.getBoundingClientRect().width);
    if (width === 0) continue;
    pending.delete(el);
    mounted.add({ el, plot: create(width) });
  }
  // Charts removed from the page are released.
  for (const entry of mounted) {
    if (!entry.el.isConnected) {
      entry.plot.destroy();
      mounted.delete(entry);
    }
  }
}

let resizeTimer: number | undefined;
window.addEventListener('resize', () => {
  clearTimeout(resizeTimer);
  resizeTimer = window.setTimeout(() => {
    for (const { el, plot } of mounted) {
      const width = Math.floor(el.getBoundingClientRect().width);
      if (el.isConnected && width > 0) plot.setSize({ width, height: plot.height });
    }
  }, 100);
});
