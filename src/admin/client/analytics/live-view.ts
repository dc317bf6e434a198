/** Live figures on the analytics page: cards that follow the live stream, and its status line. */
import { h, replace } from '../dom.ts';
import { byUnit, percent, when } from '../format.ts';
import type { LiveClient, LiveSnapshot, LiveStatus } from '../live-client.ts';
import { type Stat, statCard } from '../stat-cards.ts';

export interface LiveCardSpec {
  id: string;
  label: string;
  unit: string;
  /** Derived figures compute from the snapshot; plain ones read values[id]. */
  compute?: (values: LiveSnapshot['values']) => string;
  /** A line under the value: what it is a share of. */
  detail?: string;
}

/**
 * A ratio the server computes (src/analytics/server-queries.ts) as a percentage: the message
 * error ratio and the send failure ratio are the alert rules' own expressions, so the card
 * reads what WebSocketMessageErrorRatioHigh and WebSocketSendFailureRatioHigh read.
 */
export const ratioCard =
  (id: string) =>
  (v: LiveSnapshot['values']): string =>
    percent(v[id] ?? null, 2);

/**
 * Removes the listeners when the render they belong to is over: the tab's
 * signal aborts when the range changes, on Refresh and on sign-out, which is
 * when the tab renders anew (a check for the element leaving the page missed
 * one replaced before it was first seen, and leaked its listeners).
 */
export function untilAborted(signal: AbortSignal, ...offs: Array<() => void>): void {
  const off = (): void => offs.forEach((f) => f());
  if (signal.aborted) off();
  else signal.addEventListener('abort', off, { once: true });
}

/** The stream is not delivering: what is shown is the last snapshot, however old. */
export const isStale = (live: LiveClient, status: LiveStatus = live.status): boolean => status.state === 'retrying' || (status.state === 'connecting' && live.last !== null);

function stat(spec: LiveCardSpec, snapshot: LiveSnapshot | null): Stat {
  const values = snapshot?.values ?? {};
  return { id: spec.id, label: spec.label, value: spec.compute ? spec.compute(values) : byUnit(spec.unit, values[spec.id]), ...(spec.detail ? { detail: spec.detail } : {}) };
}

/** A grid of cards kept current by the live stream; data-stale="true" while the stream is interrupted. */
export function liveCards(live: LiveClient, specs: LiveCardSpec[], label: string, signal: AbortSignal): HTMLElement {
  const grid = h('div', { class: 'stat-grid live', role: 'group', 'aria-label': label });
  const paint = (snapshot: LiveSnapshot | null): void => replace(grid, specs.map((s) => statCard(stat(s, snapshot))));
  const mark = (status?: LiveStatus): void => {
    grid.dataset.stale = String(isStale(live, status));
  };
  paint(live.last);
  mark();
  untilAborted(signal, live.onSnapshot(paint), live.onStatus(mark));
  return grid;
}

/**
 * "Live · updated 10:42:13", "Live stream interrupted…", or why there is no
 * live data. The visible line changes with every snapshot; only a change of
 * state (interrupted, back, no data) is announced to screen readers, through
 * a status region of its own, not the time of each update.
 */
export function liveStatus(live: LiveClient, signal: AbortSignal): HTMLElement {
  const text = h('span', null, 'Connecting to the live stream…');
  const announce = h('span', { class: 'visually-hidden', role: 'status', 'data-live-announce': '' });
  const el = h('p', { class: 'live-status', 'data-live': 'connecting' }, h('span', { class: 'live-dot', 'aria-hidden': 'true' }), text, announce);
  const show = (state: string, line: string, spoken: string | null): void => {
    if (el.dataset.live !== state && spoken !== null) announce.textContent = spoken;
    el.dataset.live = state;
    text.textContent = line;
  };
  const onSnapshot = (snapshot: LiveSnapshot): void => {
    if (snapshot.error) show('error', `No live data: ${snapshot.error.message}`, `No live data: ${snapshot.error.message}`);
    else show('live', `Live · updated ${when(snapshot.at)}`, el.dataset.live === 'retrying' || el.dataset.live === 'error' ? 'Live statistics are updating again.' : null);
  };
  const onStatus = (status: LiveStatus): void => {
    if (status.state === 'connecting' && !live.last) show('connecting', 'Connecting to the live stream…', null);
    if (status.state === 'retrying') {
      const from = live.last ? when(live.last.at) : null;
      show(
        'retrying',
        `Live stream interrupted (${status.reason}); retrying in ${Math.round(status.inMs / 1000)} s${from ? ` · figures from ${from}` : ''}`,
        `Live stream interrupted${from ? `; the figures shown are from ${from}` : ''}.`,
      );
    }
  };
  // The state as it is now, without announcing it: the region is new.
  if (live.last) onSnapshot(live.last);
  onStatus(live.status);
  announce.textContent = '';
  untilAborted(signal, live.onStatus(onStatus), live.onSnapshot(onSnapshot));
  return el;
}
