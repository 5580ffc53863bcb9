import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'tsup';

const here = path.dirname(fileURLToPath(import.meta.url));

/**
 * The engine is CommonJS because Artillery `require()`s engines; `cjsInterop` makes the class itself
 * `module.exports`. `wsmachine` stays external: it is a dependency, required at run time.
 */
export default defineConfig({
  entry: { index: path.join(here, 'src/index.ts') },
  outDir: path.join(here, 'dist'),
  format: ['cjs'],
  cjsInterop: true,
  splitting: true,
  dts: false,
  sourcemap: true,
  clean: true,
  target: 'node20',
  platform: 'node',
  external: ['wsmachine'],
  tsconfig: path.join(here, 'tsconfig.json'),
});
