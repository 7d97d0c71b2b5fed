import { defineConfig } from 'vitest/config';

// The SDK's notice that Node 20 support ends in 2027 (see the README's Limits) would otherwise be
// printed by each project's global setup; the test files get the same setting from setup.ts.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const registryTests = (engine: 'dynalite' | 'ddb-local') => ({
  test: {
    name: `registry:${engine}`,
    include: ['test/integration/registry/**/*.test.ts'],
    setupFiles: ['test/support/setup.ts'],
    globalSetup: ['test/support/engine-setup.ts'],
    env: { DYNAMODB_ENGINE: engine },
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          setupFiles: ['test/support/setup.ts'],
        },
      },
      // The registry's store, handlers and probe against both real engines.
      registryTests('dynalite'),
      registryTests('ddb-local'),
      {
        test: {
          name: 'integration',
          include: ['test/integration/*.test.ts'],
          setupFiles: ['test/support/setup.ts'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      {
        // The client package, packed and installed like a consumer's dependency, against `npm start`
        // and scripted discovery servers.
        test: {
          name: 'client',
          include: ['client/test/**/*.test.ts'],
          globalSetup: ['client/test/support/packed-setup.ts'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'infra',
          include: ['test/infra/**/*.test.ts'],
          setupFiles: ['test/support/setup.ts'],
          testTimeout: 120_000,
        },
      },
    ],
  },
});
