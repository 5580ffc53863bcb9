/**
 * Browser bundle size, min+gz: wsmachine's browser entry as `scripts/bundle-browser.mjs` builds it
 * (src/index.ts, esbuild, minified, xstate and mitt included, gzip level 9), and, for reference, each
 * browser peer bundled whole the same way (esbuild, browser platform, minified, gzip level 9).
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import {
  type BenchOptions,
  type BenchSection,
  type Headline,
  type TargetCheck,
  ROOT,
  mainIfDirect,
  table,
} from './lib.js';

const run$ = promisify(execFile);

const PEERS = ['partysocket', 'reconnecting-websocket', 'websocket-ts', 'socket.io-client'] as const;

interface Size {
  minBytes: number;
  gzipBytes: number;
}

async function peerSize(name: string): Promise<Size> {
  const result = await build({
    absWorkingDir: ROOT,
    stdin: {
      contents: `import * as m from '${name}'; globalThis.__peer = m;`,
      resolveDir: ROOT,
      loader: 'js',
    },
    bundle: true,
    platform: 'browser',
    format: 'esm',
    target: 'es2022',
    minify: true,
    legalComments: 'none',
    write: false,
    logLevel: 'silent',
  });
  const code = result.outputFiles[0]!.contents;
  return { minBytes: code.length, gzipBytes: gzipSync(code, { level: 9 }).length };
}

const kb = (bytes: number) => `${(bytes / 1000).toFixed(1)} KB`;

/** Minified bytes per source module of wsmachine's browser bundle (same settings as the script). */
async function ownModules(): Promise<Array<[string, number]>> {
  const result = await build({
    absWorkingDir: ROOT,
    entryPoints: ['src/index.ts'],
    bundle: true,
    platform: 'browser',
    format: 'esm',
    target: 'es2022',
    minify: true,
    legalComments: 'none',
    metafile: true,
    write: false,
    outfile: 'bundle-size.js',
    logLevel: 'silent',
  });
  const output = Object.values(result.metafile.outputs)[0];
  return Object.entries(output?.inputs ?? {})
    .filter(([path]) => !path.includes('node_modules'))
    .map(([path, v]): [string, number] => [path, v.bytesInOutput])
    .sort((a, b) => b[1] - a[1]);
}

export async function run(_options: BenchOptions): Promise<BenchSection> {
  const { stdout } = await run$(process.execPath, ['scripts/bundle-browser.mjs', '--json'], {
    cwd: ROOT,
    timeout: 60_000,
  });
  const line = stdout.trim().split('\n').pop() ?? '{}';
  const own = JSON.parse(line) as Size & { packages?: Record<string, number> };
  const peers: Record<string, Size> = {};
  for (const p of PEERS) peers[p] = await peerSize(p);
  const packages = own.packages ?? {};
  const modules = await ownModules();
  const sumOf = (re: RegExp) => modules.filter(([path]) => re.test(path)).reduce((n, [, b]) => n + b, 0);
  // What this round's features weigh (minified): the issue's 34.2 KB was measured before them.
  const subscriptionBytes = sumOf(/subscription/);
  const fromClientBytes = sumOf(/from-client/);
  const topModules = modules
    .slice(0, 6)
    .map(([path, bytes]) => `${path} ${kb(bytes)}`)
    .join(', ');
  const lines = [
    table(
      ['bundle', 'min', 'min+gz'],
      [
        ['wsmachine (src/index.ts: xstate + mitt included)', kb(own.minBytes), `**${kb(own.gzipBytes)}**`],
        ...PEERS.map((p) => [p, kb(peers[p]!.minBytes), kb(peers[p]!.gzipBytes)]),
      ],
    ),
    '',
    `Minified bytes by package inside the wsmachine bundle: ${Object.entries(packages)
      .map(([k, v]) => `${k} ${kb(v)}`)
      .join(
        ', ',
      )}; wsmachine's largest modules (minified): ${topModules}. KB = 1,000 bytes; gzip level 9. Peers are bundled whole (every export), as wsmachine's entry is.`,
  ];
  const targets: TargetCheck[] = [
    {
      target: 'Browser bundle <= 22 KB min+gz, xstate and mitt included (issue 17)',
      measured: `${kb(own.gzipBytes)} (${kb(own.minBytes)} min; wsmachine's own code ${kb(packages.wsmachine ?? 0)} min, xstate ${kb(packages.xstate ?? 0)} min)`,
      met: own.gzipBytes <= 22_000,
      why: `xstate and mitt alone are ~13.4 KB min+gz (ARCHITECTURE.md §8), which leaves ~8.6 KB for the whole client; wsmachine's own code is ${kb(packages.wsmachine ?? 0)} minified, largest modules ${topModules}. The statechart (every state, guard, action and delay of a machine that models every way a session ends), the service actors, the send and receive paths with backpressure and exclusive sections, request correlation, option validation with actionable messages and typed errors with their documented codes add up to several times 8.6 KB gz. The state descriptions are ~2.7 KB of that minified (~1.2 KB gz): moving them out would not close the gap. This round's features are part of the growth from the issue's 34.2 KB: subscriptions (their machine, service and routing) ${kb(subscriptionBytes)} minified and \`fromClient\` ${kb(fromClientBytes)} (an app that never calls \`fromClient\` drops it: the entry marks it pure); the rest is the split of the old client into the machine's service actors (socket, target, hook and environment actors, the lifecycle bridge), which costs code for each actor's wiring. Reaching 22 KB means a smaller feature set in the browser build (a separate \`wsmachine/lite\` entry without requests, exclusive sections and option validation), proposed in the closing note.`,
    },
  ];
  const headlines: Headline[] = [
    {
      figure: 'Browser bundle, min+gz (xstate and mitt included)',
      wsmachine: kb(own.gzipBytes),
      ratio: '-',
      peers: PEERS.map((p) => `${p} ${kb(peers[p]!.gzipBytes)}`).join(', '),
    },
  ];
  return {
    name: 'Browser bundle size',
    markdown: lines.join('\n'),
    data: { wsmachine: own, modules: Object.fromEntries(modules), peers },
    targets,
    headlines,
    rounds: 1,
  };
}

mainIfDirect(import.meta.url, run);
