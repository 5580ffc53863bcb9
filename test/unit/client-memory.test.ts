/**
 * createClient driven end to end by the in-memory adapter (the real machine, the real client, a
 * scripted server) and a SimulatedClock for every delay. No sockets, no sleeps: time moves only
 * when a test advances it, and everything else is awaited as an event or a promise.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { HookError, type WsmError, isErrorCode } from '../../src/core/errors.js';
import type { Clock } from '../../src/core/types.js';
import { createClient } from '../../src/node.js';
import { type MemoryAdapter, type MemoryAdapterOptions, createMemoryAdapter } from '../../src/testing.js';
import type { ClientEvents, ClientOptions } from '../../src/types.js';
import { TestClock } from '../helpers/test-clock.js';

type Client = ReturnType<typeof createClient>;

interface Harness {
  client: Client;
  server: MemoryAdapter;
  sim: TestClock;
  errors: WsmError[];
  /** Every `state` event as `from->to`. */
  states: string[];
}

const live: Harness[] = [];

function make(options: Partial<ClientOptions> = {}, adapter: MemoryAdapterOptions = {}): Harness {
  const sim = new TestClock();
  const clock: Clock = {
    now: () => sim.now(),
    setTimeout: (fn, ms) => sim.setTimeout(fn, ms),
    clearTimeout: (id) => sim.clearTimeout(id as number),
  };
  const server = createMemoryAdapter(adapter);
  const client = createClient({
    url: 'ws://server.test/feed',
    adapter: server,
    clock,
    heartbeat: false,
    // Deterministic backoff unless a test brings its own reconnect options.
    reconnect: { baseDelayMs: 100, jitter: 'none' },
    ...options,
  });
  const h: Harness = { client, server, sim, errors: [], states: [] };
  client.on('error', (e) => h.errors.push(e));
  client.on('state', ({ from, to }) => h.states.push(`${from}->${to}`));
  live.push(h);
  return h;
}

/** Resolves with the next payload of `event`. Subscribe before causing it. */
function next<K extends keyof ClientEvents>(client: Client, event: K): Promise<ClientEvents[K]> {
  return new Promise((resolve) => client.once(event, resolve));
}

/** Lets queued microtasks (adapter callbacks, hook promises) run; moves no time. */
async function settle(): Promise<void> {
  for (let i = 0; i < 50; i++) await Promise.resolve();
}

/** Runs `trigger` (which ends the session), waits for the backoff, advances it, and waits for `open`. */
async function reconnectAfter(h: Harness, trigger: () => void): Promise<ClientEvents['reconnecting']> {
  const reconnecting = next(h.client, 'reconnecting');
  const opened = next(h.client, 'open');
  trigger();
  const r = await reconnecting;
  h.sim.advance(r.delayMs);
  await opened;
  return r;
}

afterEach(async () => {
  for (const h of live.splice(0)) {
    const done = h.client.stop();
    for (let i = 0; i < 10; i++) {
      await settle();
      h.sim.advance(1_000);
    }
    await done;
    expect(h.client.state).toBe('stopped');
    expect(h.client.actor.getSnapshot().status).not.toBe('error');
    // stop() leaves nothing scheduled on the clock.
    expect(h.sim.pending).toBe(0);
  }
});

// ------------------------------------------------------------------------------------------------

describe('reconnect', () => {
  it('after a drop: the exact state sequence, the close and reconnecting events, a new connection', async () => {
    const h = make({ reconnect: { baseDelayMs: 100, jitter: 'none' } });
    await h.client.start();
    expect(h.states).toEqual(['idle->connecting', 'connecting->opening', 'opening->open']);
    expect(h.client.isOpen).toBe(true);
    h.states.length = 0;

    const close = next(h.client, 'close');
    const reconnecting = next(h.client, 'reconnecting');
    h.server.last!.drop();
    expect(await close).toMatchObject({ code: 1006, wasClean: false, sessionId: 1 });
    expect(await reconnecting).toMatchObject({ attempt: 1, delayMs: 100 });
    expect(h.client.state).toBe('reconnecting');

    h.sim.advance(99);
    expect(h.client.state).toBe('reconnecting');
    expect(h.server.connections).toHaveLength(1);
    const opened = next(h.client, 'open');
    h.sim.advance(1);
    expect(h.server.connections).toHaveLength(2);
    expect(await opened).toMatchObject({ sessionId: 2, restarting: true });
    expect(h.states).toEqual([
      'open->closing',
      'closing->reconnecting',
      'reconnecting->connecting',
      'connecting->opening',
      'opening->open',
    ]);
    expect(h.client.sessionId).toBe(2);
    expect(h.client.stats()).toMatchObject({ sessions: 2, reconnects: 1 });
  });

  it('stop during the backoff wait: stopped at once, no further dial, nothing scheduled', async () => {
    const h = make();
    await h.client.start();
    const reconnecting = next(h.client, 'reconnecting');
    h.server.last!.drop();
    await reconnecting;
    const stopped = next(h.client, 'stopped');
    await h.client.stop();
    await stopped;
    expect(h.client.state).toBe('stopped');
    expect(h.sim.pending).toBe(0);
    h.sim.advance(3_600_000);
    await settle();
    expect(h.server.connections).toHaveLength(1);
  });

  it('stop() is bounded by stopTimeoutMs when the peer never answers the close frame', async () => {
    const h = make({ stopTimeoutMs: 500, closeTimeoutMs: 60_000 });
    await h.client.start();
    const conn = h.server.last!;
    conn.silent = true;
    let resolved = false;
    const done = h.client.stop().then(() => {
      resolved = true;
    });
    await settle();
    expect(conn.clientClose).toEqual({ code: 1000, reason: '' });
    h.sim.advance(499);
    await settle();
    expect(resolved).toBe(false);
    h.sim.advance(1);
    await done;
    expect(h.client.state).toBe('stopped');
    expect(conn.terminated).toBe(true);
  });
});

describe('stop()', () => {
  it('stop({ timeoutMs }) during a restart that is already closing settles at its own deadline', async () => {
    const h = make({
      closeTimeoutMs: 60_000,
      stopTimeoutMs: 5_000,
      hooks: { onClose: () => new Promise<undefined>(() => {}) },
    });
    await h.client.start();
    const conn = h.server.last!;
    conn.silent = true;
    h.client.restart();
    await settle();
    h.sim.advance(100);
    expect(h.client.state).toBe('closing');
    let settled = false;
    const done = h.client.stop({ timeoutMs: 50 }).then(() => {
      settled = true;
    });
    h.sim.advance(49);
    await settle();
    expect(settled).toBe(false);
    h.sim.advance(1);
    await settle();
    expect(settled).toBe(true);
    await done;
    expect(h.client.state).toBe('stopped');
    expect(conn.terminated).toBe(true);
    expect(h.errors).toEqual([]);
  });

  it('is idempotent: concurrent and repeated calls all settle', async () => {
    const h = make();
    await h.client.start();
    let stoppedEvents = 0;
    h.client.on('stopped', () => stoppedEvents++);
    await Promise.all([h.client.stop(), h.client.stop(), h.client.stop()]);
    await h.client.stop();
    expect(h.client.state).toBe('stopped');
    expect(stoppedEvents).toBe(1);
    expect(h.server.last!.clientClose).toEqual({ code: 1000, reason: '' });
  });

  it('stop during connecting abandons the dial and rejects start() with StartError(ClientStoppedError)', async () => {
    const h = make({}, { autoOpen: false });
    const started = h.client.start().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(h.client.state).toBe('connecting');
    await h.client.stop();
    const error = (await started) as WsmError;
    expect(isErrorCode(error, 'WSM_ERR_START')).toBe(true);
    expect(isErrorCode(error.cause, 'WSM_ERR_CLIENT_STOPPED')).toBe(true);
    expect(h.server.last!.terminated).toBe(true);
    expect(h.sim.pending).toBe(0);
  });

  it('queued sends are flushed in order after onOpen on reconnect; what stop() drops is reported undelivered', async () => {
    const h = make({
      hooks: {
        onOpen: (session) => {
          session.send('auth');
        },
      },
    });
    await h.client.start();
    const reconnecting = next(h.client, 'reconnecting');
    h.server.last!.drop();
    await reconnecting;
    expect(h.client.send('a')).toBe('queued');
    expect(h.client.send('b')).toBe('queued');
    expect(h.client.stats().queuedSends).toBe(2);
    const opened = next(h.client, 'open');
    h.sim.advance(100);
    await opened;
    expect(h.server.last!.sent).toEqual(['auth', 'a', 'b']);

    const reconnecting2 = next(h.client, 'reconnecting');
    h.server.last!.drop();
    await reconnecting2;
    h.client.send('lost');
    const undelivered = next(h.client, 'undelivered');
    await h.client.stop();
    const u = await undelivered;
    expect(u.messages).toEqual(['lost']);
    expect(u.reason.code).toBe('WSM_ERR_UNDELIVERED');
    expect(() => h.client.send('after stop')).toThrow(/stopped/);
  });
});

describe('heartbeat (protocol ping on the memory adapter)', () => {
  it('answered pings keep the session; a silent peer is terminated with 1006 heartbeat timeout, then reconnect', async () => {
    const h = make({ heartbeat: { intervalMs: 1_000, timeoutMs: 500 } });
    const missed: number[] = [];
    h.client.on('heartbeat-missed', ({ missed: n }) => missed.push(n));
    await h.client.start();
    const conn = h.server.last!;
    for (let i = 1; i <= 5; i++) {
      h.sim.advance(1_000);
      await settle(); // the pong arrives
      expect(conn.pings).toBe(i);
      expect(h.client.state).toBe('open');
    }
    conn.silent = true;
    const close = next(h.client, 'close');
    const reconnecting = next(h.client, 'reconnecting');
    h.sim.advance(1_000);
    await settle();
    expect(h.client.state).toBe('open');
    h.sim.advance(499);
    await settle();
    expect(h.client.state).toBe('open');
    h.sim.advance(1);
    expect(await close).toMatchObject({ code: 1006, reason: 'heartbeat timeout', wasClean: false });
    await reconnecting;
    expect(missed).toEqual([1]);
    expect(h.errors.map((e) => e.code)).toContain('WSM_ERR_HEARTBEAT_TIMEOUT');
    // A dead peer is terminated, not sent a close frame it cannot answer.
    expect(conn.terminated).toBe(true);
    expect(conn.clientClose).toBeUndefined();
  });
});

describe('requests on the injected clock', () => {
  it('a request times out on the client clock; a late reply is an ordinary message', async () => {
    const handled: string[] = [];
    const h = make({
      requests: {
        timeoutMs: 1_000,
        key: { request: (_d, p: { id: number }) => p.id, response: (m) => Number(m.data) },
      },
      hooks: { onMessage: (m) => void handled.push(m.data as string) },
    });
    await h.client.start();
    const pending = h.client.request('q', { params: { id: 7 } }).then(
      () => 'resolved',
      (e: unknown) => e,
    );
    h.sim.advance(999);
    await settle();
    expect(h.client.stats().pendingRequests).toBe(1);
    h.sim.advance(1);
    expect(isErrorCode(await pending, 'WSM_ERR_REQUEST_TIMEOUT')).toBe(true);
    h.server.last!.deliverNow('7');
    expect(handled).toEqual(['7']);
    // A reply in the same tick as the write is matched (registered before the write).
    h.server.onSend = (conn, data) => conn.deliverNow(String(data).slice(1));
    const reply = await h.client.request('x8', { params: { id: 8 } });
    expect(reply.data).toBe('8');
    expect(handled).toEqual(['7']);
  });
});

describe('environment signals', () => {
  it('offline pauses reconnects; an online missed while stopped does not freeze the next start', async () => {
    const win = new EventTarget();
    const h = make({ environment: { window: win } });
    await h.client.start();
    let reconnecting = next(h.client, 'reconnecting');
    h.server.last!.drop();
    await reconnecting;
    win.dispatchEvent(new Event('offline'));
    h.sim.advance(3_600_000);
    expect(h.client.state).toBe('reconnecting');
    expect(h.server.connections).toHaveLength(1);
    await h.client.stop();
    // Back online while stopped: nobody listens.
    win.dispatchEvent(new Event('online'));
    await h.client.start();
    reconnecting = next(h.client, 'reconnecting');
    const opened = next(h.client, 'open');
    h.server.last!.drop();
    await reconnecting;
    h.sim.advance(100);
    expect(h.server.connections).toHaveLength(3);
    await opened;
  });
});

describe('onOpen', () => {
  it('throwing on the first start rejects start() with StartError whose cause is the thrown error', async () => {
    const boom = new Error('auth rejected');
    const h = make({
      hooks: {
        onOpen: () => {
          throw boom;
        },
      },
    });
    const error = (await h.client.start().then(
      () => undefined,
      (e: unknown) => e,
    )) as WsmError;
    expect(isErrorCode(error, 'WSM_ERR_START')).toBe(true);
    expect(error.cause).toBe(boom);
    expect(h.client.state).toBe('stopped');
    expect(h.errors.some((e) => e instanceof HookError && e.hook === 'onOpen' && e.cause === boom)).toBe(
      true,
    );
    // The opened socket was closed, not leaked.
    expect(h.server.last!.status).toBe('closed');
  });

  it('session.exit() inside onOpen stops for good and leaks no socket', async () => {
    const h = make({
      hooks: {
        onOpen: (session) => {
          session.exit();
        },
      },
    });
    const error = (await h.client.start().then(
      () => undefined,
      (e: unknown) => e,
    )) as WsmError;
    expect(isErrorCode(error, 'WSM_ERR_START')).toBe(true);
    expect(isErrorCode(error.cause, 'WSM_ERR_CLIENT_STOPPED')).toBe(true);
    expect(h.client.state).toBe('stopped');
    expect(h.server.last!.status).toBe('closed');
    expect(h.server.last!.clientClose).toEqual({ code: 1000, reason: '' });
    h.sim.advance(3_600_000);
    await settle();
    expect(h.server.connections).toHaveLength(1);
  });
});

describe('session.restart() and session.exit() from onMessage', () => {
  it('restart takes effect at once: a message already delivered in the same batch does not reach onMessage', async () => {
    const handled: string[] = [];
    const observed: string[] = [];
    const h = make({
      hooks: {
        onMessage: (m, session) => {
          handled.push(m.data as string);
          if (m.data === 'restart') session.restart();
        },
      },
    });
    h.client.on('message', (m) => observed.push(m.data as string));
    await h.client.start();
    const conn = h.server.last!;
    const reconnecting = next(h.client, 'reconnecting');
    const reopened = next(h.client, 'open');
    conn.deliverNow('restart');
    expect(h.client.state).toBe('closing');
    conn.deliverNow('second');
    expect(handled).toEqual(['restart']);
    // The observer event still sees every message.
    expect(observed).toEqual(['restart', 'second']);

    const r = await reconnecting;
    expect(r.delayMs).toBe(0); // a restart of a stable session does not back off
    h.sim.advance(0);
    await reopened;
    expect(conn.clientClose).toEqual({ code: 1001, reason: '' });
    h.server.last!.deliverNow('third');
    expect(handled).toEqual(['restart', 'third']);
  });

  it('exit takes effect at once and stops for good', async () => {
    const handled: string[] = [];
    const h = make({
      hooks: {
        onMessage: (m, session) => {
          handled.push(m.data as string);
          if (m.data === 'exit') session.exit();
        },
      },
    });
    await h.client.start();
    const conn = h.server.last!;
    const stopped = next(h.client, 'stopped');
    conn.deliverNow('exit');
    expect(h.client.state).toBe('closing');
    conn.deliverNow('second');
    expect(handled).toEqual(['exit']);
    await stopped;
    expect(h.client.state).toBe('stopped');
    expect(conn.clientClose).toEqual({ code: 1000, reason: '' });
    h.sim.advance(3_600_000);
    await settle();
    expect(h.server.connections).toHaveLength(1);
  });
});

describe('onClose and the close frame', () => {
  it('onClose runs exactly once per session, and its { code, reason } is the frame the server sees', async () => {
    const calls: Array<{ session: number; code: number }> = [];
    const h = make({
      hooks: {
        onClose: (info, session) => {
          calls.push({ session: session.id, code: info.code });
          return { code: 4001, reason: 'custom' };
        },
      },
    });
    await h.client.start();
    const first = h.server.last!;
    await reconnectAfter(h, () => h.client.restart());
    expect(first.clientClose).toEqual({ code: 4001, reason: 'custom' });

    const second = h.server.last!;
    await reconnectAfter(h, () => second.drop());
    // The socket was already gone: no frame could be sent, but onClose still ran once.
    expect(second.clientClose).toBeUndefined();

    const third = h.server.last!;
    await h.client.stop();
    expect(third.clientClose).toEqual({ code: 4001, reason: 'custom' });
    expect(calls).toEqual([
      { session: 1, code: 1001 },
      { session: 2, code: 1006 },
      { session: 3, code: 1000 },
    ]);
  });

  it('without onClose the frame is 1001 on restart and 1000 on stop', async () => {
    const h = make();
    await h.client.start();
    const first = h.server.last!;
    await reconnectAfter(h, () => h.client.restart());
    expect(first.clientClose).toEqual({ code: 1001, reason: '' });
    const second = h.server.last!;
    await h.client.stop();
    expect(second.clientClose).toEqual({ code: 1000, reason: '' });
  });

  it('stop({ code: 4000, reason }) wins over the frame onClose returns', async () => {
    const infos: number[] = [];
    const h = make({
      hooks: {
        onClose: (info) => {
          infos.push(info.code);
          return { code: 4001, reason: 'from hook' };
        },
      },
    });
    await h.client.start();
    const conn = h.server.last!;
    await h.client.stop({ code: 4000, reason: 'bye' });
    expect(conn.clientClose).toEqual({ code: 4000, reason: 'bye' });
    expect(infos).toEqual([4000]);
  });

  it.each([
    [{ code: 1005 }],
    [{ code: 1006 }],
    [{ code: 1015 }],
    [{ code: 999 }],
    [{ code: 5000 }],
    [{ code: 4000, reason: 'a'.repeat(124) }],
    [{ code: 1000, reason: 'é'.repeat(62) }],
  ])('stop(%o) rejects InvalidCloseError with no side effect', async (args) => {
    const h = make();
    await h.client.start();
    const conn = h.server.last!;
    const before = [...h.states];
    let stoppedEvents = 0;
    h.client.on('stopped', () => stoppedEvents++);
    const error = await h.client.stop(args).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isErrorCode(error, 'WSM_ERR_INVALID_CLOSE')).toBe(true);
    await settle();
    expect(h.client.state).toBe('open');
    expect(h.states).toEqual(before);
    expect(stoppedEvents).toBe(0);
    expect(conn.clientClose).toBeUndefined();
    expect(conn.status).toBe('open');
    expect(h.client.send('still here')).toBe('sent');
    expect(conn.sent).toEqual(['still here']);
  });

  it('a 123-byte multibyte reason is accepted and sent as is', async () => {
    const h = make();
    await h.client.start();
    const conn = h.server.last!;
    const reason = '€'.repeat(41);
    await h.client.stop({ code: 4000, reason });
    expect(conn.clientClose).toEqual({ code: 4000, reason });
  });
});

describe('onRestartError', () => {
  it('receives the error and { attempt, exit }; exit() stops for good', async () => {
    const calls: Array<{ error: unknown; attempt: number }> = [];
    const h = make({
      hooks: {
        onRestartError: (error, { attempt, exit }) => {
          calls.push({ error, attempt });
          if (attempt === 2) exit();
        },
      },
    });
    await h.client.start();
    h.server.autoOpen = false;
    const refused1 = new Error('ECONNREFUSED 1');
    const refused2 = new Error('ECONNREFUSED 2');

    let reconnecting = next(h.client, 'reconnecting');
    h.server.last!.drop();
    h.sim.advance((await reconnecting).delayMs);
    expect(h.server.connections).toHaveLength(2);
    reconnecting = next(h.client, 'reconnecting');
    h.server.last!.refuse(refused1);
    expect(await reconnecting).toMatchObject({ attempt: 2, delayMs: 200 });
    expect(calls).toEqual([{ error: refused1, attempt: 1 }]);

    const stopped = next(h.client, 'stopped');
    h.sim.advance(200);
    expect(h.server.connections).toHaveLength(3);
    h.server.last!.refuse(refused2);
    await stopped;
    expect(calls).toEqual([
      { error: refused1, attempt: 1 },
      { error: refused2, attempt: 2 },
    ]);
    expect(h.client.state).toBe('stopped');
    h.sim.advance(3_600_000);
    await settle();
    expect(h.server.connections).toHaveLength(3);
  });
});

describe('throwing user code is reported and the client carries on', () => {
  it('onMessage (sync and async) -> error event naming it; later messages still handled', async () => {
    const boom = new Error('handler bug');
    const handled: string[] = [];
    const h = make({
      hooks: {
        onMessage: async (m) => {
          if (m.data === 'sync-bad') throw boom;
          if (m.data === 'async-bad') {
            await Promise.resolve();
            throw boom;
          }
          handled.push(m.data as string);
        },
      },
    });
    await h.client.start();
    const conn = h.server.last!;
    conn.deliverNow('sync-bad');
    conn.deliverNow('async-bad');
    conn.deliverNow('good');
    await settle();
    expect(handled).toEqual(['good']);
    const hookErrors = h.errors.filter((e) => isErrorCode(e, 'WSM_ERR_HOOK')) as HookError[];
    expect(hookErrors.map((e) => e.hook)).toEqual(['onMessage', 'onMessage']);
    expect(hookErrors[0]!.cause).toBe(boom);
    expect(h.client.state).toBe('open');
  });

  it('a synchronously throwing onMessage does not stop the next message', async () => {
    const handled: string[] = [];
    const h = make({
      hooks: {
        onMessage: (m) => {
          if (m.data === 'bad') throw new Error('sync bug');
          handled.push(m.data as string);
        },
      },
    });
    await h.client.start();
    h.server.last!.deliverNow('bad');
    h.server.last!.deliverNow('good');
    expect(handled).toEqual(['good']);
    expect(h.errors).toHaveLength(1);
    expect(h.errors[0]).toBeInstanceOf(HookError);
    expect((h.errors[0] as HookError).hook).toBe('onMessage');
  });

  it('onClose -> error event naming it; the default frame goes out and the client reconnects', async () => {
    const h = make({
      hooks: {
        onClose: () => {
          throw new Error('cleanup bug');
        },
      },
    });
    await h.client.start();
    const first = h.server.last!;
    await reconnectAfter(h, () => h.client.restart());
    expect(first.clientClose).toEqual({ code: 1001, reason: '' });
    expect(h.errors.map((e) => (e as HookError).hook)).toEqual(['onClose']);
    expect(h.client.state).toBe('open');
  });

  it("a throwing 'state' listener -> error event naming it; other listeners and the client carry on", async () => {
    const h = make();
    const seen: string[] = [];
    h.client.on('state', () => {
      throw new Error('listener bug');
    });
    h.client.on('state', ({ to }) => seen.push(to));
    await h.client.start();
    expect(seen).toEqual(['connecting', 'opening', 'open']);
    expect(h.errors).toHaveLength(3);
    for (const e of h.errors) {
      expect(e).toBeInstanceOf(HookError);
      expect((e as HookError).hook).toContain('state');
    }
    expect(h.client.isOpen).toBe(true);
  });

  it('a throwing listener does not stop the others', async () => {
    const h = make();
    const got: string[] = [];
    h.client.on('message', () => {
      throw new Error('first listener bug');
    });
    h.client.on('message', (m) => got.push(m.data as string));
    await h.client.start();
    h.server.last!.deliverNow('a');
    h.server.last!.deliverNow('b');
    expect(got).toEqual(['a', 'b']);
    expect(h.errors.map((e) => (e as HookError).hook)).toEqual(["'message' listener", "'message' listener"]);
  });
});

describe('events', () => {
  it('on() returns an unsubscribe; once() fires once; off() removes', async () => {
    const h = make();
    await h.client.start();
    const conn = h.server.last!;
    const viaOn: string[] = [];
    const viaOnce: string[] = [];
    const viaOff: string[] = [];
    const unsubscribe = h.client.on('message', (m) => viaOn.push(m.data as string));
    h.client.once('message', (m) => viaOnce.push(m.data as string));
    const offListener = (m: { data: unknown }) => viaOff.push(m.data as string);
    h.client.on('message', offListener);
    conn.deliverNow('a');
    unsubscribe();
    h.client.off('message', offListener);
    conn.deliverNow('b');
    expect(viaOn).toEqual(['a']);
    expect(viaOnce).toEqual(['a']);
    expect(viaOff).toEqual(['a']);
    expect(typeof unsubscribe).toBe('function');
  });

  it('the connecting event carries the attempt and a redacted url', async () => {
    const h = make({ url: 'wss://user:pw@server.test/feed?token=secret' });
    const connecting = next(h.client, 'connecting');
    await h.client.start();
    const c = await connecting;
    expect(c).toEqual({ attempt: 0, url: 'wss://***@server.test/feed?token=***' });
  });
});

describe('options', () => {
  it('partial option objects merge with the defaults: reconnect { baseDelayMs: 10 } keeps factor 2 and full jitter', async () => {
    const h = make({ reconnect: { baseDelayMs: 10, random: () => 0.5 } });
    await h.client.start();
    h.server.autoOpen = false;
    const delays: number[] = [];
    let reconnecting = next(h.client, 'reconnecting');
    h.server.last!.drop();
    for (let i = 0; i < 4; i++) {
      const r = await reconnecting;
      delays.push(r.delayMs);
      h.sim.advance(r.delayMs);
      reconnecting = next(h.client, 'reconnecting');
      h.server.last!.refuse();
    }
    await reconnecting;
    // full jitter with random 0.5: half of 10, 20, 40, 80.
    expect(delays).toEqual([5, 10, 20, 40]);
  });

  it('invalid options throw InvalidOptionsError at createClient', () => {
    expect(() =>
      createClient({ url: 'ws://x/', adapter: createMemoryAdapter(), reconnect: { factor: 0 } }),
    ).toThrow(/reconnect\.factor: got 0, expected a finite number >= 1/);
  });
});

describe('start()', () => {
  it('rejects InvalidStateError while started (connecting, open, reconnecting)', async () => {
    const h = make();
    const first = h.client.start();
    expect(h.client.state).toBe('connecting');
    await expect(h.client.start()).rejects.toMatchObject({
      code: 'WSM_ERR_INVALID_STATE',
      state: 'connecting',
    });
    await first;
    await expect(h.client.start()).rejects.toMatchObject({ code: 'WSM_ERR_INVALID_STATE', state: 'open' });
    const reconnecting = next(h.client, 'reconnecting');
    h.server.last!.drop();
    await reconnecting;
    await expect(h.client.start()).rejects.toMatchObject({
      code: 'WSM_ERR_INVALID_STATE',
      state: 'reconnecting',
    });
    // The rejected calls changed nothing.
    expect(h.server.connections).toHaveLength(1);
  });

  it('start after stop works, with a new session and attempt 0', async () => {
    const h = make();
    await h.client.start();
    await h.client.stop();
    expect(h.client.state).toBe('stopped');
    const connecting = next(h.client, 'connecting');
    await h.client.start();
    expect(await connecting).toMatchObject({ attempt: 0 });
    expect(h.client.state).toBe('open');
    expect(h.client.sessionId).toBe(2);
    expect(h.client.attempt).toBe(0);
    expect(h.server.connections).toHaveLength(2);
  });

  it('a failed first start rejects StartError and leaves the client stopped', async () => {
    const h = make({}, { autoOpen: false });
    const started = h.client.start();
    const refused = new Error('ECONNREFUSED');
    h.server.last!.refuse(refused);
    const error = await started.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isErrorCode(error, 'WSM_ERR_START')).toBe(true);
    expect((error as WsmError).cause).toBe(refused);
    expect(h.client.state).toBe('stopped');
  });
});

describe('attempt counting (API.md)', () => {
  it('0 for the first dial, +1 per reconnect dial, back to 0 after resetAfterMs open', async () => {
    const dialled: number[] = [];
    const h = make({
      url: (info) => {
        dialled.push(info.attempt);
        return 'ws://server.test/feed';
      },
      reconnect: { baseDelayMs: 100, jitter: 'none', resetAfterMs: 5_000 },
    });
    const connecting: number[] = [];
    h.client.on('connecting', ({ attempt }) => connecting.push(attempt));
    await h.client.start();
    expect(h.client.attempt).toBe(0);

    h.server.autoOpen = false;
    let reconnecting = next(h.client, 'reconnecting');
    h.server.last!.drop();
    h.sim.advance((await reconnecting).delayMs);
    await settle(); // the url function is async
    expect(h.client.attempt).toBe(1);
    reconnecting = next(h.client, 'reconnecting');
    h.server.last!.refuse();
    const r = await reconnecting;
    expect(r.attempt).toBe(2);
    h.server.autoOpen = true;
    const opened = next(h.client, 'open');
    h.sim.advance(r.delayMs);
    await opened;
    expect(h.client.attempt).toBe(2);

    h.sim.advance(4_999);
    expect(h.client.attempt).toBe(2);
    h.sim.advance(1);
    expect(h.client.attempt).toBe(0);

    await reconnectAfter(h, () => h.server.last!.drop());
    expect(dialled).toEqual([0, 1, 2, 1]);
    expect(connecting).toEqual([0, 1, 2, 1]);
    expect(h.client.attempt).toBe(1);
  });
});
