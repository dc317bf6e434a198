/**
 * Testing: run the basic connection, pool or echo test against a WebSocket
 * URL from the service (POST /admin/api/connection-tests) and show the
 * result; earlier runs of this visit stay listed below.
 */
import { closeText } from '../../../loadtest/close-text.ts';
import type { ConnectionTestBody, ConnectionTestResult } from '../api-types.ts';
import { type Child, h, replace } from '../dom.ts';
import { int, ms, when } from '../format.ts';
import { RequestError, SignedOutError, isAbort, post } from '../http.ts';
import type { TabView } from '../shell.ts';
import { statGrid } from '../stat-cards.ts';

const KINDS = [
  { kind: 'basic', label: 'Basic connection', help: 'Connect, ping, close: does the server accept and answer?' },
  { kind: 'pool', label: 'Pool', help: 'Open many connections over worker threads and hold them.' },
  { kind: 'echo', label: 'Echo', help: 'Send messages one at a time and time each echo.' },
] as const;

function latencyCells(prefix: string, summary: { count: number; p50: number; p95: number; p99: number; max: number }) {
  return [
    { id: `${prefix}_p50`, label: `${prefix === 'rtt' ? 'Round trip' : 'Connect'} p50`, value: summary.count ? ms(summary.p50) : '–' },
    { id: `${prefix}_p95`, label: 'p95', value: summary.count ? ms(summary.p95) : '–' },
    { id: `${prefix}_p99`, label: 'p99', value: summary.count ? ms(summary.p99) : '–' },
    { id: `${prefix}_max`, label: 'max', value: summary.count ? ms(summary.max) : '–' },
  ];
}

export function resultView(result: ConnectionTestResult, at: Date): HTMLElement {
  let figures: Child;
  switch (result.kind) {
    case 'basic':
      figures = statGrid([
        { id: 'connect_ms', label: 'Connect', value: ms(result.connect_ms) },
        { id: 'ping_ms', label: 'Ping round trip', value: ms(result.ping_ms) },
        { id: 'close', label: 'Close', value: result.close ? closeText(result.close) : '–' },
        { id: 'protocol', label: 'Subprotocol', value: result.protocol || 'none' },
      ]);
      break;
    case 'echo':
      figures = [
        statGrid([
          { id: 'connect_ms', label: 'Connect', value: ms(result.connect_ms) },
          { id: 'sent', label: 'Sent', value: int(result.sent) },
          { id: 'received', label: 'Echoed', value: int(result.received) },
          { id: 'identical', label: 'Identical', value: int(result.identical) },
          { id: 'lost', label: 'Lost', value: int(result.lost), tone: result.lost > 0 ? 'bad' : undefined },
        ]),
        statGrid(latencyCells('rtt', result.rtt_ms), 'Echo round trip'),
      ];
      break;
    case 'pool':
      figures = [
        statGrid([
          { id: 'target', label: 'Target', value: int(result.connections.target) },
          { id: 'opened', label: 'Opened', value: int(result.connections.opened) },
          { id: 'failed', label: 'Failed', value: int(result.connections.failed), tone: result.connections.failed > 0 ? 'bad' : undefined },
          { id: 'dropped', label: 'Dropped', value: int(result.connections.dropped), tone: result.connections.dropped > 0 ? 'bad' : undefined },
        ]),
        statGrid(latencyCells('connect', result.connect_ms), 'Connect time'),
        h('p', { class: 'muted' }, `Per worker: ${result.workers.map((w) => `#${w.worker} ${w.opened}/${w.connections}${w.failed ? ` (${w.failed} failed)` : ''}`).join(' · ')}`),
        Object.keys(result.errors).length > 0 ? h('p', { class: 'muted' }, `Errors: ${Object.entries(result.errors).map(([k, n]) => `${k} ×${n}`).join(', ')}`) : null,
      ];
      break;
  }
  return h(
    'article',
    { class: `result card ${result.ok ? 'ok' : 'failed'}`, 'data-kind': result.kind, 'data-ok': String(result.ok) },
    h(
      'header',
      null,
      h('span', { class: `badge ${result.ok ? 'status-passed' : 'status-failed'}` }, result.ok ? 'passed' : 'failed'),
      h('strong', null, ` ${KINDS.find((k) => k.kind === result.kind)?.label} test`),
      h('span', { class: 'muted' }, ` · ${result.url} · ${when(at)} · ${ms(result.duration_ms)}`),
    ),
    result.error ? h('p', { class: 'form-error' }, result.error) : null,
    figures,
  );
}

export const testingTab: TabView = {
  id: 'testing',
  label: 'Testing',
  load(panel) {
    // The range does not apply to tests; keep the form (and a run in progress) as it is.
    if (panel.childElementCount > 0) return;
    const kindInputs = KINDS.map((k, i) =>
      h('label', { class: 'choice' }, h('input', { type: 'radio', name: 'kind', value: k.kind, checked: i === 2 }), h('span', null, h('strong', null, k.label), h('small', { class: 'muted' }, k.help))),
    );
    const url = h('input', { type: 'url', id: 'test-url', name: 'url', required: true, placeholder: 'ws://127.0.0.1:8080/ws', pattern: 'wss?://.+', spellcheck: 'false' });
    const count = h('input', { type: 'number', id: 'test-count', name: 'count', min: 1, max: 1000, value: 20 });
    const payload = h('input', { type: 'number', id: 'test-payload', name: 'payload_bytes', min: 0, max: 65536, value: 0 });
    const connections = h('input', { type: 'number', id: 'test-connections', name: 'connections', min: 1, max: 500, value: 20 });
    const workers = h('input', { type: 'number', id: 'test-workers', name: 'workers', min: 1, max: 4, value: 2 });
    const hold = h('input', { type: 'number', id: 'test-hold', name: 'hold_s', min: 0, max: 30, step: 0.5, value: 1 });
    const field = (input: HTMLInputElement, label: string): HTMLElement => h('div', { class: 'field' }, h('label', { for: input.id }, label), input);
    const echoFields = h('div', { class: 'field-row', 'data-for': 'echo' }, field(count, 'Messages'), field(payload, 'Payload bytes'));
    const poolFields = h('div', { class: 'field-row', 'data-for': 'pool' }, field(connections, 'Connections'), field(workers, 'Worker threads'), field(hold, 'Hold (seconds)'));
    const run = h('button', { type: 'submit', class: 'button primary', id: 'run-test' }, 'Run test');
    const cancel = h('button', { type: 'button', class: 'button', hidden: true }, 'Cancel');
    const status = h('p', { class: 'test-status', role: 'status', id: 'test-status' });
    // #test-status announces the outcome; the result itself is read on demand, not all at once.
    const current = h('div', { id: 'test-result' });
    const runs = h('div', { class: 'runs' });
    const past = h('section', { id: 'test-history', class: 'block', hidden: true }, h('h2', null, 'Earlier runs'), runs);
    const selectedKind = (): ConnectionTestBody['kind'] => ((panel.querySelector('input[name=kind]:checked') as HTMLInputElement | null)?.value ?? 'echo') as ConnectionTestBody['kind'];
    const showFields = (): void => {
      echoFields.hidden = selectedKind() !== 'echo';
      poolFields.hidden = selectedKind() !== 'pool';
    };
    const form = h(
      'form',
      { class: 'card test-form', 'aria-labelledby': 'test-title' },
      h('h2', { id: 'test-title' }, 'Connection test'),
      h('fieldset', { class: 'choices' }, h('legend', null, 'Test'), kindInputs),
      h('div', { class: 'field wide' }, h('label', { for: url.id }, 'WebSocket URL (ws:// or wss://)'), url),
      echoFields,
      poolFields,
      h('div', { class: 'actions' }, run, cancel, status),
    );
    form.addEventListener('change', showFields);
    showFields();
    let controller: AbortController | undefined;
    cancel.addEventListener('click', () => controller?.abort());
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      const kind = selectedKind();
      const body: ConnectionTestBody =
        kind === 'echo'
          ? { kind, url: url.value.trim(), count: count.valueAsNumber, payload_bytes: payload.valueAsNumber }
          : kind === 'pool'
            ? { kind, url: url.value.trim(), connections: connections.valueAsNumber, workers: workers.valueAsNumber, hold_s: hold.valueAsNumber }
            : { kind, url: url.value.trim() };
      controller = new AbortController();
      run.disabled = true;
      cancel.hidden = false;
      status.textContent = `Running the ${kind} test…`;
      const previous = current.firstElementChild;
      if (previous) {
        runs.prepend(previous);
        past.hidden = false;
      }
      post<ConnectionTestResult>('/admin/api/connection-tests', body, controller.signal)
        .then((result) => {
          const at = new Date();
          replace(current, resultView(result, at));
          status.textContent = result.ok ? 'Test passed.' : 'Test failed.';
        })
        .catch((failure: unknown) => {
          if (failure instanceof SignedOutError) return;
          status.textContent = isAbort(failure) ? 'Cancelled.' : `The test could not run: ${failure instanceof RequestError ? `${failure.message} (${failure.code})` : (failure as Error).message}`;
        })
        .finally(() => {
          run.disabled = false;
          cancel.hidden = true;
        });
    });
    panel.replaceChildren(form, current, past);
  },
};
