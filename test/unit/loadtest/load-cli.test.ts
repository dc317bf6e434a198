/**
 * How `socketscope load` turns its options into a plan and gates: every
 * option that would be ignored, or would change the test's meaning without a
 * word, is a usage error (exit code 2) instead.
 */
import { describe, expect, it } from 'vitest';
import { planFromCli, UsageError, type LoadCliOptions } from '../../../src/commands/load.ts';

const cli = (options: Partial<LoadCliOptions>): Promise<unknown> =>
  planFromCli({ url: 'ws://127.0.0.1:8080/ws', headers: [], subprotocol: [], echo: true, ...options });

async function usageError(options: Partial<LoadCliOptions>): Promise<string> {
  const error = await cli(options).then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(UsageError);
  return (error as Error).message;
}

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
});
