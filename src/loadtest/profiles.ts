/**
 * Named load profiles. The four sizes are the ones the reference guide's
 * stress script offered; `alert-drill` holds the connection count above the
 * warning and then the critical threshold of the ActiveConnections alert
 * (> 500 for 5m, > 1000 for 2m in prometheus/rules) long enough for each
 * `for:` to elapse, so the whole alert path can be exercised on demand.
 */
import type { Stage } from './types.ts';

export interface SizeProfile {
  connections: number;
  rampUpS: number;
  /** Sent but not measured: lets JIT, connection pools and caches settle on both sides. */
  warmupS: number;
  durationS: number;
  rate: number;
}

export const SIZE_PROFILES = {
  light: { connections: 50, rampUpS: 5, warmupS: 5, durationS: 30, rate: 1 },
  medium: { connections: 200, rampUpS: 10, warmupS: 5, durationS: 60, rate: 1 },
  heavy: { connections: 500, rampUpS: 20, warmupS: 10, durationS: 120, rate: 1 },
  extreme: { connections: 1000, rampUpS: 30, warmupS: 10, durationS: 180, rate: 1 },
} as const satisfies Record<string, SizeProfile>;

export type SizeProfileName = keyof typeof SIZE_PROFILES;

/** The alert thresholds the drill crosses; keep in step with the ActiveConnections rules. */
export const ALERT_DRILL = {
  warningThreshold: 500,
  criticalThreshold: 1000,
  /** Connections above each threshold: a margin for connections the server sheds or other clients leave. */
  margin: 10,
  rampUpS: 30,
  /** `for: 5m` plus a minute for scrapes, rule evaluation and the ramp. */
  warningHoldS: 360,
  /** `for: 2m` plus a minute. */
  criticalHoldS: 180,
  rate: 1,
} as const;

/** Defaults of the engine's knobs when neither a profile nor the caller sets them. */
export const RUN_DEFAULTS = {
  /** Without a profile: a small, quick run. */
  connections: 10,
  rampUpS: 0,
  warmupS: 0,
  durationS: 10,
  rate: 1,
  handshakeTimeoutMs: 10_000,
  drainTimeoutMs: 5_000,
  connectConcurrency: 256,
} as const;

export const PROFILE_NAMES = [...(Object.keys(SIZE_PROFILES) as SizeProfileName[]), 'alert-drill'] as const;
export type ProfileName = SizeProfileName | 'alert-drill';

export function isProfileName(value: string): value is ProfileName {
  return (PROFILE_NAMES as readonly string[]).includes(value);
}

/** The drill's two stages: above the warning threshold, then above the critical one. */
export function alertDrillStages(holds: { warningHoldS?: number; criticalHoldS?: number } = {}): Stage[] {
  const d = ALERT_DRILL;
  return [
    { connections: d.warningThreshold + d.margin, rampUpS: d.rampUpS, holdS: holds.warningHoldS ?? d.warningHoldS },
    { connections: d.criticalThreshold + d.margin, rampUpS: d.rampUpS, holdS: holds.criticalHoldS ?? d.criticalHoldS },
  ];
}
