/** The bounded values of the attributes the catalogue names (./catalogue.ts ATTR). */

/**
 * Close code classes, the same set and mapping as the server SDK's
 * (src/instrumentation/close-codes.ts), so client and server series line up.
 */
export const CLOSE_CODE_CLASSES = [
  'normal',
  'going_away',
  'protocol_error',
  'policy_violation',
  'message_too_big',
  'internal_error',
  'unavailable',
  'no_status',
  'abnormal',
  'registered',
  'application',
  '_OTHER',
] as const;
export type CloseCodeClass = (typeof CLOSE_CODE_CLASSES)[number];

const CLOSE_CLASSES: Readonly<Record<number, CloseCodeClass>> = {
  1000: 'normal',
  1001: 'going_away',
  1002: 'protocol_error',
  1003: 'protocol_error',
  1005: 'no_status',
  1006: 'abnormal',
  1007: 'protocol_error',
  1008: 'policy_violation',
  1009: 'message_too_big',
  1010: 'protocol_error',
  1011: 'internal_error',
  1012: 'unavailable',
  1013: 'unavailable',
  1014: 'unavailable',
  1015: 'abnormal',
};

/** Folds a close code (RFC 6455 §7.4, IANA registry) into a bounded class. */
export function closeCodeClass(code: number): CloseCodeClass {
  return CLOSE_CLASSES[code] ?? (code >= 3000 && code <= 3999 ? 'registered' : code >= 4000 && code <= 4999 ? 'application' : '_OTHER');
}

export const DROP_REASONS = ['queue_full', 'expired', 'closed'] as const;
export type DropReason = (typeof DROP_REASONS)[number];
export const ERROR_TYPES = ['connect', 'socket', 'send', 'heartbeat_timeout'] as const;
export type ErrorType = (typeof ERROR_TYPES)[number];
export const REQUEST_OUTCOMES = ['ok', 'error', 'timeout'] as const;
export type RequestOutcome = (typeof REQUEST_OUTCOMES)[number];
export const IO_DIRECTIONS = ['transmit', 'receive'] as const;
export type IoDirection = (typeof IO_DIRECTIONS)[number];
/** web-vitals' ratings (its MetricType['rating']). */
export const VITAL_RATINGS = ['good', 'needs-improvement', 'poor'] as const;
export type VitalRating = (typeof VITAL_RATINGS)[number];

/** network.connection.type values (OTel semantic conventions). */
export const CONNECTION_TYPES = ['wifi', 'wired', 'cell', 'unavailable', 'unknown'] as const;
export type ConnectionType = (typeof CONNECTION_TYPES)[number];
export const EFFECTIVE_TYPES = ['slow-2g', '2g', '3g', '4g', 'unknown'] as const;
export type EffectiveType = (typeof EFFECTIVE_TYPES)[number];

export interface NetworkInfo {
  type: ConnectionType;
  effectiveType: EffectiveType;
  /** Estimated round trip and downlink from the Network Information API, when the browser has it. */
  rttMs?: number;
  downlinkMbps?: number;
}

interface NetworkInformationLike extends EventTarget {
  type?: string;
  effectiveType?: string;
  rtt?: number;
  downlink?: number;
}

const TYPES: Record<string, ConnectionType> = { wifi: 'wifi', ethernet: 'wired', cellular: 'cell', none: 'unavailable' };

export function networkConnection(): NetworkInformationLike | undefined {
  return typeof navigator === 'undefined' ? undefined : (navigator as Navigator & { connection?: NetworkInformationLike }).connection;
}

/** navigator.connection folded to bounded values (Chromium has it; other browsers report unknown). */
export function readNetwork(connection = networkConnection()): NetworkInfo {
  const info: NetworkInfo = {
    type: TYPES[connection?.type ?? ''] ?? 'unknown',
    effectiveType: (EFFECTIVE_TYPES as readonly string[]).includes(connection?.effectiveType ?? '') ? (connection?.effectiveType as EffectiveType) : 'unknown',
  };
  if (typeof connection?.rtt === 'number') info.rttMs = connection.rtt;
  if (typeof connection?.downlink === 'number') info.downlinkMbps = connection.downlink;
  return info;
}
