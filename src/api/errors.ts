/**
 * Every error leaves the API as `{ "error": { "code", "message", "details" } }`
 * with a fitting status; unexpected errors are logged and answered 500
 * without internals.
 */
import type { ErrorRequestHandler, RequestHandler } from 'express';
import { z } from 'zod';
import { UpstreamError } from '../analytics/http-json.ts';
import { DATABASE_RETRY_AFTER_S, DatabaseUnavailableError, isDatabaseUnavailable } from '../analytics/storage/database-errors.ts';
import { ReadTimeoutError } from '../analytics/storage/transaction.ts';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export const errorBodySchema = z
  .object({
    error: z.object({
      code: z.string().meta({ description: 'Machine-readable, e.g. validation_failed, malformed_json, unauthorized, rate_limited' }),
      message: z.string(),
      details: z.unknown().optional(),
    }),
  })
  .meta({ id: 'Error' });

export interface IssueDetail {
  path: string;
  message: string;
  code: string;
}

export function zodDetails(error: z.ZodError): IssueDetail[] {
  return error.issues.map((issue) => ({ path: issue.path.map(String).join('.'), message: issue.message, code: issue.code }));
}

export const notFound: RequestHandler = (req, _res, next) => {
  next(new ApiError(404, 'not_found', `no route for ${req.method} ${req.path}`));
};

interface ErrorLogger {
  error(obj: object, message: string): void;
  warn(obj: object, message: string): void;
}

/** body-parser errors carry `type`; map them to our codes. */
const BODY_ERRORS: Record<string, [number, string, string]> = {
  'entity.parse.failed': [400, 'malformed_json', 'the request body is not valid JSON'],
  'entity.too.large': [413, 'payload_too_large', 'the request body is larger than the limit'],
  'encoding.unsupported': [415, 'unsupported_encoding', 'unsupported content encoding'],
  'charset.unsupported': [415, 'unsupported_charset', 'unsupported charset'],
  'request.aborted': [400, 'request_aborted', 'the request was aborted'],
};

function clientErrorStatus(error: unknown): number | undefined {
  const status = (error as { status?: unknown; statusCode?: unknown } | null)?.status ?? (error as { statusCode?: unknown } | null)?.statusCode;
  return typeof status === 'number' && status >= 400 && status < 500 ? status : undefined;
}

/**
 * PostgreSQL's SQLSTATE class 22 (data exception: a value out of range, an invalid text
 * representation, a NUL in text) from node-postgres or PGlite. Validation keeps such values out;
 * one that slips through is the request's data, not a fault of the service.
 */
function dataException(error: unknown): string | undefined {
  const { code, severity } = (error ?? {}) as { code?: unknown; severity?: unknown };
  return typeof code === 'string' && typeof severity === 'string' && /^22[0-9A-Z]{3}$/.test(code) ? code : undefined;
}

export function errorHandler(log: ErrorLogger): ErrorRequestHandler {
  // The requests of one failed group commit share one error: logged once, not once per request.
  const logged = new WeakSet<object>();
  const once = (error: unknown): boolean => {
    if (error === null || typeof error !== 'object') return true;
    if (logged.has(error)) return false;
    logged.add(error);
    return true;
  };
  return (error: unknown, req, res, _next) => {
    let status = 500;
    let body: { code: string; message: string; details?: unknown };
    const bodyError = BODY_ERRORS[(error as { type?: string }).type ?? ''];
    if (error instanceof ApiError) {
      status = error.status;
      body = { code: error.code, message: error.message, ...(error.details === undefined ? {} : { details: error.details }) };
    } else if (bodyError) {
      [status] = bodyError;
      body = { code: bodyError[1], message: bodyError[2], ...((error as { limit?: number }).limit ? { details: { limit_bytes: (error as { limit: number }).limit } } : {}) };
    } else if (error instanceof z.ZodError) {
      status = 400;
      body = { code: 'validation_failed', message: 'the request is invalid', details: zodDetails(error) };
    } else if (error instanceof ReadTimeoutError) {
      // statement_timeout (readOnly): a range too wide for the raw rows, or a database under strain.
      status = 503;
      body = { code: 'query_timeout', message: `the query ran longer than ${error.timeoutMs / 1000} s (QUERY_TIMEOUT_MS) and was canceled; try a narrower range` };
      log.warn({ err: error, method: req.method, path: req.path }, 'query canceled by statement_timeout');
    } else if (error instanceof DatabaseUnavailableError || isDatabaseUnavailable(error)) {
      // 503 with Retry-After: the web SDK sends the reports again later (nothing of them was written);
      // a read fails the same way rather than as an internal error.
      const retryAfter = error instanceof DatabaseUnavailableError ? error.retryAfterSeconds : DATABASE_RETRY_AFTER_S;
      status = 503;
      const message = error instanceof DatabaseUnavailableError ? 'the database is unavailable; nothing was written, retry later' : 'the database is unavailable; retry later';
      body = { code: 'database_unavailable', message, details: { retry_after_s: retryAfter } };
      if (!res.headersSent) res.setHeader('Retry-After', String(retryAfter));
      if (once(error)) log.warn({ err: error, method: req.method, path: req.path }, 'database unavailable');
    } else if (error instanceof UpstreamError) {
      status = 502;
      body = { code: `${error.service}_unavailable`, message: error.message };
    } else if (dataException(error) !== undefined) {
      // 400 rather than 500: a 5xx tells the sender (the web SDK, Alertmanager) to send the same data again.
      // Logged in full (warn) because it means a validation gap worth closing.
      status = 400;
      body = { code: 'invalid_request', message: 'a value in the request cannot be stored or compared by the database', details: { sqlstate: dataException(error) } };
      log.warn({ err: error, method: req.method, path: req.path }, 'database rejected a value of the request (SQLSTATE class 22)');
    } else if (clientErrorStatus(error) !== undefined) {
      // Express and its parsers flag the client's mistakes (a path that does not decode, say) with a 4xx status.
      status = clientErrorStatus(error) as number;
      body = { code: status === 400 ? 'bad_request' : 'client_error', message: (error as Error).message || 'bad request' };
    } else {
      if (once(error)) log.error({ err: error, method: req.method, path: req.path }, 'unhandled error');
      body = { code: 'internal_error', message: 'internal server error' };
    }
    if (res.headersSent) return;
    res.status(status).json({ error: body });
  };
}
