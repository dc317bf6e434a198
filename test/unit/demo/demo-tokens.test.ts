/**
 * The tokens `socketscope demo` passes to the service and prints follow the
 * config's rule (src/config.ts): trimmed, and empty counts as unset.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/config.ts';
import { demoTokens } from '../../../src/demo/run-demo.ts';

describe('demoTokens', () => {
  it('generates tokens when the variables are unset or empty', () => {
    for (const env of [{}, { SOCKETSCOPE_ADMIN_TOKEN: '', ALERTMANAGER_WEBHOOK_TOKEN: '' }, { SOCKETSCOPE_ADMIN_TOKEN: '   ' }]) {
      const { adminToken, webhookToken } = demoTokens(env);
      expect(adminToken).toMatch(/^[A-Za-z0-9_-]{24}$/);
      expect(webhookToken).toMatch(/^[A-Za-z0-9_-]{32}$/);
    }
  });

  it('takes the set ones as the config reads them', () => {
    expect(demoTokens({ SOCKETSCOPE_ADMIN_TOKEN: '  admin-token-0123456789  ', ALERTMANAGER_WEBHOOK_TOKEN: 'webhook-token-0123456789' })).toEqual({
      adminToken: 'admin-token-0123456789',
      webhookToken: 'webhook-token-0123456789',
    });
    expect(() => demoTokens({ SOCKETSCOPE_ADMIN_TOKEN: 'short' })).toThrow(ConfigError);
  });
});
