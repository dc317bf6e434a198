/**
 * One declaration per endpoint: method, path, access, zod schemas of the
 * request and response, and the handler. Express routes and the OpenAPI
 * document are both built from these, so they cannot drift apart.
 */
import type { Request, Response } from 'express';
import type { z } from 'zod';

export type Access = 'public' | 'admin' | 'webhook' | 'ingest';

export interface OtherResponse {
  description: string;
  schema: z.ZodType;
}

type Out<S> = S extends z.ZodType ? z.output<S> : undefined;

export interface RouteDefinition<Q, P, B, R extends z.ZodType> {
  method: 'get' | 'post';
  /** OpenAPI style: /api/ws/alerts/{id}/acknowledge */
  path: string;
  summary: string;
  description?: string;
  tag: string;
  access: Access;
  query?: Q;
  params?: P;
  body?: B;
  /** The handler validates the body itself (e.g. to answer a version mismatch first). */
  rawBody?: boolean;
  status: number;
  response: R;
  /** Documented error statuses besides 400/401/429/500 (their body is the Error shape). */
  errors?: number[];
  /** Statuses answered with a body of their own instead of the Error shape (e.g. a health 503 with the health body). */
  otherResponses?: Record<number, OtherResponse>;
  handler(input: { query: Out<Q>; params: Out<P>; body: Out<B> }, req: Request, res: Response): Promise<z.input<R>>;
}

/** The type-erased form the app and the OpenAPI generator iterate over. */
export interface Route {
  method: 'get' | 'post';
  path: string;
  summary: string;
  description?: string;
  tag: string;
  access: Access;
  query?: z.ZodType;
  params?: z.ZodType;
  body?: z.ZodType;
  rawBody?: boolean;
  status: number;
  response: z.ZodType;
  errors?: number[];
  otherResponses?: Record<number, OtherResponse>;
  handler(input: { query: unknown; params: unknown; body: unknown }, req: Request, res: Response): Promise<unknown>;
}

export function defineRoute<Q extends z.ZodType | undefined = undefined, P extends z.ZodType | undefined = undefined, B extends z.ZodType | undefined = undefined, R extends z.ZodType = z.ZodType>(
  definition: RouteDefinition<Q, P, B, R>,
): Route {
  return definition as unknown as Route;
}

/**
 * The Content-Types a route's body is read in: JSON, and for ingest also text/plain, which is what
 * navigator.sendBeacon sends a string as (application/json would need a CORS preflight it cannot make).
 */
export function bodyMediaTypes(route: Pick<Route, 'access'>): string[] {
  return route.access === 'ingest' ? ['application/json', 'text/plain'] : ['application/json'];
}

/** /api/ws/alerts/{id}/acknowledge → /api/ws/alerts/:id/acknowledge */
export function expressPath(path: string): string {
  return path.replace(/\{(\w+)\}/g, ':$1');
}
