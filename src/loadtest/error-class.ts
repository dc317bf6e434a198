/**
 * Folds connection errors into a few stable classes for the report: system
 * error codes as they are (ECONNREFUSED, ECONNRESET, EMFILE…), HTTP statuses
 * from a refused upgrade (`http-401`), and ws's own error codes.
 */
export function classifyError(error: unknown): string {
  if (!(error instanceof Error)) return 'other';
  const code = (error as { code?: unknown }).code;
  const status = /Unexpected server response: (\d{3})/.exec(error.message);
  if (status) return `http-${status[1]}`;
  if (/handshake has timed out/i.test(error.message)) return 'handshake-timeout';
  if (/closed before the connection was established/i.test(error.message)) return 'aborted';
  if (typeof code === 'string' && /^[A-Z][A-Z0-9_]+$/.test(code)) return code;
  return 'other';
}

/** Adds one to `key` in a count map. */
export function bump(counts: Record<string, number>, key: string, by = 1): void {
  counts[key] = (counts[key] ?? 0) + by;
}
