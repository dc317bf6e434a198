/**
 * The analytics service with the admin pages mounted at /admin: what
 * `socketscope serve` and `socketscope demo` run. The router is built before
 * the service's context exists, so it reads the context through a getter.
 */
import { type RunningService, type StartServiceOptions, startService } from '../api/service.ts';
import type { Config } from '../config.ts';
import { createAdminRouter } from './router.ts';

export async function startServiceWithAdmin(config: Config, options: StartServiceOptions = {}): Promise<RunningService> {
  const holder: { service?: RunningService } = {};
  const admin = createAdminRouter(
    () => {
      if (!holder.service) throw new Error('the analytics service is still starting');
      return holder.service.context;
    },
    { grafanaUrl: config.grafanaUrl, unavailable: options.unavailable },
  );
  const started = await startService(config, { ...options, admin });
  holder.service = started;
  return {
    ...started,
    async close() {
      admin.close();
      await started.close();
    },
  };
}
