import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['test/browser/**', 'test/system/**', 'node_modules/**'],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    // Real sockets on loopback: keep the 2-core machine from oversubscribing.
    maxWorkers: 2,
  },
});
