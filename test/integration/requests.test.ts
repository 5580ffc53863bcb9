/**
 * Request/response (issue 3) against real `ws` servers on 127.0.0.1, one per test: callback and
 * promise forms, keyed and predicate matching, ordering, timeouts, abort, cancel, duplicate keys,
 * both disconnect policies, stop, the send buffer, `prepare`, and 10,000 requests in flight.
 *
 * No sleeps: every wait is on an event or a promise. Every request issued through `track()` is
 * checked to settle exactly once (resolutions + rejections = requests issued).
 */
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { type WebSocket, WebSocketServer } from 'ws';
import {
  ClientStoppedError,
  ConnectionClosedError,
  DuplicateKeyError,
  ErrorCodes,
  HookError,
  InvalidStateError,
  Message,
  RequestAbortedError,
  RequestTimeoutError,
  SendBufferFullError,
  type ClientOptions,
  type WsClient,
  type WsmError,
  createClient,
  createWsAdapter,
} from '../../src/node.js';
import { Correlator } from '../../src/rpc/correlator.js';

// -------------------------------------------------------------------------------------------------
// Helpers (local to this file)

interface Received {
  /** 1-based index of the server-side connection it arrived on. */
  conn: number;
  data: string;
  ws: WebSocket;
}

interface TestServer {
  url: string;
  /** Every message received, across connections, in arrival order. */
  received: Received[];
  /** Server-side sockets in connection order. */
  connections: WebSocket[];
  /** Resolves once `count` messages in total have arrived. */
  waitForReceived(count: number): Promise<Received[]>;
  /** Resolves once `count` connections have been accepted. */
  waitForConnections(count: number): Promise<WebSocket[]>;
  close(): Promise<void>;
}

type ServerHandler = (ws: WebSocket, data: string, server: TestServer, conn: number) => void;

const servers: TestServer[] = [];
const clients: WsClient[] = [];

async function startServer(onMessage?: ServerHandler): Promise<TestServer> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((resolve, reject) => {
    wss.once('listening', resolve);
    wss.once('error', reject);
  });
  const port = (wss.address() as AddressInfo).port;
  const waiters: Array<() => void> = [];
  const check = () => {
    for (const w of waiters.splice(0)) w();
  };
  const server: TestServer = {
    url: `ws://127.0.0.1:${port}`,
    received: [],
    connections: [],
    waitForReceived(count) {
      return new Promise((resolve) => {
        const test = () => {
          if (server.received.length >= count) resolve(server.received.slice(0, count));
          else waiters.push(test);
        };
        test();
      });
    },
    waitForConnections(count) {
      return new Promise((resolve) => {
        const test = () => {
          if (server.connections.length >= count) resolve(server.connections.slice(0, count));
          else waiters.push(test);
        };
        test();
      });
    },
    async close() {
      for (const ws of wss.clients) ws.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
  wss.on('connection', (ws) => {
    server.connections.push(ws);
    const conn = server.connections.length;
    ws.on('message', (raw, isBinary) => {
      const data = isBinary ? `<binary ${(raw as Buffer).length}>` : raw.toString();
      server.received.push({ conn, data, ws });
      onMessage?.(ws, data, server, conn);
      check();
    });
    check();
  });
  servers.push(server);
  return server;
}

/** A JSON echo: `{ id, ... }` comes back as `{ id, reply: <op> }`. */
const jsonEcho: ServerHandler = (ws, data) => {
  const m = JSON.parse(data) as { id: unknown; op?: unknown };
  ws.send(JSON.stringify({ id: m.id, reply: m.op ?? null }));
};

function client(options: ClientOptions): WsClient {
  const c = createClient({ heartbeat: false, reconnect: false, ...options });
  clients.push(c);
  return c;
}

/** Keyed options: the key is `params.id` on the way out and the parsed reply's `id` on the way back. */
function keyed(url: string, extra: Partial<ClientOptions> = {}): ClientOptions {
  return {
    url,
    prepare: (m) => JSON.parse(m.data as string),
    requests: {
      timeoutMs: 10_000,
      key: {
        request: (_data, params) => (params as { id: unknown } | undefined)?.id,
        response: (m) => (m.prepared as { id?: unknown } | undefined)?.id,
      },
    },
    ...extra,
  };
}

const req = (id: unknown, op = 'get') => JSON.stringify({ id, op });

/** Counts settlements of every tracked promise; `done()` checks each settled exactly once. */
function tracker() {
  let issued = 0;
  let resolved = 0;
  let rejected = 0;
  const all: Promise<unknown>[] = [];
  return {
    track<T>(p: Promise<T>): Promise<T> {
      issued++;
      all.push(
        p.then(
          () => {
            resolved++;
          },
          () => {
            rejected++;
          },
        ),
      );
      return p;
    },
    async done(): Promise<{ resolved: number; rejected: number }> {
      await Promise.all(all);
      expect(resolved + rejected).toBe(issued);
      return { resolved, rejected };
    },
  };
}

/** A promise resolved by the next call of the returned function (for hooks). */
function deferred<T = void>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/** Collects onMessage calls; `next(n)` resolves once `n` have arrived. */
function inbox() {
  const messages: Message[] = [];
  const waiters: Array<() => void> = [];
  return {
    messages,
    onMessage: (m: Message) => {
      messages.push(m);
      for (const w of waiters.splice(0)) w();
    },
    waitFor(count: number): Promise<Message[]> {
      return new Promise((resolve) => {
        const test = () => {
          if (messages.length >= count) resolve(messages.slice(0, count));
          else waiters.push(test);
        };
        test();
      });
    },
  };
}

function parsed(m: Message): { id: unknown; reply: unknown } {
  return JSON.parse(m.data as string);
}

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.stop().catch(() => {})));
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

// -------------------------------------------------------------------------------------------------

describe('request/response over a real ws server', () => {
  it('promise form and callback form (callback gets message and session; promise resolves too)', async () => {
    const server = await startServer(jsonEcho);
    const c = client(keyed(server.url));
    await c.start();
    const t = tracker();

    const reply = await t.track(c.request(req(1, 'a'), { params: { id: 1 } }));
    expect(reply).toBeInstanceOf(Message);
    expect(reply.prepared).toEqual({ id: 1, reply: 'a' });

    const calls: Array<{ m: Message; sessionId: number }> = [];
    const viaCallback = await t.track(
      c.request(req(2, 'b'), {
        params: { id: 2 },
        callback: (m, session) => calls.push({ m, sessionId: session.id }),
      }),
    );
    expect(calls).toHaveLength(1);
    expect(calls[0]!.m).toBe(viaCallback);
    expect(calls[0]!.sessionId).toBe(c.sessionId);
    expect(viaCallback.prepared).toEqual({ id: 2, reply: 'b' });
    expect(await t.done()).toEqual({ resolved: 2, rejected: 0 });
  });

  it('keyed matching: prepare once, requests.key, explicit key option', async () => {
    const server = await startServer(jsonEcho);
    let prepares = 0;
    const c = client(
      keyed(server.url, {
        prepare: (m) => {
          prepares++;
          return JSON.parse(m.data as string);
        },
      }),
    );
    await c.start();
    const t = tracker();
    const [a, b, x] = await Promise.all([
      t.track(c.request(req('a', 'A'), { params: { id: 'a' } })),
      t.track(c.request(req('b', 'B'), { params: { id: 'b' } })),
      // The per-request key overrides requests.key.request.
      t.track(c.request(req('x', 'X'), { key: 'x' })),
    ]);
    expect(a.prepared).toEqual({ id: 'a', reply: 'A' });
    expect(b.prepared).toEqual({ id: 'b', reply: 'B' });
    expect(x.prepared).toEqual({ id: 'x', reply: 'X' });
    expect(prepares).toBe(3);
    expect(c.stats().pendingRequests).toBe(0);
    await t.done();
  });

  it('predicate matching scans in registration order and the first match wins', async () => {
    // The server answers every request with `{ op }` only: no id, so two pending `op: 'same'` both match.
    const server = await startServer();
    const seen: Array<{ id: number; params: unknown; key: unknown; data: unknown; sentAt: number }> = [];
    const c = client({
      url: server.url,
      requests: {
        match: (pending, res) => {
          seen.push({
            id: pending.id,
            params: pending.params,
            key: pending.key,
            data: pending.data,
            sentAt: pending.sentAt,
          });
          return (pending.params as { op: string }).op === JSON.parse(res.data as string).op;
        },
      },
    });
    await c.start();
    const t = tracker();
    const first = t.track(c.request('r1', { params: { op: 'other' } }));
    const second = t.track(c.request('r2', { params: { op: 'same' } }));
    const third = t.track(c.request('r3', { params: { op: 'same' } }));
    const got = await server.waitForReceived(3);
    expect(got.map((r) => r.data)).toEqual(['r1', 'r2', 'r3']);
    const ws = got[0]!.ws;

    ws.send(JSON.stringify({ op: 'same', n: 1 }));
    const r2 = await second;
    expect(JSON.parse(r2.data as string)).toEqual({ op: 'same', n: 1 });
    // Scanned in registration order, stopping at the first match: r1 (no), r2 (yes); r3 not asked.
    expect(seen.map((s) => s.params)).toEqual([{ op: 'other' }, { op: 'same' }]);
    expect(seen[0]).toMatchObject({ data: 'r1', key: undefined });
    expect(typeof seen[0]!.id).toBe('number');
    expect(seen[1]!.id).toBeGreaterThan(seen[0]!.id);
    expect(typeof seen[0]!.sentAt).toBe('number');

    ws.send(JSON.stringify({ op: 'same', n: 2 }));
    expect(JSON.parse((await third).data as string)).toEqual({ op: 'same', n: 2 });
    ws.send(JSON.stringify({ op: 'other', n: 3 }));
    expect(JSON.parse((await first).data as string)).toEqual({ op: 'other', n: 3 });
    expect(await t.done()).toEqual({ resolved: 3, rejected: 0 });
  });

  it('out-of-order replies: the server answers in reverse order', async () => {
    const N = 20;
    const server = await startServer((_ws, _data, s) => {
      if (s.received.length < N) return;
      for (const r of [...s.received].reverse()) jsonEcho(r.ws, r.data, s, r.conn);
    });
    const c = client(keyed(server.url));
    await c.start();
    const t = tracker();
    const order: number[] = [];
    const promises = Array.from({ length: N }, (_, i) =>
      t.track(c.request(req(i, `op${i}`), { params: { id: i } })).then((m) => {
        order.push(i);
        return m;
      }),
    );
    const replies = await Promise.all(promises);
    replies.forEach((m, i) => {
      expect(m.prepared).toEqual({ id: i, reply: `op${i}` });
    });
    expect(order).toEqual(Array.from({ length: N }, (_, i) => N - 1 - i));
    await t.done();
  });

  it('a reply written synchronously by the server on message is matched', async () => {
    const server = await startServer(jsonEcho);
    const c = client(keyed(server.url));
    await c.start();
    const t = tracker();
    const replies = await Promise.all(
      [1, 2, 3].map((i) => t.track(c.request(req(i), { params: { id: i } }))),
    );
    expect(replies.map((m) => (m.prepared as { id: number }).id)).toEqual([1, 2, 3]);
    await t.done();
  });

  it('a reply delivered inside the write call (same tick) finds its entry: registered before the write', async () => {
    // A real ws connection whose send() delivers the reply to the client synchronously, before
    // returning: the strictest form of "the reply arrives in the same tick as the write".
    const server = await startServer();
    const ws = createWsAdapter();
    const box = inbox();
    const c = client(
      keyed(server.url, {
        hooks: { onMessage: box.onMessage },
        adapter: {
          name: 'same-tick',
          capabilities: ws.capabilities,
          connect(request, listener) {
            const conn = ws.connect(request, listener);
            return {
              send(data) {
                conn.send(data);
                const m = JSON.parse(data as string) as { id: unknown };
                listener.onMessage(JSON.stringify({ id: m.id, reply: 'sync' }), false);
              },
              close: (code, reason) => conn.close(code, reason),
              terminate: () => conn.terminate(),
              get bufferedAmount() {
                return conn.bufferedAmount;
              },
            };
          },
        },
      }),
    );
    await c.start();
    const t = tracker();
    const reply = await t.track(c.request(req(9), { params: { id: 9 } }));
    expect(reply.prepared).toEqual({ id: 9, reply: 'sync' });
    expect(box.messages).toHaveLength(0);
    expect(c.stats().pendingRequests).toBe(0);
    await t.done();
  });

  it('timeout: RequestTimeoutError, entry removed, the late reply reaches onMessage', async () => {
    const server = await startServer(); // never answers by itself
    const box = inbox();
    const c = client(keyed(server.url, { hooks: { onMessage: box.onMessage } }));
    await c.start();
    const t = tracker();
    const p = t.track(c.request(req(1), { params: { id: 1 }, timeoutMs: 30 }));
    expect(c.stats().pendingRequests).toBe(1);
    const error = await p.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(RequestTimeoutError);
    expect((error as WsmError).code).toBe(ErrorCodes.REQUEST_TIMEOUT);
    expect(c.stats().pendingRequests).toBe(0);

    const [got] = await server.waitForReceived(1);
    got!.ws.send(JSON.stringify({ id: 1, reply: 'late' }));
    const [late] = await box.waitFor(1);
    expect(late!.prepared).toEqual({ id: 1, reply: 'late' });
    await t.done();
  });

  it('timeouts fire in deadline order from the shared timer, whatever the registration order', async () => {
    const server = await startServer();
    const c = client(keyed(server.url));
    await c.start();
    const t = tracker();
    const order: number[] = [];
    const ps = [60, 15, 35].map((ms, i) =>
      t.track(c.request(req(i), { params: { id: i }, timeoutMs: ms })).catch((e: unknown) => {
        expect(e).toBeInstanceOf(RequestTimeoutError);
        order.push(ms);
      }),
    );
    // One without a deadline stays pending.
    const forever = t.track(c.request(req('f'), { params: { id: 'f' }, timeoutMs: 0 }));
    await Promise.all(ps);
    expect(order).toEqual([15, 35, 60]);
    expect(c.stats().pendingRequests).toBe(1);
    expect(c.cancel('f')).toBe(true);
    await expect(forever).rejects.toBeInstanceOf(RequestAbortedError);
    await t.done();
  });

  it('responses after a timeout are ignored: they settle nothing and are ordinary messages', async () => {
    const server = await startServer();
    const box = inbox();
    let callbacks = 0;
    const c = client({
      url: server.url,
      requests: { match: (_pending, res) => res.data === 'pong' },
      hooks: { onMessage: box.onMessage },
    });
    await c.start();
    const t = tracker();
    const p = t.track(c.request('ping', { timeoutMs: 20, callback: () => callbacks++ }));
    await expect(p).rejects.toBeInstanceOf(RequestTimeoutError);
    const [got] = await server.waitForReceived(1);
    got!.ws.send('pong');
    got!.ws.send('pong');
    const late = await box.waitFor(2);
    expect(late.map((m) => m.data)).toEqual(['pong', 'pong']);
    expect(callbacks).toBe(0);
    expect(c.stats().pendingRequests).toBe(0);
    expect(await t.done()).toEqual({ resolved: 0, rejected: 1 });
  });

  it('abort before the write: rejects RequestAbortedError and writes nothing', async () => {
    const server = await startServer();
    const c = client(keyed(server.url));
    await c.start();
    const t = tracker();
    const signal = AbortSignal.abort(new Error('changed my mind'));
    const error = await t.track(c.request(req(1), { params: { id: 1 }, signal })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RequestAbortedError);
    expect((error as WsmError).code).toBe(ErrorCodes.REQUEST_ABORTED);
    expect(c.stats().pendingRequests).toBe(0);
    // A sentinel on the same socket proves nothing was written before it.
    c.send('sentinel');
    const got = await server.waitForReceived(1);
    expect(got.map((r) => r.data)).toEqual(['sentinel']);
    await t.done();
  });

  it('abort after the write: rejects RequestAbortedError, removes the entry; the reply is ordinary', async () => {
    const server = await startServer();
    const box = inbox();
    const c = client(keyed(server.url, { hooks: { onMessage: box.onMessage } }));
    await c.start();
    const t = tracker();
    const ac = new AbortController();
    const p = t.track(c.request(req(1), { params: { id: 1 }, signal: ac.signal }));
    const [got] = await server.waitForReceived(1);
    expect(c.stats().pendingRequests).toBe(1);
    ac.abort();
    await expect(p).rejects.toBeInstanceOf(RequestAbortedError);
    expect(c.stats().pendingRequests).toBe(0);
    got!.ws.send(JSON.stringify({ id: 1, reply: 'after abort' }));
    const [m] = await box.waitFor(1);
    expect(m!.prepared).toEqual({ id: 1, reply: 'after abort' });
    await t.done();
  });

  it('cancel(promise) and cancel(key) remove the request; unknown or settled ones return false', async () => {
    const server = await startServer();
    const c = client(keyed(server.url));
    await c.start();
    const t = tracker();
    const byPromise = t.track(c.request(req(1), { params: { id: 1 } }));
    const byKey = t.track(c.request(req(2), { params: { id: 2 } }));
    await server.waitForReceived(2);
    expect(c.stats().pendingRequests).toBe(2);

    expect(c.cancel(byPromise)).toBe(true);
    await expect(byPromise).rejects.toBeInstanceOf(RequestAbortedError);
    expect(c.cancel(2)).toBe(true);
    await expect(byKey).rejects.toBeInstanceOf(RequestAbortedError);
    expect(c.stats().pendingRequests).toBe(0);

    expect(c.cancel(byPromise)).toBe(false); // already settled
    expect(c.cancel(2)).toBe(false);
    expect(c.cancel('nope')).toBe(false);
    expect(c.cancel(Promise.resolve(new Message('x', false, 1, 0)))).toBe(false);
    expect(await t.done()).toEqual({ resolved: 0, rejected: 2 });
  });

  it('a duplicate key rejects the new request at once with DuplicateKeyError; the first still resolves', async () => {
    const server = await startServer();
    const c = client(keyed(server.url));
    await c.start();
    const t = tracker();
    const first = t.track(c.request(req(7, 'first'), { params: { id: 7 } }));
    const dup = t.track(c.request(req(7, 'second'), { params: { id: 7 } }));
    // Rejected before the server has answered anything.
    const error = await dup.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DuplicateKeyError);
    expect((error as WsmError).code).toBe(ErrorCodes.DUPLICATE_KEY);
    expect((error as DuplicateKeyError).key).toBe(7);
    expect(c.stats().pendingRequests).toBe(1);
    // Only the first was written: a sentinel after it proves the duplicate never hit the wire.
    c.send('sentinel');
    const got = await server.waitForReceived(2);
    expect(got.map((r) => r.data)).toEqual([req(7, 'first'), 'sentinel']);
    got[0]!.ws.send(JSON.stringify({ id: 7, reply: 'first' }));
    expect((await first).prepared).toEqual({ id: 7, reply: 'first' });
    expect(await t.done()).toEqual({ resolved: 1, rejected: 1 });
  });

  it('matched responses skip onMessage; the message event fires for every message', async () => {
    const server = await startServer((ws, data) => {
      if (data === 'push') ws.send(JSON.stringify({ id: null, push: true }));
      else jsonEcho(ws, data, undefined as never, 0);
    });
    const box = inbox();
    const observed: Message[] = [];
    const c = client(keyed(server.url, { hooks: { onMessage: box.onMessage } }));
    c.on('message', (m) => observed.push(m));
    await c.start();
    const t = tracker();
    const r1 = await t.track(c.request(req(1), { params: { id: 1 } }));
    c.send('push');
    const r2 = await t.track(c.request(req(2), { params: { id: 2 } }));
    const [push] = await box.waitFor(1);
    expect(box.messages).toHaveLength(1);
    expect(push!.prepared).toEqual({ id: null, push: true });
    expect(observed).toEqual([r1, push, r2]);
    expect(c.stats().messagesIn).toBe(3);
    await t.done();
  });

  it("disconnect with onDisconnect 'reject': pending requests reject ConnectionClosedError", async () => {
    const server = await startServer((ws, _data, s) => {
      if (s.received.length === 3) ws.terminate();
    });
    const c = client(keyed(server.url, { reconnect: { baseDelayMs: 0, maxDelayMs: 0 } }));
    await c.start();
    const t = tracker();
    const reopened = new Promise<void>((resolve) => {
      c.on('open', ({ restarting }) => restarting && resolve());
    });
    const ps = [1, 2, 3].map((i) => t.track(c.request(req(i), { params: { id: i } })));
    for (const p of ps) {
      const e = await p.catch((err: unknown) => err);
      expect(e).toBeInstanceOf(ConnectionClosedError);
      expect((e as WsmError).code).toBe(ErrorCodes.CONNECTION_CLOSED);
    }
    expect(c.stats().pendingRequests).toBe(0);
    // Nothing is re-sent on the next session.
    await reopened;
    c.send('sentinel');
    await server.waitForReceived(4);
    expect(server.received.map((r) => [r.conn, r.data])).toEqual([
      [1, req(1)],
      [1, req(2)],
      [1, req(3)],
      [2, 'sentinel'],
    ]);
    expect(await t.done()).toEqual({ resolved: 0, rejected: 3 });
  });

  it("disconnect with onDisconnect 'resend': re-sent once, in order, after onOpen's auth; then answered", async () => {
    const server = await startServer((ws, data, s, conn) => {
      if (conn === 1 && s.received.length === 3) ws.terminate();
      if (conn === 2 && data.startsWith('{')) jsonEcho(ws, data, s, conn);
    });
    const c = client(
      keyed(server.url, {
        reconnect: { baseDelayMs: 0, maxDelayMs: 0 },
        requests: {
          onDisconnect: 'resend',
          key: {
            request: (_d, p) => (p as { id: number }).id,
            response: (m) => (m.prepared as { id: number }).id,
          },
        },
        prepare: (m) => JSON.parse(m.data as string),
        hooks: { onOpen: (session) => void session.send(`auth:${session.id}`) },
      }),
    );
    await c.start();
    await server.waitForReceived(1);
    const t = tracker();
    const ps = [1, 2, 3].map((i) => t.track(c.request(req(i), { params: { id: i } })));
    const replies = await Promise.all(ps);
    expect(replies.map((m) => (m.prepared as { id: number }).id)).toEqual([1, 2, 3]);
    const log = server.received.map((r) => [r.conn, r.data.startsWith('auth') ? 'auth' : r.data]);
    expect(log).toEqual([
      [1, 'auth'],
      [1, req(1)],
      [1, req(2)],
      [1, req(3)],
      [2, 'auth'],
      [2, req(1)],
      [2, req(2)],
      [2, req(3)],
    ]);
    expect(await t.done()).toEqual({ resolved: 3, rejected: 0 });
  });

  it("'resend' re-sends exactly once: when the second session also drops they reject ConnectionClosedError", async () => {
    const server = await startServer((ws, data, s, conn) => {
      // Session 1: drop once the three requests arrived. Session 2: drop once the re-sent ones arrived.
      const here = s.received.filter((r) => r.conn === conn && r.data.startsWith('{')).length;
      if ((conn === 1 || conn === 2) && here === 3 && data.startsWith('{')) ws.terminate();
    });
    const opens: number[] = [];
    const c = client(
      keyed(server.url, {
        reconnect: { baseDelayMs: 0, maxDelayMs: 0 },
        requests: {
          onDisconnect: 'resend',
          key: {
            request: (_d, p) => (p as { id: number }).id,
            response: (m) => (m.prepared as { id: number }).id,
          },
        },
        hooks: { onOpen: (session) => void session.send(`auth:${session.id}`) },
      }),
    );
    const thirdOpen = new Promise<void>((resolve) => {
      c.on('open', ({ sessionId }) => {
        opens.push(sessionId);
        if (opens.length === 3) resolve();
      });
    });
    await c.start();
    const t = tracker();
    const ps = [1, 2, 3].map((i) => t.track(c.request(req(i), { params: { id: i } })));
    for (const p of ps) {
      const e = await p.catch((err: unknown) => err);
      expect(e).toBeInstanceOf(ConnectionClosedError);
      expect((e as WsmError).code).toBe(ErrorCodes.CONNECTION_CLOSED);
    }
    expect(c.stats().pendingRequests).toBe(0);
    await thirdOpen;
    c.send('sentinel');
    await server.waitForReceived(10);
    const log = server.received.map((r) => [r.conn, r.data.startsWith('auth') ? 'auth' : r.data]);
    expect(log).toEqual([
      [1, 'auth'],
      [1, req(1)],
      [1, req(2)],
      [1, req(3)],
      [2, 'auth'],
      [2, req(1)],
      [2, req(2)],
      [2, req(3)],
      [3, 'auth'],
      [3, 'sentinel'],
    ]);
    expect(await t.done()).toEqual({ resolved: 0, rejected: 3 });
  });

  it.each(['reject', 'resend'] as const)(
    "stop() with pending requests rejects them all with ClientStoppedError (onDisconnect '%s')",
    async (onDisconnect) => {
      const server = await startServer();
      const base = keyed(server.url);
      const c = client({ ...base, requests: { ...base.requests, onDisconnect } });
      await c.start();
      const t = tracker();
      const ps = [1, 2, 3].map((i) => t.track(c.request(req(i), { params: { id: i } })));
      await server.waitForReceived(3);
      await c.stop();
      for (const p of ps) {
        const e = await p.catch((err: unknown) => err);
        expect(e).toBeInstanceOf(ClientStoppedError);
        expect((e as WsmError).code).toBe(ErrorCodes.CLIENT_STOPPED);
      }
      expect(c.stats().pendingRequests).toBe(0);
      expect(await t.done()).toEqual({ resolved: 0, rejected: 3 });
    },
  );

  it('stop() with requests still queued (never written) rejects them with ClientStoppedError', async () => {
    const c = client(keyed('ws://127.0.0.1:1'));
    const t = tracker();
    const p = t.track(c.request(req(1), { params: { id: 1 } }));
    expect(c.stats().queuedSends).toBe(1);
    await c.stop();
    await expect(p).rejects.toBeInstanceOf(ClientStoppedError);
    expect(c.stats()).toMatchObject({ pendingRequests: 0, queuedSends: 0 });
    await t.done();
  });

  it('requests made while not open go through the send buffer and count against its bounds', async () => {
    const server = await startServer(jsonEcho);
    const c = client(keyed(server.url, { sendBuffer: { maxMessages: 2 } }));
    const t = tracker();
    const a = t.track(c.request(req(1), { params: { id: 1 } }));
    c.send(req('plain'));
    const full = t.track(c.request(req(2), { params: { id: 2 } }));
    const error = await full.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SendBufferFullError);
    expect((error as WsmError).code).toBe(ErrorCodes.SEND_BUFFER_FULL);
    expect(c.stats()).toMatchObject({ pendingRequests: 1, queuedSends: 2 });

    await c.start();
    expect((await a).prepared).toEqual({ id: 1, reply: 'get' });
    const got = await server.waitForReceived(2);
    expect(got.map((r) => r.data)).toEqual([req(1), req('plain')]);
    expect(c.stats()).toMatchObject({ pendingRequests: 0, queuedSends: 0 });
    expect(await t.done()).toEqual({ resolved: 1, rejected: 1 });
  });

  it('a queued request that times out, is aborted or cancelled before open is never written', async () => {
    const server = await startServer(jsonEcho);
    const c = client(keyed(server.url));
    const t = tracker();
    const ac = new AbortController();
    const timedOut = t.track(c.request(req(1), { params: { id: 1 }, timeoutMs: 10 }));
    const aborted = t.track(c.request(req(2), { params: { id: 2 }, signal: ac.signal }));
    const cancelled = t.track(c.request(req(3), { params: { id: 3 } }));
    const kept = t.track(c.request(req(4), { params: { id: 4 } }));
    expect(c.stats().queuedSends).toBe(4);
    await expect(timedOut).rejects.toBeInstanceOf(RequestTimeoutError);
    ac.abort();
    await expect(aborted).rejects.toBeInstanceOf(RequestAbortedError);
    expect(c.cancel(cancelled)).toBe(true);
    await expect(cancelled).rejects.toBeInstanceOf(RequestAbortedError);
    expect(c.stats().pendingRequests).toBe(1);
    await c.start();
    expect((await kept).prepared).toEqual({ id: 4, reply: 'get' });
    expect(server.received.map((r) => r.data)).toEqual([req(4)]);
    expect(await t.done()).toEqual({ resolved: 1, rejected: 3 });
  });

  it('a throwing prepare reports an error event and the message still reaches onMessage unprepared', async () => {
    const server = await startServer((ws, data) => {
      if (data === 'trigger') ws.send('not json');
    });
    const box = inbox();
    const errors: WsmError[] = [];
    const c = client(keyed(server.url, { hooks: { onMessage: box.onMessage } }));
    c.on('error', (e) => errors.push(e));
    await c.start();
    c.send('trigger');
    const [m] = await box.waitFor(1);
    expect(m!.data).toBe('not json');
    expect(m!.prepared).toBeUndefined();
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(HookError);
    expect((errors[0] as HookError).hook).toBe('prepare');
    expect(errors[0]!.cause).toBeInstanceOf(SyntaxError);
    // The raw message is attached to the error.
    expect(Object.values(errors[0]!).some((v) => v === m)).toBe(true);
  });

  it('10,000 concurrent requests all settle, each with its own reply', async () => {
    const server = await startServer(jsonEcho);
    const c = client(keyed(server.url));
    await c.start();
    const t = tracker();
    const N = 10_000;
    const ids = Array.from({ length: N }, (_, i) => `r${i}`);
    const ps = ids.map((id) => t.track(c.request(req(id, `op-${id}`), { params: { id } })));
    expect(c.stats().pendingRequests).toBe(N);
    const replies = await Promise.all(ps);
    const seen = new Set<unknown>();
    replies.forEach((m, i) => {
      const body = parsed(m);
      expect(body.id).toBe(ids[i]);
      expect(body.reply).toBe(`op-${ids[i]}`);
      seen.add(body.id);
    });
    expect(seen.size).toBe(N);
    expect(server.received).toHaveLength(N);
    expect(c.stats().pendingRequests).toBe(0);
    expect(await t.done()).toEqual({ resolved: N, rejected: 0 });
  });

  it('request() without requests.key or requests.match rejects a clear InvalidStateError', async () => {
    const server = await startServer();
    const c = client({ url: server.url });
    await c.start();
    const t = tracker();
    const e = await t.track(c.request('x')).catch((err: unknown) => err);
    expect(e).toBeInstanceOf(InvalidStateError);
    expect((e as WsmError).code).toBe(ErrorCodes.INVALID_STATE);
    expect((e as Error).message).toMatch(/requests\.key/);
    expect((e as Error).message).toMatch(/requests\.match/);
    c.send('sentinel');
    expect((await server.waitForReceived(1)).map((r) => r.data)).toEqual(['sentinel']);
    await t.done();
  });

  it('session.request inside onOpen: an auth round trip completes before open', async () => {
    const server = await startServer(jsonEcho);
    const order: string[] = [];
    const authed = deferred<Message>();
    const c = client(
      keyed(server.url, {
        hooks: {
          onOpen: async (session) => {
            order.push('onOpen');
            const reply = await session.request(req('auth', 'login'), { params: { id: 'auth' } });
            order.push(`auth:${(reply.prepared as { reply: string }).reply}`);
            authed.resolve(reply);
          },
        },
      }),
    );
    c.on('open', () => order.push('open'));
    await c.start();
    expect(order).toEqual(['onOpen', 'auth:login', 'open']);
    expect((await authed.promise).prepared).toEqual({ id: 'auth', reply: 'login' });
    expect(server.received.map((r) => r.data)).toEqual([req('auth', 'login')]);
  });
});

describe('Correlator memory under sustained load', () => {
  it('answered requests do not pile up in the deadline heap until their deadline', () => {
    const clock = {
      now: () => 0,
      setTimeout: (): unknown => 1,
      clearTimeout: () => {},
    };
    const c = new Correlator(clock, {
      keyOfResponse: (m) => m.prepared,
      match: undefined,
      onMatcherError: (e) => {
        throw e;
      },
    });
    const register = (key: number) =>
      c.register({
        data: 'x',
        params: undefined,
        key,
        timeoutMs: 30_000,
        boundSession: 0,
        signal: undefined,
        callback: undefined,
        resolve: () => {},
        reject: () => {},
      });
    const PENDING = 100;
    for (let k = 0; k < PENDING; k++) register(k);
    const m = new Message('', false, 1, 0);
    let matched = 0;
    for (let k = 0; k < 20_000; k++) {
      m.prepared = k;
      if (c.take(m)?.key === k) matched++;
      register(k + PENDING);
    }
    expect(matched).toBe(20_000);
    expect(c.size).toBe(PENDING);
    // Lazy deletion is fine, unbounded retention is not: at most ~2x pending (+ slack) stay referenced.
    expect((c as unknown as { heap: { size: number } }).heap.size).toBeLessThanOrEqual(2 * PENDING + 33);
    c.dispose();
  });
});
