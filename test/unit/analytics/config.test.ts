/** The service configuration: defaults, validation messages, flag precedence, and the docs table kept in sync. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, renderConfigTable } from '../../../src/config.ts';
import { REPO_ROOT } from '../../../src/stack/index.ts';

describe('loadConfig', () => {
  it('runs with nothing set: embedded database, 30 days retention, no CORS origins', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({ port: 8080, host: '127.0.0.1', databaseUrl: undefined, dataDir: './.data', retentionDays: 30, corsOrigins: [], logLevel: 'info' });
    expect(config.prometheusUrl).toBeUndefined();
  });

  it('parses values and lets flags win over the environment', () => {
    const config = loadConfig(
      { PORT: '9000', DATABASE_URL: 'postgres://u@db:5432/x', CORS_ORIGINS: 'https://a.example, https://b.example', WEBSOCKET_METRICS_RETENTION_DAYS: '7' },
      { port: '9100' },
    );
    expect(config).toMatchObject({ port: 9100, databaseUrl: 'postgres://u@db:5432/x', corsOrigins: ['https://a.example', 'https://b.example'], retentionDays: 7 });
  });

  it('names every bad variable at once', () => {
    let error: unknown;
    try {
      loadConfig({ PORT: 'eighty', DATABASE_URL: 'mysql://x', SOCKETSCOPE_ADMIN_TOKEN: 'short', WEBSOCKET_METRICS_RETENTION_DAYS: '0' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).issues.map((i) => i.split('=')[0])).toEqual(['PORT', 'DATABASE_URL', 'SOCKETSCOPE_ADMIN_TOKEN', 'WEBSOCKET_METRICS_RETENTION_DAYS']);
  });
});

describe('docs/configuration.md', () => {
  it('holds the table generated from CONFIG_VARIABLES', () => {
    const doc = readFileSync(join(REPO_ROOT, 'docs', 'configuration.md'), 'utf8');
    const table = /<!-- config-table:start -->\n([\s\S]*?)\n<!-- config-table:end -->/.exec(doc)?.[1];
    expect(table).toBe(renderConfigTable());
  });
});
