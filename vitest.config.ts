import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/helpers/global-setup.ts'],
    // Deadlines are for a test that hangs, not a measure of speed: on a loaded 2-core machine a
    // start of the app with a new embedded database alone can take a minute.
    testTimeout: 120_000,
    hookTimeout: 180_000,
    pool: 'forks',
    // The machine has two cores; the Postgres-heavy files fight over them beyond this.
    maxWorkers: 3,
  },
});
