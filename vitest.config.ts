import { randomBytes } from 'node:crypto';
import { defineConfig } from 'vitest/config';

// One id per test run: every service the stack starts carries it in its run
// directory (and database names), so the global teardown can sweep this run's
// leftovers without touching a concurrent run's.
process.env.SOCKETSCOPE_RUN_ID ??= `t${randomBytes(4).toString('hex')}`;

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'web-sdk/test/**/*.test.ts'],
    // Child processes (not threads): a test file's exit hooks can then kill
    // the services it started even when it fails or is interrupted.
    pool: 'forks',
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 180_000,
    teardownTimeout: 30_000,
    reporters: ['default'],
  },
});
