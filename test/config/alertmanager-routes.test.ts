/**
 * `amtool config routes test` for every route of alertmanager/alertmanager.yml:
 * each label set must reach exactly the receiver named.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ANOMALY_ALERTNAME, ANOMALY_COMPONENT } from '../../src/analytics/anomaly-job.ts';
import { REPO_ROOT, requireBinary } from '../../src/stack/binaries.ts';
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
