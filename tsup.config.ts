import { defineConfig } from 'tsup';

export default defineConfig({
  entry: {
    index: 'src/index.ts',
    node: 'src/node.ts',
    machines: 'machines/index.ts',
    testing: 'src/testing.ts',
    inspector: 'src/inspector.ts',
    server: 'src/server.ts',
    otel: 'src/otel.ts',
    compat: 'src/compat.ts',
    'compat-node': 'src/compat-node.ts',
    cli: 'src/cli/main.ts',
  },
  format: ['esm'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'es2022',
  platform: 'neutral',
  external: ['ws', 'xstate', 'mitt', 'picocolors', /^node:/, /^@opentelemetry\//],
  splitting: true,
});
