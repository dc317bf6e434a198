/** The instrumentation scope every meter and tracer of the server SDK is created under. */
export const SCOPE_NAME = 'socketscope-instrumentation-ws';
export const SCOPE_VERSION = '0.1.0';
