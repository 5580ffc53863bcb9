import { defineConfig } from 'vitest/config';

/**
 * `npm run test:system`: suites that need system packages (scripts/system-packages.txt, installed by
 * .ci/run with apt-get): the real-browser test (Debian chromium) and other system-level suites.
 * A missing package makes its suite FAIL with the apt-get line to run; nothing is skipped.
 */
export default defineConfig({
  test: {
    include: ['test/browser/**/*.test.ts', 'test/system/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // One browser at a time on the 2-core machine.
    fileParallelism: false,
  },
});
