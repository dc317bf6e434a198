/**
 * The OpenTelemetry SDK reports its own trouble (an export the collector
 * refused, a collector that is down) through `diag`, which logs nothing
 * unless given a logger. This routes its warnings and errors into the
 * service's structured log, each distinct message at most once a minute so
 * a collector down for hours is a line a minute, not one per export.
 */
import { type DiagLogger, DiagLogLevel, diag } from '@opentelemetry/api';

export interface DiagnosticsLog {
  warn(obj: object, message: string): void;
  error(obj: object, message: string): void;
}

export function diagnosticsLogger(log: DiagnosticsLog, { repeatAfterMs = 60_000, now = Date.now }: { repeatAfterMs?: number; now?: () => number } = {}): DiagLogger {
  const lastLogged = new Map<string, number>();
  const emit = (level: 'warn' | 'error', raw: string, args: unknown[]): void => {
    const { message, err } = readMessage(raw);
    const at = now();
    const last = lastLogged.get(message);
    if (last !== undefined && at - last < repeatAfterMs) return;
    if (lastLogged.size > 1000) lastLogged.clear();
    lastLogged.set(message, at);
    const detail = args.map((a) => (a instanceof Error ? a.message : typeof a === 'string' ? a : JSON.stringify(a)));
    log[level]({ component: 'opentelemetry', ...(err ? { err } : {}), ...(detail.length > 0 ? { detail } : {}) }, `OpenTelemetry: ${message}`);
  };
  const ignore = (): void => {};
  return {
    error: (message, ...args) => emit('error', message, args),
    warn: (message, ...args) => emit('warn', message, args),
    info: ignore,
    debug: ignore,
    verbose: ignore,
  };
}

/**
 * The SDK's global error handler logs an exception as its JSON
 * (`{"stack":…,"message":…,"code":…}`): keep its message as the log message
 * and its name and code as fields; anything else is the message as is.
 */
function readMessage(raw: string): { message: string; err?: { name?: string; code?: string } } {
  if (!raw.startsWith('{')) return { message: raw };
  try {
    const parsed = JSON.parse(raw) as { message?: unknown; name?: unknown; code?: unknown };
    if (typeof parsed.message !== 'string') return { message: raw };
    return {
      message: parsed.message,
      err: { ...(typeof parsed.name === 'string' ? { name: parsed.name } : {}), ...(typeof parsed.code === 'string' ? { code: parsed.code } : {}) },
    };
  } catch {
    return { message: raw };
  }
}

/** Sends the SDK's warnings and errors to `log` (process-wide: `diag` is global). */
export function routeDiagnostics(log: DiagnosticsLog): void {
  diag.setLogger(diagnosticsLogger(log), { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true });
}
