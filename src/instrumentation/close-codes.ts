/**
 * Close codes folded into a dozen classes (RFC 6455 §7.4 and the IANA
 * registry): raw codes 3000–4999 are application-defined and unbounded, so the
 * metric carries the class, and the raw code appears only on spans.
 */
import { OTHER } from './semconv.ts';

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
  OTHER,
] as const;
export type CloseCodeClass = (typeof CLOSE_CODE_CLASSES)[number];

const BY_CODE: Readonly<Record<number, CloseCodeClass>> = {
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

export function closeCodeClass(code: number): CloseCodeClass {
  const known = BY_CODE[code];
  if (known) return known;
  if (code >= 3000 && code <= 3999) return 'registered';
  if (code >= 4000 && code <= 4999) return 'application';
  return OTHER;
}

/**
 * `error.type` values on `websocket.server.connection.closed`: our own
 * heartbeat verdict, an abnormal closure (no close frame), or the protocol
 * error code `ws` reported before closing (a fixed set in ws 8).
 */
export const CLOSE_ERROR_TYPES = [
  'heartbeat_timeout',
  'abnormal_closure',
  'WS_ERR_EXPECTED_FIN',
  'WS_ERR_EXPECTED_MASK',
  'WS_ERR_INVALID_CLOSE_CODE',
  'WS_ERR_INVALID_CONTROL_PAYLOAD_LENGTH',
  'WS_ERR_INVALID_OPCODE',
  'WS_ERR_INVALID_UTF8',
  'WS_ERR_UNEXPECTED_MASK',
  'WS_ERR_UNEXPECTED_RSV_1',
  'WS_ERR_UNEXPECTED_RSV_2_3',
  'WS_ERR_UNSUPPORTED_DATA_PAYLOAD_LENGTH',
  'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH',
  OTHER,
] as const;
export type CloseErrorType = (typeof CLOSE_ERROR_TYPES)[number];

const KNOWN_WS_ERRORS = new Set<string>(CLOSE_ERROR_TYPES);

/** Maps the `code` of an error `ws` emitted on a socket to a bounded `error.type`. */
export function closeErrorType(error: unknown): CloseErrorType {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && KNOWN_WS_ERRORS.has(code) ? (code as CloseErrorType) : OTHER;
}
