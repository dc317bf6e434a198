/**
 * `amtool config routes test` for every route of alertmanager/alertmanager.yml:
 * each label set must reach exactly the receivers named. amtool cannot evaluate
 * inhibit_rules or deliver, so those run against a real Alertmanager with the
 * shipped config: inhibition, and the Watchdog reaching the external heartbeat
 * (WATCHDOG_HEARTBEAT_URL) or, without one, nothing and no failed notification.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { ANOMALY_ALERTNAME, ANOMALY_COMPONENT } from '../../src/analytics/anomaly-job.ts';
import { REPO_ROOT, requireBinary } from '../../src/stack/binaries.ts';
import { Stack, freePort, renderAlertmanagerConfig, waitFor } from '../../src/stack/index.ts';
import { run } from '../helpers/exec.ts';
import { type TestHttpServer, listenHttp, readBody } from '../helpers/http.ts';

const CONFIG = join(REPO_ROOT, 'alertmanager', 'alertmanager.yml');

const cases: Array<[labels: string[], receiver: string]> = [
  // The external dead man's switch first (continue), then the analytics service.
  [['alertname=Watchdog', 'severity=none', 'component=meta'], 'watchdog-heartbeat,watchdog'],
  [['alertname=WebSocketConnectionsHigh', 'severity=critical', 'component=websocket-server', 'job=chat'], 'oncall-critical'],
  [['alertname=WebSocketClientReconnectFailing', 'severity=critical', 'component=websocket-client'], 'oncall-critical'],
  // The labels the analytics service posts its anomalies with (src/analytics/anomaly-job.ts).
  [[`alertname=${ANOMALY_ALERTNAME}`, 'severity=critical', `component=${ANOMALY_COMPONENT}`, 'stream=active_connections', 'source=prometheus'], 'oncall-critical'],
  [[`alertname=${ANOMALY_ALERTNAME}`, 'severity=warning', `component=${ANOMALY_COMPONENT}`, 'stream=active_connections', 'source=prometheus'], 'analytics-webhook'],
  [[`alertname=${ANOMALY_ALERTNAME}`, 'severity=info', `component=${ANOMALY_COMPONENT}`, 'stream=active_connections', 'source=prometheus'], 'analytics-webhook'],
  [['alertname=OtelCollectorDown', 'severity=critical', 'component=pipeline'], 'platform-critical'],
  // The analytics service down cannot take its own webhook: platform email (and the webhook for when it returns).
  [['alertname=SocketscopeAnalyticsDown', 'severity=critical', 'component=pipeline', 'job=socketscope'], 'platform-critical'],
  [['alertname=SocketscopeTaskFailing', 'severity=warning', 'component=pipeline', 'socketscope_task=anomaly-detection'], 'analytics-webhook'],
  [['alertname=WebSocketConnectionsHigh', 'severity=warning', 'component=websocket-server'], 'analytics-webhook'],
  [['alertname=OtelCollectorExportFailing', 'severity=warning', 'component=pipeline'], 'analytics-webhook'],
  [['alertname=OtelCollectorDroppingBrowserPoints', 'severity=warning', 'component=pipeline', 'error=limit'], 'analytics-webhook'],
  // The alerting path's own alerts: a failing webhook still reaches the platform by email, and the other way round.
  [['alertname=AlertmanagerNotificationsFailing', 'severity=critical', 'component=pipeline', 'integration=webhook'], 'platform-critical'],
  [['alertname=PrometheusRuleEvaluationFailures', 'severity=critical', 'component=pipeline'], 'platform-critical'],
  [['alertname=PrometheusConfigReloadFailed', 'severity=warning', 'component=pipeline'], 'analytics-webhook'],
  [['alertname=PipelineTargetDown', 'severity=warning', 'component=pipeline', 'job=alertmanager'], 'analytics-webhook'],
  // Anything unmatched still reaches the analytics service.
  [['alertname=Custom', 'severity=info'], 'analytics-webhook'],
];

describe('alertmanager routes', () => {
  it.each(cases)('%j → %s', async (labels, receiver) => {
    const result = await run(requireBinary('amtool'), ['config', 'routes', 'test', `--config.file=${CONFIG}`, `--verify.receivers=${receiver}`, ...labels]);
    expect(result.code, `${result.stdout}${result.stderr}`).toBe(0);
    expect(result.stdout.trim()).toBe(receiver);
  });

  // docs/runbooks.md: WebSocket and anomaly criticals email on-call, the pipeline's own the platform team.
  it('every critical alert of the rules reaches an email receiver: on-call for WebSocket ones, the platform team for the pipeline', async () => {
    const rulesDir = join(REPO_ROOT, 'prometheus', 'rules');
    const criticals = readdirSync(rulesDir)
      .filter((file) => file.endsWith('.yml'))
      .flatMap((file) => (parse(readFileSync(join(rulesDir, file), 'utf8')) as { groups: Array<{ rules: Array<{ alert?: string; labels?: Record<string, string> }> }> }).groups)
      .flatMap((group) => group.rules)
      .filter((rule) => rule.alert && rule.labels?.severity === 'critical');
    expect(criticals.length).toBeGreaterThan(5);
    for (const rule of criticals) {
      const component = rule.labels?.component ?? '';
      const expected = component === 'pipeline' ? 'platform-critical' : 'oncall-critical';
      const result = await run(requireBinary('amtool'), ['config', 'routes', 'test', `--config.file=${CONFIG}`, `alertname=${rule.alert}`, 'severity=critical', `component=${component}`]);
      expect(result.stdout.trim(), `${rule.alert} (${component})`).toBe(expected);
    }
  });

  it("the heartbeat route is the Watchdog's alone", async () => {
    for (const labels of [['alertname=WatchdogX', 'severity=none'], ['alertname=OtelCollectorDown', 'severity=critical', 'component=pipeline']]) {
      const result = await run(requireBinary('amtool'), ['config', 'routes', 'test', `--config.file=${CONFIG}`, ...labels]);
      expect(result.stdout).not.toContain('watchdog');
    }
  });

  it('fails a case that names the wrong receiver (the check is real)', async () => {
    const result = await run(requireBinary('amtool'), [
      'config', 'routes', 'test', `--config.file=${CONFIG}`, '--verify.receivers=analytics-webhook', 'severity=critical', 'component=pipeline',
    ]);
    expect(result.code).toBe(1);
  });
});

describe('alertmanager inhibition (a real Alertmanager with the shipped config)', () => {
  let stack: Stack;
  let url: string;
  const anomaly = (severity: string, stream: string) => ({
    alertname: ANOMALY_ALERTNAME, severity, component: ANOMALY_COMPONENT, stream, source: 'prometheus',
  });
  // WebSocketConnectionsHigh is per instance; alerts of other rules carry no instance.
  const rule = (severity: string, job: string, instance: string) => ({ alertname: 'WebSocketConnectionsHigh', severity, component: 'websocket-server', job, instance });
  const jobRule = (severity: string, job: string) => ({ alertname: 'WebSocketMessageLatencyHigh', severity, component: 'websocket-server', job });
  const alerts = {
    anomalyCritical: anomaly('critical', 'active_connections'),
    anomalySameStream: anomaly('warning', 'active_connections'),
    anomalyOtherStream: anomaly('warning', 'connections_opened_per_second'),
    ruleCritical: rule('critical', 'chat', 'chat-0'),
    ruleSameInstance: rule('warning', 'chat', 'chat-0'),
    ruleOtherInstance: rule('warning', 'chat', 'chat-1'),
    ruleOtherJob: rule('warning', 'trade', 'trade-0'),
    jobRuleCritical: jobRule('critical', 'chat'),
    jobRuleSameJob: jobRule('warning', 'chat'),
  };

  beforeAll(async () => {
    stack = new Stack('am-inhibit');
    // Deliveries go to a closed port: only the alerts' state matters here.
    const closed = `127.0.0.1:${await freePort()}`;
    url = (await stack.alertmanager(renderAlertmanagerConfig({ 'http://app:8080': `http://${closed}`, 'smtp:587': closed }))).url;
    const response = await fetch(`${url}/api/v2/alerts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(Object.values(alerts).map((labels) => ({ labels, annotations: {} }))),
    });
    expect(response.status).toBe(200);
  });

  afterAll(async () => {
    await stack?.stop();
  });

  it('a critical silences the warning of its own stream (anomalies), job and instance (rules), not of another', async () => {
    type Alert = { labels: Record<string, string>; status: { state: string } };
    const same = (a: Record<string, string>, b: Record<string, string>) => Object.keys(a).length === Object.keys(b).length && Object.entries(a).every(([k, v]) => b[k] === v);
    let states: Record<string, string> = {};
    await waitFor('the inhibitor to see both criticals', async () => {
      const listed = (await (await fetch(`${url}/api/v2/alerts`)).json()) as Alert[];
      states = Object.fromEntries(Object.entries(alerts).map(([name, labels]) => [name, listed.find((a) => same(labels, a.labels))?.status.state ?? 'missing']));
      return states.anomalySameStream === 'suppressed' && states.ruleSameInstance === 'suppressed' && states.jobRuleSameJob === 'suppressed';
    }, { timeoutMs: 10_000, intervalMs: 100 });
    expect(states).toEqual({
      anomalyCritical: 'active',
      anomalySameStream: 'suppressed',
      anomalyOtherStream: 'active',
      ruleCritical: 'active',
      ruleSameInstance: 'suppressed',
      ruleOtherInstance: 'active',
      ruleOtherJob: 'active',
      jobRuleCritical: 'active',
      jobRuleSameJob: 'suppressed',
    });
  });
});

describe("the Watchdog's external heartbeat (a real Alertmanager with the shipped config)", () => {
  // One stack (run directory) per case: Alertmanager keeps its notification log in it.
  const stacks: Stack[] = [];
  let analytics: TestHttpServer;
  let heartbeat: TestHttpServer;
  const received = { analytics: [] as string[], heartbeat: [] as Array<{ path: string; alertname: string }> };
  const watchdog = { alertname: 'Watchdog', severity: 'none', component: 'meta' };

  beforeAll(async () => {
    analytics = await listenHttp((req, res) => {
      void readBody(req).then((body) => {
        received.analytics.push(...(JSON.parse(body) as { alerts: Array<{ labels: { alertname: string } }> }).alerts.map((a) => a.labels.alertname));
        res.end('ok');
      });
    });
    heartbeat = await listenHttp((req, res) => {
      void readBody(req).then((body) => {
        for (const alert of (JSON.parse(body) as { alerts: Array<{ labels: { alertname: string } }> }).alerts) received.heartbeat.push({ path: req.url ?? '', alertname: alert.labels.alertname });
        res.end('OK');
      });
    });
  });

  afterAll(async () => {
    for (const stack of stacks) await stack.stop();
    await analytics?.close();
    await heartbeat?.close();
  });

  const postWatchdog = async (url: string) => {
    const response = await fetch(`${url}/api/v2/alerts`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify([{ labels: watchdog, annotations: {} }]) });
    expect(response.status).toBe(200);
  };
  const failedNotifications = async (url: string) =>
    [...(await (await fetch(`${url}/metrics`)).text()).matchAll(/^alertmanager_notifications_failed_total\{[^}]*\} (\S+)$/gm)].reduce((sum, m) => sum + Number(m[1]), 0);

  it('with WATCHDOG_HEARTBEAT_URL, the Watchdog reaches the heartbeat URL and the analytics webhook', async () => {
    const stack = new Stack('am-heartbeat');
    stacks.push(stack);
    const am = await stack.alertmanager(renderAlertmanagerConfig({ 'http://app:8080': analytics.url }, { watchdogHeartbeatUrl: `${heartbeat.url}/ping/check-uuid` }));
    await postWatchdog(am.url);
    await waitFor('the Watchdog at the heartbeat URL and the webhook', async () => received.heartbeat.length > 0 && received.analytics.includes('Watchdog'), { timeoutMs: 15_000, intervalMs: 100 });
    expect(received.heartbeat[0]).toEqual({ path: '/ping/check-uuid', alertname: 'Watchdog' });
    expect(await failedNotifications(am.url)).toBe(0);
  });

  it('without it, the heartbeat receiver sends nothing and no notification fails', async () => {
    received.heartbeat.length = 0;
    received.analytics.length = 0;
    const stack = new Stack('am-no-heartbeat');
    stacks.push(stack);
    const am = await stack.alertmanager(renderAlertmanagerConfig({ 'http://app:8080': analytics.url }, { watchdogHeartbeatUrl: '' }));
    await postWatchdog(am.url);
    await waitFor('the Watchdog at the webhook', async () => received.analytics.includes('Watchdog'), { timeoutMs: 15_000, intervalMs: 100 });
    // Both routes were notified (the webhook above); the heartbeat receiver has no integration to fail.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(received.heartbeat).toEqual([]);
    expect(await failedNotifications(am.url)).toBe(0);
    const log = am.process.logTail();
    expect(log).not.toMatch(/level=(error|warn)/);
  });
});

describe('the local stack without an SMTP relay', () => {
  it('renders the receivers without their email integrations, webhooks kept, and amtool accepts it', async () => {
    const rendered = parse(renderAlertmanagerConfig({ 'http://app:8080': 'http://127.0.0.1:9' }, { email: false })) as {
      receivers: Array<{ name: string; email_configs?: unknown[]; webhook_configs?: unknown[] }>;
    };
    expect(rendered.receivers.map((r) => [r.name, r.email_configs?.length ?? 0, r.webhook_configs?.length ?? 0])).toEqual([
      ['analytics-webhook', 0, 1],
      ['watchdog', 0, 1],
      ['watchdog-heartbeat', 0, 0],
      ['oncall-critical', 0, 1],
      ['platform-critical', 0, 1],
    ]);
    const dir = mkdtempSync(join(tmpdir(), 'am-no-email-'));
    try {
      const file = join(dir, 'alertmanager.yml');
      writeFileSync(file, stringify(rendered));
      const check = await run(requireBinary('amtool'), ['check-config', file]);
      expect(check.code, check.stderr + check.stdout).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
