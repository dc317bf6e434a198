/** Per-client request limits (by client address, after `trust proxy`), answered 429 in our error shape. */
import type { RequestHandler } from 'express';
import { rateLimit } from 'express-rate-limit';
import { ApiError } from './errors.ts';

export function perClientLimit(name: string, perMinute: number): RequestHandler {
  return rateLimit({
    windowMs: 60_000,
    limit: perMinute,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    identifier: name,
    handler: (_req, res, next) => {
      next(new ApiError(429, 'rate_limited', `more than ${perMinute} requests per minute from this client`, { limit_per_minute: perMinute, retry_after_s: Number(res.getHeader('retry-after') ?? 60) }));
    },
  });
}
