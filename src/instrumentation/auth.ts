/**
 * Authentication outcomes: a fixed reason list, and how each is answered,
 * either as an HTTP status on the refused upgrade or as a close code after
 * it (browsers cannot read the status of a failed upgrade, but they can read
 * a close code and reason).
 */
import type { Duplex } from 'node:stream';
import { STATUS_CODES } from 'node:http';
import { AUTH_FAILURE_REASONS, type AuthFailureReason, OTHER } from './semconv.ts';
import type { AuthDecision } from './types.ts';

const KNOWN = new Set<string>(AUTH_FAILURE_REASONS);

export function authFailureReason(reason: string): AuthFailureReason {
  return KNOWN.has(reason) ? (reason as AuthFailureReason) : OTHER;
}

export const AUTH_HTTP_STATUS: Readonly<Record<AuthFailureReason, number>> = {
  missing_token: 401,
  invalid_token: 401,
  expired_token: 401,
  forbidden_origin: 403,
  rate_limited: 429,
  [OTHER]: 403,
};

/** 4xxx mirrors the HTTP status (a common convention); `_OTHER` is a plain policy violation. */
export const AUTH_CLOSE_CODE: Readonly<Record<AuthFailureReason, number>> = {
  missing_token: 4401,
  invalid_token: 4401,
  expired_token: 4401,
  forbidden_origin: 4403,
  rate_limited: 4429,
  [OTHER]: 1008,
};

/** Validates what an application's authenticate hook returned. */
export function checkDecision(decision: unknown): AuthDecision {
  if (decision === null || typeof decision !== 'object' || typeof (decision as { ok?: unknown }).ok !== 'boolean') {
    throw new TypeError('authenticate() must return { ok: true, user?, tenant? } or { ok: false, reason }');
  }
  const d = decision as AuthDecision;
  if (!d.ok && typeof d.reason !== 'string') throw new TypeError('authenticate() returned { ok: false } without a reason');
  return d;
}

/** Answers a refused upgrade with an HTTP status (as ws does for its own refusals), then closes the socket. */
export function refuseUpgrade(socket: Duplex, status: number, reason: string): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const body = `${reason}\n`;
  socket.once('finish', () => socket.destroy());
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\n` +
      'Connection: close\r\n' +
      'Content-Type: text/plain\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      `\r\n${body}`,
  );
}
