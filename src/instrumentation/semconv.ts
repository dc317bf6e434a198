/**
 * Attribute names and their bounded value sets. Standard OpenTelemetry names
 * where a convention exists; our own `websocket.*` names otherwise. Every
 * metric attribute value comes from one of the fixed lists below (or an
 * allow-list the application configures), so cardinality is bounded by
 * construction.
 */

// OpenTelemetry semantic conventions (stable or release-candidate names).
export const ATTR_ERROR_TYPE = 'error.type';
export const ATTR_NETWORK_IO_DIRECTION = 'network.io.direction';
export const ATTR_NETWORK_PEER_ADDRESS = 'network.peer.address';
export const ATTR_NETWORK_PEER_PORT = 'network.peer.port';
export const ATTR_NETWORK_PROTOCOL_NAME = 'network.protocol.name';
export const ATTR_CLIENT_ADDRESS = 'client.address';
export const ATTR_SERVER_ADDRESS = 'server.address';
export const ATTR_SERVER_PORT = 'server.port';
export const ATTR_URL_PATH = 'url.path';
export const ATTR_URL_SCHEME = 'url.scheme';
export const ATTR_USER_AGENT_ORIGINAL = 'user_agent.original';
export const ATTR_HTTP_REQUEST_METHOD = 'http.request.method';
export const ATTR_HTTP_RESPONSE_STATUS_CODE = 'http.response.status_code';
export const ATTR_MESSAGING_SYSTEM = 'messaging.system';
/** Not in the registry's list (which names brokers); the semantic conventions allow a custom value. */
export const MESSAGING_SYSTEM = 'websocket';
export const ATTR_MESSAGING_OPERATION_TYPE = 'messaging.operation.type';
export const ATTR_MESSAGING_OPERATION_NAME = 'messaging.operation.name';
export const ATTR_MESSAGING_MESSAGE_BODY_SIZE = 'messaging.message.body.size';

// socketscope's own attributes (no WebSocket semantic convention exists yet).
export const ATTR_CLOSE_CODE_CLASS = 'websocket.close_code.class';
export const ATTR_CLOSE_CODE = 'websocket.close_code';
export const ATTR_MESSAGE_TYPE = 'websocket.message.type';
export const ATTR_FRAME_TYPE = 'websocket.frame.type';
export const ATTR_AUTH_OUTCOME = 'websocket.auth.outcome';
export const ATTR_AUTH_FAILURE_REASON = 'websocket.auth.failure.reason';
export const ATTR_CHANNEL = 'websocket.channel';
export const ATTR_SUBPROTOCOL = 'websocket.subprotocol';

/** The value every bounded attribute folds unknown values into (the semconv `error.type` convention). */
export const OTHER = '_OTHER';

export const FRAME_TYPES = ['text', 'binary'] as const;
export type FrameType = (typeof FRAME_TYPES)[number];

export const IO_DIRECTIONS = ['receive', 'transmit'] as const;

export const AUTH_FAILURE_REASONS = ['missing_token', 'invalid_token', 'expired_token', 'forbidden_origin', 'rate_limited', OTHER] as const;
export type AuthFailureReason = (typeof AUTH_FAILURE_REASONS)[number];

export const MESSAGE_ERROR_TYPES = ['parse_error', 'validation_error', 'send_error', 'processing_error', OTHER] as const;
export type MessageErrorType = (typeof MESSAGE_ERROR_TYPES)[number];

/** `error.type` on `websocket.server.connection.rejected`. */
export const REJECTION_TYPES = ['authentication_failed', 'authenticator_error', 'handshake_failed'] as const;
export type RejectionType = (typeof REJECTION_TYPES)[number];

/** `error.type` on latency samples that were clamped or dropped (clock skew, absurd values). */
export const LATENCY_ANOMALIES = ['negative_clamped', 'too_large', 'invalid_timestamp'] as const;
export type LatencyAnomaly = (typeof LATENCY_ANOMALIES)[number];
