/**
 * How `socketscope load` turns its options into a plan and gates: every
 * option that would be ignored, or would change the test's meaning without a
 * word, is a usage error (exit code 2) instead.
 */
import { describe, expect, it } from 'vitest';
import { planFromCli, type LoadCliOptions } from '../../../src/commands/load.ts';
import { usageErrorOf } from '../../helpers/usage-error.ts';

const cli = (options: Partial<LoadCliOptions>): Promise<unknown> =>
  planFromCli({ url: 'ws://127.0.0.1:8080/ws', headers: [], subprotocol: [], echo: true, ...options });

const usageError = (options: Partial<LoadCliOptions>): Promise<string> => usageErrorOf(cli(options));

describe('socketscope load options', () => {
  it('reads numbers as plain decimals: an empty --rate is not 0', async () => {
    expect(await usageError({ rate: '' })).toBe('--rate must be a number >= 0, got ""');
    expect(await usageError({ rate: ' ' })).toBe('--rate must be a number >= 0, got " "');
    expect(await usageError({ rate: '0x10' })).toBe('--rate must be a number >= 0, got "0x10"');
    expect(await usageError({ connections: '' })).toBe('--connections must be an integer >= 1, got ""');
    expect(await usageError({ payloadBytes: '1.5' })).toBe('--payload-bytes must be an integer >= 0, got "1.5"');
    expect(await usageError({ maxP95: '' })).toBe('--max-p95 must be a number >= 0, got ""');
    await expect(cli({ rate: '0.5', connections: '3', maxP95: '25' })).resolves.toMatchObject({ plan: { rate: 0.5 }, gates: { maxP95Ms: 25 } });
  });

  it('takes --max-error-rate as a fraction from 0 to 1', async () => {
    expect(await usageError({ maxErrorRate: '5' })).toBe('--max-error-rate is a fraction from 0 to 1 (0.05 means 5%), got "5"');
    expect(await usageError({ maxErrorRate: '' })).toBe('--max-error-rate is a fraction from 0 to 1 (0.05 means 5%), got ""');
    expect(await usageError({ maxErrorRate: '-0.1' })).toBe('--max-error-rate is a fraction from 0 to 1 (0.05 means 5%), got "-0.1"');
    for (const [text, value] of [['0', 0], ['0.05', 0.05], ['.05', 0.05], ['1', 1]] as const) {
      await expect(cli({ maxErrorRate: text })).resolves.toMatchObject({ gates: { maxErrorRate: value } });
    }
  });

  it('refuses --max-p95 where no latency is measured', async () => {
    expect(await usageError({ maxP95: '50', rate: '0' })).toBe('--max-p95 needs echoed messages to time, so it cannot be combined with --rate 0');
    expect(await usageError({ maxP95: '50', echo: false })).toBe('--max-p95 needs echoed messages to time, so it cannot be combined with --no-echo');
  });

  it('refuses options that --stages or --profile alert-drill would silently discard', async () => {
    expect(await usageError({ stages: '10:1s:5s', connections: '20', duration: '1m', rampUp: '5s' })).toBe(
      '--stages sets the connections and timing itself, so it cannot be combined with -c/--connections, --ramp-up, -d/--duration',
    );
    expect(await usageError({ stages: '10:1s:5s', profile: 'medium' })).toBe(
      '--stages sets the connections and timing itself, so it cannot be combined with --profile',
    );
    expect(await usageError({ profile: 'alert-drill', connections: '2000' })).toBe(
      '--profile alert-drill runs its own stages (510, then 1010 connections), so it cannot be combined with -c/--connections; set its holds with --drill-warning-hold and --drill-critical-hold, or describe another shape with --stages',
    );
    expect(await usageError({ drillWarningHold: '90s' })).toBe('--drill-warning-hold and --drill-critical-hold apply only to --profile alert-drill');
    await expect(cli({ stages: '10:1s:5s,20:1s:5s', warmup: '1s', rate: '2' })).resolves.toMatchObject({
      plan: { stages: [{ connections: 10 }, { connections: 20 }], warmupS: 1, rate: 2 },
    });
    await expect(cli({ profile: 'alert-drill', drillWarningHold: '90s', drillCriticalHold: '60s' })).resolves.toMatchObject({
      plan: { stages: [{ connections: 510, holdS: 90 }, { connections: 1010, holdS: 60 }] },
    });
  });

  it('requires a measured window when messages are sent or a gate is given', async () => {
    const window = '-d/--duration must be above 0 when messages are sent (--rate above 0) or a gate is given: nothing would be measured';
    expect(await usageError({ duration: '0' })).toBe(window);
    expect(await usageError({ duration: '0s', rate: '5' })).toBe(window);
    expect(await usageError({ duration: '0', rate: '0', maxErrorRate: '0' })).toBe(window);
    await expect(cli({ duration: '0', rate: '0' })).resolves.toMatchObject({ plan: { rate: 0 } });
  });

  it('refuses a handshake timeout under 1 ms instead of raising it to 1 ms (every handshake would time out)', async () => {
    expect(await usageError({ handshakeTimeout: '0' })).toBe('--handshake-timeout must be at least 1ms, got "0"');
    expect(await usageError({ handshakeTimeout: '0.4ms' })).toBe('--handshake-timeout must be at least 1ms, got "0.4ms"');
    expect(await usageError({ handshakeTimeout: '0s' })).toBe('--handshake-timeout must be at least 1ms, got "0s"');
    await expect(cli({ handshakeTimeout: '1ms' })).resolves.toMatchObject({ plan: { handshakeTimeoutMs: 1 } });
    await expect(cli({ handshakeTimeout: '0.6ms' })).resolves.toMatchObject({ plan: { handshakeTimeoutMs: 1 } });
    await expect(cli({ handshakeTimeout: '2.5s' })).resolves.toMatchObject({ plan: { handshakeTimeoutMs: 2500 } });
  });

  it('refuses durations past 24 h, naming the flag', async () => {
    expect(await usageError({ duration: '600h' })).toBe('-d/--duration: "600h" is longer than the 24 h limit');
    expect(await usageError({ rampUp: '25h' })).toBe('--ramp-up: "25h" is longer than the 24 h limit');
    expect(await usageError({ warmup: '1441m' })).toBe('--warmup: "1441m" is longer than the 24 h limit');
    expect(await usageError({ drainTimeout: '90000s' })).toBe('--drain-timeout: "90000s" is longer than the 24 h limit');
    expect(await usageError({ stages: '10:1s:25h' })).toBe('--stages: "25h" is longer than the 24 h limit');
  });

  it('validates headers, subprotocols and the URL up front instead of crashing a worker', async () => {
    expect(await usageError({ headers: ['Bad Header: x'] })).toBe('-H/--headers: "Bad Header" is not a valid header name');
    expect(await usageError({ headers: ['{"X-Ok":"a\\u0000b"}'] })).toBe('-H/--headers: the value of "X-Ok" has characters a header cannot carry');
    expect(await usageError({ subprotocol: ['chat v1'] })).toBe('--subprotocol: "chat v1" is not a valid subprotocol name (an RFC 6455 token)');
    expect(await usageError({ subprotocol: ['chat', 'chat'] })).toBe('--subprotocol: "chat" is given twice');
    expect(await usageError({ url: 'ws://127.0.0.1:8080/ws#frag' })).toBe('--url must not contain a fragment (#…)');
    await expect(cli({ headers: ['X-Tenant: acme'], subprotocol: ['chat.v1', 'chat.v2'] })).resolves.toMatchObject({
      plan: { headers: { 'x-tenant': 'acme' }, subprotocols: ['chat.v1', 'chat.v2'] },
    });
  });

  it('refuses --token together with an Authorization header rather than silently replacing it', async () => {
    const both = '--token sets the Authorization header, so it cannot be combined with -H/--headers "Authorization: …"; give one of them';
    expect(await usageError({ token: 't', headers: ['Authorization: Basic eA=='] })).toBe(both);
    expect(await usageError({ token: 't', headers: ['{"AUTHORIZATION":"Basic eA=="}'] })).toBe(both);
    await expect(cli({ token: 't' })).resolves.toMatchObject({ plan: { headers: { authorization: 'Bearer t' } } });
  });
});
