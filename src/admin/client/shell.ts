/**
 * The frame both pages share: token sign-in, header (page links, date
 * range, Grafana links, sign out), tabs, and the rule that a tab loads when
 * it is shown and reloads when the range changes.
 */
import { type TimeRange, createDateRangePicker, rangeFromUrl } from './date-range.ts';
import { h, replace } from './dom.ts';
import { RequestError, request, session } from './http.ts';
import { mountCharts } from './charts.ts';
import { dashboardUrl, tracesUrl } from './grafana-links.ts';
import { type PageSettings, readSettings } from './settings.ts';
import { createTabs } from './tabs.ts';

export interface TabView {
  id: string;
  label: string;
  /** Renders the tab for the range; called when it is shown and when the range changes while it is shown. */
  load(panel: HTMLElement, range: TimeRange, signal: AbortSignal): void;
}

export interface PageSpec {
  title: string;
  description: string;
  dashboardUid: (settings: PageSettings) => string;
  tabs: (settings: PageSettings) => TabView[];
  /** Called once signed in, before the first tab loads (e.g. to open the live stream). */
  onSignedIn?: () => void;
  onSignedOut?: () => void;
}

const PAGES = [
  { href: '/admin/websocket-analytics', label: 'Server analytics', page: 'websocket-analytics' },
  { href: '/admin/websocket-client-metrics', label: 'Client metrics', page: 'websocket-client-metrics' },
] as const;

function signInView(root: HTMLElement, spec: PageSpec, message: string | null, onSuccess: () => void): void {
  const input = h('input', { type: 'password', id: 'token', name: 'token', autocomplete: 'current-password', required: true, spellcheck: 'false' });
  const error = h('p', { class: 'form-error', role: 'alert', id: 'sign-in-error' }, message ?? '');
  const submit = h('button', { type: 'submit', class: 'button primary' }, 'Sign in');
  const form = h(
    'form',
    { class: 'sign-in card', 'aria-labelledby': 'sign-in-title' },
    h('p', { class: 'brand' }, 'socketscope'),
    h('h1', { id: 'sign-in-title' }, spec.title),
    h('p', { class: 'muted' }, 'Sign in with the admin token (SOCKETSCOPE_ADMIN_TOKEN). It is kept for this browser tab only.'),
    h('label', { for: 'token' }, 'Admin token'),
    input,
    error,
    submit,
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const token = input.value.trim();
    if (!token) return;
    submit.disabled = true;
    error.textContent = '';
    request<{ ok: boolean }>('GET', '/admin/api/session', { token })
      .then(() => {
        session.set(token);
        onSuccess();
      })
      .catch((failure: unknown) => {
        error.textContent = failure instanceof RequestError && failure.status === 401 ? 'That token was not accepted.' : `Could not sign in: ${(failure as Error).message}`;
        submit.disabled = false;
        input.select();
      });
  });
  replace(root, h('main', { class: 'sign-in-page' }, form));
  input.focus();
}

function appView(root: HTMLElement, spec: PageSpec, settings: PageSettings): void {
  const tabViews = spec.tabs(settings);
  let range = rangeFromUrl();
  const loadedFor = new Map<string, TimeRange>();
  let controller = new AbortController();

  const rangeLabel = h('p', { class: 'range-label', id: 'range-label' });
  const grafana = h('span', { class: 'grafana-links' });
  const paintRange = (): void => {
    rangeLabel.textContent = `${range.label} · ${range.from.toLocaleString('en-GB')} – ${range.to.toLocaleString('en-GB')}`;
    const dash = dashboardUrl(settings, spec.dashboardUid(settings), range);
    const traces = tracesUrl(settings, range);
    replace(
      grafana,
      dash ? h('a', { href: dash, target: '_blank', rel: 'noopener', class: 'button link', id: 'grafana-dashboard' }, 'Grafana dashboard ↗') : null,
      traces ? h('a', { href: traces, target: '_blank', rel: 'noopener', class: 'button link', id: 'grafana-traces' }, 'Traces ↗') : null,
    );
  };

  const loadTab = (id: string): void => {
    const view = tabViews.find((t) => t.id === id);
    const panel = tabs.panels.get(id);
    if (!view || !panel) return;
    if (loadedFor.get(id) === range) {
      mountCharts(panel);
      return;
    }
    loadedFor.set(id, range);
    view.load(panel, range, controller.signal);
  };
  const tabs = createTabs(tabViews, loadTab);
  const picker = createDateRangePicker(range, (next) => {
    controller.abort();
    controller = new AbortController();
    // Every tab's requests were just cancelled: each reloads (with the live signal) when shown,
    // also when the range is the same one (Refresh of a custom range).
    loadedFor.clear();
    range = next;
    paintRange();
    loadTab(tabs.selected());
  });

  const signOut = h(
    'button',
    {
      type: 'button',
      class: 'button',
      id: 'sign-out',
      onclick: () => {
        session.clear();
        controller.abort();
        spec.onSignedOut?.();
        start(root, spec, settings, 'Signed out.');
      },
    },
    'Sign out',
  );
  const header = h(
    'header',
    { class: 'topbar' },
    h('a', { class: 'brand', href: '/admin/websocket-analytics' }, 'socketscope'),
    h(
      'nav',
      { 'aria-label': 'Admin pages', class: 'page-nav' },
      PAGES.map((p) => h('a', { href: p.href, 'aria-current': p.page === settings.page ? 'page' : null }, p.label)),
    ),
    h('div', { class: 'topbar-actions' }, picker.element, grafana, signOut),
  );
  const main = h(
    'main',
    { class: 'content' },
    h('div', { class: 'page-head' }, h('div', null, h('h1', null, spec.title), h('p', { class: 'muted' }, spec.description)), rangeLabel),
    tabs.list,
    [...tabs.panels.values()],
  );
  replace(root, header, main);
  paintRange();
  spec.onSignedIn?.();
  loadTab(tabs.selected());
}

function start(root: HTMLElement, spec: PageSpec, settings: PageSettings, message: string | null = null): void {
  if (!session.token) {
    signInView(root, spec, message, () => appView(root, spec, settings));
    return;
  }
  appView(root, spec, settings);
}

export function startPage(spec: PageSpec): void {
  const root = document.getElementById('app');
  if (!root) throw new Error('the page has no #app element');
  const settings = readSettings();
  session.onUnauthorized((message) => {
    spec.onSignedOut?.();
    start(root, spec, settings, message);
  });
  start(root, spec, settings);
}
