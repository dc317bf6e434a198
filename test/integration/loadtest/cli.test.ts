import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import type { LoadReport } from '../../../src/loadtest/index.ts';
import { run } from '../../helpers/exec.ts';
import { startWsServer, type TestWsServer } from './servers.ts';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const socketscope = (...args: string[]) => run(process.execPath, ['bin/socketscope.js', ...args], { cwd: root });

let server: TestWsServer | null = null;
afterEach(async () => {
  await server?.close();
  server = null;
});

type CliReport = LoadReport & { gates: { passed: boolean; failures: string[]; max_p95_ms?: number; max_error_rate?: number } };

describe('socketscope load (the real CLI)', () => {
  it('exits 1 with a clear message when p95 exceeds --max-p95, and 0 when it does not', async () => {
    server = await startWsServer({ kind: 'delay', ms: 60 });
    const base = ['load', '--url', server.url, '-c', '4', '--rate', '10', '-d', '0.6s', '--json'];

    const failing = await socketscope(...base, '--max-p95', '50');
    expect(failing.code).toBe(1);
    expect(failing.stderr).toMatch(/^socketscope load: FAILED: p95 latency [\d.]+ ms exceeds --max-p95 50 ms$/m);
    const report = JSON.parse(failing.stdout) as CliReport;
    expect(report.messages).toMatchObject({ sent: 24, matched: 24, lost: 0 });
    expect(report.latency_ms.p95).toBeGreaterThanOrEqual(60 * 0.999);
    expect(report.gates).toMatchObject({ passed: false, max_p95_ms: 50 });
    expect(report.connections).toMatchObject({ target: 4, opened: 4, failed: 0 });
    expect(Object.keys(report.connect_ms)).toEqual(['count', 'p50', 'p90', 'p95', 'p99', 'max', 'mean']);
    expect(typeof report.duration_s).toBe('number');

    // A gate far above anything the machine can produce passes; so does a zero error budget with no errors.
    const passing = await socketscope(...base, '--max-p95', '60000', '--max-error-rate', '0');
    expect(passing.stderr).toBe('');
    expect(passing.code).toBe(0);
    expect((JSON.parse(passing.stdout) as CliReport).gates).toEqual({ max_p95_ms: 60000, max_error_rate: 0, passed: true, failures: [] });
  });

  it('gates on the error rate, and prints the human report with progress lines when asked', async () => {
    server = await startWsServer({ kind: 'drop', dropEvery: 4 });
    const result = await socketscope('load', '--url', server.url, '-c', '3', '--rate', '20', '-d', '0.5s', '--drain-timeout', '300ms', '--max-error-rate', '0.1', '--progress');
    expect(result.code).toBe(1);
    // 3 connections x 10 messages, every 4th dropped: 6 lost of 30.
    expect(result.stdout).toContain('messages     planned 30  sent 30  received 24  matched 24  lost 6');
    expect(result.stdout).toContain('error rate   connections 0.00 %  messages 20.00 %');
    expect(result.stderr).toMatch(/open \d+\/3/);
    expect(result.stderr).toContain('socketscope load: FAILED: message error rate 20.00 % (6 of 30 messages lost) exceeds --max-error-rate 10.00 %');
  });

  it('fails --max-error-rate when half the connections are refused, however many messages the rest send', async () => {
    server = await startWsServer({ kind: 'echo' }, { refuseEvery: 2 });
    // 2 of 4 connections refused, 20 messages all echoed: the old rate was 2 / (4 + 20), under 10 %.
    const result = await socketscope('load', '--url', server.url, '-c', '4', '--rate', '10', '-d', '1s', '--max-error-rate', '0.1', '--json');
    expect(result.code).toBe(1);
    expect(result.stderr).toBe('socketscope load: FAILED: connection error rate 50.00 % (2 of 4 connections failed or dropped) exceeds --max-error-rate 10.00 %\n');
    const report = JSON.parse(result.stdout) as CliReport;
    expect(report).toMatchObject({ connection_error_rate: 0.5, message_error_rate: 0, error_rate: 0.5 });
    expect(report.connections).toMatchObject({ target: 4, opened: 2, failed: 2 });
  });

  it('fails --max-p95 against a server that answers and then hangs', async () => {
    server = await startWsServer({ kind: 'hang', afterMessages: 4 });
    const result = await socketscope('load', '--url', server.url, '-c', '2', '--rate', '20', '-d', '1s', '--drain-timeout', '200ms', '--max-p95', '50', '--json');
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^socketscope load: FAILED: p95 latency [\d.]+ ms \(32 lost messages counted at the time they were given up on\) exceeds --max-p95 50 ms$/m);
    const report = JSON.parse(result.stdout) as CliReport;
    expect(report.messages).toMatchObject({ sent: 40, matched: 8, lost: 32 });
    expect(report.latency_ms).toMatchObject({ count: 40, lower_bounds: 32 });
    expect(Object.keys(report.open_delay_ms)).toEqual(['count', 'p50', 'p90', 'p95', 'p99', 'max', 'mean']);
  });

  it('fails the gates against a server that drops its connections inside the measured window', async () => {
    // 2 connections (one per worker) closed after 3 messages of 10: 14 slots never sent, lost.
    server = await startWsServer({ kind: 'close', code: 1011, afterMessages: 3 });
    const args = ['load', '--url', server.url, '-c', '2', '--workers', '2', '--rate', '10', '-d', '1s', '--drain-timeout', '200ms', '--json'];
    const p95 = await socketscope(...args, '--max-p95', '50');
    expect(p95.code).toBe(1);
    expect(p95.stderr).toMatch(/^socketscope load: FAILED: p95 latency [\d.]+ ms \(14 lost messages counted at the time they were given up on\) exceeds --max-p95 50 ms$/m);
    const report = JSON.parse(p95.stdout) as CliReport;
    expect(report.messages).toMatchObject({ planned: 20, sent: 20, matched: 6, lost: 14, unsent: 14 });
    expect(Object.keys(report.send_lag_ms)).toEqual(['count', 'p50', 'p90', 'p95', 'p99', 'max', 'mean']);
    const errorRate = await socketscope(...args, '--max-error-rate', '0.5');
    expect(errorRate.code).toBe(1);
    expect(errorRate.stderr).toContain('socketscope load: FAILED: message error rate 70.00 % (14 of 20 messages lost) exceeds --max-error-rate 50.00 %');
  });

  it('exits 1 without any gate when no connection opened or no echo matched', async () => {
    server = await startWsServer({ kind: 'silent' });
    const silent = await socketscope('load', '--url', server.url, '-c', '2', '--rate', '10', '-d', '0.5s', '--drain-timeout', '100ms');
    expect(silent.code).toBe(1);
    expect(silent.stderr).toBe(
      'socketscope load: FAILED: no echo matched any of the 10 messages sent (does the server echo them with their id? else pass --no-echo)\n',
    );
    const noEcho = await socketscope('load', '--url', server.url, '-c', '2', '--rate', '10', '-d', '0.5s', '--no-echo');
    expect(noEcho.code).toBe(0);
    expect(noEcho.stderr).toBe('');

    // The close reason (the server echoing ours) is quoted, so it does not read as part of the line.
    const alive = await socketscope('test', 'basic', '--url', server.url);
    expect(alive.code).toBe(0);
    expect(alive.stdout).toContain('basic test PASSED');
    expect(alive.stdout).toMatch(/^connect \d+(\.\d+)? ms {3}ping \d+(\.\d+)? ms {3}close 1000 "socketscope test done"$/m);

    const url = server.url;
    await server.close();
    server = null;
    const nobody = await socketscope('load', '--url', url, '-c', '2', '--rate', '1', '-d', '0.2s', '--json');
    expect(nobody.code).toBe(1);
    expect(nobody.stderr).toBe('socketscope load: FAILED: no connection opened (2 of 2 failed: connect:ECONNREFUSED ×2)\n');
    expect((JSON.parse(nobody.stdout) as CliReport).gates).toEqual({ passed: false, failures: ['no connection opened (2 of 2 failed: connect:ECONNREFUSED ×2)'] });
  });

  it('keeps stderr silent without a terminal or --progress', async () => {
    server = await startWsServer({ kind: 'echo' });
    const result = await socketscope('load', '--url', server.url, '-c', '2', '--rate', '5', '-d', '0.4s');
    expect(result.code).toBe(0);
    expect(result.stderr).toBe('');
    expect(result.stdout).toContain('messages     planned 4  sent 4  received 4  matched 4  lost 0');
  });

  it('refuses a connection count above the open-files limit and says how to raise it', async () => {
    const result = await run('bash', ['-c', `ulimit -n 200; exec "${process.execPath}" bin/socketscope.js load --url ws://127.0.0.1:9/ -c 500`], {
      cwd: root,
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('500 connections need about 564 open files, but the soft limit (ulimit -n) is 200');
    expect(result.stderr).toMatch(/ulimit -n \d+/);
    expect(result.stdout).toBe('');
  });

  it('rejects bad options with a message and exit code 2, distinct from a failed gate', async () => {
    const result = await socketscope('load', '--url', 'ws://127.0.0.1:9/', '--message', 'hi {{nope}}');
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('unknown placeholder {{nope}} in --message');
    // None of these connects to anything: port 9 has no server, and none gets that far.
    const usage = async (...args: string[]) => {
      const r = await socketscope('load', '--url', 'ws://127.0.0.1:9/', ...args);
      expect(r.stdout).toBe('');
      return { code: r.code, stderr: r.stderr };
    };
    expect(await usage('--rate', '')).toEqual({ code: 2, stderr: 'socketscope load: --rate must be a number >= 0, got ""\n' });
    expect(await usage('--max-error-rate', '5')).toEqual({
      code: 2,
      stderr: 'socketscope load: --max-error-rate is a fraction from 0 to 1 (0.05 means 5%), got "5"\n',
    });
    expect(await usage('--max-p95', '50', '--rate', '0')).toEqual({
      code: 2,
      stderr: 'socketscope load: --max-p95 needs echoed messages to time, so it cannot be combined with --rate 0\n',
    });
    expect(await usage('--max-p95', '50', '--no-echo')).toEqual({
      code: 2,
      stderr: 'socketscope load: --max-p95 needs echoed messages to time, so it cannot be combined with --no-echo\n',
    });
    expect(await usage('--stages', '10:1s:5s', '-c', '20')).toEqual({
      code: 2,
      stderr: 'socketscope load: --stages sets the connections and timing itself, so it cannot be combined with -c/--connections\n',
    });
    const drill = await usage('--profile', 'alert-drill', '-c', '2000');
    expect(drill.code).toBe(2);
    expect(drill.stderr).toMatch(/^socketscope load: --profile alert-drill runs its own stages \(510, then 1010 connections\), so it cannot be combined with -c\/--connections;/);
    // Caught up front, not as "load worker 0 crashed: …".
    expect(await usage('-H', 'Bad Header: x')).toEqual({ code: 2, stderr: 'socketscope load: -H/--headers: "Bad Header" is not a valid header name\n' });
    expect(await socketscope('load', '--url', 'ws://127.0.0.1:9/#frag')).toEqual({
      code: 2,
      stdout: '',
      stderr: 'socketscope load: --url must not contain a fragment (#…)\n',
    });
    expect(await usage('-d', '0')).toEqual({
      code: 2,
      stderr: 'socketscope load: -d/--duration must be above 0 when messages are sent (--rate above 0) or a gate is given: nothing would be measured\n',
    });
    // Commander's own parse errors are usage errors too.
    expect((await usage('--no-such-option')).code).toBe(2);
    expect((await usage('--profile', 'huge')).code).toBe(2);
    expect((await run(process.execPath, ['bin/socketscope.js', 'load'], { cwd: root })).code).toBe(2);
    const help = await socketscope('load', '--help');
    expect(help.code).toBe(0);
    for (const flag of ['--profile', '--max-p95', '--max-error-rate', '--headers', '--token', '--warmup', '--ramp-up', '--rate', '--payload-bytes', '--json']) {
      expect(help.stdout).toContain(flag);
    }
  });
});

describe('socketscope test (the real CLI)', () => {
  it('runs basic, echo and pool against a live server and fails on a dead one', async () => {
    server = await startWsServer({ kind: 'echo' });
    const echo = await socketscope('test', 'echo', '--url', server.url, '--count', '5', '--payload-bytes', '32', '--json');
    expect(echo.code).toBe(0);
    expect(JSON.parse(echo.stdout)).toMatchObject({ kind: 'echo', ok: true, sent: 5, received: 5, identical: 5, lost: 0 });

    const pool = await socketscope('test', 'pool', '--url', server.url, '-c', '6', '--workers', '3', '--hold', '0.2s');
    expect(pool.code).toBe(0);
    expect(pool.stdout).toContain('pool test PASSED');
    expect(pool.stdout).toContain('per worker  #0 2/2   #1 2/2   #2 2/2');

    // The close reason (the server echoing ours) is quoted, so it does not read as part of the line.
    const alive = await socketscope('test', 'basic', '--url', server.url);
    expect(alive.code).toBe(0);
    expect(alive.stdout).toContain('basic test PASSED');
    expect(alive.stdout).toMatch(/^connect \d+(\.\d+)? ms {3}ping \d+(\.\d+)? ms {3}close 1000 "socketscope test done"$/m);

    const url = server.url;
    await server.close();
    server = null;
    const basic = await socketscope('test', 'basic', '--url', url);
    expect(basic.code).toBe(1);
    expect(basic.stdout).toContain('basic test FAILED');
    expect(basic.stdout).toContain('could not connect (ECONNREFUSED)');
  });

  it('exits 2 on a usage error, and takes an empty value as an error rather than the default', async () => {
    const url = 'ws://127.0.0.1:9/';
    expect(await socketscope('test', 'echo', '--url', url, '--count', '')).toMatchObject({
      code: 2,
      stdout: '',
      stderr: 'socketscope test: --count must be an integer >= 1, got ""\n',
    });
    expect(await socketscope('test', 'pool', '--url', url, '--workers', '0x2')).toMatchObject({
      code: 2,
      stderr: 'socketscope test: --workers must be an integer >= 1, got "0x2"\n',
    });
    expect((await socketscope('test', 'echo', '--url', url, '--handshake-timeout', '')).code).toBe(2);
    expect((await socketscope('test', 'nope', '--url', url)).code).toBe(2);
    // Bad handshake options are usage errors, not a failed test (exit 1).
    expect(await socketscope('test', 'basic', '--url', url, '-H', 'Bad Header: x')).toEqual({
      code: 2,
      stdout: '',
      stderr: 'socketscope test: -H/--headers: "Bad Header" is not a valid header name\n',
    });
    expect(await socketscope('test', 'echo', '--url', url, '--subprotocol', 'a,b')).toMatchObject({
      code: 2,
      stderr: 'socketscope test: --subprotocol: "a,b" is not a valid subprotocol name (an RFC 6455 token)\n',
    });
    expect(await socketscope('test', 'basic', '--url', url, '--token', 't', '-H', 'authorization: Basic eA==')).toMatchObject({
      code: 2,
      stderr: 'socketscope test: --token sets the Authorization header, so it cannot be combined with -H/--headers "Authorization: …"; give one of them\n',
    });
  });
});
