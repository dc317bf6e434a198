/**
 * Loading, empty, error and ready states of a panel in one place. The
 * container's data-state attribute says which (tests and styles use it).
 */
import { mountCharts } from './charts.ts';
import { type Child, h, replace } from './dom.ts';
import { RequestError, SignedOutError, isAbort } from './http.ts';

export type PanelState = 'loading' | 'ready' | 'empty' | 'error';

export function setState(target: HTMLElement, state: PanelState): void {
  target.dataset.state = state;
  target.setAttribute('aria-busy', String(state === 'loading'));
}

export function emptyState(message: string, hint?: string): HTMLElement {
  return h('div', { class: 'state state-empty' }, h('p', { class: 'state-title' }, message), hint ? h('p', { class: 'state-hint' }, hint) : null);
}

export function errorState(what: string, error: unknown, retry?: () => void): HTMLElement {
  const message = error instanceof RequestError ? `${error.message} (${error.code})` : error instanceof Error ? error.message : String(error);
  return h(
    'div',
    { class: 'state state-error', role: 'alert' },
    h('p', { class: 'state-title' }, `Could not load ${what}`),
    h('p', { class: 'state-hint' }, message),
    retry ? h('button', { type: 'button', class: 'button', onclick: retry }, 'Try again') : null,
  );
}

export interface LoadOptions<T> {
  /** What is loading, for the messages ("client summary"). */
  what: string;
  signal: AbortSignal;
  /** A message when the data is empty, else null. */
  empty?: (data: T) => { message: string; hint?: string } | null;
  retry?: () => void;
}

/** Shows a loading state, then the rendered data, an empty state or an error. */
export async function load<T>(target: HTMLElement, fetcher: () => Promise<T>, render: (data: T) => Child, options: LoadOptions<T>): Promise<T | undefined> {
  setState(target, 'loading');
  replace(target, h('div', { class: 'state state-loading', role: 'status' }, h('span', { class: 'spinner', 'aria-hidden': 'true' }), `Loading ${options.what}…`));
  try {
    const data = await fetcher();
    if (options.signal.aborted) return undefined;
    const empty = options.empty?.(data);
    if (empty) {
      replace(target, emptyState(empty.message, empty.hint));
      setState(target, 'empty');
    } else {
      replace(target, render(data));
      mountCharts(target);
      setState(target, 'ready');
    }
    return data;
  } catch (error) {
    if (options.signal.aborted || isAbort(error) || error instanceof SignedOutError) return undefined;
    replace(target, errorState(options.what, error, options.retry));
    setState(target, 'error');
    return undefined;
  }
}
