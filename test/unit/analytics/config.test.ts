/** The service configuration: defaults, validation messages, flag precedence, and the docs table kept in sync. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CONFIG_VARIABLES, ConfigError, loadConfig, renderConfigTable } from '../../../src/config.ts';
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

describe('blank values', () => {
  it('count as unset for every variable, so the default applies (compose and Helm pass an unset variable on as "")', () => {
    const defaults = loadConfig({});
    for (const blank of ['', ' ', '\t ']) {
      const env = Object.fromEntries(CONFIG_VARIABLES.map((v) => [v.env, blank]));
      expect(loadConfig(env), JSON.stringify(blank)).toEqual(defaults);
    }
    // The numbers a blank used to turn into 0: any free port, tasks off.
    expect(loadConfig({ PORT: '', ANOMALY_INTERVAL_SECONDS: ' ', ROLLUP_INTERVAL_SECONDS: '', MAINTENANCE_INTERVAL_SECONDS: '  ' })).toMatchObject({
      port: 8080,
      anomalyIntervalSeconds: 300,
      rollupIntervalSeconds: 60,
      maintenanceIntervalSeconds: 3600,
    });
    // A blank flag does not hide the environment's value; 0 given on purpose still means 0.
    expect(loadConfig({ PORT: '9000', ANOMALY_INTERVAL_SECONDS: '0' }, { port: '' })).toMatchObject({ port: 9000, anomalyIntervalSeconds: 0 });
  });
});

describe('TRUST_PROXY', () => {
  const trustProxy = (value: string) => loadConfig({ TRUST_PROXY: value }).trustProxy;
  const issue = (value: string) => {
    try {
      loadConfig({ TRUST_PROXY: value });
    } catch (error) {
      return (error as ConfigError).issues;
    }
    return [];
  };

  it('takes false, hop counts, and proxy addresses, names or CIDRs', () => {
    expect(loadConfig({}).trustProxy).toBe(false);
    expect([trustProxy('false'), trustProxy('0'), trustProxy('1'), trustProxy(' 2 ')]).toEqual([false, 0, 1, 2]);
    expect(trustProxy('loopback')).toEqual(['loopback']);
    expect(trustProxy('loopback, 10.0.0.0/8,192.168.1.1, fd00::/8, ::1, 10.1.0.0/255.255.0.0, uniquelocal')).toEqual(['loopback', '10.0.0.0/8', '192.168.1.1', 'fd00::/8', '::1', '10.1.0.0/255.255.0.0', 'uniquelocal']);
  });

  it('refuses true (it would believe any client’s X-Forwarded-For), saying what to give instead', () => {
    expect(issue('true')).toEqual([
      'TRUST_PROXY="true": true would believe any X-Forwarded-For a client sends: give the number of proxies in front of the service (e.g. 1) or their addresses/CIDRs (e.g. loopback or 10.0.0.0/8)',
    ]);
  });

  it('refuses what is neither a hop count nor an address', () => {
    expect(issue('yes, 10.0.0.0/33')).toEqual(['TRUST_PROXY="yes, 10.0.0.0/33": not false, a hop count, or proxy addresses/CIDRs (loopback, linklocal, uniquelocal, IPs, IP/prefix): "yes", "10.0.0.0/33"']);
    for (const value of ['fe80::/129', '10.0.0.1/8/8', '::1/255.0.0.0', 'proxy.internal', '-1', '1.5']) expect(issue(value), value).toHaveLength(1);
  });
});

describe('PROMETHEUS_HEADERS and ALERTMANAGER_HEADERS', () => {
  const issues = (env: Record<string, string>) => {
    try {
      loadConfig(env);
    } catch (error) {
      return (error as ConfigError).issues;
    }
    return [];
  };

  it('are empty by default, and take name=value pairs with URL-encoded values (names lower-cased)', () => {
    expect(loadConfig({})).toMatchObject({ prometheusHeaders: {}, alertmanagerHeaders: {} });
    expect(loadConfig({ PROMETHEUS_HEADERS: 'X-Scope-OrgID=tenant-1, Authorization=Bearer%20abc%2Cdef', ALERTMANAGER_HEADERS: 'X-Scope-OrgID=t%3D2' })).toMatchObject({
      prometheusHeaders: { 'x-scope-orgid': 'tenant-1', authorization: 'Bearer abc,def' },
      alertmanagerHeaders: { 'x-scope-orgid': 't=2' },
    });
  });

  it('refuse what is not a header, naming each bad entry and the format', () => {
    expect(issues({ PROMETHEUS_HEADERS: 'X-Scope-OrgID, bad name=1, x=%zz, Host=h, x-a=a%0Ab, X-A=1, x-a=2' })).toEqual([
      'PROMETHEUS_HEADERS=(65 characters, not shown): expected comma-separated name=value pairs with URL-encoded values (e.g. X-Scope-OrgID=tenant-1): ' +
        'entry 1: not name=value; entry 2: not a header name; entry 3 (x): the value is not URL-encoded correctly; entry 4 (host): host is set by the HTTP client; ' +
        'entry 5 (x-a): control characters in the value; entry 7 (x-a): x-a given twice',
    ]);
  });

  it('never echo a credential in an error: tokens and headers by length, URLs without their password', () => {
    expect(issues({ SOCKETSCOPE_ADMIN_TOKEN: 'short-secret', ALERTMANAGER_URL: 'ftp://user:hunter2@am:9093', DATABASE_URL: 'mysql://app:s3cret@db:3306/x' })).toEqual([
      'DATABASE_URL="mysql://***@db:3306/x": must be a postgres:// URL',
      'ALERTMANAGER_URL="ftp://***@am:9093": Invalid URL',
      'SOCKETSCOPE_ADMIN_TOKEN=(12 characters, not shown): must be at least 16 characters',
    ]);
  });

  it('refuse credentials given twice: user:password@ in the URL and an Authorization header', () => {
    expect(issues({ PROMETHEUS_URL: 'http://u:p@prometheus:9090', PROMETHEUS_HEADERS: 'Authorization=Bearer%20t' })).toEqual([
      'PROMETHEUS_URL has user:password@ and PROMETHEUS_HEADERS an Authorization header: give the credentials one way',
    ]);
    expect(loadConfig({ ALERTMANAGER_URL: 'http://u:p@alertmanager:9093', ALERTMANAGER_HEADERS: 'X-Scope-OrgID=t' })).toMatchObject({ alertmanagerUrl: 'http://u:p@alertmanager:9093' });
  });
});

describe('docs/configuration.md', () => {
  it('holds the table generated from CONFIG_VARIABLES', () => {
    const doc = readFileSync(join(REPO_ROOT, 'docs', 'configuration.md'), 'utf8');
    const table = /<!-- config-table:start -->\n([\s\S]*?)\n<!-- config-table:end -->/.exec(doc)?.[1];
    expect(table).toBe(renderConfigTable());
  });
});
