/**
 * `amtool config routes test` for every route of alertmanager/alertmanager.yml:
 * each label set must reach exactly the receiver named. amtool cannot evaluate
 * inhibit_rules, so those run against a real Alertmanager with the shipped config.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ANOMALY_ALERTNAME, ANOMALY_COMPONENT } from '../../src/analytics/anomaly-job.ts';
import { REPO_ROOT, requireBinary } from '../../src/stack/binaries.ts';
import { Stack, freePort, renderAlertmanagerConfig, waitFor } from '../../src/stack/index.ts';
import { run } from '../helpers/exec.ts';

const CONFIG = join(REPO_ROOT, 'alertmanager', 'alertmanager.yml');

const cases: Array<[labels: string[], receiver: string]> = [
  [['alertname=Watchdog', 'severity=none', 'component=meta'], 'watchdog'],
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
  // The alerting path's own alerts: a failing webhook still reaches the platform by email, and the other way round.
  [['alertname=AlertmanagerNotificationsFailing', 'severity=critical', 'component=pipeline', 'integration=webhook'], 'platform-critical'],
  [['alertname=PrometheusRuleEvaluationFailures', 'severity=critical', 'component=pipeline'], 'platform-critical'],
  [['alertname=PrometheusConfigReloadFailed', 'severity=warning', 'component=pipeline'], 'analytics-webhook'],
  // Anything unmatched still reaches the analytics service.
  [['alertname=Custom', 'severity=info'], 'analytics-webhook'],
];

describe('alertmanager routes', () => {
  it.each(cases)('%j → %s', async (labels, receiver) => {
    const result = await run(requireBinary('amtool'), ['config', 'routes', 'test', `--config.file=${CONFIG}`, `--verify.receivers=${receiver}`, ...labels]);
    expect(result.code, `${result.stdout}${result.stderr}`).toBe(0);
    expect(result.stdout.trim()).toBe(receiver);
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
  const rule = (severity: string, job: string) => ({ alertname: 'WebSocketConnectionsHigh', severity, component: 'websocket-server', job });
  const alerts = {
    anomalyCritical: anomaly('critical', 'active_connections'),
    anomalySameStream: anomaly('warning', 'active_connections'),
    anomalyOtherStream: anomaly('warning', 'connections_opened_per_second'),
    ruleCritical: rule('critical', 'chat'),
    ruleSameJob: rule('warning', 'chat'),
    ruleOtherJob: rule('warning', 'trade'),
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

  it('a critical silences the warning of its own stream (anomalies) or job (rules), not of another', async () => {
    type Alert = { labels: Record<string, string>; status: { state: string } };
    const same = (a: Record<string, string>, b: Record<string, string>) => Object.keys(a).length === Object.keys(b).length && Object.entries(a).every(([k, v]) => b[k] === v);
    let states: Record<string, string> = {};
    await waitFor('the inhibitor to see both criticals', async () => {
      const listed = (await (await fetch(`${url}/api/v2/alerts`)).json()) as Alert[];
      states = Object.fromEntries(Object.entries(alerts).map(([name, labels]) => [name, listed.find((a) => same(labels, a.labels))?.status.state ?? 'missing']));
      return states.anomalySameStream === 'suppressed' && states.ruleSameJob === 'suppressed';
    }, { timeoutMs: 10_000, intervalMs: 100 });
    expect(states).toEqual({
      anomalyCritical: 'active',
      anomalySameStream: 'suppressed',
      anomalyOtherStream: 'active',
      ruleCritical: 'active',
      ruleSameJob: 'suppressed',
      ruleOtherJob: 'active',
    });
  });
});
