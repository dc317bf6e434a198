/** The OpenAPI 3.1 document, generated from the same route declarations and zod schemas the API validates with. */
import { OpenAPIRegistry, OpenApiGeneratorV31 } from '@asteasolutions/zod-to-openapi';
import type { z } from 'zod';
import { errorBodySchema } from './errors.ts';
import { type Route, bodyMediaTypes } from './route-spec.ts';

const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: 'Invalid request (validation_failed, malformed_json, invalid_range, unsupported_schema_version, invalid_request, …)',
  401: 'Missing or wrong bearer token',
  404: 'Not found',
  409: 'Conflict with the current state (alert_not_active: the alert is not firing in Alertmanager)',
  413: 'Body larger than the limit',
  429: 'Rate limit exceeded',
  500: 'Internal error',
  502: 'An upstream (Prometheus, Alertmanager) failed',
  503: 'A needed dependency is not configured or down (database_unavailable with Retry-After when PostgreSQL is out of reach), or a database read ran past its timeout (query_timeout)',
};

/** 415, naming the Content-Types the route reads. */
function unsupportedBody(route: Route): string {
  return `Unsupported Content-Type (unsupported_media_type: send ${bodyMediaTypes(route).join(' or ')}), body encoding or charset (unsupported_encoding, unsupported_charset)`;
}

export function buildOpenApiDocument(routes: readonly Route[], { version, serverUrl }: { version: string; serverUrl?: string }): object {
  const registry = new OpenAPIRegistry();
  registry.registerComponent('securitySchemes', 'adminToken', { type: 'http', scheme: 'bearer', description: 'SOCKETSCOPE_ADMIN_TOKEN' });
  registry.registerComponent('securitySchemes', 'webhookToken', { type: 'http', scheme: 'bearer', description: 'ALERTMANAGER_WEBHOOK_TOKEN (required unless the service listens on loopback only)' });
  for (const route of routes) {
    // Every route may find the database out of reach (503 database_unavailable, src/api/errors.ts).
    const errorStatuses = new Set<number>([500, 503, ...(route.errors ?? [])]);
    if (route.query || route.params || route.body) errorStatuses.add(400);
    if (route.access === 'admin') errorStatuses.add(401).add(429);
    if (route.access === 'ingest') errorStatuses.add(429).add(413);
    if (route.access === 'webhook') errorStatuses.add(401).add(429);
    // Every POST body must come in a type the route reads, and goes through a size-limited JSON parser, which
    // refuses encodings and charsets it cannot read.
    if (route.method === 'post' && route.body) errorStatuses.add(413).add(415);
    const responses: Record<string, { description: string; content: { 'application/json': { schema: z.ZodType } } }> = {
      [route.status]: { description: 'Success', content: { 'application/json': { schema: route.response } } },
    };
    const other = route.otherResponses ?? {};
    for (const status of [...new Set([...errorStatuses, ...Object.keys(other).map(Number)])].sort((a, b) => a - b)) {
      const own = other[status];
      responses[status] = own
        ? { description: own.description, content: { 'application/json': { schema: own.schema } } }
        : { description: (status === 415 ? unsupportedBody(route) : ERROR_DESCRIPTIONS[status]) ?? 'Error', content: { 'application/json': { schema: errorBodySchema } } };
    }
    registry.registerPath({
      method: route.method,
      path: route.path,
      summary: route.summary,
      ...(route.description ? { description: route.description } : {}),
      tags: [route.tag],
      ...(route.access === 'admin' ? { security: [{ adminToken: [] }] } : {}),
      // `{}`: no token, allowed only on loopback.
      ...(route.access === 'webhook' ? { security: [{ webhookToken: [] }, {}] } : {}),
      request: {
        ...(route.query ? { query: route.query as never } : {}),
        ...(route.params ? { params: route.params as never } : {}),
        ...(route.body ? { body: { required: true, content: Object.fromEntries(bodyMediaTypes(route).map((type) => [type, { schema: route.body as z.ZodType }])) } } : {}),
      },
      responses,
    });
  }
  return new OpenApiGeneratorV31(registry.definitions).generateDocument({
    openapi: '3.1.0',
    info: {
      title: 'socketscope analytics API',
      version,
      description: 'Client reports, geography, anomalies, UX correlation, server metrics and alerts for WebSocket applications.',
    },
    ...(serverUrl ? { servers: [{ url: serverUrl }] } : {}),
  });
}
