/**
 * Close code classes come from the web SDK's attribute values (one mapping for
 * client and server series); the raw code appears only on spans.
 */
import { OTHER } from './semconv.ts';

export { CLOSE_CODE_CLASSES, type CloseCodeClass, closeCodeClass } from '../../web-sdk/src/attributes.ts';

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
