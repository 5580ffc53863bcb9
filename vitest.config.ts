import { defineConfig } from 'vitest/config';

/** Files that need Node's built-in WebSocket (on Node 20: only with --experimental-websocket). */
const NATIVE_WEBSOCKET_FILES = ['test/contract/native.test.ts', 'test/integration/native-client.test.ts'];

export default defineConfig({
  test: {
    testTimeout: 20_000,
    hookTimeout: 20_000,
    // Real sockets on loopback: keep the 2-core machine from oversubscribing.
    maxWorkers: 2,
    projects: [
      {
        extends: true,
        test: {
          name: 'node',
          include: ['test/**/*.test.ts'],
          exclude: ['test/browser/**', 'test/system/**', 'node_modules/**', ...NATIVE_WEBSOCKET_FILES],
        },
      },
      {
        extends: true,
        test: {
          // The native adapter under Node's built-in client (undici). The flag is harmless on Node 22+,
          // where the global WebSocket is on by default.
          name: 'native',
          include: NATIVE_WEBSOCKET_FILES,
          execArgv: ['--experimental-websocket'],
        },
      },
    ],
  },
});
