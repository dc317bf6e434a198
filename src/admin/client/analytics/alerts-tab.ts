/**
 * Alerts: what is active now (from Alertmanager) and what fired or resolved
 * in the range; an active alert can be acknowledged with a note, which
 * records who and when and silences it in Alertmanager.
 */
import type { AcknowledgeResult, Alert, Alerts } from '../api-types.ts';
import { rangeQuery } from '../date-range.ts';
import { h, replace } from '../dom.ts';
import { when } from '../format.ts';
import { RequestError, SignedOutError, get, latestSignal, post } from '../http.ts';
import { load } from '../panel-state.ts';
import type { TabView } from '../shell.ts';

const NAME_KEY = 'socketscope.ack-name';
const SILENCE_OPTIONS = [
  { minutes: 30, label: '30 minutes' },
  { minutes: 60, label: '1 hour' },
  { minutes: 240, label: '4 hours' },
  { minutes: 1440, label: '24 hours' },
];

function severityBadge(severity: string | null): HTMLElement {
  const s = severity ?? 'none';
  return h('span', { class: `badge severity-${s}` }, s);
}

const silenceExpired = (ack: NonNullable<Alert['acknowledgement']>): boolean => Date.parse(ack.silence_ends_at) <= Date.now();

function ackText(alert: Alert): HTMLElement | null {
  const ack = alert.acknowledgement;
  if (!ack) return null;
  return h(
    'div',
    { class: 'ack', 'data-ack': alert.id },
    h('strong', null, `Acknowledged by ${ack.acknowledged_by}`),
    ` · ${when(ack.acknowledged_at)} · ${silenceExpired(ack) ? 'silence ended' : 'silenced until'} ${when(ack.silence_ends_at)}`,
    ack.comment ? h('q', { class: 'ack-note' }, ack.comment) : null,
  );
}

function ackForm(alert: Alert, onDone: (message: string) => void, onCancel: () => void): HTMLElement {
  const base = `ack-${alert.id}`;
  const name = h('input', { id: `${base}-name`, name: 'acknowledged_by', required: true, maxlength: 128, value: localStorage.getItem(NAME_KEY) ?? '', autocomplete: 'name' });
  const note = h('textarea', { id: `${base}-note`, name: 'comment', maxlength: 1000, rows: 2, placeholder: 'What are you doing about it?' });
  const silence = h('select', { id: `${base}-silence`, name: 'duration_minutes' }, SILENCE_OPTIONS.map((o) => h('option', { value: o.minutes, selected: o.minutes === 60 }, o.label)));
  const error = h('p', { class: 'form-error', role: 'alert' });
  const submit = h('button', { type: 'submit', class: 'button primary' }, 'Acknowledge');
  const form = h(
    'form',
    { class: 'ack-form', 'aria-label': `Acknowledge ${alert.alertname}` },
    h('div', { class: 'field' }, h('label', { for: name.id }, 'Your name'), name),
    h('div', { class: 'field grow' }, h('label', { for: note.id }, 'Note'), note),
    h('div', { class: 'field' }, h('label', { for: silence.id }, 'Silence for'), silence),
    h('div', { class: 'field actions' }, submit, h('button', { type: 'button', class: 'button', onclick: onCancel }, 'Cancel')),
    error,
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    submit.disabled = true;
    error.textContent = '';
    localStorage.setItem(NAME_KEY, name.value.trim());
    post<AcknowledgeResult>(`/api/ws/alerts/${encodeURIComponent(alert.id)}/acknowledge`, {
      acknowledged_by: name.value.trim(),
      ...(note.value.trim() ? { comment: note.value.trim() } : {}),
      duration_minutes: Number(silence.value),
    })
      .then((result) => onDone(`Acknowledged ${alert.alertname} by ${result.acknowledgement.acknowledged_by}; silenced until ${when(result.acknowledgement.silence_ends_at)}.`))
      .catch((failure: unknown) => {
        if (failure instanceof SignedOutError) return;
        error.textContent = `Could not acknowledge: ${failure instanceof RequestError ? `${failure.message} (${failure.code})` : (failure as Error).message}`;
        submit.disabled = false;
      });
  });
  queueMicrotask(() => name.value ? note.focus() : name.focus());
  return form;
}

function alertRows(alerts: Alert[], kind: 'active' | 'recent', reload: (message: string) => void): HTMLElement {
  const body = h('tbody');
  for (const alert of alerts) {
    const summary = alert.annotations.summary ?? alert.annotations.description ?? '';
    const formRow = h('tr', { class: 'form-row', hidden: true }, h('td', { colspan: 6 }));
    const ackButton =
      // An expired silence can be renewed by acknowledging again.
      kind === 'active' && (!alert.acknowledgement || silenceExpired(alert.acknowledgement))
        ? h('button', {
            type: 'button',
            class: 'button small',
            'aria-expanded': 'false',
            onclick: (event: Event) => {
              const button = event.currentTarget as HTMLButtonElement;
              button.setAttribute('aria-expanded', 'true');
              formRow.hidden = false;
              replace(
                formRow.firstElementChild as HTMLElement,
                ackForm(alert, reload, () => {
                  formRow.hidden = true;
                  button.setAttribute('aria-expanded', 'false');
                  button.focus();
                }),
              );
            },
          }, alert.acknowledgement ? 'Acknowledge again…' : 'Acknowledge…')
        : null;
    body.append(
      h(
        'tr',
        { 'data-alert': alert.id, 'data-status': alert.status },
        h('td', null, severityBadge(alert.severity)),
        h('td', null, h('strong', null, alert.alertname), summary ? h('div', { class: 'muted' }, summary) : null),
        h('td', null, h('span', { class: `badge status-${alert.status}` }, alert.status)),
        h('td', null, when(alert.starts_at)),
        h('td', null, kind === 'recent' ? when(alert.ends_at) : ''),
        // Both after an expired silence: who acknowledged it last, and the way to silence it again.
        h('td', null, ackText(alert), ackButton),
      ),
      formRow,
    );
  }
  return h(
    'table',
    { class: 'data-table alerts', id: `alerts-${kind}` },
    h('caption', { class: 'visually-hidden' }, kind === 'active' ? 'Active alerts' : 'Recent alerts'),
    h(
      'thead',
      null,
      h('tr', null, ['Severity', 'Alert', 'Status', 'Started', kind === 'recent' ? 'Ended' : '', 'Acknowledgement'].map((c) => h('th', { scope: 'col' }, c))),
    ),
    body,
  );
}

export const alertsTab: TabView = {
  id: 'alerts',
  label: 'Alerts',
  load(panel, range, signal) {
    const notice = h('p', { class: 'notice', role: 'status', id: 'alerts-notice' });
    const content = h('div', { id: 'alerts-content' });
    panel.replaceChildren(notice, content);
    // Only the latest reload may draw (two quick acknowledgements: the first answer must not land last).
    const nextSignal = latestSignal(signal);
    const refresh = (message?: string): void => {
      if (message) notice.textContent = message;
      const loading = nextSignal();
      void load(
        content,
        () => get<Alerts>('/api/ws/alerts', rangeQuery(range), loading),
        (data) => [
          // Alertmanager configured but not answering: the list is the webhook record's, and says so.
          data.warning ? h('p', { class: 'notice notice-warning', id: 'alerts-warning', role: 'alert' }, data.warning) : null,
          h(
            'section',
            { class: 'block' },
            h('h2', null, `Active (${data.active.length})`, h('span', { class: 'muted source' }, ` from ${data.active_source === 'alertmanager' ? 'Alertmanager' : 'the webhook record'}`)),
            data.active.length > 0 ? alertRows(data.active, 'active', refresh) : h('p', { class: 'state state-empty', id: 'alerts-active-empty' }, 'Nothing is firing.'),
          ),
          h(
            'section',
            { class: 'block' },
            h('h2', null, `Recent in range (${data.recent.length}${data.truncated ? ', the latest only: narrow the range for the rest' : ''})`),
            data.recent.length > 0 ? alertRows(data.recent, 'recent', refresh) : h('p', { class: 'state state-empty' }, 'No alerts fired or resolved in this range.'),
          ),
        ],
        { what: 'alerts', signal: loading },
      );
    };
    refresh();
  },
};
