/**
 * A nested test run for stack-teardown.test.ts: one test file that leaves a
 * process carrying the run marker running, with the project's global setup.
 */
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  root: fileURLToPath(new URL('../../..', import.meta.url)),
  test: {
    include: ['test/integration/stack-fixtures/leak.fixture.ts'],
    pool: 'forks',
    globalSetup: ['test/global-setup.ts'],
  },
});
