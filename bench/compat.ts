/**
 * `wsmachine/compat` against the plain client (issue 18: "receive and send through the facade cost
 * within 10% of the plain client"), 32 B text messages, clients compared in the same run, interleaved
 * (the order rotates every round):
 *
 * - `client`: `createClient` with `hooks.onMessage` and an `error` listener, as an application runs
 *   it: the 1.00x baseline;
 * - `facade onmessage`: `new ReconnectingWebSocket(url)` with `ws.onmessage`;
 * - `facade addEventListener`: the same with `ws.addEventListener('message', fn)`.
 *
 * Four measurements per client and round:
 * - receive, the path alone: an in-memory adapter (the public `adapter` option) hands the client
 *   `count` messages through its listener, a microtask turn every 2,000 (one socket read); the fastest
 *   of several batches counts;
 * - receive over a socket: a server in its own process (this file, forked with `server`) writes
 *   pre-encoded frames straight to TCP, so the client is the bottleneck;
 * - send, the path alone: `send()` into an in-memory connection whose write does nothing;
 * - send over a socket: `count` sends, then the server (which counts them) answers once it has them all.
 *
 * Both the client and the facade come from one bundle of `src/node.ts` and `src/compat-node.ts` built
 * as the package ships (tsup's settings, see bench/wsmachine.ts for why not through tsx). Each variant
 * runs in its own worker process (this file, `worker NAME`) for the whole run, as in bench/receive.ts:
 * in one shared process the client's own call sites would see both the plain hook and the facade's,
 * and the JIT state one leaves would colour the other's figure.
 */
import { type ChildProcess, fork } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { type WebSocket, WebSocketServer } from 'ws';
import type ReconnectingWebSocketType from '../src/compat-node.js';
import type { ConnectionListener, SocketAdapter, createClient as CreateClient } from '../src/node.js';
import {
  type BenchOptions,
  type BenchSection,
  type Child,
  type Summary,
  type TargetCheck,
  ROOT,
  forkTs,
  rotate,
  fmtRatio,
  fmtSummary,
  gc,
  mainIfDirect,
  summarize,
} from './lib.js';

const PAYLOAD = '{"type":"tick","seq":1,"d":"ab"}';
const SELF = fileURLToPath(import.meta.url);
const BATCHES = 10;
const VARIANTS = ['client', 'facade onmessage', 'facade addEventListener'] as const;
type Variant = (typeof VARIANTS)[number];
const BASELINE: Variant = 'client';

interface Loaded {
  createClient: typeof CreateClient;
  ReconnectingWebSocket: typeof ReconnectingWebSocketType;
}

/**
 * One bundle with both entries (one copy of the client), built with the package's settings by the
 * parent (`rebuild`), imported by the workers.
 */
async function load(rebuild: boolean): Promise<Loaded> {
  const out = fileURLToPath(new URL('../node_modules/.cache/wsmachine-bench/compat.mjs', import.meta.url));
  if (!rebuild) return (await import(pathToFileURL(out).href)) as Loaded;
  await build({
    absWorkingDir: ROOT,
    stdin: {
      contents:
        "export { createClient } from './src/node.ts';\nexport { ReconnectingWebSocket } from './src/compat-node.ts';\n",
      resolveDir: ROOT,
      loader: 'ts',
    },
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'es2022',
    external: ['ws', 'xstate', 'mitt', 'picocolors', '@opentelemetry/*'],
    outfile: out,
    logLevel: 'silent',
  });
  return (await import(pathToFileURL(out).href)) as Loaded;
}

// -------------------------------------------------------------------------------------------------
// Server (child process): `stream:N` streams N pre-encoded frames; `count:N` counts the next N
// messages, then answers `counted`.

function runServer(): void {
  const frame = Buffer.concat([Buffer.from([0x81, PAYLOAD.length]), Buffer.from(PAYLOAD, 'latin1')]);
  const perChunk = Math.floor((256 * 1024) / frame.length);
  const chunk = Buffer.concat(Array.from({ length: perChunk }, () => frame));
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
  const drained = (socket: Duplex) => new Promise<void>((resolve) => socket.once('drain', resolve));
  const stream = async (ws: WebSocket, count: number) => {
    const socket = (ws as unknown as { _socket: Duplex })._socket;
    let left = count;
    while (left > 0 && ws.readyState === ws.OPEN) {
      const n = Math.min(left, perChunk);
      left -= n;
      if (!socket.write(n === perChunk ? chunk : chunk.subarray(0, n * frame.length))) await drained(socket);
    }
  };
  wss.on('connection', (ws) => {
    let counting = 0;
    ws.on('error', () => {});
    ws.on('message', (data) => {
      if (counting > 0) {
        if (--counting === 0) ws.send('counted');
        return;
      }
      const [command, n] = String(data).split(':');
      if (command === 'stream') void stream(ws, Number(n));
      else if (command === 'count') counting = Number(n);
    });
  });
  wss.on('listening', () => process.send?.({ port: (wss.address() as AddressInfo).port }));
  process.on('disconnect', () => process.exit(0));
}

async function startServer(): Promise<{ url: string; child: ChildProcess }> {
  const child = fork(SELF, ['server'], {
    execArgv: ['--import', 'tsx'],
    cwd: ROOT,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('message', (m) => resolve((m as { port: number }).port));
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`compat bench server exited with ${code}`)));
  });
  return { url: `ws://127.0.0.1:${port}`, child };
}

// -------------------------------------------------------------------------------------------------
// Clients

/** One client of a variant: `send`, a hook for every received text, and `stop`. */
interface Conn {
  send(data: string): void;
  onText: (text: string) => void;
  stop(): Promise<void>;
}

async function open(lib: Loaded, variant: Variant, url: string, adapter?: SocketAdapter): Promise<Conn> {
  const conn: Conn = { send: () => {}, onText: () => {}, stop: async () => {} };
  if (variant === 'client') {
    const client = lib.createClient({
      url,
      reconnect: false,
      ...(adapter === undefined ? {} : { adapter, heartbeat: false }),
      hooks: { onMessage: (m) => conn.onText(m.data as string) },
    });
    client.on('error', () => {});
    await client.start();
    conn.send = (data) => void client.send(data);
    conn.stop = () => client.stop();
    return conn;
  }
  const ws = new lib.ReconnectingWebSocket(url, [], {
    maxRetries: 0,
    ...(adapter === undefined ? {} : { clientOptions: { adapter, heartbeat: false } }),
  });
  ws.onerror = () => {};
  if (variant === 'facade onmessage') ws.onmessage = (e) => conn.onText(e.data as string);
  else ws.addEventListener('message', (e) => conn.onText(e.data as string));
  await new Promise<void>((resolve) => ws.addEventListener('open', () => resolve(), { once: true }));
  conn.send = (data) => void ws.send(data);
  conn.stop = async () => {
    ws.close();
    await ws.client.stop();
  };
  return conn;
}

/** An adapter whose one connection is driven by the bench: `deliver` feeds it, `send` does nothing. */
function memoryAdapter(): { adapter: SocketAdapter; deliver(text: string): void } {
  let listener: ConnectionListener | undefined;
  const adapter: SocketAdapter = {
    name: 'bench-memory',
    capabilities: { protocolPing: true, pause: true, headers: false, terminate: true },
    connect(_request, l) {
      listener = l;
      queueMicrotask(() => l.onOpen({ protocol: '', extensions: '' }));
      const closed = (code: number) =>
        queueMicrotask(() => l.onClose({ code, reason: '', wasClean: code !== 1006 }));
      return {
        send() {},
        close: (code) => closed(code),
        terminate: () => closed(1006),
        ping() {},
        pause() {},
        resume() {},
        bufferedAmount: 0,
      };
    },
  };
  return { adapter, deliver: (text) => listener!.onMessage(text, false) };
}

const texts = Array.from({ length: 1024 }, (_, i) => `${PAYLOAD.slice(0, 32 - String(i).length)}${i}`);

/** ns per message of the fastest batch: `step(i)` for `count` messages, a microtask every 2,000. */
async function fastestBatch(count: number, step: (i: number) => void): Promise<number> {
  const batch = Math.ceil(count / BATCHES);
  let best = Number.POSITIVE_INFINITY;
  for (let b = 0; b < BATCHES; b++) {
    const t0 = performance.now();
    for (let done = 0; done < batch; done += 2_000) {
      const end = Math.min(batch, done + 2_000);
      for (let i = done; i < end; i++) step(i);
      await null;
    }
    best = Math.min(best, ((performance.now() - t0) * 1e6) / batch);
  }
  return best;
}

async function inMemory(
  lib: Loaded,
  variant: Variant,
  count: number,
): Promise<{ receive: number; send: number }> {
  const memory = memoryAdapter();
  let sink = 0;
  const conn = await open(lib, variant, 'ws://bench.invalid/', memory.adapter);
  conn.onText = (text) => {
    sink += text.length;
  };
  for (let i = 0; i < count / 5; i++) memory.deliver(texts[i & 1023]!);
  gc();
  const receive = await fastestBatch(count, (i) => memory.deliver(texts[i & 1023]!));
  for (let i = 0; i < count / 5; i++) conn.send(texts[i & 1023]!);
  gc();
  const send = await fastestBatch(count, (i) => conn.send(texts[i & 1023]!));
  await conn.stop();
  if (sink === 0) throw new Error('nothing received');
  return { receive, send };
}

interface SocketRun {
  perSec: number;
  cpuUs: number;
}

async function overSocket(
  lib: Loaded,
  variant: Variant,
  url: string,
  count: number,
): Promise<{ receive: SocketRun; send: SocketRun }> {
  const conn = await open(lib, variant, url);
  let received = 0;
  let sink = 0;
  let target = 0;
  let done: (() => void) | undefined;
  conn.onText = (text) => {
    sink += text.length;
    if (text === 'counted' || ++received === target) done?.();
  };
  const timed = async (start: () => void): Promise<SocketRun> => {
    gc();
    const finished = new Promise<void>((resolve) => {
      done = resolve;
    });
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    start();
    await finished;
    const seconds = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    return { perSec: count / seconds, cpuUs: (cpu.user + cpu.system) / count };
  };
  const streamed = (n: number) => () => {
    received = 0;
    target = n;
    conn.send(`stream:${n}`);
  };
  const sent = (n: number) => () => {
    target = -1;
    conn.send(`count:${n}`);
    for (let i = 0; i < n; i++) conn.send(texts[i & 1023]!);
  };
  await timed(streamed(Math.floor(count / 5)));
  const receive = await timed(streamed(count));
  await timed(sent(Math.floor(count / 5)));
  const send = await timed(sent(count));
  await conn.stop();
  if (sink === 0) throw new Error('nothing received');
  return { receive, send };
}

// -------------------------------------------------------------------------------------------------

type Task = { task: 'memory'; count: number } | { task: 'socket'; url: string; count: number };

/** Worker mode: measures one variant on request from the parent (see `run`). */
async function worker(variant: Variant): Promise<void> {
  const lib = await load(false);
  process.on('message', (m: Task) => {
    const work =
      m.task === 'memory' ? inMemory(lib, variant, m.count) : overSocket(lib, variant, m.url, m.count);
    work.then(
      (result) => process.send?.({ ok: true, result }),
      (error: unknown) => process.send?.({ ok: false, error: String((error as Error)?.stack ?? error) }),
    );
  });
  process.on('disconnect', () => process.exit(0));
  process.send?.({ ready: true });
}

async function run({ quick }: BenchOptions): Promise<BenchSection> {
  await load(true);
  const rounds = quick ? 2 : 11;
  const count = quick ? 50_000 : 400_000;
  const memoryCount = quick ? 100_000 : 1_000_000;
  const { url, child } = await startServer();
  const empty = () => new Map<Variant, number[]>(VARIANTS.map((v) => [v, []]));
  const memReceive = empty();
  const memSend = empty();
  const runs = new Map<Variant, Array<{ receive: SocketRun; send: SocketRun }>>(VARIANTS.map((v) => [v, []]));
  const workers = new Map<Variant, Child<{ ready: true }>>();
  const ask = async <R>(variant: Variant, task: Task): Promise<R> => {
    const w = workers.get(variant)!;
    const answer = w.next<{ ok: boolean; result?: R; error?: string }>(
      (m) => 'ok' in m,
      120_000,
      `${variant} ${task.task}`,
    );
    w.child.send(task);
    const m = await answer;
    if (!m.ok || m.result === undefined) throw new Error(`${variant}: ${m.error}`);
    return m.result;
  };
  try {
    for (const variant of VARIANTS) {
      workers.set(
        variant,
        await forkTs<{ ready: true }>('./compat.ts', ['worker', variant], { execArgv: ['--expose-gc'] }),
      );
    }
    // One unmeasured round: every variant's code is compiled before the first figure counts.
    for (const variant of VARIANTS) {
      await ask(variant, { task: 'memory', count: memoryCount / 5 });
      await ask(variant, { task: 'socket', url, count: count / 5 });
    }
    for (let round = 0; round < rounds; round++) {
      const order = rotate(VARIANTS, round);
      for (const variant of order) {
        const m = await ask<{ receive: number; send: number }>(variant, {
          task: 'memory',
          count: memoryCount,
        });
        memReceive.get(variant)!.push(m.receive);
        memSend.get(variant)!.push(m.send);
      }
      for (const variant of order) {
        runs.get(variant)!.push(await ask(variant, { task: 'socket', url, count }));
      }
    }
  } finally {
    await Promise.all([...workers.values()].map((w) => w.stop()));
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.disconnect();
    await exited;
  }

  // Ratios within a round (neighbouring runs share the machine's load), then summarized. Every ratio
  // is variant / baseline in throughput (> 1: faster); CPU ratio = baseline CPU per message / variant's.
  const perRound = (values: (v: Variant, i: number) => number, v: Variant) =>
    summarize(runs.get(v)!.map((_, i) => values(v, i)));
  const wall = (kind: 'receive' | 'send', v: Variant) =>
    perRound((x, i) => runs.get(x)![i]![kind].perSec / runs.get(BASELINE)![i]![kind].perSec, v);
  const cpu = (kind: 'receive' | 'send', v: Variant) =>
    perRound((x, i) => runs.get(BASELINE)![i]![kind].cpuUs / runs.get(x)![i]![kind].cpuUs, v);
  const mem = (table: Map<Variant, number[]>, v: Variant) =>
    summarize(table.get(v)!.map((ns, i) => table.get(BASELINE)![i]! / ns));
  const range = (s: Summary) => `${fmtRatio(s.median)} (${fmtRatio(s.min)}-${fmtRatio(s.max)})`;
  const socketRows = (kind: 'receive' | 'send') =>
    VARIANTS.map((v) => {
      const r = runs.get(v)!.map((x) => x[kind]);
      return `| ${kind} | ${v} | ${fmtSummary(summarize(r.map((x) => x.perSec)))} | ${range(wall(kind, v))} | ${fmtSummary(summarize(r.map((x) => x.cpuUs)))} | ${range(cpu(kind, v))} |`;
    });
  const memoryRows = VARIANTS.map(
    (v) =>
      `| ${v} | ${fmtSummary(summarize(memReceive.get(v)!))} | ${range(mem(memReceive, v))} | ${fmtSummary(summarize(memSend.get(v)!))} | ${range(mem(memSend, v))} |`,
  );

  const worst = (kind: 'receive' | 'send') =>
    Math.min(...VARIANTS.filter((v) => v !== BASELINE).map((v) => wall(kind, v).median));
  const worstCpu = (kind: 'receive' | 'send') =>
    Math.min(...VARIANTS.filter((v) => v !== BASELINE).map((v) => cpu(kind, v).median));
  // "Cost" is read as the client process's CPU per message over a socket (steadier than wall time on a
  // shared machine, and what the facade adds is CPU); messages/s is reported beside it.
  const targets: TargetCheck[] = (['receive', 'send'] as const).map((kind) => {
    const table = kind === 'receive' ? memReceive : memSend;
    const alone = Math.min(
      mem(table, 'facade onmessage').median,
      mem(table, 'facade addEventListener').median,
    );
    const met = worstCpu(kind) >= 0.9;
    return {
      target: `compat: ${kind} through the ReconnectingWebSocket facade costs within 10% of the plain client (CPU per message over a socket, ratio >= 0.90x)`,
      measured: `${fmtRatio(worstCpu(kind))} by CPU, ${fmtRatio(worst(kind))} messages/s (the slower of onmessage and addEventListener); the path alone ${fmtRatio(alone)}`,
      met,
      ...(met
        ? {}
        : {
            why: `the facade adds an event object per message and its dispatch (the path alone: ${fmtRatio(alone)} of the client's, a few tens of ns); over a socket that measured ${fmtRatio(worstCpu(kind))} by CPU in this run. The WHATWG event itself is the cost: raw ws's own addEventListener path pays the same kind of object (see the receive section).`,
          }),
    };
  });
  const markdown = [
    `32 B text messages. \`client\`: \`createClient\` with \`hooks.onMessage\` and an \`error\` listener (the baseline); \`facade onmessage\` and \`facade addEventListener\`: \`new ReconnectingWebSocket(url)\` from \`wsmachine/compat\` (Node entry, lightweight events), listening the two ways. Ratios are throughput ratios to the baseline (> 1: faster), taken within each round, then the median (min-max) over ${rounds} rounds, after one unmeasured round of every client.`,
    '',
    `**The path alone** (${memoryCount.toLocaleString('en-US')} messages per measurement in ${BATCHES} batches, the fastest counting; an in-memory adapter through the public \`adapter\` option, no network): what the facade adds per message (an event object and its dispatch on receive; the Blob-order check and the result mapping on send).`,
    '',
    '| client | receive, ns per message | receive ratio | send, ns per message | send ratio |',
    '| --- | --- | --- | --- | --- |',
    ...memoryRows,
    '',
    `**Over a socket** (${count.toLocaleString('en-US')} messages per measurement; receive: pre-encoded frames written straight to TCP by a server process; send: \`count\` sends, then the server answers once it has counted them all):`,
    '',
    '| path | client | messages/s | messages/s ratio | client CPU per message, µs | CPU ratio |',
    '| --- | --- | --- | --- | --- | --- |',
    ...socketRows('receive'),
    ...socketRows('send'),
  ].join('\n');
  return {
    name: 'wsmachine/compat against the plain client',
    markdown,
    data: {
      memoryReceiveNs: Object.fromEntries(memReceive),
      memorySendNs: Object.fromEntries(memSend),
      socket: Object.fromEntries(runs),
    },
    targets,
    rounds,
  };
}

if (process.argv[2] === 'server') runServer();
else if (process.argv[2] === 'worker') void worker(process.argv[3] as Variant);
else mainIfDirect(import.meta.url, run);
