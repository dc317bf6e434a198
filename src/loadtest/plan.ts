/**
 * Turns what a caller asked for (a profile, explicit options, or both) into a
 * fully resolved LoadPlan, validating every field at this boundary.
 * Explicit options win over the profile's values.
 */
import { availableParallelism } from 'node:os';
import { z } from 'zod';
import { alertDrillStages, ALERT_DRILL, PROFILE_NAMES, SIZE_PROFILES, RUN_DEFAULTS, type SizeProfile } from './profiles.ts';
import { handshakeOptionsProblem, resolvedAddressSchema } from './handshake.ts';
import { compileTemplate, DEFAULT_TEMPLATE } from './template.ts';
import type { LoadPlan, Stage } from './types.ts';

/**
 * The longest any one duration may be. Node's timers hold at most 2^31-1 ms
 * (24.8 days) and fire after 1 ms beyond that, so `-d 600h` used to flood the
 * event loop; 24 h is past any sensible test and far inside that range.
 */
export const MAX_DURATION_S = 24 * 3600;
/** The longest whole plan (its stages added up): a week, still inside the timer range with the handshake and drain timeouts on top. */
export const MAX_PLAN_S = 7 * 24 * 3600;
const DURATION_LIMIT = `at most ${MAX_DURATION_S} s (24 h)`;
const seconds = () => z.number().min(0).max(MAX_DURATION_S, DURATION_LIMIT);
const millis = (min: number) => z.number().int().min(min).max(MAX_DURATION_S * 1000, `at most ${MAX_DURATION_S * 1000} ms (24 h)`);

const wsUrl = z
  .string()
  .url()
  .refine((u) => /^wss?:\/\//i.test(u), 'must be a ws:// or wss:// URL');

const stageSchema = z.object({
  connections: z.number().int().min(1).max(1_000_000),
  rampUpS: seconds(),
  holdS: seconds(),
});

export const loadTestInputSchema = z
  .object({
    url: wsUrl,
    profile: z.enum(PROFILE_NAMES).optional(),
    connections: z.number().int().min(1).max(1_000_000).optional(),
    stages: z.array(stageSchema).min(1).optional(),
    rampUpS: seconds().optional(),
    durationS: seconds().optional(),
    warmupS: seconds().optional(),
    rate: z.number().min(0).max(100_000).optional(),
    payloadBytes: z.number().int().min(0).max(16 * 1024 * 1024).optional(),
    message: z.string().min(1).optional(),
    headers: z.record(z.string(), z.string()).optional(),
    token: z.string().min(1).optional(),
    subprotocols: z.array(z.string().min(1)).optional(),
    expectEcho: z.boolean().optional(),
    workers: z.number().int().min(1).max(256).optional(),
    handshakeTimeoutMs: millis(1).optional(),
    drainTimeoutMs: millis(0).optional(),
    connectConcurrency: z.number().int().min(1).optional(),
    addresses: z.array(resolvedAddressSchema).min(1).optional(),
    drill: z.object({ warningHoldS: seconds().optional(), criticalHoldS: seconds().optional() }).optional(),
  })
  .strict();

export type LoadTestInput = z.input<typeof loadTestInputSchema>;

const BASE: SizeProfile = RUN_DEFAULTS;

/**
 * Enough workers for the connections and the message rate, never more than
 * the cores. A worker spends ~50 µs of CPU per echoed message (mostly ws and
 * syscalls), so 10,000 msg/s keeps it near half a core: headroom that keeps
 * its own scheduling delay out of the latencies it measures.
 */
export function defaultWorkers(maxConnections: number, totalRate: number): number {
  const wanted = Math.max(Math.ceil(maxConnections / 2_000), Math.ceil(totalRate / 10_000), 1);
  return Math.min(wanted, availableParallelism());
}

function formatIssues(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.join('.') || 'options'}: ${i.message}`).join('; ');
}

export function resolveLoadPlan(input: LoadTestInput): LoadPlan {
  const parsed = loadTestInputSchema.safeParse(input);
  if (!parsed.success) throw new Error(`invalid load test options: ${formatIssues(parsed.error)}`);
  const o = parsed.data;
  const handshake = handshakeOptionsProblem(o);
  if (handshake) throw new Error(`invalid load test options: ${handshake}`);

  const drill = o.profile === 'alert-drill';
  // Options that another option would silently override are refused, not dropped.
  const shape = (['connections', 'rampUpS', 'durationS'] as const).filter((key) => o[key] !== undefined);
  if (o.stages && (shape.length > 0 || o.profile)) {
    const given = [...(o.profile ? ['profile'] : []), ...shape];
    throw new Error(`invalid load test options: stages set the connections and timing themselves; drop ${given.join(', ')}`);
  }
  if (drill && shape.length > 0) {
    throw new Error(
      `invalid load test options: profile alert-drill runs its own stages (${ALERT_DRILL.warningThreshold + ALERT_DRILL.margin}, then ${ALERT_DRILL.criticalThreshold + ALERT_DRILL.margin} connections); drop ${shape.join(', ')} (set its holds with drill, or give stages instead of the profile)`,
    );
  }
  if (!drill && o.drill && Object.keys(o.drill).length > 0) {
    throw new Error('invalid load test options: drill holds apply only to profile alert-drill');
  }
  const size: SizeProfile = o.profile && o.profile !== 'alert-drill' ? SIZE_PROFILES[o.profile] : BASE;
  const warmupS = o.warmupS ?? (o.stages || drill ? 0 : size.warmupS);
  let stages: Stage[];
  if (o.stages) {
    stages = o.stages;
  } else if (drill) {
    stages = alertDrillStages(o.drill);
  } else {
    const durationS = o.durationS ?? size.durationS;
    stages = [{ connections: o.connections ?? size.connections, rampUpS: o.rampUpS ?? size.rampUpS, holdS: warmupS + durationS }];
  }
  for (let i = 1; i < stages.length; i++) {
    if ((stages[i] as Stage).connections < (stages[i - 1] as Stage).connections) {
      throw new Error('invalid load test options: stages must not lower the connection count');
    }
  }
  if (warmupS > (stages[0] as Stage).holdS) {
    throw new Error(`invalid load test options: warm-up (${warmupS} s) is longer than the first stage's hold (${(stages[0] as Stage).holdS} s)`);
  }

  const message = o.message ?? DEFAULT_TEMPLATE;
  const template = compileTemplate(message);
  const expectEcho = o.expectEcho ?? true;
  const rate = o.rate ?? (drill ? ALERT_DRILL.rate : size.rate);
  if (expectEcho && rate > 0 && !template.correlates) {
    throw new Error('invalid load test options: --message has no {{id}}, so echoes cannot be matched; add {{id}} or pass --no-echo');
  }

  const totalS = stages.reduce((sum, stage) => sum + stage.rampUpS + stage.holdS, 0);
  if (totalS > MAX_PLAN_S) {
    throw new Error(`invalid load test options: the stages add up to ${Math.round(totalS / 3600)} h; a plan runs at most ${MAX_PLAN_S / 3600} h`);
  }
  // Messages need a measured window: without one the run "passed" having measured nothing.
  const first = stages[0] as Stage;
  if (rate > 0 && totalS - first.rampUpS - warmupS <= 0) {
    throw new Error(
      o.stages
        ? "invalid load test options: the stages leave no measured time after the first stage's ramp-up and warm-up, so nothing would be measured; lengthen a hold"
        : 'invalid load test options: durationS must be above 0 when rate is above 0: nothing would be measured',
    );
  }

  const headers: Record<string, string> = { ...o.headers };
  if (o.token) headers.authorization = `Bearer ${o.token}`;
  const maxConnections = (stages[stages.length - 1] as Stage).connections;

  return {
    url: o.url,
    stages,
    warmupS,
    rate,
    payloadBytes: o.payloadBytes ?? 0,
    message,
    headers,
    subprotocols: o.subprotocols ?? [],
    expectEcho,
    workers: Math.min(o.workers ?? defaultWorkers(maxConnections, maxConnections * rate), maxConnections),
    handshakeTimeoutMs: o.handshakeTimeoutMs ?? RUN_DEFAULTS.handshakeTimeoutMs,
    drainTimeoutMs: o.drainTimeoutMs ?? RUN_DEFAULTS.drainTimeoutMs,
    connectConcurrency: o.connectConcurrency ?? RUN_DEFAULTS.connectConcurrency,
    ...(o.addresses ? { addresses: o.addresses } : {}),
  };
}

/** The timeline of a plan, in milliseconds from the start. */
export interface Timeline {
  /** When each stage's ramp-up begins. */
  stageStartsMs: number[];
  measureStartMs: number;
  measureEndMs: number;
  maxConnections: number;
}

/** Seconds to milliseconds, rounded to the microsecond so 0.2 + 2.7 s is 2900 ms, not 2900.0000000000005. */
const toMs = (seconds: number): number => Math.round(seconds * 1e6) / 1e3;

export function timeline(plan: LoadPlan): Timeline {
  const stageStartsMs: number[] = [];
  let t = 0;
  for (const stage of plan.stages) {
    stageStartsMs.push(t);
    t += toMs(stage.rampUpS + stage.holdS);
  }
  const first = plan.stages[0] as Stage;
  return {
    stageStartsMs,
    measureStartMs: toMs(first.rampUpS + plan.warmupS),
    measureEndMs: t,
    maxConnections: (plan.stages[plan.stages.length - 1] as Stage).connections,
  };
}

/** When connection `index` opens: spread evenly over its stage's ramp-up. */
export function openTimesMs(plan: LoadPlan): number[] {
  const { stageStartsMs } = timeline(plan);
  const times: number[] = [];
  let previous = 0;
  plan.stages.forEach((stage, s) => {
    const added = stage.connections - previous;
    for (let i = 0; i < added; i++) {
      times.push((stageStartsMs[s] as number) + (stage.rampUpS * 1000 * i) / added);
    }
    previous = stage.connections;
  });
  return times;
}

/** Parses `30`, `30s`, `500ms`, `5m`, `1h` into seconds, at most 24 h; `name` (the option) prefixes the limit's message. */
export function parseDurationS(value: string, name = 'duration'): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(value.trim());
  if (!match) throw new Error(`not a duration: "${value}" (use e.g. 30, 30s, 500ms, 5m, 1h)`);
  const n = Number(match[1]);
  const unit = match[2] ?? 's';
  const s = unit === 'ms' ? n / 1000 : unit === 's' ? n : unit === 'm' ? n * 60 : n * 3600;
  if (s > MAX_DURATION_S) throw new Error(`${name}: "${value}" is longer than the 24 h limit`);
  return s;
}

/** Parses `--stages 510:30s:6m,1010:30s:3m` (connections:ramp-up:hold). */
export function parseStages(value: string): Stage[] {
  return value.split(',').map((part) => {
    const [connections, ramp, hold, extra] = part.trim().split(':');
    if (!connections || ramp === undefined || hold === undefined || extra !== undefined || !/^\d+$/.test(connections)) {
      throw new Error(`not a stage: "${part}" (use CONNECTIONS:RAMP-UP:HOLD, e.g. 510:30s:6m)`);
    }
    return { connections: Number(connections), rampUpS: parseDurationS(ramp, '--stages'), holdS: parseDurationS(hold, '--stages') };
  });
}
