import { defaultServerConditions } from 'vite';
import { defineConfig } from 'vitest/config';

/**
 * The offline rig imports the product by its package entry points (package.json `exports`), which
 * resolve to the TypeScript sources under this condition: tests and rig then share one copy of
 * every product module, the sources, with no build in between.
 */
// Vitest's own default server conditions are Vite's without `module` (whose builds of the AWS SDK
// Node cannot load as they are); the source condition goes first.
const SOURCE_CONDITIONS = [
  'ecr-backfill-source',
  ...defaultServerConditions.filter((condition) => condition !== 'module'),
];

export default defineConfig({
  ssr: { resolve: { conditions: SOURCE_CONDITIONS } },
  test: {
    include: ['test/**/*.test.ts', 'local/test/**/*.test.ts'],
    setupFiles: ['./local/polyfills.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Two cores: one worker per core keeps emulator-backed tests from starving each other.
    maxWorkers: 2,
    env: {
      // The SDK warns once per process that releases after January 2027 need Node 22; on the
      // supported Node 20.19 it is noise in every test file's output.
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    },
  },
});
