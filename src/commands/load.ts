import { Option, type Command, type CommanderError } from 'commander';
import { type HandshakeOptionNames, handshakeOptionsProblem, headerProblem } from '../loadtest/handshake.ts';
import { ALERT_DRILL, PROFILE_NAMES, RUN_DEFAULTS, SIZE_PROFILES } from '../loadtest/profiles.ts';
import type { Gates } from '../loadtest/report.ts';
import type { LoadPlan, LoadProgress } from '../loadtest/types.ts';

/** Exit codes of `socketscope load` and `socketscope test` (docs/load-testing.md). */
export const EXIT = {
  passed: 0,
  /** A gate failed, nothing opened, no echo matched (load); the test failed (test). */
  failed: 1,
  /** A bad option or combination, or the tool could not run (open-files limit, a crashed worker). */
  usage: 2,
  interrupted: 130,
} as const;

/** After the report is printed, how long `--otlp` may take to send the last values (one export attempt times out after 3 s). */
const EXPORT_FINISH_TIMEOUT_MS = 5_000;

/** An option or combination of options that cannot run as given. */
export class UsageError extends Error {}

/** Commander's own parse errors (unknown option, missing --url, bad choice) exit with the usage code too; help and version still exit 0. */
export const usageExit = (error: CommanderError): never => process.exit(error.exitCode === 0 ? 0 : EXIT.usage);

export interface LoadCliOptions {
  url: string;
  profile?: string;
  connections?: string;
  stages?: string;
  rampUp?: string;
  duration?: string;
  warmup?: string;
  rate?: string;
  payloadBytes?: string;
  message?: string;
  headers: string[];
  token?: string;
  subprotocol: string[];
  echo: boolean;
  workers?: string;
  handshakeTimeout?: string;
  drainTimeout?: string;
  connectConcurrency?: string;
  drillWarningHold?: string;
  drillCriticalHold?: string;
  maxP95?: string;
  maxErrorRate?: string;
  json?: boolean;
  progress?: boolean;
  otlp?: string | boolean;
}

/** Where `--otlp` sends: its value, else OTEL_EXPORTER_OTLP_ENDPOINT, else the local collector. */
export function otlpEndpoint(value: string | boolean | undefined, env: NodeJS.ProcessEnv = process.env): string | null {
  if (value === undefined || value === false) return null;
  if (typeof value === 'string') return value;
  return env.OTEL_EXPORTER_OTLP_ENDPOINT || 'http://127.0.0.1:4318';
}

/** Commander accumulator for repeatable options. */
export const collect = (value: string, previous: string[]): string[] => [...previous, value];

/**
 * A plain decimal number from an option: `Number()` alone would take '' and
 * '  ' as 0 and '0x10' as 16, so the text must be digits first.
 */
export function number(name: string, value: string | undefined, { integer = false, min = 0 } = {}): number | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  const n = Number(text);
  if (!(integer ? /^\d+$/ : /^(?:\d+(?:\.\d*)?|\.\d+)$/).test(text) || n < min) {
    throw new UsageError(`${name} must be ${integer ? 'an integer' : 'a number'} >= ${min}, got "${value}"`);
  }
  return n;
}

/** `--max-error-rate`: a fraction, not a percentage. */
function fraction(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  if (!/^(?:\d+(?:\.\d*)?|\.\d+)$/.test(text) || Number(text) > 1) {
    throw new UsageError(`${name} is a fraction from 0 to 1 (0.05 means 5%), got "${value}"`);
  }
  return Number(text);
}

/**
 * The handshake options both `load` and `test` take, checked up front with
 * the flags' names: a bad one used to surface as a crashed load worker, or as
 * a failed test (exit 1) instead of a usage error (exit 2).
 */
export function handshakeFromCli(o: { url: string; headers: string[]; token?: string | undefined; subprotocol: string[] }): {
  headers: Record<string, string>;
  subprotocols: string[];
} {
  const headers = parseHeaders(o.headers);
  const problem = handshakeOptionsProblem({ url: o.url, headers, token: o.token, subprotocols: o.subprotocol }, CLI_OPTION_NAMES);
  if (problem) throw new UsageError(problem);
  return { headers, subprotocols: o.subprotocol };
}

const CLI_OPTION_NAMES: HandshakeOptionNames = {
  url: '--url ',
  headers: '-H/--headers: ',
  token: '--token ',
  subprotocols: '--subprotocol: ',
  tokenWithAuthorization: () => '--token sets the Authorization header, so it cannot be combined with -H/--headers "Authorization: …"; give one of them',
};

/** A duration option in seconds; over the 24 h cap or malformed is a usage error naming the flag. */
async function durationOption(name: string, value: string): Promise<number> {
  const { parseDurationS } = await import('../loadtest/plan.ts');
  try {
    return parseDurationS(value, name);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

/**
 * A timeout option in whole milliseconds, at least 1 ms: below that it
 * would round to 0 (or was 0), and raising it to 1 ms silently made every
 * handshake time out.
 */
export async function timeoutMsOption(name: string, value: string): Promise<number> {
  const ms = Math.round((await durationOption(name, value)) * 1000);
  if (ms < 1) throw new UsageError(`${name} must be at least 1ms, got "${value}"`);
  return ms;
}

/** Names of the options in `pairs` that were given. */
const given = (pairs: [flag: string, value: unknown][]): string[] => pairs.filter(([, v]) => v !== undefined).map(([flag]) => flag);

/**
 * The plan and gates `socketscope load` runs with. Throws a UsageError for an
 * option that would be ignored or meaningless as given, rather than run a
 * test other than the one asked for.
 */
export async function planFromCli(o: LoadCliOptions): Promise<{ plan: LoadPlan; gates: Gates }> {
  const { parseStages, resolveLoadPlan } = await import('../loadtest/plan.ts');
  const shape = given([
    ['-c/--connections', o.connections],
    ['--ramp-up', o.rampUp],
    ['-d/--duration', o.duration],
  ]);
  if (o.stages !== undefined && (o.profile !== undefined || shape.length > 0)) {
    const clash = [...given([['--profile', o.profile]]), ...shape];
    throw new UsageError(`--stages sets the connections and timing itself, so it cannot be combined with ${clash.join(', ')}`);
  }
  if (o.profile === 'alert-drill' && shape.length > 0) {
    const d = ALERT_DRILL;
    throw new UsageError(
      `--profile alert-drill runs its own stages (${d.warningThreshold + d.margin}, then ${d.criticalThreshold + d.margin} connections), so it cannot be combined with ${shape.join(', ')}; set its holds with --drill-warning-hold and --drill-critical-hold, or describe another shape with --stages`,
    );
  }
  if (o.profile !== 'alert-drill' && (o.drillWarningHold !== undefined || o.drillCriticalHold !== undefined)) {
    throw new UsageError('--drill-warning-hold and --drill-critical-hold apply only to --profile alert-drill');
  }
  const seconds = async (name: string, v: string | undefined): Promise<number | undefined> => (v === undefined ? undefined : durationOption(name, v));
  const millis = async (name: string, v: string): Promise<number> => Math.round((await durationOption(name, v)) * 1000);
  const gates: Gates = {
    ...(o.maxP95 !== undefined ? { maxP95Ms: number('--max-p95', o.maxP95) } : {}),
    ...(o.maxErrorRate !== undefined ? { maxErrorRate: fraction('--max-error-rate', o.maxErrorRate) } : {}),
  };
  const handshake = handshakeFromCli(o);
  const durationS = await seconds('-d/--duration', o.duration);
  const rate = number('--rate', o.rate);
  // Every profile's and the default rate is above 0, so no --rate means messages are sent.
  if (durationS === 0 && (rate === undefined || rate > 0 || Object.keys(gates).length > 0)) {
    throw new UsageError('-d/--duration must be above 0 when messages are sent (--rate above 0) or a gate is given: nothing would be measured');
  }
  let stages;
  try {
    stages = o.stages === undefined ? undefined : parseStages(o.stages);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const plan = resolveLoadPlan({
    url: o.url,
    ...(o.profile ? { profile: o.profile as (typeof PROFILE_NAMES)[number] } : {}),
    ...(o.connections !== undefined ? { connections: number('--connections', o.connections, { integer: true, min: 1 }) } : {}),
    ...(stages !== undefined ? { stages } : {}),
    ...(o.rampUp !== undefined ? { rampUpS: await seconds('--ramp-up', o.rampUp) } : {}),
    ...(durationS !== undefined ? { durationS } : {}),
    ...(o.warmup !== undefined ? { warmupS: await seconds('--warmup', o.warmup) } : {}),
    ...(rate !== undefined ? { rate } : {}),
    ...(o.payloadBytes !== undefined ? { payloadBytes: number('--payload-bytes', o.payloadBytes, { integer: true }) } : {}),
    ...(o.message !== undefined ? { message: o.message } : {}),
    headers: handshake.headers,
    ...(o.token !== undefined ? { token: o.token } : {}),
    subprotocols: handshake.subprotocols,
    expectEcho: o.echo,
    ...(o.workers !== undefined ? { workers: number('--workers', o.workers, { integer: true, min: 1 }) } : {}),
    ...(o.handshakeTimeout !== undefined ? { handshakeTimeoutMs: await timeoutMsOption('--handshake-timeout', o.handshakeTimeout) } : {}),
    ...(o.drainTimeout !== undefined ? { drainTimeoutMs: await millis('--drain-timeout', o.drainTimeout) } : {}),
    ...(o.connectConcurrency !== undefined
      ? { connectConcurrency: number('--connect-concurrency', o.connectConcurrency, { integer: true, min: 1 }) }
      : {}),
    drill: {
      ...(o.drillWarningHold !== undefined ? { warningHoldS: await seconds('--drill-warning-hold', o.drillWarningHold) } : {}),
      ...(o.drillCriticalHold !== undefined ? { criticalHoldS: await seconds('--drill-critical-hold', o.drillCriticalHold) } : {}),
    },
  });
  if (Object.keys(gates).length > 0 && o.stages !== undefined) {
    const { timeline } = await import('../loadtest/plan.ts');
    const line = timeline(plan);
    if (line.measureEndMs <= line.measureStartMs) {
      throw new UsageError("a gate needs a measured window, but --stages leave no time after the first stage's ramp-up and --warmup; lengthen a hold");
    }
  }
  if (gates.maxP95Ms !== undefined && (!plan.expectEcho || plan.rate === 0)) {
    throw new UsageError(`--max-p95 needs echoed messages to time, so it cannot be combined with ${plan.expectEcho ? '--rate 0' : '--no-echo'}`);
  }
  return { plan, gates };
}

/** `--headers 'X-Key: v'` (repeatable) or `--headers '{"X-Key":"v"}'`. */
export function parseHeaders(values: string[]): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const value of values) {
    if (value.trim().startsWith('{')) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(value);
      } catch (error) {
        throw new UsageError(`--headers is not valid JSON: ${(error as Error).message}`);
      }
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new UsageError('--headers JSON must be an object');
      for (const [k, v] of Object.entries(parsed)) {
        if (typeof v !== 'string') throw new UsageError(`--headers: the value of "${k}" must be a string`);
        setHeader(headers, k, v);
      }
      continue;
    }
    const colon = value.indexOf(':');
    if (colon <= 0) throw new UsageError(`--headers expects "Name: value" or a JSON object, got "${value}"`);
    setHeader(headers, value.slice(0, colon).trim(), value.slice(colon + 1).trim());
  }
  return headers;
}

/** Checked here, as ws would only throw when a worker creates the socket. */
function setHeader(headers: Record<string, string>, name: string, value: string): void {
  const problem = headerProblem(name, value);
  if (problem) throw new UsageError(`-H/--headers: ${problem}`);
  headers[name.toLowerCase()] = value;
}

const profileHelp = Object.entries(SIZE_PROFILES)
  .map(([name, p]) => `${name} ${p.connections}`)
  .join(', ');

/** `socketscope load`: open-model load test with live progress, an HDR latency report and CI gates. */
export function registerLoad(program: Command): void {
  program
    .command('load')
    .description('load-test a WebSocket server: many connections, messages at a fixed rate, honest latency percentiles')
    .requiredOption('--url <ws-url>', 'server to test, ws:// or wss://')
    .addOption(new Option('--profile <name>', `connection profile (${profileHelp}; alert-drill crosses the alert thresholds)`).choices(PROFILE_NAMES))
    .option('-c, --connections <n>', 'concurrent connections (overrides the profile)')
    .option('--stages <list>', 'connection stages CONNECTIONS:RAMP-UP:HOLD,… e.g. 510:30s:6m,1010:30s:3m')
    .option('--ramp-up <duration>', 'time to open all connections, e.g. 10s')
    .option('-d, --duration <duration>', 'measured time after ramp-up and warm-up, e.g. 60s, 5m (above 0 when sending or gated; durations at most 24h)')
    .option('--warmup <duration>', 'time after ramp-up whose messages are sent but not measured (profiles: 5-10s, else 0)')
    .option('-r, --rate <n>', 'messages per second per connection, sent on schedule (open model); 0 = hold connections only')
    .option('--payload-bytes <n>', 'size of the {{payload}} filler')
    .option('--message <template>', 'message template with {{id}} {{seq}} {{conn}} {{ts}} {{payload}} (see docs/load-testing.md)')
    .option('-H, --headers <header>', 'handshake header "Name: value" (repeatable) or a JSON object', collect, [])
    .option('--token <token>', 'sent as "Authorization: Bearer <token>" (not with an Authorization header in --headers)')
    .option('--subprotocol <name>', 'WebSocket subprotocol to request (repeatable)', collect, [])
    .option('--no-echo', 'the server does not echo: count received messages, measure no latency, count nothing lost')
    .option('--workers <n>', 'worker threads driving the connections (default: from connections and rate, at most the cores)')
    .option('--handshake-timeout <duration>', `opening handshake timeout, at least 1ms (default ${RUN_DEFAULTS.handshakeTimeoutMs / 1000}s)`)
    .option('--drain-timeout <duration>', `after the last send, how long to wait for echoes before counting them lost (default ${RUN_DEFAULTS.drainTimeoutMs / 1000}s)`)
    .option('--connect-concurrency <n>', `opening handshakes in flight per worker (default ${RUN_DEFAULTS.connectConcurrency})`)
    .option('--drill-warning-hold <duration>', `alert-drill: time above ${ALERT_DRILL.warningThreshold} connections; the rule has for: 5m (default ${ALERT_DRILL.warningHoldS}s)`)
    .option('--drill-critical-hold <duration>', `alert-drill: time above ${ALERT_DRILL.criticalThreshold} connections; the rule has for: 2m (default ${ALERT_DRILL.criticalHoldS}s)`)
    .option('--max-p95 <ms>', 'exit 1 when p95 latency exceeds this many milliseconds (lost messages count, at a lower bound), or more than 5% of messages are lost; needs echoes and a rate above 0')
    .option(
      '--max-error-rate <ratio>',
      'exit 1 when failed + dropped connections / connections, or lost messages / sent messages, exceeds this fraction (0.05 means 5%)',
    )
    .option('--json', 'print the report as JSON on stdout')
    .option('--progress', 'print progress on stderr even when it is not a terminal')
    .option('--otlp [endpoint]', "export the run's own metrics over OTLP/HTTP every 5 s (default endpoint: OTEL_EXPORTER_OTLP_ENDPOINT, else http://127.0.0.1:4318)")
    .addHelpText(
      'after',
      `
Examples:
  socketscope load --url ws://127.0.0.1:8080/ws --profile medium
  socketscope load --url ws://127.0.0.1:8080/ws -c 1000 --rate 2 --duration 2m --max-p95 100 --json
  socketscope load --url ws://127.0.0.1:8080/ws --profile alert-drill --drill-warning-hold 6m
  socketscope load --url ws://127.0.0.1:8080/ws --profile heavy --otlp http://127.0.0.1:4318

Latency is measured from each message's intended send time, so a stalled server
shows up in the percentiles instead of slowing the sender down. The measured window
starts once the first connections are open (at most one handshake timeout late).
Ctrl-C reports messages still awaiting their echo as in flight, not lost.

--stages and --profile alert-drill set connections and timing themselves: they
cannot be combined with -c, --ramp-up or --duration.

Exit codes: 0 passed; 1 a gate failed, no connection opened, no message was
sent in the measured window, or echoes were expected and none matched; 2 a usage error or the tool could not run;
130 interrupted (partial report printed).`,
    )
    .exitOverride(usageExit)
    .action(async (o: LoadCliOptions) => {
      try {
        process.exitCode = await runLoad(o);
      } catch (error) {
        process.stderr.write(`socketscope load: ${(error as Error).message}\n`);
        process.exitCode = EXIT.usage;
      }
    });
}

/** Runs `socketscope load` and resolves with its exit code; throws when the run cannot start or finish (a usage or tool error). */
async function runLoad(o: LoadCliOptions): Promise<number> {
  const { plan, gates } = await planFromCli(o);
  const { runLoadPlan, checkGates, formatReport, progressWriter } = await import('../loadtest/index.ts');
  const progress = progressWriter(process.stderr, Boolean(o.progress));
  const endpoint = otlpEndpoint(o.otlp);
  const exported = endpoint === null ? null : await (await import('../loadtest/otlp-export.ts')).startLoadExport({ endpoint, targetUrl: plan.url });
  const onProgress =
    progress || exported
      ? (p: LoadProgress): void => {
          progress?.update(p);
          exported?.observe(p);
        }
      : undefined;
  const controller = new AbortController();
  // Ctrl-C (or SIGTERM) during the run stops it, and the partial report is still printed; a
  // second one exits at once. Once the report is out, it stops waiting for the export.
  let onInterrupt = (): void => {
    if (controller.signal.aborted) process.exit(EXIT.interrupted);
    process.stderr.write('\nsocketscope load: stopping, closing connections…\n');
    controller.abort(new Error('interrupted'));
  };
  const onSignal = (): void => onInterrupt();
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let code: number;
  let abandoned = false;
  try {
    code = await runAndReport();
  } finally {
    // A failed, late or interrupted export is reported on stderr, never fatal: the report and
    // the gates are the run's result, and the exit code stays theirs.
    if (exported) {
      const giveUp = new Promise<string>((resolve) => {
        onInterrupt = () => resolve('interrupted');
        setTimeout(() => resolve(`not finished after ${EXPORT_FINISH_TIMEOUT_MS / 1000} s`), EXPORT_FINISH_TIMEOUT_MS).unref();
      });
      const outcome = await Promise.race([
        exported.finish().then(
          () => `metrics exported to ${exported.url}`,
          (error: unknown) => (error as Error).message,
        ),
        giveUp.then((why) => {
          abandoned = true;
          return `OTLP export to ${exported.url} abandoned (${why})`;
        }),
      ]);
      process.stderr.write(`socketscope load: ${outcome}\n`);
    }
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  // The abandoned export's request would keep the process alive until its own timeout.
  if (abandoned) process.exit(code);
  return code;

  /** Runs the plan, prints the report and the gates' failures, and returns the exit code. */
  async function runAndReport(): Promise<number> {
    let report;
    try {
      report = await runLoadPlan(plan, { signal: controller.signal, ...(onProgress ? { onProgress } : {}) });
    } catch (error) {
      // Interrupted before the workers started: nothing to report.
      if (controller.signal.aborted) return EXIT.interrupted;
      throw error;
    } finally {
      progress?.finish();
    }
    // The report and the gates before the export's last values: a collector that does not
    // answer must not hold them back (nor leave them to an interrupt while it is awaited).
    const failures = checkGates(report, gates);
    if (o.json) {
      const limits = {
        ...(gates.maxP95Ms !== undefined ? { max_p95_ms: gates.maxP95Ms } : {}),
        ...(gates.maxErrorRate !== undefined ? { max_error_rate: gates.maxErrorRate } : {}),
      };
      process.stdout.write(`${JSON.stringify({ ...report, gates: { ...limits, passed: failures.length === 0, failures } }, null, 2)}\n`);
    } else {
      process.stdout.write(`${formatReport(report)}\n`);
    }
    for (const failure of failures) process.stderr.write(`socketscope load: FAILED: ${failure}\n`);
    if (report.aborted) return EXIT.interrupted;
    return failures.length > 0 ? EXIT.failed : EXIT.passed;
  }
}
