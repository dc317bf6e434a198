/**
 * Starts a worker thread on a module: a TypeScript one (the CLI runs the
 * sources, no build step) after registering tsx's loader in the worker, a
 * compiled one (dist/, what `socketscope/loadtest` resolves to) as it is. (On Node 20
 * `execArgv: ['--import', 'tsx']` does not reach a worker's own module loader,
 * hence the two-line bootstrap.) Resolved from this file, not the cwd, so it
 * works wherever socketscope is run from, under `node bin/socketscope.js`,
 * tsx and vitest alike.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';

let tsxApiUrl: string | undefined;

function tsxEsmApi(): string {
  if (tsxApiUrl === undefined) {
    const packageJson = createRequire(import.meta.url).resolve('tsx/package.json');
    // The `import` condition of the `tsx/esm/api` export.
    tsxApiUrl = pathToFileURL(join(dirname(packageJson), 'dist/esm/api/index.mjs')).href;
  }
  return tsxApiUrl;
}

export function spawnWorker(entry: URL, workerData: unknown): Worker {
  const bootstrap = entry.pathname.endsWith('.ts')
    ? `import(${JSON.stringify(tsxEsmApi())}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry.href)}); });`
    : `import(${JSON.stringify(entry.href)});`;
  // An empty execArgv: the parent's flags (vitest's, --expose-gc) are not the worker's business.
  return new Worker(bootstrap, { eval: true, workerData, execArgv: [] });
}
