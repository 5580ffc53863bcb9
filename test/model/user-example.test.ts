/**
 * The README's "Model-based testing your app" example, as a test that runs in `npm test`.
 *
 * An app (here a small price feed) is built on wsmachine. Its test generates paths from the
 * connection machine with `xstate/graph` and replays each one against the app over the in-memory
 * adapter, checking the app's own view (is the feed live? did it subscribe?) after every step.
 *
 * In an app, the imports are `wsmachine`, `wsmachine/machines` and `wsmachine/testing`; this file
 * imports the same modules from the source tree.
 */
import { SimulatedClock } from 'xstate';
import { getShortestPaths } from 'xstate/graph';
import { describe, expect, it } from 'vitest';
import { type ConnectionEvent, connectionMachine } from '../../machines/index.js'; // 'wsmachine/machines'
import { type SocketAdapter, createClient, stateOf } from '../../src/node.js'; // 'wsmachine'
import { type MemoryAdapter, createMemoryAdapter } from '../../src/testing.js'; // 'wsmachine/testing'

// --- the app under test ------------------------------------------------------------------------

/** A price feed: subscribes on every (re)connection and says whether prices are live. */
function createPriceFeed(options: { adapter?: SocketAdapter; clock?: SimulatedClock } = {}) {
  const clock = options.clock;
  const client = createClient({
    url: 'wss://prices.example/feed',
    heartbeat: false,
    reconnect: { baseDelayMs: 100, jitter: 'none' },
    ...(options.adapter ? { adapter: options.adapter } : {}),
    ...(clock
      ? {
          clock: {
            now: () => clock.now(),
            setTimeout: (fn: () => void, ms: number) => clock.setTimeout(fn, ms),
            clearTimeout: (id: unknown) => clock.clearTimeout(id as number),
          },
        }
      : {}),
    hooks: { onOpen: (session) => void session.send('SUBSCRIBE BTC-EUR') },
  });
  let live = false;
  client.on('open', () => {
    live = true;
  });
  client.on('close', () => {
    live = false;
  });
  return {
    client,
    get live() {
      return live;
    },
    start: () => client.start().catch(() => {}),
    stop: () => client.stop(),
  };
}

// --- the paths ---------------------------------------------------------------------------------

type Snapshot = ReturnType<typeof connectionMachine.getInitialSnapshot>;
type Step = { event: { type: string; [k: string]: unknown }; state: Snapshot };

/** The machine's input, read from a client made with the app's options (so they cannot drift). */
const config = createPriceFeed({ adapter: createMemoryAdapter() }).client.actor.getSnapshot().context.config;

/**
 * What happens by itself in a state: the in-memory server opens the socket and answers the close
 * frame, the app's onOpen resolves, onClose (none here) returns.
 */
function automatic(s: Snapshot): Step['event'] | undefined {
  const sessionId = s.context.sessionId;
  if (s.matches({ session: { establishing: 'connecting' } }))
    return { type: 'socket.opened', sessionId, protocol: '' };
  if (s.matches({ session: { establishing: 'opening' } })) return { type: 'xstate.done.actor.openHook' };
  if (s.matches({ session: { closing: 'hook' } })) return { type: 'xstate.done.actor.closeHook' };
  if (s.matches({ session: { closing: 'handshake' } }))
    return { type: 'socket.closed', sessionId, code: 1000, reason: '', wasClean: true };
  return undefined;
}

/** Where nothing happens by itself, the model offers what the test can do. */
function events(s: Snapshot): Step['event'][] {
  const auto = automatic(s);
  if (auto) return [auto];
  return [
    { type: 'client.start' },
    { type: 'client.stop' },
    { type: 'socket.closed', sessionId: s.context.sessionId, code: 1006, reason: '', wasClean: false }, // a drop
    { type: 'xstate.after.reconnectDelay.connection.reconnecting.backoff' }, // the backoff elapses
  ];
}

const isStable = (s: Snapshot) => automatic(s) === undefined;

const paths = getShortestPaths(connectionMachine, {
  input: { config },
  // (XState's own events, xstate.done.actor.* and xstate.after.*, are not in the declared union.)
  events: (s) => events(s) as ConnectionEvent[],
  filterEvents: (s, e) => s.can(e),
  // The event that led to a state is part of its identity: the paths reach transitions, not only states.
  serializeState: (s, e) => `${JSON.stringify(s.value)} restarting=${s.context.restarting} via ${e?.type}`,
}).filter((p) => isStable(p.state)); // (not `toState`: it also stops the traversal there)

// --- the replay --------------------------------------------------------------------------------

/** What the test does for each event it causes; events missing here happen by themselves. */
const actions: Record<string, (world: World, before: Snapshot) => void> = {
  'client.start': (w) => void w.feed.start(),
  'client.stop': (w) => void w.feed.stop(),
  'socket.closed': (w) => w.server.last!.drop(),
  'xstate.after.reconnectDelay.connection.reconnecting.backoff': (w, before) =>
    w.clock.increment(before.context.retryDelayMs),
};

interface World {
  feed: ReturnType<typeof createPriceFeed>;
  server: MemoryAdapter;
  clock: SimulatedClock;
}

/** Adapter callbacks and hooks settle in microtasks: flush a bounded number of them. */
async function settle() {
  for (let i = 0; i < 20; i++) await Promise.resolve();
}

describe('the price feed, along every path of the connection machine', () => {
  for (const path of paths) {
    const steps = path.steps as Step[];
    it(steps.map((s) => s.event.type).join(' → '), async () => {
      const clock = new SimulatedClock();
      const server = createMemoryAdapter();
      const world: World = { feed: createPriceFeed({ adapter: server, clock }), server, clock };
      for (let i = 1; i < steps.length; i++) {
        const step = steps[i]!;
        const before = steps[i - 1]!.state;
        if (isStable(before)) actions[step.event.type]!(world, before);
        if (!isStable(step.state)) continue; // more steps happen by themselves
        await settle();
        const state = stateOf(step.state);
        expect(world.feed.client.state).toBe(state);
        expect(world.feed.live).toBe(state === 'open');
        if (state === 'open') expect(server.last!.sent).toContain('SUBSCRIBE BTC-EUR');
      }
      await world.feed.stop();
    });
  }
});
