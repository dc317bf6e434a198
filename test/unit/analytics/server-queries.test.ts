/**
 * The admin Overview's ratios are the alert rules' ratios: on the same series,
 * message_error_ratio and send_failure_ratio evaluate (promtool, the rules of
 * prometheus/rules/websocket-server.yml loaded) to what the recording rules
 * behind WebSocketMessageErrorRatioHigh and WebSocketSendFailureRatioHigh
 * record, where the old card's all errors over messages received did not.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { SERVER_QUERIES } from '../../../src/analytics/server-queries.ts';
import { run } from '../../helpers/exec.ts';

const dir = mkdtempSync(join(tmpdir(), 'socketscope-server-queries-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const query = (id: string) => SERVER_QUERIES.find((q) => q.id === id)!.expr;
const RULES = fileURLToPath(new URL('../../../prometheus/rules/websocket-server.yml', import.meta.url));

/** promtool test rules over `series` (one value a minute), evaluated at 10 minutes. */
async function promtool(name: string, series: Record<string, string>, expectations: Array<[string, Array<{ labels: string; value: number }>]>): Promise<void> {
  const file = join(dir, `${name}.test.yml`);
  writeFileSync(
    file,
    stringify({
      rule_files: [RULES],
      evaluation_interval: '1m',
      tests: [
        {
          name,
          interval: '1m',
          input_series: Object.entries(series).map(([s, values]) => ({ series: s, values })),
          promql_expr_test: expectations.map(([expr, samples]) => ({ expr, eval_time: '10m', exp_samples: samples.map((x) => ({ labels: x.labels, value: x.value })) })),
        },
      ],
    }),
  );
  const result = await run('promtool', ['test', 'rules', file]);
  expect(`${result.stdout}${result.stderr}`).toContain('SUCCESS');
  expect(result.code).toBe(0);
}

describe('server query ratios', () => {
  it('equal the alert rules’ recorded ratios: received-message errors over received, send errors over sends attempted', async () => {
    // Per second: 10 received, 30 sent, 1 parse error, 2 send errors.
    await promtool(
      'same-ratios',
      {
        'websocket_server_received_messages_total{job="chat", instance="a"}': '0+600x20',
        'websocket_server_sent_messages_total{job="chat", instance="a"}': '0+1800x20',
        'websocket_server_message_errors_total{job="chat", instance="a", error_type="parse_error"}': '0+60x20',
        'websocket_server_message_errors_total{job="chat", instance="a", error_type="send_error"}': '0+120x20',
      },
      [
        [query('message_error_ratio'), [{ labels: '{}', value: 0.1 }]],
        ['job:websocket_server_message_errors:ratio5m', [{ labels: 'job:websocket_server_message_errors:ratio5m{job="chat"}', value: 0.1 }]],
        [query('send_failure_ratio'), [{ labels: '{}', value: 2 / 32 }]],
        ['job:websocket_server_send_errors:ratio5m', [{ labels: 'job:websocket_server_send_errors:ratio5m{job="chat"}', value: 2 / 32 }]],
        // The old card: every error type over messages received.
        [`${query('message_errors_per_second')} / sum(rate(websocket_server_received_messages_total[5m]))`, [{ labels: '{}', value: 0.3 }]],
      ],
    );
  });

  it('count a missing error series as no errors, and a missing sent series as no sends', async () => {
    // Nothing has failed yet: 0, not no value. Every send failed (no sent series): 1.
    await promtool(
      'missing-series',
      {
        'websocket_server_received_messages_total{job="chat", instance="a"}': '0+600x20',
        'websocket_server_message_errors_total{job="quiet", instance="b", error_type="send_error"}': '0+60x20',
      },
      [
        [query('message_error_ratio'), [{ labels: '{}', value: 0 }]],
        [query('send_failure_ratio'), [{ labels: '{}', value: 1 }]],
      ],
    );
  });

  it('keep message_errors_per_second every error type; neither ratio is an anomaly stream', () => {
    expect(query('message_errors_per_second')).toBe('sum(rate(websocket_server_message_errors_total[5m]))');
    expect(SERVER_QUERIES.filter((q) => q.id.endsWith('_ratio')).map((q) => [q.id, q.unit, q.anomalyStream])).toEqual([
      ['message_error_ratio', '1', false],
      ['send_failure_ratio', '1', false],
    ]);
  });
});
