/**
 * Regressions from a review of the core: user code that throws where the client calls it, calls made
 * from listeners in the middle of a step, and ordering promises. Each test failed before its fix.
 */
import { SimulatedClock } from 'xstate';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { InvalidCloseError, type Message } from '../../src/node.js';
import { createClient } from '../../src/node.js';
import { createMemoryAdapter } from '../../src/testing.js';

/** Lets queued microtasks (the memory adapter's callbacks, hook promises) run. */
async function settle(rounds = 20): Promise<void> {
  for (let i = 0; i < rounds; i++) await Promise.resolve();
}

function simClock() {
  const sim = new SimulatedClock();
  sim.set(1_000);
  return {
    sim,
    clock: {
      now: () => sim.now(),
      setTimeout: (fn: () => void, ms: number) => sim.setTimeout(fn, ms),
      clearTimeout: (id: unknown) => sim.clearTimeout(id as number),
    },
  };
}

const stops: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const stop of stops.splice(0)) await stop();
  vi.restoreAllMocks();
});

describe('user code that throws where the client calls it', () => {
  it('a throwing shouldReconnect is reported and the default decision applies (the actor never errors)', async () => {
    const server = createMemoryAdapter();
    const client = createClient({
      url: 'ws://test.invalid',
      adapter: server,
      heartbeat: false,
      reconnect: {
        baseDelayMs: 0,
        shouldReconnect: () => {
          throw new Error('policy bug');
        },
      },
    });
    stops.push(() => client.stop());
    const errors: string[] = [];
    client.on('error', (e) => errors.push(`${e.code} ${(e as { hook?: string }).hook ?? ''}`));
    await client.start();
    const reopened = new Promise((resolve) => client.once('open', resolve));
    server.last!.serverClose(1001, 'going away');
    await reopened;
    expect(client.actor.getSnapshot().status).toBe('active');
    expect(errors).toContain('WSM_ERR_HOOK reconnect.shouldReconnect');
    expect(client.state).toBe('open');
  });

  it('a throwing or out-of-range jitter source is reported and replaced', async () => {
    const server = createMemoryAdapter();
    const { sim, clock } = simClock();
    let calls = 0;
    const client = createClient({
      url: 'ws://test.invalid',
      adapter: server,
      heartbeat: false,
      clock,
      reconnect: {
        baseDelayMs: 100,
        random: () => {
          calls++;
          if (calls === 1) throw new Error('rng bug');
          return 7; // out of [0, 1)
        },
      },
    });
    const errors: string[] = [];
    client.on('error', (e) => errors.push((e as { hook?: string }).hook ?? e.code));
    const delays: number[] = [];
    client.on('reconnecting', (e) => delays.push(e.delayMs));
    const started = client.start();
    await settle();
    await started;
    server.last!.drop();
    await settle();
    server.last!.drop();
    await settle();
    expect(errors).toContain('reconnect.random');
    expect(client.actor.getSnapshot().status).toBe('active');
    for (const d of delays) expect(d).toBeGreaterThanOrEqual(0);
    for (const d of delays) expect(d).toBeLessThanOrEqual(100);
    sim.increment(1_000);
    await settle();
    const stopping = client.stop();
    await settle();
    sim.increment(10_000);
    await stopping;
  });

  it("an 'error' listener that throws does not recurse: it goes to console.error and the client carries on", async () => {
    const consoleError = vi.spyOn(console, 'error').mockImplementation(() => {});
    const server = createMemoryAdapter();
    let handled = 0;
    const client = createClient({
      url: 'ws://test.invalid',
      adapter: server,
      heartbeat: false,
      hooks: {
        onMessage: () => {
          handled++;
          throw new Error('handler bug');
        },
      },
    });
    stops.push(() => client.stop());
    let listenerCalls = 0;
    client.on('error', () => {
      listenerCalls++;
      throw new Error('listener bug');
    });
    await client.start();
    server.last!.deliver('a');
    server.last!.deliver('b');
    await settle();
    expect(handled).toBe(2);
    expect(listenerCalls).toBe(2);
    expect(consoleError).toHaveBeenCalledTimes(2);
    expect(client.state).toBe('open');
  });
});

describe('calls from listeners in the middle of a step', () => {
  it('start() from a state -> stopped listener after a failed first start: both promises settle correctly', async () => {
    const server = createMemoryAdapter({ autoOpen: false });
    const client = createClient({ url: 'ws://test.invalid', adapter: server, heartbeat: false });
    stops.push(() => client.stop());
    let second: Promise<void> | undefined;
    client.on('error', () => {});
    client.on('state', ({ to }) => {
      if (to === 'stopped' && second === undefined) second = client.start();
    });
    const first = client.start();
    await settle();
    server.last!.refuse();
    await expect(first).rejects.toMatchObject({ code: 'WSM_ERR_START' });
    expect(second).toBeDefined();
    await settle();
    server.last!.open();
    await second;
    expect(client.state).toBe('open');
    // The stale bookkeeping of the first run did not touch the second: sends go out directly.
    expect(client.send('hello')).toBe('sent');
  });

  it('a send from a state -> open listener does not overtake the sends queued before', async () => {
    const server = createMemoryAdapter();
    const client = createClient({ url: 'ws://test.invalid', adapter: server, heartbeat: false });
    stops.push(() => client.stop());
    client.on('state', ({ to }) => {
      if (to === 'open') client.send('second');
    });
    expect(client.send('first')).toBe('queued');
    await client.start();
    expect(server.last!.sent).toEqual(['first', 'second']);
  });

  it("the 'connecting' event comes after the state change that caused it", async () => {
    const server = createMemoryAdapter();
    const client = createClient({ url: 'ws://test.invalid', adapter: server, heartbeat: false });
    stops.push(() => client.stop());
    const seen: string[] = [];
    client.on('state', ({ to }) => seen.push(`state:${to}`));
    client.on('connecting', () => seen.push(`connecting (state is ${client.state})`));
    await client.start();
    expect(seen.slice(0, 2)).toEqual(['state:connecting', 'connecting (state is connecting)']);
  });
});

describe('second review: ordering, overflow and stale ids', () => {
  it('start() then stop() from a state -> stopped listener take effect in that order: the client ends stopped', async () => {
    const server = createMemoryAdapter({ autoOpen: false });
    const client = createClient({ url: 'ws://test.invalid', adapter: server, heartbeat: false });
    stops.push(() => client.stop());
    client.on('error', () => {});
    let again: Promise<unknown> | undefined;
    let innerStop: Promise<void> | undefined;
    client.on('state', ({ to }) => {
      if (to === 'stopped' && again === undefined) {
        again = client.start().catch((e: unknown) => e);
        innerStop = client.stop();
      }
    });
    const first = client.start();
    await settle();
    server.last!.refuse();
    await expect(first).rejects.toMatchObject({ code: 'WSM_ERR_START' });
    await settle();
    await innerStop;
    // stop() came last, so when it resolves the client is stopped (not connecting, waiting for the
    // open timeout), and the start() made before it was aborted by it.
    expect(client.state).toBe('stopped');
    await expect(again).resolves.toMatchObject({ code: 'WSM_ERR_START' });
    for (const conn of server.connections) expect(conn.status).toBe('closed');
  });

  it('stop({ timeoutMs: 2^31-1 }) still waits for the close instead of overflowing its backstop timer', async () => {
    const server = createMemoryAdapter({ autoCloseReply: false });
    const client = createClient({
      url: 'ws://test.invalid',
      adapter: server,
      heartbeat: false,
      closeTimeoutMs: 30,
    });
    const errors: string[] = [];
    client.on('error', (e) => errors.push(e.message));
    await client.start();
    await client.stop({ timeoutMs: 2_147_483_647 });
    expect(client.state).toBe('stopped');
    expect(errors.filter((m) => /deadline/.test(m))).toEqual([]);
  });

  it('a reconnect delay never exceeds what a timer can wait, whatever Retry-After and maxDelayMs say', async () => {
    const server = createMemoryAdapter({ autoOpen: false });
    const client = createClient({
      url: () => 'ws://test.invalid',
      adapter: server,
      heartbeat: false,
      reconnect: { retryOnStart: true, maxDelayMs: 2_147_483_647, baseDelayMs: 1_000 },
    });
    client.on('error', () => {});
    const delays: number[] = [];
    client.on('reconnecting', (e) => delays.push(e.delayMs));
    const started = client.start().catch(() => {});
    await settle();
    server.last!.reject(503, 30 * 24 * 3_600_000);
    await settle();
    expect(delays).toHaveLength(1);
    expect(delays[0]).toBeLessThanOrEqual(2_147_483_647);
    expect(delays[0]).toBeGreaterThanOrEqual(1_000);
    await client.stop();
    await started;
  });

  it('with sendBuffer: false a send from a state -> open listener goes out (nothing to overtake)', async () => {
    const server = createMemoryAdapter();
    const client = createClient({
      url: 'ws://test.invalid',
      adapter: server,
      heartbeat: false,
      sendBuffer: false,
    });
    stops.push(() => client.stop());
    let result: string | undefined;
    client.on('state', ({ to }) => {
      if (to === 'open') result = client.send('hello');
    });
    await client.start();
    expect(result).toBe('sent');
    expect(server.last!.sent).toEqual(['hello']);
  });

  it('an async handler of an old session that rejects is reported with its own session id', async () => {
    const server = createMemoryAdapter();
    let rejectOld!: (e: Error) => void;
    const client = createClient({
      url: 'ws://test.invalid',
      adapter: server,
      heartbeat: false,
      reconnect: { baseDelayMs: 0 },
      hooks: {
        onMessage: () =>
          new Promise<void>((_resolve, reject) => {
            rejectOld = reject;
          }),
      },
    });
    stops.push(() => client.stop());
    const reported: Array<number | undefined> = [];
    client.on('error', (e) => reported.push((e as { sessionId?: number }).sessionId));
    await client.start();
    server.last!.deliver('work');
    await settle();
    const reopened = new Promise((resolve) => client.once('open', resolve));
    server.last!.drop();
    await reopened;
    expect(client.sessionId).toBe(2);
    rejectOld(new Error('late failure'));
    await settle();
    expect(reported).toEqual([1]);
  });
});

describe('heartbeat and backpressure', () => {
  it('a long backpressure pause does not make the heartbeat kill a healthy session', async () => {
    const server = createMemoryAdapter();
    const { sim, clock } = simClock();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const client = createClient({
      url: 'ws://test.invalid',
      adapter: server,
      clock,
      heartbeat: { intervalMs: 1_000, timeoutMs: 500, maxMissed: 1 },
      inbound: { highWaterMark: 2, lowWaterMark: 0 },
      hooks: { onMessage: () => gate },
    });
    const missed: number[] = [];
    client.on('heartbeat-missed', (e) => missed.push(e.missed));
    const started = client.start();
    await settle();
    await started;
    for (const m of ['1', '2', '3', '4']) server.last!.deliverNow(m);
    expect(client.actor.getSnapshot().matches({ session: { open: { heartbeat: 'suspended' } } })).toBe(true);
    // Reading stays paused far past the heartbeat's bound (1.5 s): the peer is not at fault.
    sim.increment(5_000);
    await settle();
    release();
    await settle();
    expect(client.actor.getSnapshot().matches({ session: { open: { heartbeat: 'waiting' } } })).toBe(true);
    // The next tick pings instead of declaring the session dead; the (auto) pong keeps it.
    sim.increment(1_000);
    await settle();
    expect(server.last!.pings).toBe(1);
    expect(missed).toEqual([]);
    expect(client.state).toBe('open');
    const stopping = client.stop();
    await settle();
    sim.increment(10_000);
    await stopping;
  });
});

describe('input validation and contracts', () => {
  it('restart(), session.restart() and session.exit() refuse a reason a close frame cannot carry', async () => {
    const server = createMemoryAdapter();
    let captured: { restart(r?: string): void; exit(r?: string): void } | undefined;
    const client = createClient({
      url: 'ws://test.invalid',
      adapter: server,
      heartbeat: false,
      hooks: {
        onOpen: (session) => {
          captured = session;
        },
      },
    });
    stops.push(() => client.stop());
    await client.start();
    const long = 'x'.repeat(124);
    expect(() => client.restart(long)).toThrow(InvalidCloseError);
    expect(() => captured!.restart(long)).toThrow(InvalidCloseError);
    expect(() => captured!.exit(long)).toThrow(InvalidCloseError);
    expect(client.state).toBe('open');
  });

  it('stop() on a client that never started ends messages() iterators', async () => {
    const client = createClient({
      url: 'ws://test.invalid',
      adapter: createMemoryAdapter(),
      heartbeat: false,
    });
    const it = client.messages();
    const next = it.next();
    await client.stop();
    await expect(next).resolves.toEqual({ value: undefined, done: true });
  });

  it('a throwing requests.key.request rejects that request with a HookError naming it; nothing is sent', async () => {
    const server = createMemoryAdapter();
    const client = createClient({
      url: 'ws://test.invalid',
      adapter: server,
      heartbeat: false,
      requests: {
        key: {
          request: () => {
            throw new Error('no id');
          },
          response: () => undefined,
        },
      },
    });
    stops.push(() => client.stop());
    await client.start();
    await expect(client.request('x')).rejects.toMatchObject({
      code: 'WSM_ERR_HOOK',
      hook: 'requests.key.request',
    });
    expect(server.last!.sent).toEqual([]);
    expect(client.stats().pendingRequests).toBe(0);
  });

  it('requests.match sees a frozen read-only view, not the internal entry', async () => {
    const server = createMemoryAdapter();
    server.onSend = (conn, data) => conn.deliver(`re:${String(data)}`);
    const seen: unknown[] = [];
    const client = createClient({
      url: 'ws://test.invalid',
      adapter: server,
      heartbeat: false,
      requests: {
        match: (req, res: Message) => {
          seen.push(req);
          return res.data === `re:${String(req.data)}`;
        },
      },
    });
    stops.push(() => client.stop());
    await client.start();
    const reply = await client.request('ping');
    expect(reply.data).toBe('re:ping');
    const view = seen[0] as Record<string, unknown>;
    expect(Object.isFrozen(view)).toBe(true);
    expect(Object.keys(view).sort()).toEqual(['data', 'id', 'key', 'params', 'sentAt']);
  });
});
