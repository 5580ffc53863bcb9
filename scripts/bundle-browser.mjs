#!/usr/bin/env node
/**
 * Bundles the browser entry (`src/index.ts`) with esbuild into one minified ESM file,
 * `dist/browser/wsmachine.js` (xstate and mitt included), checks that nothing Node-only got in, and
 * prints its size minified and minified + gzip (level 9). The same for `wsmachine/compat`'s browser
 * entry (`src/compat.ts` -> `dist/browser/compat.js`).
 *
 *   node scripts/bundle-browser.mjs          # write the bundle, check it, print the size (`npm run size`)
 *   node scripts/bundle-browser.mjs --json   # the same, the size as one JSON line (for bench/)
 *
 * Exits non-zero when the bundle imports `ws`, a Node built-in (`node:*`, `fs`, ...) or OpenTelemetry.
 * `bundleBrowser()` is also imported by test/unit/browser-bundle.test.ts (in memory, `write: false`).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const BROWSER_BUNDLE = resolve(root, 'dist/browser/wsmachine.js');
export const COMPAT_BROWSER_BUNDLE = resolve(root, 'dist/browser/compat.js');

const builtins = new Set(builtinModules);
/** A module the browser graph must never reach (ARCHITECTURE.md §2). */
function forbiddenSpecifier(spec) {
  if (spec.startsWith('node:')) return true;
  if (builtins.has(spec) || builtins.has(spec.split('/')[0])) return true;
  return spec === 'ws' || spec.startsWith('ws/') || spec.startsWith('@opentelemetry/');
}
/** A bundled file that must never be in the browser bundle. */
function forbiddenInput(path) {
  return /(^|\/)node_modules\/(ws|@opentelemetry\/[^/]+)\//.test(path) || path.startsWith('node:');
}

/**
 * Bundles `src/index.ts` (or another browser entry) for browsers.
 *
 * @param {{ write?: boolean, entry?: string, outfile?: string }} [options] `write: false` keeps the
 *   output in memory; `entry` (default `src/index.ts`) and `outfile` (default {@link BROWSER_BUNDLE}).
 * @returns {Promise<{ code: Uint8Array, minBytes: number, gzipBytes: number, inputs: string[], imports: string[], forbidden: string[], packages: Record<string, number> }>}
 *   `imports` lists what the bundle still imports at run time (nothing, when self-contained);
 *   `forbidden` lists every import of `ws`, a Node built-in or OpenTelemetry (empty when clean);
 *   `packages` the minified bytes each package contributes (`wsmachine` for our own code).
 */
export async function bundleBrowser({
  write = false,
  entry = 'src/index.ts',
  outfile = BROWSER_BUNDLE,
} = {}) {
  const imported = [];
  const result = await build({
    absWorkingDir: root,
    entryPoints: [entry],
    bundle: true,
    platform: 'browser',
    format: 'esm',
    target: 'es2022',
    minify: true,
    legalComments: 'none',
    metafile: true,
    write: false,
    outfile,
    logLevel: 'silent',
    plugins: [
      {
        // Record (instead of failing on) forbidden imports, so the report names every offender and
        // who imported it.
        name: 'forbidden-imports',
        setup(b) {
          b.onResolve({ filter: /.*/ }, (args) => {
            if (args.kind === 'entry-point' || !forbiddenSpecifier(args.path)) return undefined;
            imported.push(`${args.path} (imported by ${relative(root, args.importer)})`);
            return { path: args.path, external: true };
          });
        },
      },
    ],
  });
  const out = result.outputFiles.find((f) => f.path === outfile);
  if (out === undefined) throw new Error('esbuild produced no bundle');
  const inputs = Object.keys(result.metafile.inputs);
  const output = result.metafile.outputs[relative(root, outfile)];
  const forbidden = [...imported, ...inputs.filter(forbiddenInput)];
  const packages = {};
  for (const [path, { bytesInOutput }] of Object.entries(output?.inputs ?? {})) {
    const name = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(path)?.[1] ?? 'wsmachine';
    packages[name] = (packages[name] ?? 0) + bytesInOutput;
  }
  if (write) {
    mkdirSync(dirname(outfile), { recursive: true });
    writeFileSync(outfile, out.contents);
  }
  return {
    code: out.contents,
    minBytes: out.contents.byteLength,
    gzipBytes: gzipSync(out.contents, { level: 9 }).byteLength,
    inputs,
    imports: (output?.imports ?? []).map((i) => i.path),
    forbidden,
    packages,
  };
}

const kib = (n) => `${(n / 1024).toFixed(1)} KiB`;

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const report = await bundleBrowser({ write: true });
  if (process.argv.includes('--json')) {
    console.log(
      JSON.stringify({
        bundle: relative(root, BROWSER_BUNDLE),
        minBytes: report.minBytes,
        gzipBytes: report.gzipBytes,
        packages: report.packages,
      }),
    );
  } else {
    console.log(`${relative(root, BROWSER_BUNDLE)} (xstate and mitt included)`);
    console.log(`  min:        ${report.minBytes} bytes (${kib(report.minBytes)})`);
    console.log(`  min + gzip: ${report.gzipBytes} bytes (${kib(report.gzipBytes)}, zlib level 9)`);
    for (const [name, bytes] of Object.entries(report.packages).sort((a, b) => b[1] - a[1])) {
      console.log(`    ${name.padEnd(12)} ${kib(bytes)} min`);
    }
  }
  if (report.forbidden.length > 0) {
    console.error('The browser bundle must not reach ws, Node built-ins or OpenTelemetry, but it imports:');
    for (const f of report.forbidden) console.error(`  - ${f}`);
    process.exitCode = 1;
  }
  const compat = await bundleBrowser({ write: true, entry: 'src/compat.ts', outfile: COMPAT_BROWSER_BUNDLE });
  if (!process.argv.includes('--json')) {
    console.log(
      `${relative(root, COMPAT_BROWSER_BUNDLE)} (wsmachine/compat): ${compat.minBytes} bytes min, ` +
        `${compat.gzipBytes} bytes min + gzip`,
    );
  }
  if (compat.forbidden.length > 0) {
    console.error(
      'wsmachine/compat in browsers must not reach ws, Node built-ins or OpenTelemetry, but it imports:',
    );
    for (const f of compat.forbidden) console.error(`  - ${f}`);
    process.exitCode = 1;
  }
}
