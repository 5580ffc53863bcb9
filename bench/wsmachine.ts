/**
 * Loads wsmachine's public Node entry (`src/node.ts`) the way it ships: bundled by esbuild with the
 * same settings as the package build (tsup: ESM, es2022, `ws`/`xstate`/`mitt` external, no
 * `keepNames`), into `node_modules/.cache/wsmachine-bench/node.mjs`, then imported.
 *
 * Why not import the .ts through tsx like the rest of the bench: tsx compiles with esbuild's
 * `keepNames`, which wraps every named closure in a `__name()` call that gives the function its own
 * property store (~256 B each, measured: ~6.5 KiB per idle client). The published build has none of
 * that, so per-client memory (and closure-creation cost) measured through tsx would describe a
 * development artifact, not the library.
 */
import { statSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import type * as WsmachineNode from '../src/node.js';
import { ROOT } from './lib.js';

export type Wsmachine = typeof WsmachineNode;

const OUT = fileURLToPath(new URL('../node_modules/.cache/wsmachine-bench/node.mjs', import.meta.url));

/** Bundles src/node.ts (unless `WSM_BENCH_BUILT` says run.ts already did in this run). */
export async function buildWsmachine(): Promise<string> {
  await build({
    absWorkingDir: ROOT,
    entryPoints: ['src/node.ts'],
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'es2022',
    external: ['ws', 'xstate', 'mitt', 'picocolors', '@opentelemetry/*'],
    outfile: OUT,
    logLevel: 'silent',
  });
  return OUT;
}

let loaded: Promise<Wsmachine> | undefined;

/** The public Node entry, as shipped. */
export function loadWsmachine(): Promise<Wsmachine> {
  loaded ??= (async () => {
    const fresh =
      process.env.WSM_BENCH_BUILT === OUT && statSync(OUT, { throwIfNoEntry: false }) !== undefined;
    const file = fresh ? OUT : await buildWsmachine();
    // Child processes of this one (servers, workers) reuse the bundle.
    process.env.WSM_BENCH_BUILT = file;
    return (await import(pathToFileURL(file).href)) as Wsmachine;
  })();
  return loaded;
}
