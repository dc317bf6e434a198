/**
 * The admin pages in real Chromium against the real service, PostgreSQL,
 * Prometheus and Alertmanager (see harness.ts for the seeds): every tab
 * shows the seeded figures, the date range changes them, live statistics
 * follow Prometheus without a reload, an alert is acknowledged, an echo test
 * runs, the admin API refuses a page without the token, and nothing is
 * logged to the console. Screenshots at 1366×768 go to test-results/admin/;
 * `npm run docs:screenshots` (UPDATE_DOCS_SCREENSHOTS=1) also copies one of
 * each page to docs/ for the README, which a plain test run leaves alone.
 */
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { sampleCorrelation } from 'simple-statistics';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../../src/stack/index.ts';
import { waitFor } from '../../../src/stack/ports.ts';
import { HOUR, RECENT_COUNTRIES, recentLatency, recentPageLoad } from './client-reports-seed.ts';
import { ACTIVE_ALERT, ADMIN_TOKEN, type AdminEnv, GRAFANA_URL, openSignedIn, startAdminEnv, texts, waitForPanel, waitForText } from './harness.ts';

const ARTIFACTS = join(REPO_ROOT, 'test-results', 'admin');

/** Copies a screenshot to docs/ when asked to (npm run docs:screenshots). */
function publish(artifact: string, docsName: string): void {
  if (process.env.UPDATE_DOCS_SCREENSHOTS === '1') copyFileSync(join(ARTIFACTS, `${artifact}.png`), join(REPO_ROOT, 'docs', docsName));
}
let env: AdminEnv;
const pageErrors: string[][] = [];

async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const file = join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage: false });
  return file;
}

async function open(path: string): Promise<Page> {
  const { page, errors } = await openSignedIn(env, path);
  pageErrors.push(errors);
  return page;
}

async function chooseRange(page: Page, preset: string): Promise<void> {
  await page.selectOption('#range-preset', preset);
}

/** The summary-table cell of a chart (`Latest`, `Min`, `Mean`, `Max`) for a series. */
function chartCell(page: Page, panel: string, chart: string, series: string, column: 'Latest' | 'Min' | 'Mean' | 'Max'): Promise<string> {
  const index = { Latest: 1, Min: 2, Mean: 3, Max: 4 }[column];
  return page.evaluate(
    ({ panel, chart, series, index }) => {
      const figure = [...document.querySelectorAll(`${panel} figure.chart`)].find((f) => f.getAttribute('data-chart') === chart);
      const row = [...(figure?.querySelectorAll('.chart-summary tbody tr') ?? [])].find((r) => r.getAttribute('data-series') === series);
      return row?.children[index]?.textContent ?? 'missing';
    },
    { panel, chart, series, index },
  );
}

beforeAll(async () => {
  env = await startAdminEnv();
});

afterAll(async () => {
  await env?.close();
});

describe('/admin/websocket-analytics', () => {
  it('shows live connection statistics that follow Prometheus without a reload', async () => {
    const page = await open('/admin/websocket-analytics');
    await waitForText(page, '[data-metric=active_connections] .stat-value', '42');
    expect(await page.textContent('[data-metric=messages_received_per_second] .stat-value')).toBe('20/s');
    expect(await page.textContent('[data-metric=messages_sent_per_second] .stat-value')).toBe('60/s');
    // 0.4 parse errors and 0.6 send errors a second: every type counts as a message error.
    expect(await page.textContent('[data-metric=message_errors_per_second] .stat-value')).toBe('1/s');
    // As the alert rules read them: received-message errors over messages received (0.4 / 20), send
    // errors over sends attempted (0.6 / 60.6), not all errors over messages received (1 / 20).
    expect(await page.textContent('[data-metric=message_error_ratio] .stat-value')).toBe('2.00%');
    expect(await page.textContent('[data-metric=send_failure_ratio] .stat-value')).toBe('0.99%');
    expect(await page.textContent('[data-metric=send_failure_ratio] .stat-label')).toBe('Send failure ratio');
    expect(await page.textContent('[data-metric=connections_opened_per_second] .stat-value')).toBe('4/s');
    expect(await page.textContent('[data-metric=connections_rejected_per_second] .stat-value')).toBe('0.5/s');
    expect(await page.textContent('[data-metric=bytes_received_per_second] .stat-value')).toBe('2 kB/s');
    expect(await page.getAttribute('.live-status', 'data-live')).toBe('live');
    // The page is not one live region; the status line's region speaks on a change of state, not per update.
    expect(await page.getAttribute('#app', 'aria-live')).toBeNull();
    expect(await page.evaluate(() => document.querySelectorAll('[aria-live]').length)).toBe(0);
    expect(await page.getAttribute('.live-status', 'role')).toBeNull();
    expect(await page.textContent('.live-status [role=status]')).toBe('');
    expect(await page.getAttribute('.stat-grid.live', 'data-stale')).toBe('false');
    await waitForPanel(page, '#overview-range');
    await screenshot(page, 'websocket-analytics-overview');

    env.setConnections(57);
    await waitForText(page, '[data-metric=active_connections] .stat-value', '57');
    expect(await page.evaluate(() => performance.getEntriesByType('navigation').length)).toBe(1);
    await page.context().close();
  });

  it('shows p50/p95/p99 latency and heartbeat round trip, live and over the range', async () => {
    const page = await open('/admin/websocket-analytics#tab=performance');
    await waitForText(page, '[data-metric=message_latency_p95_seconds]', '38.9 ms');
    expect(await page.textContent('[data-metric=message_latency_p50_seconds]')).toBe('10 ms');
    expect(await page.textContent('[data-metric=message_latency_p99_seconds]')).toBe('50 ms');
    expect(await page.textContent('[data-metric=ping_duration_p50_seconds]')).toBe('10 ms');
    expect(await page.textContent('[data-metric=ping_duration_p95_seconds]')).toBe('23.5 ms');
    expect(await page.textContent('[data-metric=ping_duration_p99_seconds]')).toBe('24.7 ms');
    expect(await waitForPanel(page, '#performance-range')).toBe('ready');
    expect(await chartCell(page, '#performance-range', 'Heartbeat round trip', 'p95', 'Max')).toBe('23.5 ms');
    // 24 hours: a point every 288 s, each over the 303 s before it.
    expect(await page.getAttribute('#performance-range .chart-grid-note', 'data-step-s')).toBe('288');
    expect(await page.getAttribute('#performance-range .chart-grid-note', 'data-window-s')).toBe('303');
    expect(await page.textContent('#performance-range .chart-grid-note')).toBe('One point every 5 min; each percentile summarises the 5 min before its point.');
    await screenshot(page, 'websocket-analytics-performance');
    await page.context().close();
  });

  it('draws historical trends that change with the date range', async () => {
    const page = await open('/admin/websocket-analytics?range=1h#tab=trends');
    expect(await waitForPanel(page, '#trends-charts')).toBe('ready');
    // Latest and Max: the points where the backfilled history meets the first live scrapes dip a little.
    expect(await chartCell(page, '#trends-charts', 'Message rates', 'Received', 'Latest')).toBe('20/s');
    expect(await chartCell(page, '#trends-charts', 'Message rates', 'Received', 'Max')).toBe('20/s');
    expect(await chartCell(page, '#trends-charts', 'Message rates', 'Sent', 'Max')).toBe('60/s');
    expect(await chartCell(page, '#trends-charts', 'Latency p95', 'Message latency', 'Max')).toBe('38.9 ms');
    expect(await page.textContent('#trends-charts .chart-grid-note')).toBe(
      'One point every 15 s; each rate and percentile summarises the 5 min before its point. Active connections are the value at each point.',
    );
    await screenshot(page, 'websocket-analytics-trends');

    await chooseRange(page, '6h');
    await waitFor('the trends to reload for 6 hours', async () => (await chartCell(page, '#trends-charts', 'Message rates', 'Received', 'Min')) === '10/s', { timeoutMs: 20_000 });
    expect(await chartCell(page, '#trends-charts', 'Message rates', 'Received', 'Max')).toBe('20/s');
    expect(await chartCell(page, '#trends-charts', 'Latency p95', 'Message latency', 'Min')).toBe('18.3 ms');
    expect(new URL(page.url()).searchParams.get('range')).toBe('6h');
    await page.context().close();
  });

  it('lists active and recent alerts and acknowledges one with a note', async () => {
    const page = await open('/admin/websocket-analytics#tab=alerts');
    expect(await waitForPanel(page, '#alerts-content')).toBe('ready');
    const active = `#alerts-active tr[data-status]`;
    expect(await texts(page, `${active} td:nth-child(2) strong`)).toEqual([ACTIVE_ALERT.alertname]);
    expect(await texts(page, `${active} td:nth-child(3)`)).toEqual(['active']);
    expect(await texts(page, '#alerts-recent tr[data-status] td:nth-child(2) strong')).toEqual(['WebSocketConnectionsDropped']);
    expect(await texts(page, '#alerts-recent tr[data-status] td:nth-child(3)')).toEqual(['resolved']);
    await screenshot(page, 'websocket-analytics-alerts');

    await page.click(`${active} button:has-text("Acknowledge")`);
    await page.fill('textarea[name=comment]', 'Rolling back deploy 4821');
    await page.fill('input[name=acknowledged_by]', 'Dana Ops');
    await page.click('form.ack-form button[type=submit]');
    await waitFor('the acknowledgement to show', async () => (await texts(page, '#alerts-active .ack strong')).join() === 'Acknowledged by Dana Ops', { timeoutMs: 20_000 });
    expect(await texts(page, '#alerts-active .ack-note')).toEqual(['Rolling back deploy 4821']);
    expect(await texts(page, `${active} td:nth-child(3)`)).toEqual(['suppressed']);
    expect(await page.textContent('#alerts-notice')).toContain('Acknowledged WebSocketHighErrorRate by Dana Ops');

    // The silence exists in the real Alertmanager.
    const silences = (await (await fetch(`${env.alertmanagerUrl}/api/v2/silences`)).json()) as Array<{ createdBy: string; comment: string; status: { state: string } }>;
    expect(silences.map((s) => [s.createdBy, s.comment, s.status.state])).toEqual([['Dana Ops', 'Rolling back deploy 4821', 'active']]);
    await screenshot(page, 'websocket-analytics-alerts-acknowledged');
    await page.context().close();
  });

  // Follows the test above: the alert acknowledged there.
  it('offers to acknowledge again once the silence has expired, next to the previous acknowledgement', async () => {
    await env.service.context.database.pool.query("UPDATE alert_acknowledgements SET silence_ends_at = now() - interval '1 minute'");
    const page = await open('/admin/websocket-analytics#tab=alerts');
    expect(await waitForPanel(page, '#alerts-content')).toBe('ready');
    const cell = '#alerts-active tr[data-status] td:nth-child(6)';
    expect(await texts(page, `${cell} button`)).toEqual(['Acknowledge again…']);
    expect(await texts(page, `${cell} .ack strong`)).toEqual(['Acknowledged by Dana Ops']);
    expect(await texts(page, `${cell} .ack-note`)).toEqual(['Rolling back deploy 4821']);
    expect(await page.textContent(`${cell} .ack`)).toContain(' · silence ended ');
    await page.click(`${cell} button`);
    expect(await page.isVisible('form.ack-form')).toBe(true);
    await page.context().close();
  });

  it('runs an echo test against a ws server and shows its latency', async () => {
    const page = await open('/admin/websocket-analytics#tab=testing');
    await page.check('input[name=kind][value=echo]');
    await page.fill('#test-url', env.echoUrl);
    await page.fill('#test-count', '25');
    await page.click('#run-test');
    await page.waitForSelector('#test-result article.result', { timeout: 30_000 });
    expect(await page.getAttribute('#test-result article.result', 'data-ok')).toBe('true');
    expect(await page.textContent('#test-result [data-metric=sent] .stat-value')).toBe('25');
    expect(await page.textContent('#test-result [data-metric=received] .stat-value')).toBe('25');
    expect(await page.textContent('#test-result [data-metric=identical] .stat-value')).toBe('25');
    expect(await page.textContent('#test-result [data-metric=lost] .stat-value')).toBe('0');
    for (const id of ['rtt_p50', 'rtt_p95', 'rtt_p99']) {
      expect(await page.textContent(`#test-result [data-metric=${id}] .stat-value`)).toMatch(/^\d+(\.\d+)? (ms|s)$/);
    }
    expect(await page.textContent('#test-status')).toBe('Test passed.');
    await screenshot(page, 'websocket-analytics-testing');
    publish('websocket-analytics-overview', 'admin-websocket-analytics.png');
    await page.context().close();
  });

  it('links to the Grafana dashboard and traces for the selected range', async () => {
    const page = await open('/admin/websocket-analytics?range=6h');
    await page.waitForSelector('#grafana-dashboard');
    const dashboard = new URL((await page.getAttribute('#grafana-dashboard', 'href')) ?? '');
    expect(`${dashboard.origin}${dashboard.pathname}`).toBe(`${GRAFANA_URL}/d/socketscope-websocket-server`);
    expect(Number(dashboard.searchParams.get('to')) - Number(dashboard.searchParams.get('from'))).toBe(6 * 3_600_000);
    const traces = new URL((await page.getAttribute('#grafana-traces', 'href')) ?? '');
    expect(traces.pathname).toBe('/explore');
    expect(JSON.parse(traces.searchParams.get('panes') ?? '{}').a.datasource).toBe('socketscope-tempo');
    await page.context().close();
  });
});

describe('/admin/websocket-client-metrics', () => {
  const stat = (page: Page, id: string) => page.textContent(`[data-metric=${id}] .stat-value`);

  it('summarises client reports, and the date range changes the figures', async () => {
    const page = await open('/admin/websocket-client-metrics');
    expect(await waitForPanel(page, '#panel-summary')).toBe('ready');
    expect(await stat(page, 'reports')).toBe('12');
    expect(await stat(page, 'clients')).toBe('12');
    expect(await stat(page, 'countries')).toBe('4');
    // 118 of 120 connection attempts opened.
    expect(await stat(page, 'success_rate')).toBe('98.3%');
    expect(await stat(page, 'message_error_rate')).toBe('0.17%');
    expect(await stat(page, 'latency_avg')).toBe('75 ms');
    // 1 min without a connection (sessions 3 and 7) of 12 min connected: a share, and the spans in minutes.
    expect(await stat(page, 'outage')).toBe('7.7%');
    expect(await page.textContent('[data-metric=outage] .stat-detail')).toBe('1 min of 13 min');
    await screenshot(page, 'websocket-client-metrics-summary');
    publish('websocket-client-metrics-summary', 'admin-websocket-client-metrics.png');

    await chooseRange(page, '7d');
    await waitForText(page, '[data-metric=reports] .stat-value', '17');
    expect(await stat(page, 'countries')).toBe('5');
    // Plus 25 of 50 from the older Brazilian sessions.
    expect(await stat(page, 'success_rate')).toBe('84.1%');
    // Their 5 connected minutes: 1 min of 18 min.
    expect(await stat(page, 'outage')).toBe('5.6%');
    expect(await page.textContent('[data-metric=outage] .stat-detail')).toBe('1 min of 18 min');
    await page.context().close();
  });

  it('shows clients, latency and connection success by country, in a table and a ranking', async () => {
    const page = await open('/admin/websocket-client-metrics#tab=geographic');
    expect(await waitForPanel(page, '#panel-geographic')).toBe('ready');
    const cell = (country: string, col: string) => page.textContent(`#geo-table tr[data-country="${country}"] td[data-col=${col}]`);
    expect(await texts(page, '#geo-table tr[data-country]')).toHaveLength(4);
    expect(await cell('DE', 'clients')).toBe('5');
    expect(await cell('DE', 'latency_avg')).toBe('40 ms');
    expect(await cell('US', 'clients')).toBe('4');
    expect(await cell('US', 'latency_avg')).toBe('85 ms');
    expect(await cell('JP', 'clients')).toBe('2');
    // FR has one client, under GEO_MIN_CLIENTS=2.
    expect(await cell('other', 'clients')).toBe('1');
    // 39 of 40 opened; Wilson 95% interval [0.8712, 0.9956].
    expect(await cell('US', 'success')).toBe('97.5% (87.1% – 99.6%)');
    expect(await texts(page, '#geo-bars li .bar-label')).toEqual(['Germany', 'United States', 'Japan', 'Other (small countries)']);
    await page.click('#geo-table tr[data-country=DE] button.disclosure');
    expect(await page.isVisible('#geo-table tr[data-region="DE/BE"]')).toBe(true);
    await screenshot(page, 'websocket-client-metrics-geographic');

    await chooseRange(page, '7d');
    await page.waitForSelector('#geo-table tr[data-country=BR]', { timeout: 20_000 });
    expect(await cell('BR', 'clients')).toBe('5');
    expect(await cell('BR', 'latency_avg')).toBe('300 ms');
    expect(await cell('BR', 'success')).toMatch(/^50\.0% /);
    await page.context().close();
  });

  it('lists anomalies with severity, deviation and expected band, and draws the series around one', async () => {
    const page = await open('/admin/websocket-client-metrics#tab=anomalies');
    expect(await waitForPanel(page, '#panel-anomalies')).toBe('ready');
    expect(await stat(page, 'total')).toBe('1');
    expect(await stat(page, 'high')).toBe('1');
    const row = '#anomalies-table tr[data-anomaly]';
    expect(await texts(page, `${row} td:first-child`)).toEqual(['high']);
    expect(await texts(page, `${row} code`)).toEqual(['client_latency_avg_ms']);
    expect(await texts(page, `${row} td[data-col=value]`)).toEqual(['480']);
    expect(await texts(page, `${row} td[data-col=expected]`)).toEqual(['75']);
    expect(await texts(page, `${row} td[data-col=band]`)).toEqual(['40 – 110']);
    expect(await texts(page, `${row} td[data-col=deviation]`)).toEqual(['+8.4σ']);
    expect(await waitForPanel(page, '#anomaly-detail')).toBe('ready');
    expect(await page.isVisible('#anomaly-detail figure.chart canvas')).toBe(true);
    // One series (the stream), drawn with the expected value and band.
    const points = await page.evaluate(() => document.querySelectorAll('#anomaly-detail .chart-summary tbody tr').length);
    expect(points).toBe(1);
    // Its dashboard in Grafana (client reports: the clients dashboard), an hour either side, where it is annotated.
    const grafana = new URL((await page.getAttribute('#anomaly-grafana', 'href')) ?? '');
    expect(`${grafana.origin}${grafana.pathname}`).toBe(`${GRAFANA_URL}/d/socketscope-websocket-clients`);
    expect(Number(grafana.searchParams.get('to')) - Number(grafana.searchParams.get('from'))).toBe(2 * 3_600_000);
    await screenshot(page, 'websocket-client-metrics-anomalies');

    await chooseRange(page, '7d');
    await waitForText(page, '[data-metric=total] .stat-value', '2');
    expect(await stat(page, 'medium')).toBe('1');
    expect(await texts(page, `${row} code`)).toEqual(['client_latency_avg_ms', 'messages_received_per_second']);
    await page.context().close();
  });

  it('plots UX correlation per session with r, n, confidence interval and the strong mark', async () => {
    const page = await open('/admin/websocket-client-metrics#tab=ux');
    expect(await waitForPanel(page, '#panel-ux')).toBe('ready');
    const latency = RECENT_COUNTRIES.map((_, i) => recentLatency(i));
    const pageLoad = RECENT_COUNTRIES.map((_, i) => recentPageLoad(i));
    const r = sampleCorrelation(latency, pageLoad);
    const card = '[data-pair=latency_vs_page_load]';
    expect(await page.textContent(`${card} .n`)).toBe('12');
    expect(await page.textContent(`${card} [data-coef=pearson] .r`)).toBe(`r = ${r.toFixed(3)}`);
    expect(await page.textContent(`${card} [data-coef=pearson] .ci`)).toMatch(/^ 95% CI \[0\.\d{3}, (0\.\d{3}|1\.000)\]$/);
    expect(await page.textContent(`${card} .badge`)).toBe('★ strong');
    expect(await page.getAttribute(card, 'class')).toContain('strong');
    expect(await page.isVisible(`${card} canvas`)).toBe(true);
    expect(await page.getAttribute('[data-pair=latency_vs_inp]', 'data-status')).toBe('insufficient_data');
    expect(await page.textContent('[data-pair=latency_vs_inp] .badge')).toBe('insufficient data');
    await screenshot(page, 'websocket-client-metrics-ux');

    await chooseRange(page, '7d');
    await waitForText(page, `${card} .n`, '17');
    const r7 = sampleCorrelation([...latency, 300, 300, 300, 300, 300], [...pageLoad, 1500, 1500, 1500, 1500, 1500]);
    expect(await page.textContent(`${card} [data-coef=pearson] .r`)).toBe(`r = ${r7.toFixed(3)}`);
    await page.context().close();
  });

  it('reloads a custom range on Refresh, and the reloaded tab’s actions still load', async () => {
    const from = new Date(env.now - 2 * HOUR).toISOString();
    const to = new Date(env.now + HOUR).toISOString();
    const page = await open(`/admin/websocket-client-metrics?from=${from}&to=${to}#tab=anomalies`);
    expect(await waitForPanel(page, '#panel-anomalies')).toBe('ready');
    expect(await waitForPanel(page, '#anomaly-detail')).toBe('ready');
    // Marks the rendered table: a reload replaces it.
    await page.evaluate(() => document.querySelector('#anomalies-table')?.setAttribute('data-before-refresh', ''));
    await page.click('.range-picker > button:has-text("Refresh")');
    await page.waitForSelector('#anomalies-table:not([data-before-refresh])', { timeout: 20_000 });
    expect(await waitForPanel(page, '#panel-anomalies')).toBe('ready');
    expect(await texts(page, '#anomalies-table tr[data-anomaly] code')).toEqual(['client_latency_avg_ms']);
    // "Show series" after the refresh uses a live request signal (a cancelled one left it loading forever).
    expect(await waitForPanel(page, '#anomaly-detail')).toBe('ready');
    await page.evaluate(() => document.querySelector('#anomaly-detail')?.replaceChildren());
    await page.click('#anomalies-table tr[data-anomaly] button:has-text("Show series")');
    expect(await waitForPanel(page, '#anomaly-detail')).toBe('ready');
    expect(await page.isVisible('#anomaly-detail figure.chart canvas')).toBe(true);
    expect(new URL(page.url()).searchParams.get('from')).toBe(from);
    await page.context().close();
  });

  it('shows where keyboard focus is on the tab panel', async () => {
    const page = await open('/admin/websocket-client-metrics');
    expect(await waitForPanel(page, '#panel-summary')).toBe('ready');
    await page.focus('#tab-summary');
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('panel-summary');
    const style = await page.evaluate(() => {
      const panel = document.querySelector('#panel-summary') as HTMLElement;
      const css = getComputedStyle(panel);
      return { focusVisible: panel.matches(':focus-visible'), outline: `${css.outlineStyle} ${css.outlineWidth}`, shadow: css.boxShadow };
    });
    expect(style.focusVisible).toBe(true);
    expect(style.outline).toBe('solid 2px');
    await page.context().close();
  });

  it('moves between tabs with the arrow keys', async () => {
    const page = await open('/admin/websocket-client-metrics');
    await page.focus('#tab-summary');
    await page.keyboard.press('ArrowRight');
    expect(await page.getAttribute('#tab-geographic', 'aria-selected')).toBe('true');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('tab-geographic');
    await page.keyboard.press('End');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('tab-ux');
    expect(await page.isHidden('#panel-summary')).toBe(true);
    expect(new URL(page.url()).hash).toBe('#tab=ux');
    await page.context().close();
  });
});

describe('sign-in', () => {
  it('the admin API rejects the page without the token, and a wrong token returns to sign-in', async () => {
    const context = await env.browser.newContext({ viewport: { width: 1366, height: 768 } });
    const page = await context.newPage();
    await page.goto(`${env.url}/admin/websocket-client-metrics`);
    await page.waitForSelector('#token');
    const statuses = await page.evaluate(async () =>
      Promise.all(['/admin/api/session', '/admin/api/live', '/api/ws/client-metrics/summary', '/admin/api/ux-correlation/points'].map(async (path) => (await fetch(path)).status)),
    );
    expect(statuses).toEqual([401, 401, 401, 401]);
    const posted = await page.evaluate(async () => (await fetch('/admin/api/connection-tests', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"kind":"basic","url":"ws://127.0.0.1:9/"}' })).status);
    expect(posted).toBe(401);
    await screenshot(page, 'sign-in');

    await page.fill('#token', 'not-the-admin-token');
    await page.click('form.sign-in button[type=submit]');
    await waitForText(page, '#sign-in-error', 'That token was not accepted.');
    await page.fill('#token', ADMIN_TOKEN);
    await page.click('form.sign-in button[type=submit]');
    expect(await waitForPanel(page, '#panel-summary')).toBe('ready');
    expect(await page.evaluate(() => sessionStorage.getItem('socketscope.admin-token'))).toBe(ADMIN_TOKEN);

    // A token the service no longer accepts sends the page back to sign-in.
    await page.evaluate(() => sessionStorage.setItem('socketscope.admin-token', 'revoked-token-value'));
    await page.reload();
    await page.waitForSelector('#token');
    expect(await page.textContent('#sign-in-error')).toBe('Your session ended: the admin token was not accepted. Sign in again.');
    await context.close();
  });

  it('no page logged a console error or threw', () => {
    expect(pageErrors.length).toBeGreaterThanOrEqual(14);
    expect(pageErrors.flat()).toEqual([]);
  });
});
