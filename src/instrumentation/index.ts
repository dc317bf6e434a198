export { instrumentWebSocketServer } from './instrument-server.ts';
export { jsonEnvelope, type JsonEnvelopeFields } from './message-classifier.ts';
export { SERVER_METRICS, serverMetric, type MetricDefinition, type ServerMetricName } from './catalogue.ts';
export { Heartbeat } from './heartbeat.ts';
export { Rooms, type BroadcastOptions, type BroadcastData } from './rooms.ts';
export { CLOSE_CODE_CLASSES, closeCodeClass } from './close-codes.ts';
export { AUTH_FAILURE_REASONS, MESSAGE_ERROR_TYPES, OTHER, type AuthFailureReason, type MessageErrorType } from './semconv.ts';
export { SCOPE_NAME, SCOPE_VERSION } from './scope.ts';
export type {
  AuthDecision,
  Authenticate,
  ChannelOptions,
  ConnectionInfo,
  HeartbeatOptions,
  InstrumentWebSocketServerOptions,
  InstrumentationStats,
  MessageEnvelope,
  TracingOptions,
  WebSocketServerInstrumentation,
} from './types.ts';
