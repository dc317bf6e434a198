/**
 * The shipped configs are code: each is checked by the tool that runs it.
 * Files are globbed, so a new rule file or promtool test is picked up.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
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
  it('docker-compose config -q accepts docker-compose.yml', async () => {
    // Secrets have no defaults in the compose file; .env.example lists them.
    const env = { ...process.env, POSTGRES_PASSWORD: 'pw', SOCKETSCOPE_ADMIN_TOKEN: 'token', GRAFANA_ADMIN_PASSWORD: 'pw' };
    expectSuccess(await run(requireBinary('dockerCompose'), ['-f', at('docker-compose.yml'), 'config', '-q'], { cwd: REPO_ROOT, env }));
  });
});
