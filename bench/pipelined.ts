/**
 * Pipelined request/response throughput with 1,000 requests in flight, against an echo server in its
 * own process (bench/servers/echo-server.ts, forked once per server kind):
 *
 * - (a) a plain echo server (one write per reply), and
 * - (b) a batching echo server (replies read in one event-loop turn leave in one corked TCP write;
 *   still one frame per reply).
 *
 * Clients compared in the same run, interleaved (the order alternates every round):
 *
 * - raw `ws` with a hand-written `Map` correlation and one `ws.send` per request;
 * - wsmachine `client.request()` with the keyed path (`prepare: JSON.parse`, `requests.key`), the
 *   public API with its defaults (30 s request timeouts, heartbeat on).
 *
 * Each run opens a fresh connection, warms up, then issues `total` requests keeping 1,000 in flight
 * (a new request is issued as each reply arrives). Reported: requests/s, p50 and p99 latency, median
 * (min-max) over the rounds, and the ratio of the medians to raw `ws`.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { createClient } from '../src/node.js';
import {
  type BenchOptions,
  type BenchSection,
  type Summary,
  type TargetCheck,
  fmtRatio,
  fmtSummary,
  gc,
  mainIfDirect,
  percentile,
  summarize,
} from './lib.js';

const IN_FLIGHT = 1_000;
const PAYLOAD = 'x'.repeat(16);
const SERVER_SCRIPT = fileURLToPath(new URL('./servers/echo-server.ts', import.meta.url));
/** The package root: `--import tsx` resolves from the child's working directory. */
const ROOT = fileURLToPath(new URL('..', import.meta.url));

type ServerKind = 'plain' | 'batching';
type ClientKind = 'raw ws + Map' | 'wsmachine request()';

interface RunResult {
  reqPerSec: number;
  p50: number;
  p99: number;
  /** Client process CPU time (user + system) per request, µs. */
  cpuUs: number;
}

/** A request function over one open connection, and how to close it. */
interface Driver {
  request(id: number): Promise<unknown>;
  close(): Promise<void>;
}

async function startServer(kind: ServerKind): Promise<{ url: string; child: ChildProcess }> {
  const child = fork(SERVER_SCRIPT, [kind], {
    execArgv: ['--import', 'tsx'],
    cwd: ROOT,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('message', (m) => resolve((m as { port: number }).port));
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`echo server exited with ${code}`)));
  });
  return { url: `ws://127.0.0.1:${port}`, child };
}

async function stopServer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.disconnect();
  await exited;
}

async function rawDriver(url: string): Promise<Driver> {
  const ws = new WebSocket(url, { perMessageDeflate: false });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  const pending = new Map<number, { resolve: (m: unknown) => void; reject: (e: unknown) => void }>();
  ws.on('message', (data: Buffer) => {
    const m = JSON.parse(data.toString()) as { id: number };
    const entry = pending.get(m.id);
    if (entry !== undefined) {
      pending.delete(m.id);
      entry.resolve(m);
    }
  });
  return {
    request: (id) =>
      new Promise((resolve, reject) => {
        pending.set(id, { resolve, reject });
        ws.send(JSON.stringify({ id, op: 'echo', p: PAYLOAD }));
      }),
    close: () =>
      new Promise<void>((resolve) => {
        ws.once('close', () => resolve());
        ws.terminate();
      }),
  };
}

async function wsmachineDriver(url: string): Promise<Driver> {
  const client = createClient({
    url,
    reconnect: false,
    prepare: (m) => JSON.parse(m.data as string),
    requests: {
      key: {
        request: (_data, params) => (params as { id: number }).id,
        response: (m) => (m.prepared as { id?: number } | undefined)?.id,
      },
    },
  });
  await client.start();
  return {
    request: (id) => client.request(JSON.stringify({ id, op: 'echo', p: PAYLOAD }), { params: { id } }),
    close: () => client.stop(),
  };
}

/** Issues `total` requests keeping `IN_FLIGHT` outstanding. */
function pipelined(driver: Driver, total: number): Promise<RunResult> {
  const latency = new Float64Array(total);
  let issued = 0;
  let done = 0;
  return new Promise((resolve, reject) => {
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const launch = () => {
      const id = issued++;
      const started = performance.now();
      driver.request(id).then(() => {
        latency[id] = performance.now() - started;
        done++;
        if (issued < total) launch();
        else if (done === total) {
          const seconds = (performance.now() - t0) / 1000;
          const cpu = process.cpuUsage(cpu0);
          resolve({
            cpuUs: (cpu.user + cpu.system) / total,
            reqPerSec: total / seconds,
            p50: percentile(latency, 50),
            p99: percentile(latency, 99),
          });
        }
      }, reject);
    };
    for (let i = 0; i < Math.min(IN_FLIGHT, total); i++) launch();
  });
}

const DRIVERS: Record<ClientKind, (url: string) => Promise<Driver>> = {
  'raw ws + Map': rawDriver,
  'wsmachine request()': wsmachineDriver,
};

async function measure(kind: ClientKind, url: string, total: number, warmup: number): Promise<RunResult> {
  gc();
  const driver = await DRIVERS[kind](url);
  try {
    await pipelined(driver, warmup);
    // Fresh ids for the measured run: the warm-up's are all settled, so a new driver is not needed.
    const result = await pipelinedFrom(driver, warmup, total);
    return result;
  } finally {
    await driver.close();
  }
}

/** Like `pipelined`, with ids offset past the warm-up's. */
function pipelinedFrom(driver: Driver, offset: number, total: number): Promise<RunResult> {
  return pipelined({ request: (id) => driver.request(id + offset), close: driver.close }, total);
}

export async function run(options: BenchOptions): Promise<BenchSection> {
  const rounds = options.quick ? 5 : 9;
  const total = options.quick ? 15_000 : 100_000;
  const warmup = options.quick ? 2_000 : 10_000;
  const clients = Object.keys(DRIVERS) as ClientKind[];
  const servers: ServerKind[] = ['plain', 'batching'];
  const raw: Record<ServerKind, Record<ClientKind, RunResult[]>> = {
    plain: { 'raw ws + Map': [], 'wsmachine request()': [] },
    batching: { 'raw ws + Map': [], 'wsmachine request()': [] },
  };

  for (const serverKind of servers) {
    const { url, child } = await startServer(serverKind);
    try {
      for (let round = 0; round < rounds; round++) {
        const order = round % 2 === 0 ? clients : [...clients].reverse();
        for (const clientKind of order) {
          raw[serverKind][clientKind].push(await measure(clientKind, url, total, warmup));
        }
      }
    } finally {
      await stopServer(child);
    }
  }

  const summary = Object.fromEntries(
    servers.map((s) => [
      s,
      Object.fromEntries(
        clients.map((c) => [
          c,
          {
            reqPerSec: summarize(raw[s][c].map((r) => r.reqPerSec)),
            p50: summarize(raw[s][c].map((r) => r.p50)),
            p99: summarize(raw[s][c].map((r) => r.p99)),
            cpuUs: summarize(raw[s][c].map((r) => r.cpuUs)),
          },
        ]),
      ),
    ]),
  ) as Record<
    ServerKind,
    Record<ClientKind, { reqPerSec: Summary; p50: Summary; p99: Summary; cpuUs: Summary }>
  >;

  const ratio = (s: ServerKind) =>
    summary[s]['wsmachine request()'].reqPerSec.median / summary[s]['raw ws + Map'].reqPerSec.median;
  /** Client CPU per request, raw ws / wsmachine (>1 means wsmachine spends less CPU per request). */
  const cpuRatio = (s: ServerKind) =>
    summary[s]['raw ws + Map'].cpuUs.median / summary[s]['wsmachine request()'].cpuUs.median;

  const lines = [
    `${IN_FLIGHT.toLocaleString('en-US')} requests in flight, ${total.toLocaleString('en-US')} requests per run after ${warmup.toLocaleString('en-US')} warm-up, ~40 B JSON text; median (min-max) over ${rounds} interleaved rounds. Server in a separate process on 127.0.0.1.`,
    '',
    '| server | client | req/s | p50 ms | p99 ms | client CPU µs/req | req/s vs raw ws |',
    '| --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const s of servers) {
    for (const c of clients) {
      const f = summary[s][c];
      const r = f.reqPerSec.median / summary[s]['raw ws + Map'].reqPerSec.median;
      lines.push(
        `| ${s} echo | ${c} | ${fmtSummary(f.reqPerSec)} | ${fmtSummary(f.p50)} | ${fmtSummary(f.p99)} | ${fmtSummary(f.cpuUs)} | ${fmtRatio(r)} |`,
      );
    }
  }
  lines.push(
    '',
    '"client CPU µs/req" is the client process\'s user + system CPU time per request; on a shared machine it is steadier than req/s.',
    '',
    'The raw baseline makes one `ws.send` (one socket write) per request. The targets (>= 1.4x, >= 2.5x) assume the client coalesces the sends issued in one tick into one write; a client that writes once per request, like the baseline, cannot beat it by much.',
  );

  const targets: TargetCheck[] = [
    {
      target: 'Pipelined request/response >= 1.4x raw ws (one write per send), plain echo server',
      measured: `${fmtRatio(ratio('plain'))} (${fmtSummary(summary.plain['wsmachine request()'].reqPerSec)} vs ${fmtSummary(summary.plain['raw ws + Map'].reqPerSec)} req/s; by client CPU per request ${fmtRatio(cpuRatio('plain'))})`,
      met: ratio('plain') >= 1.4,
    },
    {
      target: 'Pipelined request/response >= 2.5x raw ws (one write per send), batching echo server',
      measured: `${fmtRatio(ratio('batching'))} (${fmtSummary(summary.batching['wsmachine request()'].reqPerSec)} vs ${fmtSummary(summary.batching['raw ws + Map'].reqPerSec)} req/s; by client CPU per request ${fmtRatio(cpuRatio('batching'))})`,
      met: ratio('batching') >= 2.5,
    },
  ];

  return {
    name: 'Pipelined request/response (1,000 in flight)',
    markdown: lines.join('\n'),
    data: {
      inFlight: IN_FLIGHT,
      total,
      warmup,
      runs: raw,
      summary,
      ratios: { plain: ratio('plain'), batching: ratio('batching') },
      cpuRatios: { plain: cpuRatio('plain'), batching: cpuRatio('batching') },
    },
    targets,
    rounds,
  };
}

mainIfDirect(import.meta.url, run);
