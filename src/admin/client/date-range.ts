/**
 * The date-range picker every tab follows: presets relative to now, or a
 * custom from/to. The choice lives in the URL (?range=6h or ?from=&to=), so a
 * link or a reload shows the same period.
 */
import { h } from './dom.ts';
import { shortWhen } from './format.ts';

export interface TimeRange {
  from: Date;
  to: Date;
  /** The preset key, or 'custom'. */
  key: string;
  label: string;
}

export const PRESETS: ReadonlyArray<{ key: string; label: string; ms: number }> = [
  { key: '15m', label: 'Last 15 minutes', ms: 15 * 60_000 },
  { key: '1h', label: 'Last hour', ms: 3_600_000 },
  { key: '6h', label: 'Last 6 hours', ms: 6 * 3_600_000 },
  { key: '24h', label: 'Last 24 hours', ms: 86_400_000 },
  { key: '7d', label: 'Last 7 days', ms: 7 * 86_400_000 },
  { key: '30d', label: 'Last 30 days', ms: 30 * 86_400_000 },
];
const DEFAULT_PRESET = '24h';

export function rangeQuery(range: TimeRange): { from: string; to: string } {
  return { from: range.from.toISOString(), to: range.to.toISOString() };
}

function presetRange(key: string, now = new Date()): TimeRange | undefined {
  const preset = PRESETS.find((p) => p.key === key);
  return preset ? { from: new Date(now.getTime() - preset.ms), to: now, key: preset.key, label: preset.label } : undefined;
}

function customRange(from: Date, to: Date): TimeRange {
  return { from, to, key: 'custom', label: `${shortWhen(from)} – ${shortWhen(to)}` };
}

/** The range in the page's URL, or the default. */
export function rangeFromUrl(url = new URL(location.href)): TimeRange {
  const from = url.searchParams.get('from');
  const to = url.searchParams.get('to');
  if (from && to) {
    const f = new Date(from);
    const t = new Date(to);
    if (!Number.isNaN(f.getTime()) && !Number.isNaN(t.getTime()) && f < t) return customRange(f, t);
  }
  return presetRange(url.searchParams.get('range') ?? DEFAULT_PRESET) ?? (presetRange(DEFAULT_PRESET) as TimeRange);
}

function writeUrl(range: TimeRange): void {
  const url = new URL(location.href);
  url.searchParams.delete('range');
  url.searchParams.delete('from');
  url.searchParams.delete('to');
  if (range.key === 'custom') {
    url.searchParams.set('from', range.from.toISOString());
    url.searchParams.set('to', range.to.toISOString());
  } else {
    url.searchParams.set('range', range.key);
  }
  history.replaceState(null, '', url);
}

/** `datetime-local` wants local time without a zone. */
function toLocalInput(date: Date): string {
  const local = new Date(date.getTime() - date.getTimezoneOffset() * 60_000);
  return local.toISOString().slice(0, 16);
}

export interface DateRangePicker {
  element: HTMLElement;
  current(): TimeRange;
}

/** Calls onChange with the new range when the user picks one (and on Refresh, with "now" moved on). */
export function createDateRangePicker(initial: TimeRange, onChange: (range: TimeRange) => void): DateRangePicker {
  let range = initial;
  const select = h(
    'select',
    { id: 'range-preset', 'aria-label': 'Time range' },
    PRESETS.map((p) => h('option', { value: p.key, selected: p.key === initial.key }, p.label)),
    h('option', { value: 'custom', selected: initial.key === 'custom' }, 'Custom range…'),
  );
  const fromInput = h('input', { type: 'datetime-local', id: 'range-from', value: toLocalInput(initial.from) });
  const toInput = h('input', { type: 'datetime-local', id: 'range-to', value: toLocalInput(initial.to) });
  const error = h('span', { class: 'range-error', role: 'alert' });
  const custom = h(
    'form',
    { class: 'range-custom', hidden: initial.key !== 'custom', 'aria-label': 'Custom time range' },
    h('label', { for: 'range-from' }, 'From'),
    fromInput,
    h('label', { for: 'range-to' }, 'To'),
    toInput,
    h('button', { type: 'submit', class: 'button' }, 'Apply'),
    error,
  );
  const set = (next: TimeRange): void => {
    range = next;
    writeUrl(next);
    onChange(next);
  };
  select.addEventListener('change', () => {
    if (select.value === 'custom') {
      custom.hidden = false;
      fromInput.value = toLocalInput(range.from);
      toInput.value = toLocalInput(range.to);
      fromInput.focus();
      return;
    }
    custom.hidden = true;
    const next = presetRange(select.value);
    if (next) set(next);
  });
  custom.addEventListener('submit', (event) => {
    event.preventDefault();
    const from = new Date(fromInput.value);
    const to = new Date(toInput.value);
    if (Number.isNaN(from.getTime()) || Number.isNaN(to.getTime())) {
      error.textContent = 'Enter both dates.';
      return;
    }
    if (from >= to) {
      error.textContent = '“From” must be before “To”.';
      return;
    }
    error.textContent = '';
    set(customRange(from, to));
  });
  const refresh = h(
    'button',
    {
      type: 'button',
      class: 'button',
      title: 'Reload the data (a preset moves on to now)',
      // A new object either way: a refresh is a new load, never "the range already shown".
      onclick: () => set(range.key === 'custom' ? { ...range } : (presetRange(range.key) ?? { ...range })),
    },
    'Refresh',
  );
  const element = h('div', { class: 'range-picker' }, select, custom, refresh);
  return { element, current: () => range };
}
