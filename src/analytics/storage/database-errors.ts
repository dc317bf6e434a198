/**
 * What a failed write of client reports means: the request's data (retry the
 * other requests of its statement without it) or the database being out of
 * reach or overwhelmed (fail everything at once; the client retries later).
 */

/** The database could not take the write now; nothing of it was written. The API answers 503 `database_unavailable` with Retry-After. */
/** What Retry-After says when the database is unavailable, seconds. */
export const DATABASE_RETRY_AFTER_S = 5;

export class DatabaseUnavailableError extends Error {
  /** What Retry-After says, seconds. */
  readonly retryAfterSeconds = DATABASE_RETRY_AFTER_S;

  constructor(message: string, options?: { cause: unknown }) {
    super(message, options);
    this.name = 'DatabaseUnavailableError';
  }
}

/** The SQLSTATE of a PostgreSQL error (node-postgres or PGlite: a five-character `code` next to a `severity`). */
export function sqlState(error: unknown): string | undefined {
  const { code, severity } = (error ?? {}) as { code?: unknown; severity?: unknown };
  return typeof code === 'string' && typeof severity === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

/**
 * SQLSTATE class 22 (data exception: a value out of range, an invalid text representation, a NUL in
 * text) or 23 (integrity constraint violation: a NULL in a NOT NULL column, a failed CHECK): a value of
 * some request, which the other requests sharing its statement must not fail with.
 */
export function isDataError(error: unknown): boolean {
  const state = sqlState(error);
  return state !== undefined && (state.startsWith('22') || state.startsWith('23'));
}

/**
 * Node's socket errors: the server is not there, not reachable, or went away.
 * (Only meaningful for errors from the database client.)
 */
const SOCKET_ERRORS = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'EHOSTDOWN', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNABORTED']);

/** node-postgres's and pg-pool's own errors for a connection that could not be made or was lost. */
const CONNECTION_MESSAGES = [
  /^timeout exceeded when trying to connect$/,
  /^Connection terminated/,
  /^Client has encountered a connection error and is not queryable$/,
  /^Client was closed and is not queryable$/,
  /^Cannot use a pool after calling end on the pool$/,
  /^timeout expired$/,
];

/** node-postgres's error when a statement got no answer within its query_timeout (the client deadline). */
export function isQueryDeadline(error: unknown): boolean {
  return error instanceof Error && error.message === 'Query read timeout';
}

/**
 * An error from the database client meaning the database cannot serve now, whatever was sent: no
 * connection (refused, timed out, lost), or the server refusing work — SQLSTATE class 08 (connection
 * exception), 53 (insufficient resources: too many connections, disk full), 57 (operator intervention:
 * shutting down, or a statement canceled by statement_timeout), 58 (system error: I/O), 40
 * (serialization failure, deadlock: try again) and 55P03 (lock not available).
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  if (error instanceof DatabaseUnavailableError) return true;
  const state = sqlState(error);
  if (state !== undefined) return ['08', '53', '57', '58', '40'].includes(state.slice(0, 2)) || state === '55P03';
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && SOCKET_ERRORS.has(code)) return true;
  const message = error instanceof Error ? error.message : '';
  return isQueryDeadline(error) || CONNECTION_MESSAGES.some((pattern) => pattern.test(message));
}
