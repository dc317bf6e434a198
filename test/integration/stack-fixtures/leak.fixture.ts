/**
 * Leaks a process the way a killed worker leaks a service: detached, in its own
 * process group, with the run marker on its command line and nobody left to
 * stop it. Its pid goes to stdout as `leaked <pid>`.
 */
import { spawn } from 'node:child_process';
import { expect, it } from 'vitest';
import { runMarker } from '../../../src/stack/run-dir.ts';

it('leaks a process', () => {
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1 << 30)', `${runMarker()}leaked-service`], {
    detached: true,
    stdio: 'ignore',
  });
  child.unref();
  console.log(`leaked ${child.pid}`);
  expect(child.pid).toBeTypeOf('number');
});
