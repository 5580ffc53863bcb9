/**
 * `npm run bench` (full, a few minutes) and `npm run bench -- --quick` (under 60 s, the CI smoke
 * check): runs every bench file, each in its own child process (so one's JIT and heap state cannot
 * colour another's), each bounded by a deadline after which it is killed with every server it
 * started, and writes:
 *
 * - full mode: `bench/results/latest.md` and `bench/results/latest.json` (commit these);
 * - quick mode: `bench/results/quick.md.tmp` and `quick.json.tmp` (git-ignored: a smoke check's
 *   figures are not results).
 *
 * Every bench file exports `run({ quick })` and, when forked, sends its section back over IPC.
 * wsmachine is bundled once from `src/node.ts` as it ships (bench/wsmachine.ts) for every file.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BenchSection, type Headline, ROOT, table } from './lib.js';
import { buildWsmachine } from './wsmachine.js';

const RESULTS = fileURLToPath(new URL('./results/', import.meta.url));

/** Bench files, in the order they run. Add new ones here. */
const FILES = [
  'receive.ts',
  'cold-receive.ts',
  'requests.ts',
  'correlation.ts',
  'reconnect.ts',
  'mass-close.ts',
  'memory.ts',
  'bundle.ts',
  'otel.ts',
  'compat.ts',
  'subscriptions.ts',
];

const quick = process.argv.includes('--quick');
/** Per-file deadline: a stuck bench is killed, reported, and the run goes on. */
const FILE_TIMEOUT_MS = quick ? 45_000 : 15 * 60_000;

const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));

function runFile(file: string): Promise<BenchSection> {
  const path = fileURLToPath(new URL(`./${file}`, import.meta.url));
  return new Promise((resolve, reject) => {
    const child = fork(path, quick ? ['--quick'] : [], {
      cwd: ROOT,
      execArgv: ['--import', 'tsx', '--expose-gc'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    live.add(child);
    let settled = false;
    const timer = setTimeout(() => {
      if (settled) return;
      settled = true;
      child.kill('SIGKILL');
      reject(new Error(`${file} passed its deadline of ${FILE_TIMEOUT_MS / 1000} s and was killed`));
    }, FILE_TIMEOUT_MS);
    child.on('message', (m: { ok: boolean; section?: BenchSection; error?: string }) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (m.ok && m.section) resolve(m.section);
      else reject(new Error(`${file} failed: ${m.error}`));
    });
    child.on('exit', (code, signal) => {
      live.delete(child);
      clearTimeout(timer);
      if (!settled) {
        settled = true;
        reject(new Error(`${file} exited (${code ?? signal}) without a result`));
      }
    });
  });
}

function version(pkg: string): string {
  try {
    const url = new URL(`../node_modules/${pkg}/package.json`, import.meta.url);
    return (JSON.parse(readFileSync(url, 'utf8')) as { version: string }).version;
  } catch {
    return 'not installed';
  }
}

const load = () => os.loadavg().map((l) => Number(l.toFixed(2)));

async function main(): Promise<void> {
  const started = Date.now();
  const loadAverageStart = load();
  const built = await buildWsmachine();
  process.env.WSM_BENCH_BUILT = built;
  const sections: BenchSection[] = [];
  const failures: string[] = [];
  for (const file of FILES) {
    const t0 = Date.now();
    process.stderr.write(`bench: ${file}${quick ? ' (quick)' : ''} ... `);
    try {
      sections.push(await runFile(file));
      process.stderr.write(`${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
    } catch (error) {
      process.stderr.write('FAILED\n');
      console.error(error);
      failures.push(`${file}: ${(error as Error).message}`);
    }
  }
  const loadAverageEnd = load();
  const cpus = os.cpus();
  const machine = {
    cpuModel: cpus[0]?.model ?? 'unknown',
    cpuCount: cpus.length,
    cpuSpeedMHz: cpus[0]?.speed ?? 0,
    totalMemoryBytes: os.totalmem(),
    totalMemoryGiB: Number((os.totalmem() / 1024 ** 3).toFixed(1)),
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    loadAverageStart,
    loadAverageEnd,
  };
  const ownPackage = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  const versions: Record<string, string> = {
    node: process.version,
    wsmachine: ownPackage.version,
    ...Object.fromEntries(
      [
        'ws',
        'xstate',
        'mitt',
        'bufferutil',
        'partysocket',
        'reconnecting-websocket',
        'websocket-ts',
        'rpc-websockets',
        'socket.io',
        'socket.io-client',
        'esbuild',
        'tsx',
      ].map((p) => [p, version(p)]),
    ),
  };
  const durationSeconds = Number(((Date.now() - started) / 1000).toFixed(1));
  const mode = quick ? 'quick' : 'full';
  const json = {
    date: new Date(started).toISOString(),
    mode,
    durationSeconds,
    machine,
    versions,
    failures,
    sections: sections.map((s) => ({
      name: s.name,
      rounds: s.rounds,
      targets: s.targets,
      headlines: s.headlines ?? [],
      data: s.data,
    })),
  };

  // The bench itself keeps one or two processes runnable (client and server): a 1-minute load above
  // ~1 before it starts, or well above 2 at its end, means other work shared the CPUs.
  const busy = loadAverageStart[0]! > machine.cpuCount * 0.5 || loadAverageEnd[0]! > machine.cpuCount * 1.25;
  const headlines: Headline[] = sections.flatMap((s) => s.headlines ?? []);
  const targets = sections.flatMap((s) => s.targets);
  const status = (met: boolean | undefined) => (met === undefined ? 'reported' : met ? 'met' : '**missed**');
  const md = [
    '# wsmachine benchmarks',
    '',
    `${json.date}, ${mode} mode, ${durationSeconds} s.`,
    '',
    `Machine: ${machine.cpuCount} x ${machine.cpuModel}, ${machine.totalMemoryGiB} GiB RAM, ${machine.platform}. Node ${versions.node}; wsmachine ${versions.wsmachine}, ws ${versions.ws} (bufferutil ${versions.bufferutil}), xstate ${versions.xstate}; partysocket ${versions.partysocket}, reconnecting-websocket ${versions['reconnecting-websocket']}, websocket-ts ${versions['websocket-ts']}, rpc-websockets ${versions['rpc-websockets']}, socket.io ${versions['socket.io']} / socket.io-client ${versions['socket.io-client']}.`,
    '',
    `Load average (1/5/15 min) at the start ${loadAverageStart.join(' / ')}, at the end ${loadAverageEnd.join(' / ')} (the bench itself keeps one or two processes busy).${busy ? ` **Other work shared the machine** (other engineers' test suites run on these ${machine.cpuCount} cores): absolute figures are depressed and noisy, and a ratio can move by 10-20% from run to run; the ratios, measured in the same run with interleaved rounds, are the figures to read, with their min-max spread.` : ''}`,
    '',
    'Method: every server runs in its own process on 127.0.0.1 (port 0); clients compared in one run, in interleaved rounds (A, B, C, then B, C, A, ...); each figure is the median (min-max) over the rounds; "x raw" is the ratio of medians to raw `ws` measured in the same run. wsmachine is used through its public Node entry, `src/node.ts`, bundled as it ships (bench/wsmachine.ts); the correlation micro-bench alone drives `src/rpc/correlator.ts` directly (the pending-request table has no public API of its own).',
    '',
    ...(failures.length > 0 ? ['## Failures', '', ...failures.map((f) => `- ${f}`), ''] : []),
    '## Headlines',
    '',
    table(
      ['figure', 'wsmachine', 'x raw ws', 'peers (x raw ws, or as stated)'],
      headlines.map((h) => [h.figure, h.wsmachine, h.ratio, h.peers]),
    ),
    '',
    '## Targets (issue 10)',
    '',
    table(
      ['target', 'measured', 'status'],
      targets.map((t) => [t.target, t.measured, status(t.met)]),
    ),
    '',
    ...(targets.some((t) => t.met === false && t.why)
      ? [
          '### Why the missed targets are missed',
          '',
          ...targets.filter((t) => t.met === false && t.why).map((t) => `- **${t.target}**: ${t.why}`),
          '',
        ]
      : []),
    ...sections.flatMap((s) => [`## ${s.name}`, '', `Rounds: ${s.rounds}.`, '', s.markdown, '']),
  ].join('\n');

  await mkdir(RESULTS, { recursive: true });
  const [jsonName, mdName] = quick ? ['quick.json.tmp', 'quick.md.tmp'] : ['latest.json', 'latest.md'];
  await writeFile(join(RESULTS, jsonName), `${JSON.stringify(json, null, 2)}\n`);
  await writeFile(join(RESULTS, mdName), md);
  console.log(md);
  console.error(`bench: wrote bench/results/${mdName} and ${jsonName} in ${durationSeconds} s`);
  if (failures.length > 0) process.exit(1);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
