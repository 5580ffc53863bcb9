/**
 * Receive from a cold process: the first 600,000 messages of 32 B text a freshly started process ever
 * handles, with no warm-up (what a short-lived load generator or a CLI sees before the JIT has
 * settled). A fresh worker process of bench/receive.ts per client and round (the same per-message
 * work as the warm receive bench), against the pre-encoded frames server; kinds interleaved. Figures:
 * the worker's CPU time per message (steadier than msg/s on a shared machine), and msg/s.
 */
import {
  type BenchOptions,
  type BenchSection,
  type Headline,
  type Summary,
  type TargetCheck,
  fmt,
  fmtRatio,
  fmtSummary,
  forkTs,
  mainIfDirect,
  rotate,
  startServer,
  summarize,
  table,
} from './lib.js';
import { buildWsmachine } from './wsmachine.js';

const KINDS = [
  'raw ws (toString)',
  'wsmachine onMessage',
  'reconnecting-websocket',
  'partysocket',
  'websocket-ts',
] as const;
type Kind = (typeof KINDS)[number];
const SHAPE = { label: '32 B text', size: 32, binary: false, count: 600_000 };

interface RunResult {
  msgPerSec: number;
  cpuNsPerMsg: number;
}

async function coldRun(kind: Kind, url: string, count: number): Promise<RunResult> {
  const worker = await forkTs<{ ready: true }>('./receive.ts', ['worker', kind], {
    execArgv: ['--expose-gc'],
  });
  try {
    const answer = worker.next<{ ok: boolean; result?: RunResult; error?: string }>(
      (m) => 'ok' in m,
      90_000,
      `${kind}: cold ${SHAPE.label}`,
    );
    worker.child.send({ url, shape: SHAPE, count, frames: true, warm: false });
    const m = await answer;
    if (!m.ok || m.result === undefined) throw new Error(`${kind}: ${m.error}`);
    return m.result;
  } finally {
    await worker.stop();
  }
}

export async function run(options: BenchOptions): Promise<BenchSection> {
  const rounds = options.quick ? 1 : 5;
  const count = options.quick ? 30_000 : SHAPE.count;
  process.env.WSM_BENCH_BUILT ??= await buildWsmachine();
  const results = Object.fromEntries(KINDS.map((k) => [k, [] as RunResult[]])) as Record<Kind, RunResult[]>;
  const { url, server } = await startServer('stream-server', ['frames']);
  try {
    for (let round = 0; round < rounds; round++) {
      for (const kind of rotate(KINDS, round)) results[kind].push(await coldRun(kind, url, count));
    }
  } finally {
    await server.stop();
  }
  const cpu = (k: Kind): Summary => summarize(results[k].map((r) => r.cpuNsPerMsg));
  const rate = (k: Kind): Summary => summarize(results[k].map((r) => r.msgPerSec));
  // By CPU, higher is better: raw's CPU per message over this client's.
  const x = (k: Kind) => cpu('raw ws (toString)').median / cpu(k).median;
  const peers = KINDS.filter((k) => k !== 'raw ws (toString)' && k !== 'wsmachine onMessage');
  const bestPeer = Math.max(...peers.map(x));
  const ours = x('wsmachine onMessage');
  const targets: TargetCheck[] = [
    {
      target:
        'Receive 32 B from a cold process (first 600k messages, no warm-up): ahead of every peer, by CPU',
      measured: `wsmachine ${fmtRatio(ours)} raw by CPU; best peer ${fmtRatio(bestPeer)}`,
      met: ours >= bestPeer,
    },
  ];
  const headlines: Headline[] = [
    {
      figure:
        'Receive 32 B text from a cold process (first 600k messages; CPU ns/msg; ratio: raw CPU / ours)',
      wsmachine: `${fmt(cpu('wsmachine onMessage').median)} ns`,
      ratio: fmtRatio(ours),
      peers: peers.map((p) => `${p} ${fmtRatio(x(p))}`).join(', '),
    },
  ];
  const rows = KINDS.map((k) => [k, `${fmtSummary(cpu(k))} ns`, fmtRatio(x(k)), fmtSummary(rate(k))]);
  const markdown = [
    `A fresh process per client and round receives the first ${count.toLocaleString('en-US')} messages of ${SHAPE.label} it ever handles (no warm-up) from the pre-encoded frames server (bench/servers/stream-server.ts); the same per-message work as the warm receive bench. "x raw" is raw \`ws\`'s CPU per message over this client's (higher is better). Median (min-max) over ${rounds} interleaved round(s).`,
    '',
    table(['client', 'CPU per message', 'x raw (by CPU)', 'msg/s'], rows),
  ].join('\n');
  return { name: 'Receive from a cold process', markdown, data: results, targets, headlines, rounds };
}

mainIfDirect(import.meta.url, run);
