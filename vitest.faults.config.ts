import { defineConfig } from 'vitest/config';

/**
 * `npm run test:faults`: fleet-scale fault scenarios through `npm start` (minutes each, so not in
 * `npm test`; the same rules are tested at small scale there).
 */
export default defineConfig({
  test: {
    name: 'faults',
    include: ['test/faults/**/*.test.ts'],
    setupFiles: ['test/support/setup.ts'],
    testTimeout: 300_000,
    hookTimeout: 120_000,
    fileParallelism: false,
  },
});
