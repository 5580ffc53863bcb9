/**
 * Dispatch (issue 5) against real `ws` servers on 127.0.0.1, one per test: handler concurrency and
 * ordering, backpressure under a flood, exclusive sections (the seeds' "read mutex") with stop and
 * restart in the middle, `messages()` iterators, stale session handles and handler errors. One test
 * uses the in-memory adapter to show what happens where reading cannot be paused.
 *
 * No sleeps: every wait is on an event or a promise; timeouts are guards that turn a hang into a
 * readable failure. Handler durations come from a seeded PRNG and resolve on timers of 0-3 ms.
 */
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { type WebSocket, WebSocketServer } from 'ws';
import {
  ClientStoppedError,
  ConnectionClosedError,
  ErrorCodes,
  HookError,
  type ClientOptions,
  type Message,
  QueueOverflowError,
  type Session,
  SessionEndedError,
  type WsClient,
  type WsmError,
  createClient,
} from '../../src/node.js';
import { createMemoryAdapter } from '../../src/testing.js';

// -------------------------------------------------------------------------------------------------
// Helpers (local to this file)

const GUARD_MS = 5_000;

/** A list that can be awaited: `until(predicate)` re-checks on every push. */
class Recorder<T> {
  readonly items: T[] = [];
  private checks: Array<() => void> = [];

  push(item: T): void {
    this.items.push(item);
    for (const check of [...this.checks]) check();
  }

  get length(): number {
    return this.items.length;
  }

  until(predicate: (items: T[]) => boolean, label: string, timeoutMs = GUARD_MS): Promise<T[]> {
    if (predicate(this.items)) return Promise.resolve(this.items);
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!predicate(this.items)) return;
        clearTimeout(timer);
        this.checks = this.checks.filter((c) => c !== check);
        resolve(this.items);
      };
      const timer = setTimeout(() => {
        this.checks = this.checks.filter((c) => c !== check);
        reject(new Error(`Timed out after ${timeoutMs} ms waiting for ${label}; have ${this.items.length}`));
      }, timeoutMs);
      this.checks.push(check);
    });
  }

  count(n: number, label = `${n} items`): Promise<T[]> {
    return this.until((items) => items.length >= n, label);
  }

  includes(item: T, label = String(item)): Promise<T[]> {
    return this.until((items) => items.includes(item), label);
  }
}

/** A promise with its resolve exposed. */
function deferred<T = void>(): {
  promise: Promise<T>;
  resolve: (v: T) => void;
  reject: (e: unknown) => void;
} {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Rejects when `promise` has not settled within `ms` (a guard, not a wait). */
function within<T>(promise: Promise<T>, ms: number, label: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${label} did not settle within ${ms} ms`)), ms);
    promise.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e) => {
        clearTimeout(timer);
        reject(e);
      },
    );
  });
}

/** mulberry32: a small seeded PRNG, so a failing order can be replayed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Resolves after 0-3 ms (timer), a macrotask, or at once, as the PRNG picks. */
function randomWork(random: () => number): Promise<void> {
  const r = random();
  if (r < 0.2) return Promise.resolve();
  if (r < 0.4) return new Promise((resolve) => setImmediate(resolve));
  return new Promise((resolve) => setTimeout(resolve, Math.floor(random() * 4)));
}

function text(m: Message): string {
  return typeof m.data === 'string' ? m.data : new TextDecoder().decode(m.data);
}

interface Conn {
  /** 1-based, in accept order. */
  index: number;
  ws: WebSocket;
  /** Every text message this connection received from the client. */
  received: Recorder<string>;
}

interface TestServer {
  url: string;
  conns: Recorder<Conn>;
  close(): Promise<void>;
}

const servers: TestServer[] = [];
const clients: WsClient[] = [];

async function startServer(setup: (conn: Conn) => void = () => {}): Promise<TestServer> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((resolve, reject) => {
    wss.once('listening', resolve);
    wss.once('error', reject);
  });
  const conns = new Recorder<Conn>();
  wss.on('connection', (ws) => {
    const conn: Conn = { index: conns.length + 1, ws, received: new Recorder() };
    ws.on('message', (data) => conn.received.push(String(data)));
    ws.on('error', () => {});
    setup(conn);
    conns.push(conn);
  });
  const server: TestServer = {
    url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`,
    conns,
    close: () =>
      new Promise<void>((resolve) => {
        for (const ws of wss.clients) ws.terminate();
        wss.close(() => resolve());
      }),
  };
  servers.push(server);
  return server;
}

/**
 * The seeds' "case 2" server: no request ids. `Q:<n>` is answered with `A:<n>` after a small delay,
 * with unsolicited `tick:<k>` pushes around it; `TICK` asks for one tick; `R:<id>` requests are held
 * until the next `Q:` and answered `RA:<id>` before it; `KILL` drops the TCP connection.
 */
function caseTwoServer(conn: Conn): void {
  const ws = conn.ws;
  let ticks = 0;
  const held: string[] = [];
  const tick = () => ws.send(`tick:${++ticks}`);
  tick();
  tick();
  tick();
  ws.on('message', (raw) => {
    const data = String(raw);
    if (data.startsWith('Q:')) {
      const n = data.slice(2);
      for (const id of held.splice(0)) ws.send(`RA:${id}`);
      tick();
      setTimeout(() => {
        tick();
        ws.send(`A:${n}`);
        tick();
      }, 2);
    } else if (data === 'TICK') tick();
    else if (data.startsWith('R:')) held.push(data.slice(2));
    else if (data === 'KILL') ws.terminate();
  });
}

/** `BURST:<n>` sends the next n of `m1, m2, ...` (numbered per connection); `R:<id>` is answered `RA:<id>`. */
function burstServer(conn: Conn): void {
  let next = 0;
  conn.ws.on('message', (raw) => {
    const data = String(raw);
    if (data.startsWith('BURST:')) {
      const n = Number(data.slice(6));
      for (let i = 0; i < n; i++) conn.ws.send(`m${++next}`);
    } else if (data.startsWith('R:')) conn.ws.send(`RA:${data.slice(2)}`);
  });
}

/** Keyed matching for `R:<id>` -> `RA:<id>`. */
const keyedRequests: ClientOptions['requests'] = {
  timeoutMs: 3_000,
  key: {
    request: (data) => String(data).slice(2),
    response: (m) => {
      const t = text(m);
      return t.startsWith('RA:') ? t.slice(3) : undefined;
    },
  },
};

function makeClient(options: Omit<ClientOptions, 'url'> & { url: string }): {
  client: WsClient;
  errors: Recorder<WsmError>;
} {
  const client = createClient({ reconnect: { baseDelayMs: 0, jitter: 'none' }, ...options });
  clients.push(client);
  const errors = new Recorder<WsmError>();
  client.on('error', (e) => errors.push(e));
  return { client, errors };
}

/** Resolves on the next `open` event whose session id is above `afterSessionId`. */
function nextOpen(client: WsClient, afterSessionId: number): Promise<number> {
  return within(
    new Promise<number>((resolve) => {
      const off = client.on('open', ({ sessionId }) => {
        if (sessionId > afterSessionId) {
          off();
          resolve(sessionId);
        }
      });
    }),
    GUARD_MS,
    `an open after session ${afterSessionId}`,
  );
}

afterEach(async () => {
  await Promise.allSettled(clients.splice(0).map((c) => c.stop()));
  await Promise.allSettled(servers.splice(0).map((s) => s.close()));
});

// -------------------------------------------------------------------------------------------------

describe('concurrency', () => {
  it('concurrency 1: async handlers of random duration run one at a time, in arrival order', async () => {
    const COUNT = 200;
    const server = await startServer(burstServer);
    const random = prng(0x5eed1);
    let inFlight = 0;
    let maxInFlight = 0;
    const events: string[] = [];
    const handled = new Recorder<string>();
    const { client, errors } = makeClient({
      url: server.url,
      hooks: {
        onMessage: async (m) => {
          const id = text(m);
          inFlight++;
          maxInFlight = Math.max(maxInFlight, inFlight);
          events.push(`start ${id}`);
          await randomWork(random);
          events.push(`end ${id}`);
          inFlight--;
          handled.push(id);
        },
      },
    });
    await client.start();
    client.send(`BURST:${COUNT}`);
    await handled.count(COUNT);

    const expected = Array.from({ length: COUNT }, (_, i) => `m${i + 1}`);
    expect(handled.items).toEqual(expected);
    expect(maxInFlight).toBe(1);
    // Strictly alternating: each handler starts only after the previous one settled.
    expect(events).toEqual(expected.flatMap((id) => [`start ${id}`, `end ${id}`]));
    expect(errors.items).toEqual([]);
  });

  it('concurrency 4: never more than 4 in flight, and handlers start in arrival order', async () => {
    const COUNT = 200;
    const N = 4;
    const server = await startServer(burstServer);
    const random = prng(0x5eed4);
    let inFlight = 0;
    let maxInFlight = 0;
    const started: string[] = [];
    const finished = new Recorder<string>();
    const { client, errors } = makeClient({
      url: server.url,
      concurrency: N,
      hooks: {
        onMessage: async (m) => {
          inFlight++;
          maxInFlight = Math.max(maxInFlight, inFlight);
          started.push(text(m));
          await randomWork(random);
          inFlight--;
          finished.push(text(m));
        },
      },
    });
    await client.start();
    client.send(`BURST:${COUNT}`);
    await finished.count(COUNT);

    const expected = Array.from({ length: COUNT }, (_, i) => `m${i + 1}`);
    expect(maxInFlight).toBe(N);
    expect(started).toEqual(expected);
    // Every message was handled exactly once, even though they finished out of order.
    expect([...finished.items].sort()).toEqual([...expected].sort());
    expect(finished.items).not.toEqual(expected);
    expect(errors.items).toEqual([]);
  });
});

describe('backpressure', () => {
  it('a flood of 100,000 messages into a slow handler: no loss, bounded queue, reading paused', async () => {
    const TOTAL = 100_000;
    const HIGH = 200;
    const LOW = 50;
    // 32-byte frames (30-byte payload + 2-byte header): one 64 KiB socket read holds at most 2,048.
    const PAYLOAD = 30;
    const perRead = Math.ceil(65_536 / (PAYLOAD + 2));
    const server = await startServer((conn) => {
      conn.ws.on('message', (raw) => {
        if (String(raw) !== 'FLOOD') return;
        for (let i = 0; i < TOTAL; i++) conn.ws.send(String(i).padStart(PAYLOAD, '.'));
      });
    });
    let paused = 0;
    let resumed = 0;
    let expected = 0;
    let outOfOrder = 0;
    let sawHeartbeatSuspended = false;
    let handledWhilePaused = 0;
    const done = deferred();
    const { client, errors } = makeClient({
      url: server.url,
      inbound: { highWaterMark: HIGH, lowWaterMark: LOW },
      inspect: (e) => {
        const ev = e as { type?: string; event?: { type?: string } };
        if (ev.type !== '@xstate.event') return;
        if (ev.event?.type === 'inbound.paused') paused++;
        else if (ev.event?.type === 'inbound.resumed') resumed++;
      },
      hooks: {
        onMessage: (m) => {
          if (Number(text(m).replace(/^\.+/, '')) !== expected) outOfOrder++;
          expected++;
          if (paused > resumed) handledWhilePaused++;
          if (expected === TOTAL) done.resolve();
          if (expected % 50 !== 0) return undefined;
          if (client.actor.getSnapshot().matches({ session: { open: { heartbeat: 'suspended' } } })) {
            sawHeartbeatSuspended = true;
          }
          return new Promise<void>((resolve) => setImmediate(resolve));
        },
      },
    });
    await client.start();
    client.send('FLOOD');
    await within(done.promise, 15_000, 'all 100,000 messages handled');

    const stats = client.stats();
    console.info(
      `flood: inboundQueuePeak=${stats.inboundQueuePeak} (highWaterMark ${HIGH}, <= ${perRead} per read), paused ${paused}x, resumed ${resumed}x`,
    );
    // No loss, no reordering, nothing discarded.
    expect(expected).toBe(TOTAL);
    expect(outOfOrder).toBe(0);
    expect(stats.messagesIn).toBe(TOTAL);
    expect(stats.inboundDiscarded).toBe(0);
    expect(stats.inboundQueued).toBe(0);
    // The queue reached the high-water mark, and stayed within the mark plus what ws had already
    // parsed from the socket read that crossed it (ws parses a whole read even when paused).
    expect(stats.inboundQueuePeak).toBeGreaterThanOrEqual(HIGH);
    expect(stats.inboundQueuePeak).toBeLessThan(HIGH + 2 * perRead);
    expect(stats.inboundQueuePeak).toBeLessThan(5_000);
    // Reading was paused (and resumed as often), and the heartbeat did not blame the peer meanwhile.
    expect(paused).toBeGreaterThan(0);
    expect(resumed).toBe(paused);
    expect(handledWhilePaused).toBeGreaterThan(0);
    expect(sawHeartbeatSuspended).toBe(true);
    expect(client.actor.getSnapshot().matches({ session: { open: { heartbeat: 'suspended' } } })).toBe(false);
    expect(stats.sessions).toBe(1);
    expect(errors.items).toEqual([]);
  }, 20_000);

  it('reading paused before open (during onOpen) still suspends the heartbeat once open', async () => {
    const TOTAL = 500;
    const server = await startServer((conn) => {
      for (let i = 1; i <= TOTAL; i++) conn.ws.send(`m${i}`);
    });
    const gate = deferred();
    const pausedWhileOpening = deferred();
    const handled = new Recorder<string>();
    const { client, errors } = makeClient({
      url: server.url,
      heartbeat: { intervalMs: 50, timeoutMs: 50 },
      inbound: { highWaterMark: 100, lowWaterMark: 10 },
      inspect: (e) => {
        const ev = e as { type?: string; event?: { type?: string } };
        if (ev.type === '@xstate.event' && ev.event?.type === 'inbound.paused') pausedWhileOpening.resolve();
      },
      hooks: {
        // The server floods on connect; onOpen finishes only once the queue paused reading.
        onOpen: () => within(pausedWhileOpening.promise, GUARD_MS, 'inbound.paused during onOpen'),
        onMessage: async (m) => {
          await gate.promise;
          handled.push(text(m));
        },
      },
    });
    await client.start();
    expect(client.actor.getSnapshot().matches({ session: { open: { heartbeat: 'suspended' } } })).toBe(true);

    // Handlers catch up: reading resumes, the heartbeat runs again and the peer answers it.
    const pong = within(
      new Promise<void>((resolve) => client.once('pong', () => resolve())),
      GUARD_MS,
      'a pong after reading resumed',
    );
    gate.resolve();
    await handled.count(TOTAL);
    await pong;
    expect(handled.items).toEqual(Array.from({ length: TOTAL }, (_, i) => `m${i + 1}`));
    expect(client.state).toBe('open');
    expect(client.stats().sessions).toBe(1);
    expect(errors.items).toEqual([]);
  });

  it('an adapter that cannot pause hits inbound.maxQueued: QueueOverflowError and a new session, not unbounded memory', async () => {
    const adapter = createMemoryAdapter({ capabilities: { pause: false } });
    const MAX = 50;
    const gate = deferred();
    const handled = new Recorder<string>();
    let paused = 0;
    const { client, errors } = makeClient({
      url: 'ws://memory.test',
      adapter,
      heartbeat: false,
      inbound: { highWaterMark: 10, lowWaterMark: 2, maxQueued: MAX },
      inspect: (e) => {
        const ev = e as { type?: string; event?: { type?: string } };
        if (ev.type === '@xstate.event' && ev.event?.type === 'inbound.paused') paused++;
      },
      hooks: {
        onMessage: async (m) => {
          handled.push(text(m));
          if (text(m) === 'm1') await gate.promise;
        },
      },
    });
    let reported = 0;
    client.on('unhandled', ({ messages, reason }) => {
      reported += messages.length;
      expect(reason).toBeInstanceOf(
        reported === messages.length ? QueueOverflowError : ConnectionClosedError,
      );
    });
    await client.start();
    const first = adapter.connections[0]!;
    const firstSession = client.sessionId;
    const reopened = nextOpen(client, firstSession);
    for (let i = 1; i <= 1_000; i++) first.deliverNow(`m${i}`);

    const [overflow] = await errors.count(1, 'a QueueOverflowError');
    expect(overflow).toBeInstanceOf(QueueOverflowError);
    expect(overflow!.code).toBe(ErrorCodes.QUEUE_OVERFLOW);
    const stats = client.stats();
    // The queue stopped one past its bound; the rest of the burst was not kept.
    expect(stats.inboundQueuePeak).toBe(MAX + 1);
    expect(stats.inboundQueued).toBe(0);
    expect(stats.inboundDiscarded).toBe(1_000 - 1);
    expect(paused).toBe(0);
    // Nothing vanished: the queued ones (overflow) and the rest of the burst, which arrived while the
    // restart was closing the session, were reported with their reasons.
    await Promise.resolve();
    expect(reported).toBe(1_000 - 1);

    // The session is restarted, and the client works on the new one once the handler lets go.
    const second = await reopened;
    expect(second).toBeGreaterThan(firstSession);
    expect(first.status).toBe('closed');
    expect(adapter.connections).toHaveLength(2);
    gate.resolve();
    adapter.connections[1]!.deliver('after');
    await handled.includes('after');
    expect(handled.items).toEqual(['m1', 'after']);
    expect(errors.items).toHaveLength(1);
  });
});

describe('exclusive', () => {
  it('what a section holds counts toward the byte bounds: big held messages pause reading at once', async () => {
    const adapter = createMemoryAdapter();
    const { client } = makeClient({
      url: 'ws://memory.test',
      adapter,
      heartbeat: false,
      inbound: { highWaterBytes: 1_000, lowWaterMark: 2 },
      hooks: { onMessage: () => {} },
    });
    await client.start();
    const conn = adapter.last!;
    let release!: () => void;
    const section = client.exclusive(() => new Promise<void>((resolve) => (release = resolve)));
    await new Promise((resolve) => setImmediate(resolve));
    conn.deliverNow('x'.repeat(600));
    expect(conn.readingPaused).toBe(false);
    conn.deliverNow('y'.repeat(600)); // 1,200 bytes held, past highWaterBytes: pause now, not at the end
    expect(conn.readingPaused).toBe(true);
    release();
    await section;
    // The section's leftovers go to the handler; the queue drains and reading resumes.
    await new Promise((resolve) => setImmediate(resolve));
    expect(conn.readingPaused).toBe(false);
  });

  it('request/response with no ids: returns the answer; ticks from before, during and after reach onMessage once, in order', async () => {
    const server = await startServer(caseTwoServer);
    const arrivedInside: string[] = [];
    const arrived: string[] = [];
    const handled = new Recorder<string>();
    const handledInside: string[] = [];
    let inside = false;
    const { client, errors } = makeClient({
      url: server.url,
      hooks: {
        onMessage: (m) => {
          if (inside) handledInside.push(text(m));
          handled.push(text(m));
        },
      },
    });
    client.on('message', (m) => {
      arrived.push(text(m));
      if (inside) arrivedInside.push(text(m));
    });
    await client.start();
    await handled.includes('tick:3', 'the ticks sent before the section');

    const answer = await client.exclusive(async (s) => {
      inside = true;
      s.send('Q:1');
      const m = await s.next((x) => text(x).startsWith('A:'), { timeoutMs: 3_000 });
      inside = false;
      return text(m);
    });
    expect(answer).toBe('A:1');

    client.send('TICK');
    client.send('TICK');
    await handled.includes('tick:8', 'the ticks sent after the section');

    const ticks = Array.from({ length: 8 }, (_, i) => `tick:${i + 1}`);
    // The section really ran while ticks arrived (tick 4 before the answer, tick 5 right before it).
    expect(arrivedInside).toEqual(expect.arrayContaining(['tick:4', 'tick:5', 'A:1']));
    // None was handled inside; all reached onMessage afterwards, in arrival order, each once.
    expect(handledInside).toEqual([]);
    expect(handled.items).toEqual(ticks);
    expect(arrived.filter((d) => d.startsWith('tick:'))).toEqual(ticks);
    expect(errors.items).toEqual([]);
  });

  it('replies to pending requests are matched while exclusive holds the stream, and never reach the section', async () => {
    const server = await startServer(caseTwoServer);
    const handled = new Recorder<string>();
    const { client, errors } = makeClient({
      url: server.url,
      requests: keyedRequests,
      hooks: { onMessage: (m) => handled.push(text(m)) },
    });
    await client.start();
    await handled.includes('tick:3');
    const conn = (await server.conns.count(1))[0]!;
    const pending = client.request('R:7');
    await conn.received.includes('R:7');

    const { reply, seen } = await client.exclusive(async (s) => {
      s.send('Q:1'); // the server answers R:7 first, then ticks and A:1
      const reply = await pending; // would time out if the section swallowed RA:7
      const seen: string[] = [];
      for (;;) {
        const m = await s.next(undefined, { timeoutMs: 3_000 });
        seen.push(text(m));
        if (text(m).startsWith('A:')) break;
      }
      return { reply: text(reply), seen };
    });
    expect(reply).toBe('RA:7');
    expect(seen).toEqual(['tick:4', 'tick:5', 'A:1']);
    client.send('TICK');
    await handled.includes('tick:7');
    // tick:6 came right after the answer: unread by the section, dispatched afterwards.
    expect(handled.items).toEqual(['tick:1', 'tick:2', 'tick:3', 'tick:6', 'tick:7']);
    expect(client.stats().pendingRequests).toBe(0);
    expect(errors.items).toEqual([]);
  });

  it('concurrent exclusive calls run one after another in FIFO order', async () => {
    const server = await startServer(caseTwoServer);
    const log: string[] = [];
    const { client, errors } = makeClient({ url: server.url, hooks: { onMessage: () => {} } });
    await client.start();
    const section = (n: number) =>
      client.exclusive(async (s) => {
        log.push(`start ${n}`);
        s.send(`Q:${n}`);
        const m = await s.next((x) => text(x) === `A:${n}`, { timeoutMs: 3_000 });
        log.push(`end ${n}`);
        return text(m);
      });
    const results = await Promise.all([section(1), section(2), section(3)]);
    expect(results).toEqual(['A:1', 'A:2', 'A:3']);
    expect(log).toEqual(['start 1', 'end 1', 'start 2', 'end 2', 'start 3', 'end 3']);
    expect(errors.items).toEqual([]);
  });

  it('stop() during exclusive rejects the pending next() with ClientStoppedError and does not wait for fn', async () => {
    const server = await startServer(caseTwoServer);
    const STOP_TIMEOUT = 1_000;
    const { client, errors } = makeClient({
      url: server.url,
      stopTimeoutMs: STOP_TIMEOUT,
      hooks: { onMessage: () => {} },
    });
    await client.start();
    const entered = deferred();
    const nextOutcome = deferred<unknown>();
    // fn swallows the failure of next() and never finishes on its own.
    void client.exclusive(async (s) => {
      entered.resolve();
      await s.next((m) => text(m) === 'never').then(nextOutcome.resolve, nextOutcome.resolve);
      await new Promise(() => {});
    });
    await entered.promise;

    // Resolved by the client, not by its own last-resort deadline (stopTimeoutMs + closeTimeoutMs + 100).
    await within(client.stop(), STOP_TIMEOUT, 'stop() during exclusive');
    const error = await within(nextOutcome.promise, 1_000, 'the pending next()');
    expect(error).toBeInstanceOf(ClientStoppedError);
    expect((error as WsmError).code).toBe(ErrorCodes.CLIENT_STOPPED);
    expect(client.state).toBe('stopped');
    expect(errors.items.filter((e) => e instanceof HookError && e.hook === 'stop')).toEqual([]);
  });

  it('stop() during exclusive: an fn that propagates the error rejects, and a queued section rejects ClientStoppedError', async () => {
    const server = await startServer(caseTwoServer);
    const { client } = makeClient({ url: server.url, stopTimeoutMs: 1_000, hooks: { onMessage: () => {} } });
    await client.start();
    const entered = deferred();
    const first = client.exclusive(async (s) => {
      entered.resolve();
      return s.next((m) => text(m) === 'never');
    });
    let secondRan = false;
    const second = client.exclusive(async () => {
      secondRan = true;
    });
    const firstOutcome = first.then(
      () => 'resolved',
      (e: unknown) => e,
    );
    const secondOutcome = second.then(
      () => 'resolved',
      (e: unknown) => e,
    );
    await entered.promise;
    await within(client.stop(), 1_000, 'stop() during exclusive');
    expect(await within(firstOutcome, 1_000, 'the first section')).toBeInstanceOf(ClientStoppedError);
    expect(await within(secondOutcome, 1_000, 'the queued section')).toBeInstanceOf(ClientStoppedError);
    expect(secondRan).toBe(false);
  });

  it('restart during exclusive: next() rejects ConnectionClosedError, the client reconnects, a new section works', async () => {
    const server = await startServer(caseTwoServer);
    const { client } = makeClient({ url: server.url, hooks: { onMessage: () => {} } });
    await client.start();
    const firstSession = client.sessionId;
    const reopened = nextOpen(client, firstSession);

    const failed = client.exclusive(async (s) => {
      s.send('KILL'); // the server drops the TCP connection
      return s.next((m) => text(m).startsWith('A:'));
    });
    const error = await within(
      failed.then(
        () => undefined,
        (e: unknown) => e,
      ),
      GUARD_MS,
      'the section on the killed session',
    );
    expect(error).toBeInstanceOf(ConnectionClosedError);
    expect((error as WsmError).code).toBe(ErrorCodes.CONNECTION_CLOSED);

    const secondSession = await reopened;
    expect(secondSession).toBeGreaterThan(firstSession);
    const result = await client.exclusive(async (s) => {
      s.send('Q:1');
      const m = await s.next((x) => text(x).startsWith('A:'), { timeoutMs: 3_000 });
      return { answer: text(m), sessionId: s.id };
    });
    expect(result).toEqual({ answer: 'A:1', sessionId: secondSession });
    const conns = await server.conns.count(2);
    expect(conns[1]!.received.items).toEqual(['Q:1']);
  });
});

describe('messages()', () => {
  it('yields unconsumed messages in order (not request replies)', async () => {
    const server = await startServer(burstServer);
    const { client } = makeClient({ url: server.url, requests: keyedRequests });
    await client.start();
    const it = client.messages();
    const reply = await client.request('R:1');
    expect(text(reply)).toBe('RA:1');
    client.send('BURST:5');
    const got: string[] = [];
    for (let i = 0; i < 5; i++) {
      const r = await within(it.next(), GUARD_MS, `message ${i + 1}`);
      expect(r.done).toBe(false);
      got.push(text(r.value as Message));
    }
    expect(got).toEqual(['m1', 'm2', 'm3', 'm4', 'm5']);
  });

  it('two iterators each get every message', async () => {
    const server = await startServer(burstServer);
    const { client } = makeClient({ url: server.url });
    await client.start();
    const a = client.messages();
    const b = client.messages();
    const take = async (iter: AsyncIterableIterator<Message>, n: number) => {
      const out: string[] = [];
      for await (const m of iter) {
        out.push(text(m));
        if (out.length === n) break;
      }
      return out;
    };
    client.send('BURST:50');
    const [fromA, fromB] = await within(Promise.all([take(a, 50), take(b, 50)]), GUARD_MS, 'both iterators');
    const expected = Array.from({ length: 50 }, (_, i) => `m${i + 1}`);
    expect(fromA).toEqual(expected);
    expect(fromB).toEqual(expected);
  });

  it('iterators end (done) on stop()', async () => {
    const server = await startServer(burstServer);
    const { client } = makeClient({ url: server.url });
    await client.start();
    const got = new Recorder<string>();
    const loop = (async () => {
      for await (const m of client.messages()) got.push(text(m));
      return 'ended';
    })();
    client.send('BURST:3');
    await got.count(3);
    // An iterator already waiting in next() when stop() comes.
    const idle = client.messages();
    const idleNext = idle.next();
    await client.stop();
    expect(await within(loop, GUARD_MS, 'the for-await loop')).toBe('ended');
    expect(got.items).toEqual(['m1', 'm2', 'm3']);
    expect(await within(idleNext, GUARD_MS, 'a pending next()')).toMatchObject({ done: true });
    expect(await within(idle.next(), GUARD_MS, 'next() after stop')).toMatchObject({ done: true });
  });

  it('an iterator nobody reads ends with WSM_ERR_QUEUE_OVERFLOW; the other iterator and onMessage keep working', async () => {
    const BUFFER = 10;
    const BURST = 8; // below the buffer: the reader drains each burst before the next one is asked for
    const server = await startServer(burstServer);
    const handled = new Recorder<string>();
    const { client } = makeClient({
      url: server.url,
      inbound: { iteratorBufferSize: BUFFER },
      hooks: { onMessage: (m) => handled.push(text(m)) },
    });
    await client.start();
    const reader = new Recorder<string>();
    let readerFailure: unknown;
    const readerLoop = (async () => {
      try {
        for await (const m of client.messages()) reader.push(text(m));
      } catch (error) {
        readerFailure = error;
      }
    })();
    const unread = client.messages();
    for (let total = BURST; total <= 3 * BURST; total += BURST) {
      client.send(`BURST:${BURST}`);
      await handled.count(total);
      await reader.count(total);
    }

    const fromUnread: string[] = [];
    let failure: unknown;
    try {
      for (;;) {
        const r = await within(unread.next(), GUARD_MS, 'the unread iterator');
        if (r.done) break;
        fromUnread.push(text(r.value));
      }
    } catch (error) {
      failure = error;
    }
    expect(failure).toBeInstanceOf(QueueOverflowError);
    expect((failure as WsmError).code).toBe(ErrorCodes.QUEUE_OVERFLOW);
    expect(fromUnread.length).toBeLessThanOrEqual(BUFFER);
    expect(fromUnread).toEqual(Array.from({ length: fromUnread.length }, (_, i) => `m${i + 1}`));
    expect(await unread.next()).toMatchObject({ done: true });

    const expected = Array.from({ length: 3 * BURST }, (_, i) => `m${i + 1}`);
    expect(reader.items).toEqual(expected);
    expect(handled.items).toEqual(expected);
    expect(readerFailure).toBeUndefined();
    expect(client.state).toBe('open');
    await client.stop();
    await within(readerLoop, GUARD_MS, 'the reader loop');
    expect(readerFailure).toBeUndefined();
  });
});

describe('sessions and handler errors', () => {
  it('a session captured during session 1 refuses to write after a reconnect; nothing reaches the new connection', async () => {
    const server = await startServer((conn) => {
      conn.ws.send(`hello:${conn.index}`);
    });
    const sessions = new Recorder<Session>();
    const { client } = makeClient({
      url: server.url,
      requests: keyedRequests,
      hooks: {
        onMessage: (m, session) => {
          if (text(m).startsWith('hello:')) sessions.push(session);
        },
      },
    });
    await client.start();
    const [stale] = await sessions.count(1, 'the hello of session 1');
    const first = (await server.conns.count(1))[0]!;
    const reopened = nextOpen(client, stale!.id);
    first.ws.terminate();
    await reopened;
    const [, fresh] = await sessions.count(2, 'the hello of session 2');
    expect(fresh!.id).toBeGreaterThan(stale!.id);

    expect(stale!.signal.aborted).toBe(true);
    let thrown: unknown;
    try {
      stale!.send('stale write');
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(SessionEndedError);
    expect((thrown as WsmError).code).toBe(ErrorCodes.SESSION_ENDED);
    await expect(stale!.request('R:1')).rejects.toMatchObject({ code: ErrorCodes.SESSION_ENDED });

    // One connection is ordered: once the marker arrives, anything written before it would have too.
    fresh!.send('marker');
    const second = (await server.conns.count(2))[1]!;
    await second.received.includes('marker');
    expect(second.received.items).toEqual(['marker']);
    expect(first.received.items).toEqual([]);
  });

  it('a sync throw and a rejected promise in onMessage are reported as HookError and dispatch continues', async () => {
    const server = await startServer((conn) => {
      for (const d of ['ok1', 'boom-sync', 'ok2', 'boom-async', 'ok3']) conn.ws.send(d);
    });
    const handled = new Recorder<string>();
    const { client, errors } = makeClient({
      url: server.url,
      hooks: {
        onMessage: (m) => {
          const d = text(m);
          handled.push(d);
          if (d === 'boom-sync') throw new Error('sync boom');
          if (d === 'boom-async') return Promise.reject(new Error('async boom'));
          return undefined;
        },
      },
    });
    await client.start();
    await handled.includes('ok3');
    await errors.count(2);
    expect(handled.items).toEqual(['ok1', 'boom-sync', 'ok2', 'boom-async', 'ok3']);
    const sessionId = client.sessionId;
    expect(errors.items).toHaveLength(2);
    for (const [error, cause] of [
      [errors.items[0], 'sync boom'],
      [errors.items[1], 'async boom'],
    ] as const) {
      expect(error).toBeInstanceOf(HookError);
      expect(error).toMatchObject({ code: ErrorCodes.HOOK, hook: 'onMessage', sessionId });
      expect((error!.cause as Error).message).toBe(cause);
    }
    expect(client.state).toBe('open');
    expect(client.stats().sessions).toBe(1);
  });
});
