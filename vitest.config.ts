import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
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
