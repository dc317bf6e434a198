import { Argument, type Command } from 'commander';
import type { BasicTestOptions, EchoTestOptions, PoolTestOptions } from '../loadtest/index.ts';
import { collect, EXIT, handshakeFromCli, timeoutMsOption, UsageError, usageExit } from './load.ts';
import { closeText } from '../loadtest/close-text.ts';

export type TestKind = 'basic' | 'pool' | 'echo';

/** A test and the options it runs with. */
export type TestRun = { kind: 'basic'; options: BasicTestOptions } | { kind: 'echo'; options: EchoTestOptions } | { kind: 'pool'; options: PoolTestOptions };

export interface TestCliOptions {
  url: string;
  headers: string[];
  token?: string;
  subprotocol: string[];
  handshakeTimeout?: string;
  count?: string;
  payloadBytes?: string;
  message?: string;
  timeout?: string;
  connections?: string;
  workers?: string;
  hold?: string;
  json?: boolean;
}

function positiveInt(name: string, value: string | undefined, min = 1): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value.trim());
  // Digits only: Number('') is 0 and Number('0x10') is 16.
  if (!/^\d+$/.test(value.trim()) || n < min) throw new UsageError(`${name} must be an integer >= ${min}, got "${value}"`);
  return n;
}

/** `socketscope test basic|pool|echo`: quick checks that a WebSocket endpoint accepts, holds and echoes. */
export function registerConnectionTest(program: Command): void {
  program
    .command('test')
    .description('connection tests: basic (connect, ping, close), pool (many connections over worker threads), echo (round trips)')
    .addArgument(new Argument('<kind>', 'which test').choices(['basic', 'pool', 'echo']))
    .requiredOption('--url <ws-url>', 'server to test, ws:// or wss://')
    .option('-H, --headers <header>', 'handshake header "Name: value" (repeatable) or a JSON object', collect, [])
    .option('--token <token>', 'sent as "Authorization: Bearer <token>"')
    .option('--subprotocol <name>', 'WebSocket subprotocol to request (repeatable)', collect, [])
    .option('--handshake-timeout <duration>', 'opening handshake timeout, e.g. 10s (at least 1ms)')
    .option('--count <n>', 'echo: messages to send, one at a time (default 20)')
    .option('--payload-bytes <n>', 'echo: size of the {{payload}} filler (default 0)')
    .option('--message <template>', 'echo: message template; must contain {{id}}')
    .option('--timeout <duration>', 'echo: how long to wait for each echo (default 5s); stops after 3 timeouts in a row')
    .option('-c, --connections <n>', 'pool: connections to open (default 20)')
    .option('--workers <n>', 'pool: worker threads to spread them over (default 2)')
    .option('--hold <duration>', 'pool: how long to hold them open (default 1s)')
    .option('--json', 'print the result as JSON on stdout')
    .addHelpText(
      'after',
      `
Examples:
  socketscope test basic --url ws://127.0.0.1:8080/ws
  socketscope test echo --url ws://127.0.0.1:8080/ws --count 100 --payload-bytes 512
  socketscope test pool --url ws://127.0.0.1:8080/ws --connections 200 --workers 4 --json

--count, --payload-bytes, --message and --timeout are echo's options; -c/--connections,
--workers and --hold are pool's: given to another test they are a usage error.

Exits 1 when the test fails, 2 on a usage error.`,
    )
    .exitOverride(usageExit)
    .action(async (kind: TestKind, o: TestCliOptions) => {
      try {
        process.exitCode = await runTest(kind, o);
      } catch (error) {
        process.stderr.write(`socketscope test: ${(error as Error).message}\n`);
        process.exitCode = EXIT.usage;
      }
    });
}

/** The options only one kind of test reads, as the flags are written. */
const KIND_OPTIONS: Record<Exclude<TestKind, 'basic'>, Array<[flag: string, key: keyof TestCliOptions]>> = {
  echo: [
    ['--count', 'count'],
    ['--payload-bytes', 'payloadBytes'],
    ['--message', 'message'],
    ['--timeout', 'timeout'],
  ],
  pool: [
    ['-c/--connections', 'connections'],
    ['--workers', 'workers'],
    ['--hold', 'hold'],
  ],
};

const listed = (names: string[]): string => (names.length < 2 ? names.join('') : `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`);

/**
 * The options `socketscope test <kind>` runs with. Throws a UsageError for an
 * option another kind of test takes (it would be ignored, and the test run
 * would not be the one asked for), as `load` does for its combinations.
 */
export async function testFromCli(kind: TestKind, o: TestCliOptions): Promise<TestRun> {
  const foreign = (Object.entries(KIND_OPTIONS) as Array<[Exclude<TestKind, 'basic'>, Array<[string, keyof TestCliOptions]>]>)
    .filter(([other]) => other !== kind)
    .map(([other, flags]) => [other, flags.filter(([, key]) => o[key] !== undefined).map(([flag]) => flag)] as const)
    .filter(([, flags]) => flags.length > 0);
  if (foreign.length > 0) {
    throw new UsageError(`test ${kind} does not use ${foreign.map(([other, flags]) => `${listed(flags)} (${other} only)`).join(', ')}; leave ${foreign.flatMap(([, f]) => f).length === 1 ? 'it' : 'them'} out or run that test`);
  }
  const { parseDurationS } = await import('../loadtest/index.ts');
  const seconds = (name: string, v: string): number => {
    try {
      return parseDurationS(v, name);
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
  };
  // Bad headers, subprotocols, a URL fragment or --token with an Authorization header are usage errors, not a failed test.
  const handshake = handshakeFromCli(o);
  // `!== undefined` throughout: an empty value is an error, not the default.
  const common = {
    url: o.url,
    headers: handshake.headers,
    ...(o.token !== undefined ? { token: o.token } : {}),
    subprotocols: handshake.subprotocols,
    ...(o.handshakeTimeout !== undefined ? { handshakeTimeoutMs: await timeoutMsOption('--handshake-timeout', o.handshakeTimeout) } : {}),
  };
  if (kind === 'echo') {
    return {
      kind,
      options: {
        ...common,
        ...(o.count !== undefined ? { count: positiveInt('--count', o.count) } : {}),
        ...(o.payloadBytes !== undefined ? { payloadBytes: positiveInt('--payload-bytes', o.payloadBytes, 0) } : {}),
        ...(o.message !== undefined ? { message: o.message } : {}),
        ...(o.timeout !== undefined ? { timeoutMs: await timeoutMsOption('--timeout', o.timeout) } : {}),
      },
    };
  }
  if (kind === 'pool') {
    return {
      kind,
      options: {
        ...common,
        ...(o.connections !== undefined ? { connections: positiveInt('--connections', o.connections) } : {}),
        ...(o.workers !== undefined ? { workers: positiveInt('--workers', o.workers) } : {}),
        ...(o.hold !== undefined ? { holdS: seconds('--hold', o.hold) } : {}),
      },
    };
  }
  return { kind, options: common };
}

async function runTest(kind: TestKind, o: TestCliOptions): Promise<number> {
  const test = await testFromCli(kind, o);
  const { runConnectionTest } = await import('../loadtest/index.ts');
  const controller = new AbortController();
  const onSignal = (): void => controller.abort(new Error('interrupted'));
  process.once('SIGINT', onSignal);
  try {
    const signal = controller.signal;
    const result =
      test.kind === 'basic'
        ? await runConnectionTest('basic', { ...test.options, signal })
        : test.kind === 'echo'
          ? await runConnectionTest('echo', { ...test.options, signal })
          : await runConnectionTest('pool', { ...test.options, signal });
    process.stdout.write(o.json ? `${JSON.stringify(result, null, 2)}\n` : `${formatResult(result)}\n`);
    return result.ok ? EXIT.passed : EXIT.failed;
  } catch (error) {
    if (controller.signal.aborted) {
      process.stderr.write('socketscope test: interrupted\n');
      return EXIT.interrupted;
    }
    throw error;
  } finally {
    process.off('SIGINT', onSignal);
  }
}

type Result = Awaited<ReturnType<typeof import('../loadtest/index.ts').runConnectionTest>>;

function formatResult(r: Result): string {
  const head = `${r.kind} test ${r.ok ? 'PASSED' : 'FAILED'}  ${r.url}`;
  const lines = [head];
  switch (r.kind) {
    case 'basic':
      lines.push(`connect ${r.connect_ms ?? '–'} ms   ping ${r.ping_ms ?? '–'} ms   close ${r.close ? closeText(r.close) : '–'}`);
      if (r.protocol || r.extensions) lines.push(`protocol "${r.protocol}"   extensions "${r.extensions}"`);
      break;
    case 'echo':
      lines.push(
        `sent ${r.sent}   echoed ${r.received}   identical ${r.identical}   lost ${r.lost}${r.not_attempted > 0 ? `   not attempted ${r.not_attempted}` : ''}   connect ${r.connect_ms ?? '–'} ms`,
      );
      if (r.rtt_ms.count > 0) lines.push(`round trip ms   p50 ${r.rtt_ms.p50}   p95 ${r.rtt_ms.p95}   p99 ${r.rtt_ms.p99}   max ${r.rtt_ms.max}`);
      break;
    case 'pool':
      lines.push(`connections target ${r.connections.target}   opened ${r.connections.opened}   failed ${r.connections.failed}   dropped ${r.connections.dropped}`);
      lines.push(`per worker  ${r.workers.map((w) => `#${w.worker} ${w.opened}/${w.connections}${w.failed ? ` (${w.failed} failed)` : ''}`).join('   ')}`);
      if (r.connect_ms.count > 0) lines.push(`connect ms  p50 ${r.connect_ms.p50}   p95 ${r.connect_ms.p95}   p99 ${r.connect_ms.p99}   max ${r.connect_ms.max}`);
      if (Object.keys(r.errors).length > 0) lines.push(`errors      ${Object.entries(r.errors).map(([k, n]) => `${k} ×${n}`).join(', ')}`);
      break;
  }
  if (r.error) lines.push(`error: ${r.error}`);
  return lines.join('\n');
}
