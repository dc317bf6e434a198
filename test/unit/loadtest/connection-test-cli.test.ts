/**
 * How `socketscope test basic|pool|echo` turns its options into a test
 * (testFromCli in src/commands/connection-test.ts): an option only another
 * kind of test reads is a usage error naming it and its kind, as `load`
 * refuses options it would ignore; timeouts under 1 ms are usage errors.
 */
import { describe, expect, it } from 'vitest';
import { type TestCliOptions, type TestKind, testFromCli } from '../../../src/commands/connection-test.ts';
import { usageErrorOf } from '../../helpers/usage-error.ts';

const URL = 'ws://127.0.0.1:8080/ws';
const cli = (kind: TestKind, options: Partial<TestCliOptions> = {}) => testFromCli(kind, { url: URL, headers: [], subprotocol: [], ...options });

const usageError = (kind: TestKind, options: Partial<TestCliOptions>): Promise<string> => usageErrorOf(cli(kind, options));

describe('socketscope test options', () => {
  it('refuses the options of other kinds of test, naming them and their kind', async () => {
    expect(await usageError('basic', { count: '500', connections: '9', hold: '5s' })).toBe(
      'test basic does not use --count (echo only), -c/--connections and --hold (pool only); leave them out or run that test',
    );
    expect(await usageError('echo', { workers: '2' })).toBe('test echo does not use --workers (pool only); leave it out or run that test');
    expect(await usageError('pool', { count: '5', payloadBytes: '10', message: '{{id}}', timeout: '1s' })).toBe(
      'test pool does not use --count, --payload-bytes, --message and --timeout (echo only); leave them out or run that test',
    );
    // An empty value was given too.
    expect(await usageError('basic', { payloadBytes: '' })).toBe('test basic does not use --payload-bytes (echo only); leave it out or run that test');
  });

  it('passes each kind its own options', async () => {
    await expect(cli('basic', { handshakeTimeout: '2s', token: 't' })).resolves.toEqual({
      kind: 'basic',
      options: { url: URL, headers: {}, token: 't', subprotocols: [], handshakeTimeoutMs: 2000 },
    });
    await expect(cli('echo', { count: '5', payloadBytes: '0', message: '{{id}}', timeout: '250ms' })).resolves.toEqual({
      kind: 'echo',
      options: { url: URL, headers: {}, subprotocols: [], count: 5, payloadBytes: 0, message: '{{id}}', timeoutMs: 250 },
    });
    await expect(cli('pool', { connections: '9', workers: '3', hold: '5s' })).resolves.toEqual({
      kind: 'pool',
      options: { url: URL, headers: {}, subprotocols: [], connections: 9, workers: 3, holdS: 5 },
    });
  });

  it('refuses timeouts under 1 ms', async () => {
    expect(await usageError('basic', { handshakeTimeout: '0' })).toBe('--handshake-timeout must be at least 1ms, got "0"');
    expect(await usageError('echo', { timeout: '0.4ms' })).toBe('--timeout must be at least 1ms, got "0.4ms"');
    expect(await usageError('echo', { count: '' })).toBe('--count must be an integer >= 1, got ""');
  });
});
