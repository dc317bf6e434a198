/**
 * @socketscope/web-sdk core: monitored WebSockets, the monitoring scope and
 * client reports. OTel export lives in '@socketscope/web-sdk/otel', page
 * signals (Web Vitals, page load, interactions) in '@socketscope/web-sdk/vitals'.
 */
export { SDK_NAME, SDK_VERSION } from './version.ts';
export { initSocketScope, getSocketScope, SocketScope, type ScopeOptions, type ScopePlugin } from './scope.ts';
export { MonitoredWebSocket, type MonitoredWebSocketOptions, type ReconnectOptions } from './socket/monitored-websocket.ts';
export { monitor, type MonitorOptions, type SocketMonitor, type WebSocketLike } from './socket/monitor.ts';
export type { HeartbeatOptions } from './socket/heartbeat.ts';
export type { RequestOptions, RequestTrackingOptions, TrackedRequest } from './socket/requests.ts';
export type { BackoffOptions } from './backoff.ts';
export type { QueueLimits } from './queue.ts';
export type { MonitorSink, VitalName, VitalRating, OutagePhase } from './sink.ts';
export type { SocketTracer, SpanHandle, RequestSpan } from './traces/socket-tracer.ts';
export type { ReportOptions, ReporterSink } from './report/reporter.ts';
export { REPORT_SCHEMA_VERSION, type ClientReport, type ClientReportBatch } from './report/schema.ts';
export { closeCodeClass, type CloseCodeClass, type DropReason, type ErrorType, type NetworkInfo, type RequestOutcome } from './attributes.ts';
