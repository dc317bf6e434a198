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
}

export const errorRatio = (v: LiveSnapshot['values']): string => {
  const errors = v.message_errors_per_second;
  const received = v.messages_received_per_second;
  return errors !== null && errors !== undefined && received ? percent(errors / received, 2) : percent(errors === 0 ? 0 : null);
};

/** Drops the listeners once the element has been in the page and left it (a re-render replaced it). */
export function followWhileShown(el: HTMLElement, ...offs: Array<() => void>): void {
  let seen = false;
  const timer = window.setInterval(() => {
    if (el.isConnected) seen = true;
    else if (seen) {
      window.clearInterval(timer);
      offs.forEach((off) => off());
    }
  }, 5_000);
}

function stat(spec: LiveCardSpec, snapshot: LiveSnapshot | null): Stat {
  const values = snapshot?.values ?? {};
  return { id: spec.id, label: spec.label, value: spec.compute ? spec.compute(values) : byUnit(spec.unit, values[spec.id]) };
}

/** A grid of cards kept current by the live stream. */
export function liveCards(live: LiveClient, specs: LiveCardSpec[], label: string): HTMLElement {
  const grid = h('div', { class: 'stat-grid live', role: 'group', 'aria-label': label });
  const paint = (snapshot: LiveSnapshot | null): void => replace(grid, specs.map((s) => statCard(stat(s, snapshot))));
  paint(live.last);
  followWhileShown(grid, live.onSnapshot(paint));
  return grid;
}

/** "Live · updated 10:42:13", "Reconnecting…", or why there is no live data. */
export function liveStatus(live: LiveClient): HTMLElement {
  const el = h('p', { class: 'live-status', role: 'status', 'data-live': 'connecting' }, 'Connecting to the live stream…');
  const show = (state: string, text: string): void => {
    el.dataset.live = state;
    replace(el, h('span', { class: 'live-dot', 'aria-hidden': 'true' }), text);
  };
  const onSnapshot = (snapshot: LiveSnapshot): void => {
    if (snapshot.error) show('error', `No live data: ${snapshot.error.message}`);
    else show('live', `Live · updated ${when(snapshot.at)}`);
  };
  if (live.last) onSnapshot(live.last);
  followWhileShown(
    el,
    live.onStatus((status: LiveStatus) => {
      if (status.state === 'connecting' && !live.last) show('connecting', 'Connecting to the live stream…');
      if (status.state === 'retrying') show('retrying', `Live stream interrupted (${status.reason}); retrying in ${Math.round(status.inMs / 1000)} s`);
    }),
    live.onSnapshot(onSnapshot),
  );
  return el;
}
