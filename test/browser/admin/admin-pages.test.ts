/**
 * The admin pages in real Chromium against the real service, PostgreSQL,
 * Prometheus and Alertmanager (see harness.ts for the seeds): every tab
 * shows the seeded figures, the date range changes them, live statistics
 * follow Prometheus without a reload, an alert is acknowledged, an echo test
 * runs, the admin API refuses a page without the token, and nothing is
 * logged to the console. Screenshots at 1366×768 go to test-results/admin/.
 */
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../../src/stack/index.ts';
import { waitFor } from '../../../src/stack/ports.ts';
import { ACTIVE_ALERT, ADMIN_TOKEN, type AdminEnv, GRAFANA_URL, collectErrors, openSignedIn, startAdminEnv, texts, waitForPanel, waitForText } from './harness.ts';

const ARTIFACTS = join(REPO_ROOT, 'test-results', 'admin');
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

async function selectTab(page: Page, id: string): Promise<void> {
  await page.click(`#tab-${id}`);
  expect(await page.getAttribute(`#tab-${id}`, 'aria-selected')).toBe('true');
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
    expect(await page.textContent('[data-metric=message_errors_per_second] .stat-value')).toBe('0.4/s');
    expect(await page.textContent('[data-metric=message_error_ratio] .stat-value')).toBe('2.00%');
    expect(await page.textContent('[data-metric=connections_opened_per_second] .stat-value')).toBe('4/s');
    expect(await page.textContent('[data-metric=connections_rejected_per_second] .stat-value')).toBe('0.5/s');
    expect(await page.textContent('[data-metric=bytes_received_per_second] .stat-value')).toBe('2 kB/s');
    expect(await page.getAttribute('.live-status', 'data-live')).toBe('live');
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
    await screenshot(page, 'websocket-analytics-performance');
    await page.context().close();
  });

  it('draws historical trends that change with the date range', async () => {
    const page = await open('/admin/websocket-analytics?range=1h#tab=trends');
    expect(await waitForPanel(page, '#trends-charts')).toBe('ready');
    expect(await chartCell(page, '#trends-charts', 'Message rates', 'Received', 'Min')).toBe('20/s');
    expect(await chartCell(page, '#trends-charts', 'Message rates', 'Sent', 'Max')).toBe('60/s');
    expect(await chartCell(page, '#trends-charts', 'Latency p95', 'Message latency', 'Max')).toBe('38.9 ms');
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
    copyFileSync(join(ARTIFACTS, 'websocket-analytics-overview.png'), join(REPO_ROOT, 'docs', 'admin-websocket-analytics.png'));
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
