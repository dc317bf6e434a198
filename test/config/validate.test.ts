/**
 * The shipped configs are code: each is checked by the tool that runs it.
 * Files are globbed, so a new rule file or promtool test is picked up.
 */
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { REPO_ROOT, requireBinary } from '../../src/stack/binaries.ts';
import { COLLECTOR_CONFIG } from '../../src/stack/collector.ts';
import { run } from '../helpers/exec.ts';

const at = (...parts: string[]) => join(REPO_ROOT, ...parts);
const yamlIn = (dir: string) =>
  existsSync(at(dir)) ? readdirSync(at(dir)).filter((f) => f.endsWith('.yml') || f.endsWith('.yaml')).map((f) => at(dir, f)) : [];

function expectSuccess(result: { code: number; stdout: string; stderr: string }): void {
  expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(0);
}

describe('collector', () => {
  it('our build validates otel-collector-config.yaml', async () => {
    expectSuccess(await run(requireBinary('collector'), ['validate', '--config', `file:${COLLECTOR_CONFIG}`]));
  });
});

describe('prometheus', () => {
  it('promtool check config accepts prometheus.yml', async () => {
    expectSuccess(await run(requireBinary('promtool'), ['check', 'config', at('prometheus', 'prometheus.yml')]));
  });

  it('promtool check rules accepts every rule file', async () => {
    const files = yamlIn('prometheus/rules');
    expect(files.length).toBeGreaterThan(0);
    expectSuccess(await run(requireBinary('promtool'), ['check', 'rules', ...files]));
  });

  it('promtool test rules passes every rule test', async () => {
    const files = yamlIn('prometheus/tests');
    expect(files.length).toBeGreaterThan(0);
    expectSuccess(await run(requireBinary('promtool'), ['test', 'rules', ...files], { cwd: at('prometheus', 'tests') }));
  });
});

describe('alertmanager', () => {
  it('amtool check-config accepts alertmanager.yml', async () => {
    expectSuccess(await run(requireBinary('amtool'), ['check-config', at('alertmanager', 'alertmanager.yml')]));
  });
});

describe('docker-compose', () => {
  // Secrets and the alert email settings have no defaults in the compose file; .env.example lists them.
  const smtp = { SMTP_SMARTHOST: 'mail.example.org:587', SMTP_FROM: 'from@example.org', ALERT_EMAIL_ONCALL: 'oncall@example.org', ALERT_EMAIL_PLATFORM: 'platform@example.org' };
  const secrets = { POSTGRES_PASSWORD: 'pw', SOCKETSCOPE_ADMIN_TOKEN: 'token', GRAFANA_ADMIN_PASSWORD: 'pw', GRAFANA_DB_PASSWORD: 'reader-pw', ALERTMANAGER_WEBHOOK_TOKEN: 'webhook-token-0123456789', ...smtp };
  const compose = (env: Record<string, string>) => {
    const base = { ...process.env };
    for (const name of [...Object.keys(secrets), 'WATCHDOG_HEARTBEAT_URL', 'BROWSER_SERVICE_NAMES', 'BROWSER_SPAN_NAMES']) delete base[name];
    return run(requireBinary('dockerCompose'), ['-f', at('docker-compose.yml'), 'config', '-q'], { cwd: REPO_ROOT, env: { ...base, ...env } });
  };

  it('docker-compose config -q accepts docker-compose.yml', async () => {
    expectSuccess(await compose(secrets));
  });

  it('.env.example sets everything compose requires', async () => {
    const base = { ...process.env };
    for (const name of [...Object.keys(secrets), 'WATCHDOG_HEARTBEAT_URL', 'BROWSER_SERVICE_NAMES', 'BROWSER_SPAN_NAMES']) delete base[name];
    expectSuccess(await run(requireBinary('dockerCompose'), ['-f', at('docker-compose.yml'), '--env-file', at('.env.example'), 'config', '-q'], { cwd: REPO_ROOT, env: base }));
  });

  it('refuses to start without the alert webhook token', async () => {
    const { ALERTMANAGER_WEBHOOK_TOKEN: _omitted, ...rest } = secrets;
    const result = await compose(rest);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('set ALERTMANAGER_WEBHOOK_TOKEN');
  });

  it('refuses to start without the SMTP settings, naming each', async () => {
    for (const name of Object.keys(smtp)) {
      const rest: Record<string, string> = { ...secrets };
      delete rest[name];
      const result = await compose(rest);
      expect(result.code, name).not.toBe(0);
      expect(result.stderr).toContain(`set ${name}`);
    }
  });

  /** Runs the alertmanager container's entrypoint script (up to its exec) on the shipped file; returns the rendered config, checked by amtool. */
  async function renderWithEntrypoint(dir: string, extraEnv: Record<string, string>): Promise<string> {
    const service = (parse(readFileSync(at('docker-compose.yml'), 'utf8')) as { services: { alertmanager: { command: string[] } } }).services.alertmanager;
    // The container's script with compose's $$ unescaped, its paths mapped into a temp dir, stopped before exec.
    const script = (service.command[0] ?? '')
      .replaceAll('$$', '$')
      .replaceAll('/etc/alertmanager', at('alertmanager'))
      .replaceAll('/tmp/am', dir)
      .split(' && exec ')[0] as string;
    const env = { PATH: process.env.PATH ?? '', ...smtp, ...extraEnv };
    expectSuccess(await run('sh', ['-c', script], { env }));
    const file = join(dir, 'alertmanager.yml');
    expectSuccess(await run(requireBinary('amtool'), ['check-config', file]));
    return readFileSync(file, 'utf8');
  }

  const heartbeatReceiver = (rendered: string) =>
    (parse(rendered) as { receivers: Array<{ name: string; webhook_configs?: unknown[] }> }).receivers.find((r) => r.name === 'watchdog-heartbeat');

  it("the alertmanager entrypoint renders a config amtool accepts, the webhook token in a 0600 credentials file, no heartbeat integration without WATCHDOG_HEARTBEAT_URL", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'socketscope-am-entrypoint-'));
    try {
      // Characters that would break a sed replacement must reach the file unchanged.
      const token = 'tok|en&with\\odd$chars-0123456789';
      const rendered = await renderWithEntrypoint(dir, { ALERTMANAGER_WEBHOOK_TOKEN: token });
      expect(readFileSync(join(dir, 'webhook-token'), 'utf8')).toBe(token);
      expect(statSync(join(dir, 'webhook-token')).mode & 0o777).toBe(0o600);
      expect(rendered).not.toContain('alertmanager-webhook-token-not-set');
      expect(rendered.match(/credentials_file: .*$/gm)).toEqual([`credentials_file: ${dir}/webhook-token`]);
      expect(rendered).toContain('smtp_smarthost: mail.example.org:587');
      expect(heartbeatReceiver(rendered)).toEqual({ name: 'watchdog-heartbeat', webhook_configs: [] });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the alertmanager entrypoint sends the Watchdog to WATCHDOG_HEARTBEAT_URL, the URL unchanged whatever its characters', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'socketscope-am-entrypoint-'));
    try {
      const url = 'https://hc-ping.example.com/ping/0f2a|b&c?x="y"\\z';
      const rendered = await renderWithEntrypoint(dir, { ALERTMANAGER_WEBHOOK_TOKEN: 'webhook-token-0123456789', WATCHDOG_HEARTBEAT_URL: url });
      expect(heartbeatReceiver(rendered)).toEqual({ name: 'watchdog-heartbeat', webhook_configs: [{ url, send_resolved: false }] });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
