export { otlpTracesConfigured, parseResourceAttributes, startTelemetry, type Telemetry, type TelemetryOptions } from './start-telemetry.ts';
export { renameForPrometheus, serializerName, startPrometheusEndpoint, type PrometheusEndpoint } from './prometheus-endpoint.ts';
export { diagnosticsLogger, routeDiagnostics, type DiagnosticsLog } from './diagnostics.ts';
