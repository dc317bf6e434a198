/**
 * The alerting path watching itself, on the real local stack with the shipped
 * configs (endpoints substituted as the native demo does): Prometheus scrapes
 * itself and Alertmanager; Alertmanager authenticates to the analytics
 * service's webhook with ALERTMANAGER_WEBHOOK_TOKEN (the service refuses
 * anything else); the always-firing Watchdog arrives and /api/ws/health says
 * when; Alertmanager failing to deliver (here: email to an SMTP port nothing
 * listens on) fires AlertmanagerNotificationsFailing from its real metrics;
 * and every shipped rule evaluates on that data without an error.
 */
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { type RunningService, startService } from '../../src/api/service.ts';
import { loadConfig } from '../../src/config.ts';
import { PROMETHEUS_SELF_TARGET, WEBHOOK_TOKEN_PLACEHOLDER } from '../../src/demo/placeholders.ts';
import { pointSelfScrape } from '../../src/demo/run-demo.ts';
import { Stack, freePort, renderAlertmanagerConfig, renderPrometheusConfig, waitFor } from '../../src/stack/index.ts';
import { promQuery, rulesWithoutHoldTime } from '../helpers/prometheus.ts';

const WEBHOOK_TOKEN = 'e2e-webhook-token-0123456789';
const ADMIN_TOKEN = 'e2e-admin-token-0123456789';

let stack: Stack;
let service: RunningService;
let prometheusUrl: string;
let alertmanagerUrl: string;

interface Health {
  status: string;
  service: { watchdog_last_seen_at: string | null };
}

const health = async (): Promise<Health> => (await (await fetch(`${service.url}/api/ws/health`)).json()) as Health;

function webhookPost(authorization?: string): Promise<Response> {
  const now = new Date().toISOString();
  return fetch(`${service.url}/api/ws/alerts/webhook`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) },
    body: JSON.stringify({
      version: '4',
      status: 'firing',
      receiver: 'watchdog',
      alerts: [{ status: 'firing', labels: { alertname: 'Watchdog', severity: 'none' }, annotations: {}, startsAt: now, fingerprint: 'forged' }],
    }),
  });
}

beforeAll(async () => {
  stack = new Stack('e2e-alerting');
  const postgres = await stack.postgres();
  const servicePort = await freePort();
  const serviceUrl = `http://127.0.0.1:${servicePort}`;
  const closed = `127.0.0.1:${await freePort()}`;
  // As the native demo renders it: the service's URL and token; SMTP to a port nothing listens on.
  const amConfig = parse(
    renderAlertmanagerConfig({ 'http://app:8080': serviceUrl, [WEBHOOK_TOKEN_PLACEHOLDER]: WEBHOOK_TOKEN, 'smtp:587': closed }, { groupWait: '1s', groupInterval: '1s' }),
  ) as { route: { routes: Array<Record<string, string>> } };
  for (const route of amConfig.route.routes) {
    route.group_interval = '1s';
    route.repeat_interval = '5s';
  }
  const alertmanager = await stack.alertmanager(stringify(amConfig));
  alertmanagerUrl = alertmanager.url;
  service = await startService(
    loadConfig(
      {
        DATABASE_URL: postgres.url,
        ALERTMANAGER_URL: alertmanager.url,
        SOCKETSCOPE_ADMIN_TOKEN: ADMIN_TOKEN,
        ALERTMANAGER_WEBHOOK_TOKEN: WEBHOOK_TOKEN,
        ANOMALY_INTERVAL_SECONDS: '0',
        ROLLUP_INTERVAL_SECONDS: '0',
        LOG_LEVEL: 'silent',
      },
      { port: String(servicePort), host: '127.0.0.1' },
    ),
    { logger: pino({ level: 'silent' }) },
  );
}, 180_000);

afterAll(async () => {
  await stack?.stop();
  await service?.close();
});

describe('the alert webhook', () => {
  it('refuses deliveries without the token, with the unreplaced placeholder, or with another token', async () => {
    for (const authorization of [undefined, `Bearer ${WEBHOOK_TOKEN_PLACEHOLDER}`, 'Bearer another-token-0123456789']) {
      const response = await webhookPost(authorization);
      expect(response.status, String(authorization)).toBe(401);
    }
    // Nothing was recorded, and no Watchdog can have arrived yet: Prometheus is not running.
    expect((await health()).service.watchdog_last_seen_at).toBeNull();
  });
});

describe('the alerting path, watched', () => {
  it('scrapes Prometheus and Alertmanager, delivers the Watchdog with the token, and health reports it', { timeout: 150_000 }, async () => {
    const closed = `127.0.0.1:${await freePort()}`;
    const self = `127.0.0.1:${await freePort()}`;
    const config = parse(
      renderPrometheusConfig({
        endpoints: {
          'alertmanager:9093': alertmanagerUrl.replace('http://', ''),
          'app:8080': service.url.replace('http://', ''),
          // No collector here: its targets are down (OtelCollectorDown fires, critical, and is emailed).
          'otel-collector:8889': closed,
          'otel-collector:8888': closed,
          [PROMETHEUS_SELF_TARGET]: self,
        },
        scrapeInterval: '1s',
        evaluationInterval: '1s',
      }),
    ) as { rule_files: string[] };
    config.rule_files = rulesWithoutHoldTime(stack.runDir, 'alerting');
    const prometheus = await stack.prometheus({ config: stringify(config) });
    prometheusUrl = prometheus.url;
    await pointSelfScrape(prometheus, self);

    let seen: string | null | undefined;
    await waitFor('the Watchdog in /api/ws/health', async () => typeof (seen = (await health()).service.watchdog_last_seen_at) === 'string', { timeoutMs: 90_000, intervalMs: 500 });
    expect(new Date(Date.parse(seen as unknown as string)).toISOString()).toBe(seen);
    // One Watchdog instance (one Prometheus), recorded from Alertmanager's authenticated deliveries; the refused post left no row.
    const { rows } = await service.context.database.pool.query<{ alertname: string; fingerprint: string; status: string }>(
      "SELECT alertname, fingerprint, status FROM alerts WHERE alertname = 'Watchdog'",
    );
    expect(rows.map((r) => r.status)).toEqual(['firing']);
    expect(rows[0]?.fingerprint).not.toBe('forged');

    // Both new scrape jobs are up (Prometheus' own after the reload that pointed it at its port).
    await waitFor('the prometheus and alertmanager jobs up', async () => (await promQuery(prometheusUrl, 'up{job=~"prometheus|alertmanager"} == 1')).length === 2, {
      timeoutMs: 30_000,
      intervalMs: 500,
    });
    const [reload] = await promQuery(prometheusUrl, 'prometheus_config_last_reload_successful{job="prometheus"}');
    expect(reload?.value[1]).toBe('1');
  });

  it('Alertmanager failing to deliver (SMTP down) fires AlertmanagerNotificationsFailing; the webhook deliveries all succeed', { timeout: 120_000 }, async () => {
    const firing = 'ALERTS{alertname="AlertmanagerNotificationsFailing", alertstate="firing"}';
    let alerts: Array<{ metric: Record<string, string> }> = [];
    await waitFor('AlertmanagerNotificationsFailing for email', async () => (alerts = await promQuery(prometheusUrl, firing)).some((a) => a.metric.integration === 'email'), {
      timeoutMs: 90_000,
      intervalMs: 500,
    });
    expect(alerts.map((a) => a.metric)).toEqual([
      expect.objectContaining({ integration: 'email', job: 'alertmanager', severity: 'critical', component: 'pipeline' }),
    ]);
    // Every delivery to the analytics webhook carried the right token.
    const [webhook] = await promQuery(prometheusUrl, 'sum(alertmanager_notifications_total{integration="webhook"})');
    expect(Number(webhook?.value[1])).toBeGreaterThan(0);
    const [webhookFailed] = await promQuery(prometheusUrl, 'sum(alertmanager_notifications_failed_total{integration="webhook"})');
    expect(webhookFailed?.value[1]).toBe('0');
  });

  it('every shipped rule evaluates on this data without an error, and no reload failed', async () => {
    const [failures] = await promQuery(prometheusUrl, 'sum(prometheus_rule_evaluation_failures_total{job="prometheus"})');
    expect(failures?.value[1]).toBe('0');
    for (const alert of ['PrometheusRuleEvaluationFailures', 'PrometheusConfigReloadFailed', 'AlertmanagerConfigReloadFailed', 'PrometheusNotificationsFailing']) {
      expect(await promQuery(prometheusUrl, `ALERTS{alertname="${alert}"}`), alert).toEqual([]);
    }
  });
});
