/**
 * Child process of bench/memory.ts (run with --expose-gc): opens `count` idle clients of one kind
 * against the server at `url`, and reports heap and RSS growth per open client after GC.
 *
 *   node --import tsx --expose-gc bench/memory-clients.ts KIND COUNT URL
 *
 * Everything the kind needs is imported before the baseline is taken, so module code is not counted.
 */
import { readFileSync, unlinkSync } from 'node:fs';
import { writeHeapSnapshot } from 'node:v8';
import PartySocket from 'partysocket/ws';
import { createActor, fromCallback, fromPromise } from 'xstate';
import { WebsocketBuilder, WebsocketEvent } from 'websocket-ts';
import WebSocket from 'ws';
import { ReconnectingWebSocket, type WhatwgLike } from './peers.js';
import { loadWsmachine } from './wsmachine.js';

const { createClient } = await loadWsmachine();
const { connectionMachine } = await import('../machines/connection.machine.js');

/**
 * The machine alone, in \`open\` with its invoked socket actor and heartbeat timers, its actors stubbed
 * (no socket, no client): the floor XState itself puts under every client.
 */
const bareMachine = connectionMachine.provide({
  actors: {
    socket: fromCallback(({ input, sendBack }) => {
      queueMicrotask(() =>
        sendBack({ type: 'socket.opened', sessionId: input.sessionId, protocol: '', response: undefined }),
      );
    }),
    openHook: fromPromise(async () => {}),
    closeHook: fromPromise(async (): Promise<{ code: number; reason: string } | undefined> => undefined),
    target: fromPromise(async () => ({ url: '' })),
    environment: fromCallback(() => {}),
  },
});
const bareConfig = {
  watchEnvironment: false,
  staticUrl: 'ws://127.0.0.1/',
  openTimeoutMs: 10_000,
  closeTimeoutMs: 1_000,
  stopTimeoutMs: 5_000,
  reconnect: {
    enabled: true,
    baseDelayMs: 1_000,
    factor: 2,
    maxDelayMs: 30_000,
    jitter: 'full' as const,
    maxAttempts: null,
    resetAfterMs: 5_000,
    retryOnStart: false,
    authCloseCodes: [4401, 4403],
    fatalCloseCodes: [],
    credentialsRefreshable: false,
  },
  heartbeat: { enabled: true, intervalMs: 30_000, timeoutMs: 10_000, maxMissed: 1 },
};

const [kind = 'raw ws', countText = '1000', url = ''] = process.argv.slice(2);
const count = Number(countText);
const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with --expose-gc');

const keep: unknown[] = [];

function openOne(): Promise<void> {
  return new Promise((resolve, reject) => {
    switch (kind) {
      case 'raw ws': {
        const ws = new WebSocket(url, { perMessageDeflate: false });
        ws.on('message', () => {});
        ws.once('open', () => resolve());
        ws.once('error', reject);
        keep.push(ws);
        return;
      }
      case 'xstate actor': {
        const actor = createActor(bareMachine, { input: { config: bareConfig } }).start();
        actor.send({ type: 'client.start' });
        keep.push(actor);
        queueMicrotask(() => queueMicrotask(() => resolve()));
        return;
      }
      case 'wsmachine': {
        const client = createClient({ url, hooks: { onMessage: () => {} } });
        client.on('error', () => {});
        keep.push(client);
        client.start().then(resolve, reject);
        return;
      }
      case 'websocket-ts': {
        const ws = new WebsocketBuilder(url).build();
        ws.addEventListener(WebsocketEvent.message, () => {});
        ws.addEventListener(WebsocketEvent.open, () => resolve(), { once: true });
        keep.push(ws);
        return;
      }
      default: {
        const ws: WhatwgLike =
          kind === 'partysocket'
            ? (new PartySocket(url, [], { WebSocket }) as unknown as WhatwgLike)
            : new ReconnectingWebSocket(url, [], { WebSocket });
        ws.addEventListener('message', () => {});
        ws.addEventListener('open', () => resolve());
        keep.push(ws);
      }
    }
  });
}

async function settle(): Promise<{ heap: number; rss: number }> {
  await new Promise((r) => setTimeout(r, 200));
  gc!();
  await new Promise((r) => setImmediate(r));
  gc!();
  const m = process.memoryUsage();
  return { heap: m.heapUsed, rss: m.rss };
}

/** Self size per object kind (constructor or V8 category), from a heap snapshot. */
function selfSizes(): Map<string, { count: number; bytes: number }> {
  gc!();
  gc!();
  const file = writeHeapSnapshot();
  const snap = JSON.parse(readFileSync(file, 'utf8')) as {
    snapshot: { meta: { node_fields: string[]; node_types: [string[]] } };
    nodes: number[];
    strings: string[];
  };
  unlinkSync(file);
  const f = snap.snapshot.meta.node_fields;
  const types = snap.snapshot.meta.node_types[0];
  const [it, iname, isz] = [f.indexOf('type'), f.indexOf('name'), f.indexOf('self_size')];
  const out = new Map<string, { count: number; bytes: number }>();
  for (let i = 0; i < snap.nodes.length; i += f.length) {
    const type = types[snap.nodes[i + it]!]!;
    const key =
      type === 'object' || type === 'closure'
        ? `${snap.strings[snap.nodes[i + iname]!]} (${type})`
        : `(${type})`;
    const e = out.get(key) ?? { count: 0, bytes: 0 };
    e.count++;
    e.bytes += snap.nodes[i + isz]!;
    out.set(key, e);
  }
  return out;
}

async function main(): Promise<void> {
  // Warm-up: one client of the kind (module-level lazy state, JIT), not counted.
  await openOne();
  const before = await settle();
  const breakdown = process.env.WSM_BENCH_BREAKDOWN === '1';
  const sizesBefore = breakdown ? selfSizes() : undefined;
  const batch = 100;
  for (let i = 0; i < count; i += batch) {
    await Promise.all(Array.from({ length: Math.min(batch, count - i) }, () => openOne()));
  }
  const after = await settle();
  let bySize: Array<{ kind: string; count: number; bytes: number }> | undefined;
  if (sizesBefore !== undefined) {
    bySize = [];
    for (const [k, v] of selfSizes()) {
      const b = sizesBefore.get(k) ?? { count: 0, bytes: 0 };
      bySize.push({ kind: k, count: (v.count - b.count) / count, bytes: (v.bytes - b.bytes) / count });
    }
    bySize.sort((x, y) => y.bytes - x.bytes);
    bySize = bySize.slice(0, 15);
  }
  process.send?.({
    bySize,
    kind,
    count,
    heapPerClient: (after.heap - before.heap) / count,
    rssPerClient: (after.rss - before.rss) / count,
    open: keep.length - 1,
  });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
process.on('disconnect', () => process.exit(0));
