/**
 * Subscriptions (`client.subscribe()`): the cost per received message of routing to 1, 100 and
 * 10,000 subscriptions, as a ratio to the same client without subscriptions, and what the
 * subscriptions' lifecycle costs at those sizes (creating them, restoring them at a reopen, stopping).
 *
 * Method. One process, wsmachine as shipped (bench/wsmachine.ts), an in-memory adapter whose one
 * connection the bench feeds synchronously (no socket, no server: the receive path alone), heartbeat
 * off. Every message is a short text naming one subscription (`s<n>`, spread over all of them), and
 * every variant does the same work with a message it receives: add its length to a sink.
 *
 * - `plain`: no subscription; `hooks.onMessage` gets every message. The 1.00x baseline.
 * - `keyed`: N subscriptions sharing one key function (`key: (m) => m.data`), each with a `message`
 *   listener: one key call and one map lookup per message, whatever N. Messages spread over all N.
 * - `keyed, one topic`: the same N subscriptions, every message for the same one: the routing alone,
 *   without touching a different subscription's objects for each message (memory, not routing, is
 *   what grows in `keyed` at 10,000).
 * - `predicate`: N subscriptions with only `match: (m) => m.data === name`: every match runs for
 *   every message (a message goes to every subscription that claims it): O(N).
 *
 * Figures: ns per message of the fastest of 5 batches (wall time, a microtask every 2,000 messages, as
 * bench/compat.ts), and the ratio to `plain` measured in the same round; rounds interleave the
 * variants. Lifecycle figures are wall times of one run each.
 */
import type { ConnectionListener, SocketAdapter, Subscription, WsClient } from '../src/node.js';
import {
  type BenchOptions,
  type BenchSection,
  type Headline,
  type TargetCheck,
  fmt,
  fmtRatio,
  gc,
  mainIfDirect,
  table,
} from './lib.js';
import { loadWsmachine } from './wsmachine.js';

const { createClient } = await loadWsmachine();

const BATCHES = 5;
const VARIANTS = ['plain', 'keyed', 'keyed, one topic', 'predicate'] as const;
type Variant = (typeof VARIANTS)[number];

/** An adapter whose one connection the bench feeds (`deliver`); writes go nowhere. */
function memoryAdapter(): { adapter: SocketAdapter; deliver(text: string): void } {
  let listener: ConnectionListener | undefined;
  const adapter: SocketAdapter = {
    name: 'bench-memory',
    capabilities: { protocolPing: true, pause: true, headers: false, terminate: true },
    connect(_request, l) {
      listener = l;
      queueMicrotask(() => l.onOpen({ protocol: '', extensions: '' }));
      const closed = (code: number) => queueMicrotask(() => l.onClose({ code, reason: '', wasClean: true }));
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

interface Rig {
  client: WsClient;
  subs: Subscription[];
  deliver(text: string): void;
  sink(): number;
}

async function rig(variant: Variant, n: number): Promise<Rig> {
  const memory = memoryAdapter();
  let sink = 0;
  const client = createClient({
    url: 'ws://bench.invalid/',
    adapter: memory.adapter,
    heartbeat: false,
    reconnect: { baseDelayMs: 0, maxDelayMs: 0 },
    hooks: {
      onMessage: (m) => {
        sink += (m.data as string).length;
      },
    },
  });
  const onMessage = (m: { data: unknown }) => {
    sink += (m.data as string).length;
  };
  const key = (m: { data: unknown }) => m.data as string;
  const subs: Subscription[] = [];
  if (variant !== 'plain') {
    for (let i = 0; i < n; i++) {
      const name = `s${i}`;
      const sub =
        variant === 'predicate'
          ? client.subscribe({ name, match: (m) => m.data === name, subscribe: () => {} })
          : client.subscribe({ name, key, subscribe: () => {} });
      sub.on('message', onMessage);
      subs.push(sub);
    }
  }
  await client.start();
  return { client, subs, deliver: memory.deliver, sink: () => sink };
}

/** ns per message of the fastest batch. */
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

async function perMessage(variant: Variant, n: number, count: number): Promise<number> {
  const r = await rig(variant, n);
  // 1,024 messages naming subscriptions spread over all N (each is claimed by exactly one).
  const texts = Array.from({ length: 1024 }, (_, i) =>
    variant === 'keyed, one topic' ? 's0' : `s${Math.floor((i * n) / 1024) % n}`,
  );
  for (let i = 0; i < Math.min(count / 5, 20_000); i++) r.deliver(texts[i & 1023]!);
  gc();
  const ns = await fastestBatch(count, (i) => r.deliver(texts[i & 1023]!));
  if (r.sink() === 0) throw new Error(`${variant}: nothing received`);
  if (variant !== 'plain' && r.client.stats().unhandled !== 0)
    throw new Error(`${variant}: messages went astray`);
  await r.client.stop();
  await new Promise((resolve) => setImmediate(resolve));
  return ns;
}

interface Lifecycle {
  n: number;
  createMs: number;
  reopenMs: number;
  stopMs: number;
}

/** Wall times: N subscribe() calls; a restart until all are subscribed again; stop() until forgotten. */
async function lifecycle(n: number): Promise<Lifecycle> {
  const memory = memoryAdapter();
  const client = createClient({
    url: 'ws://bench.invalid/',
    adapter: memory.adapter,
    heartbeat: false,
    reconnect: { baseDelayMs: 0, maxDelayMs: 0 },
  });
  gc();
  let t0 = performance.now();
  const subs: Subscription[] = [];
  for (let i = 0; i < n; i++)
    subs.push(client.subscribe({ name: `s${i}`, key: () => undefined, subscribe: () => {} }));
  await null;
  const createMs = performance.now() - t0;
  await client.start();
  await new Promise((resolve) => setImmediate(resolve));
  let subscribed = 0;
  let done: () => void = () => {};
  const all = new Promise<void>((resolve) => {
    done = resolve;
  });
  for (const s of subs)
    s.on('state', ({ to }) => {
      if (to === 'subscribed' && ++subscribed === n) done();
    });
  gc();
  t0 = performance.now();
  client.restart();
  await all;
  const reopenMs = performance.now() - t0;
  gc();
  t0 = performance.now();
  await client.stop();
  await new Promise((resolve) => setImmediate(resolve));
  const stopMs = performance.now() - t0;
  if (Object.keys(client.actor.getSnapshot().children).length !== 0)
    throw new Error('children left after stop');
  return { n, createMs, reopenMs, stopMs };
}

export async function run({ quick }: BenchOptions): Promise<BenchSection> {
  const sizes = quick ? [1, 100, 1_000] : [1, 100, 10_000];
  const rounds = quick ? 1 : 3;
  const count = (variant: Variant, n: number) =>
    (quick ? 20_000 : 200_000) / (variant === 'predicate' ? Math.max(1, n / 100) : 1);
  const ns: Record<string, number[]> = {};
  const ratios: Record<string, number[]> = {};
  const record = (into: Record<string, number[]>, key: string, value: number) => {
    const list = into[key] ?? [];
    list.push(value);
    into[key] = list;
  };
  for (let round = 0; round < rounds; round++) {
    for (const n of sizes) {
      const order = round % 2 === 0 ? VARIANTS : [...VARIANTS].reverse();
      const got: Partial<Record<Variant, number>> = {};
      for (const variant of order) {
        got[variant] = await perMessage(variant, n, Math.round(count(variant, n)));
        record(ns, `${variant} ${n}`, got[variant]!);
      }
      for (const variant of VARIANTS) record(ratios, `${variant} ${n}`, got[variant]! / got.plain!);
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const rows = sizes.flatMap((n) =>
    VARIANTS.map((variant) => [
      String(n),
      variant,
      fmt(median(ns[`${variant} ${n}`]!)),
      fmtRatio(median(ratios[`${variant} ${n}`]!)),
    ]),
  );
  const lifecycles: Lifecycle[] = [];
  for (const n of quick ? [100, 1_000] : [100, 1_000, 10_000]) lifecycles.push(await lifecycle(n));
  const lifeRows = lifecycles.map((l) => [
    String(l.n),
    l.createMs.toFixed(1),
    l.reopenMs.toFixed(1),
    l.stopMs.toFixed(1),
  ]);
  const big = sizes.at(-1)!;
  const keyedBig = median(ratios[`keyed ${big}`]!);
  const hotBig = median(ratios[`keyed, one topic ${big}`]!);
  const hotOne = median(ratios['keyed, one topic 1']!);
  const targets: TargetCheck[] = [
    {
      target: `keyed routing does not grow with the number of subscriptions (one topic, ${big} vs 1)`,
      measured: `${fmtRatio(hotBig)} vs ${fmtRatio(hotOne)} of plain`,
      met: hotBig < hotOne * 1.5,
    },
  ];
  const headlines: Headline[] = [
    {
      figure: `message routed to 1 of ${big.toLocaleString('en')} keyed subscriptions`,
      wsmachine: `${fmt(median(ns[`keyed ${big}`]!))} ns`,
      ratio: `${fmtRatio(keyedBig)} of a client without subscriptions`,
      peers: 'n/a (no generic client has subscriptions)',
    },
  ];
  const markdown = [
    'Cost per received message through the whole receive path (in-memory adapter, no socket), by number of subscriptions. Ratio: to `plain` (no subscription, `onMessage`) in the same round; median of rounds.',
    '',
    table(['subscriptions', 'variant', 'ns / message', 'ratio to plain'], rows),
    '',
    "`keyed` subscriptions share one key function: one call and one map lookup per message whatever their number (`keyed, one topic` stays flat); what grows in `keyed` at 10,000 is memory: each message touches another subscription's objects. `predicate` subscriptions are each asked (O(N)): give a `key` when there are many.",
    '',
    'Lifecycle, wall time of one run each (subscribe functions resolve at once):',
    '',
    table(
      ['subscriptions', 'create (ms)', 'reopen until all subscribed (ms)', 'stop until forgotten (ms)'],
      lifeRows,
    ),
    '',
    "Each subscription is an XState actor, a child of the connection: a reopen runs one actor step and starts one promise actor per subscription (linear), and XState copies the connection's map of children for every child it stops, so stopping many at once costs O(N²) inside XState (creating is batched into one copy).",
  ].join('\n');
  return {
    name: 'Subscriptions',
    markdown,
    data: { ns, ratios, lifecycles },
    targets,
    headlines,
    rounds,
  };
}

mainIfDirect(import.meta.url, run);
