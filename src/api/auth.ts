/** Bearer-token check for the admin API, in constant time. */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Request, RequestHandler } from 'express';
import { ApiError } from './errors.ts';

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

/** Compares digests so neither the content nor the length of the token leaks through timing. */
export function tokenMatches(presented: string, expected: string): boolean {
  return timingSafeEqual(digest(presented), digest(expected));
}

/** The bearer token of a request's Authorization header, if it has one. */
function bearerOf(req: Request): string | undefined {
  return /^Bearer\s+(\S+)\s*$/i.exec(req.get('authorization') ?? '')?.[1];
}

/** Whether the request carries the expected bearer token (for public routes that tell an admin more). */
export function hasBearer(req: Request, expected: string): boolean {
  const presented = bearerOf(req);
  return presented !== undefined && tokenMatches(presented, expected);
}

export function requireBearer(expected: string, realm = 'socketscope-admin'): RequestHandler {
  return (req, res, next) => {
    const presented = bearerOf(req);
    if (presented !== undefined && tokenMatches(presented, expected)) {
      next();
      return;
    }
    res.setHeader('WWW-Authenticate', `Bearer realm="${realm}"`);
    next(new ApiError(401, 'unauthorized', presented !== undefined ? 'the bearer token is not valid' : 'an Authorization: Bearer token is required'));
  };
}
