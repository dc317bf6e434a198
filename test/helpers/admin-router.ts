/** The admin router alone on a loopback HTTP server, with a stand-in Prometheus (or none), for tests without the browser. */
import express from 'express';
import { pino } from 'pino';
import { type AdminContext, createAdminRouter } from '../../src/admin/router.ts';
import { errorHandler } from '../../src/api/errors.ts';
import { loadConfig } from '../../src/config.ts';
import { listenHttp } from './http.ts';

export interface AdminRouterServer {
  url: string;
  close(): Promise<void>;
}

export async function startAdminRouter(adminToken: string, prometheus?: Partial<NonNullable<AdminContext['prometheus']>>): Promise<AdminRouterServer> {
  const context = { adminToken, config: loadConfig({}), logger: pino({ level: 'silent' }), database: { pool: undefined }, prometheus } as unknown as AdminContext;
  const admin = createAdminRouter(context, { liveIntervalMs: 200 });
  const app = express();
  app.use('/admin', admin);
  app.use(errorHandler(pino({ level: 'silent' })));
  const server = await listenHttp(app);
  return {
    url: server.url,
    async close() {
      admin.close();
      await server.close();
    },
  };
}
