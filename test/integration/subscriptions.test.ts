/**
 * `client.subscribe()` against the demo server (`startDemoServer`, 127.0.0.1 port 0) and its
 * `heartbeat` topic: re-subscribing after a restart (1012) and after a crash (kill), a subscribe the
 * server refuses (retried at the reopen, or after the subscription's own backoff), a subscribe that
 * never settles, an unsubscribe during a reconnect, 1,000 subscriptions restored in creation order and
 * pipelined, the order onOpen -> subscriptions -> queued sends as the server sees it, routing (match,
 * shared key functions, after unsubscribe), messages() ending, and the actors in inspection.
 *
 * No sleeps: every wait is on an event (client, subscription or server), bounded by a guard.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  HookError,
  InvalidOptionsError,
  type Message,
  type SubscribeContext,
  type Subscription,
  SubscriptionError,
  type SubscriptionOptions,
  type SubscriptionState,
  type WsClient,
  type WsmError,
  createClient,
  isErrorCode,
} from '../../src/node.js';
import type { ClientOptions } from '../../src/node.js';
import { type DemoServer, startDemoServer } from '../../src/server.js';
import { cleanup, track, waitFor, waitForEvent } from '../helpers/servers.js';

const GUARD_MS = 5_000;
const servers: DemoServer[] = [];

afterEach(async () => {
  await cleanup();
  await Promise.allSettled(servers.splice(0).map((s) => s.kill()));
});

async function demo(): Promise<DemoServer> {
  const s = await startDemoServer({ port: 0, heartbeatIntervalMs: 15, closeTimeoutMs: 200 });
  servers.push(s);
  return s;
}

type Reply = {
  type?: string;
  reqId?: string;
  status?: string;
  error?: { code: string };
  data?: any;
  seq?: number;
  topic?: string;
};
const json = (m: Message) => m.json<Reply>();

let nextId = 0;
const reqId = () => `q${++nextId}`;

function client(server: DemoServer, options: Partial<ClientOptions> = {}): WsClient {
  return track(
    createClient({
      url: server.url,
      reconnect: { baseDelayMs: 0, maxDelayMs: 0 },
      heartbeat: false,
      requests: {
        timeoutMs: 2_000,
        key: { request: (_data, id: string) => id, response: (m) => json(m).reqId },
      },
      ...options,
    }),
  );
}

/** A request on the demo protocol; the reply's status must be OK (else it throws the error code). */
async function ask(target: { request: WsClient['request'] }, body: object): Promise<Reply> {
  const id = reqId();
  const reply = json(await target.request(JSON.stringify({ ...body, reqId: id }), { params: id }));
  if (reply.status !== 'OK') throw new Error(reply.error?.code ?? 'refused');
  return reply;
}

/** The heartbeat subscription of the demo protocol, recording what each subscribe was called with. */
function heartbeat(c: WsClient, extra: Partial<SubscriptionOptions> = {}, topic = { value: 'heartbeat' }) {
  const calls: Array<Omit<SubscribeContext, 'signal'> & { sessionId: number }> = [];
  const sub = c.subscribe({
    name: 'heartbeat',
    subscribe: async (session, { resubscribing, lastMessage, attempt }) => {
      calls.push({ resubscribing, lastMessage, attempt, sessionId: session.id });
      await ask(session, { type: 'subscribe_request', topic: topic.value });
    },
    unsubscribe: (session) => ask(session, { type: 'unsubscribe_request', topic: 'heartbeat' }),
    match: (m) => json(m).type === 'heartbeat',
    ...extra,
  });
  return { sub, calls };
}

/** Resolves when `sub` is in `state` (at once if it is). */
function until(sub: Subscription, state: SubscriptionState, label = state): Promise<void> {
  if (sub.state === state) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`timed out waiting for ${sub.name} to be ${label} (it is ${sub.state})`));
    }, GUARD_MS);
    const off = sub.on('state', ({ to }) => {
      if (to !== state) return;
      off();
      clearTimeout(timer);
      resolve();
    });
  });
}

/** Resolves with the next message routed to `sub` that satisfies `predicate`. */
function nextMessage(sub: Subscription, predicate: (m: Message) => boolean = () => true): Promise<Message> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`timed out waiting for a message of ${sub.name}`));
    }, GUARD_MS);
    const off = sub.on('message', (m) => {
      if (!predicate(m)) return;
      off();
      clearTimeout(timer);
      resolve(m);
    });
  });
}

function states(sub: Subscription): SubscriptionState[] {
  const seen: SubscriptionState[] = [sub.state];
  sub.on('state', ({ to }) => seen.push(to));
  return seen;
}

// ------------------------------------------------------------------------------------------------

describe('re-subscribing after the server restarts', () => {
  it.each([
    ['with 1012 (Service Restart)', { kill: false }],
    ['after a crash (kill: 1006, then connection refused)', { kill: true }],
  ])(
    '%s: resubscribing, then subscribed again with resubscribing: true and the last message; heartbeats flow again',
    async (_name, how) => {
      const server = await demo();
      const handled: Message[] = [];
      const seen: Message[] = [];
      const c = client(server, { hooks: { onMessage: (m) => void handled.push(m) } });
      c.on('message', (m) => seen.push(m));
      const { sub, calls } = heartbeat(c);
      const path = states(sub);
      await c.start();
      await until(sub, 'subscribed');
      const before = await nextMessage(sub, (m) => json(m).seq! >= 2);
      const firstSession = c.sessionId;

      await server.restart(how);
      const again = await nextMessage(sub, (m) => m.sessionId !== firstSession);
      expect(json(again).seq).toBe(1); // a new publisher: the server forgot the old subscription
      expect(path).toEqual(['subscribing', 'subscribed', 'resubscribing', 'subscribed']);
      expect(calls).toHaveLength(2);
      expect(calls[0]).toMatchObject({
        resubscribing: false,
        lastMessage: undefined,
        attempt: 1,
        sessionId: firstSession,
      });
      expect(calls[1]!.resubscribing).toBe(true);
      expect(calls[1]!.sessionId).toBe(c.sessionId);
      // The last heartbeat of the first session, for resuming.
      expect(calls[1]!.lastMessage!.sessionId).toBe(firstSession);
      expect(json(calls[1]!.lastMessage!).seq).toBeGreaterThanOrEqual(json(before).seq!);
      expect(sub.lastMessage).toBe(again);
      // Claimed: not handed to onMessage; still seen by the `message` event.
      expect(handled.filter((m) => json(m).type === 'heartbeat')).toEqual([]);
      expect(seen).toContain(again);
    },
  );
});

describe('a subscribe that fails', () => {
  it('refused by the server: failed with WSM_ERR_SUBSCRIPTION (cause kept), the session and the others go on; retried at the next reopen', async () => {
    const server = await demo();
    const c = client(server);
    const clientErrors: WsmError[] = [];
    c.on('error', (e) => clientErrors.push(e));
    const topic = { value: 'nope' };
    const { sub, calls } = heartbeat(c, {}, topic);
    const other = c.subscribe({
      name: 'other',
      subscribe: (s) => ask(s, { type: 'echo_request', data: 'other' }),
    });
    const errors: SubscriptionError[] = [];
    sub.on('error', (e) => errors.push(e));
    await c.start();
    await until(sub, 'failed');
    await until(other, 'subscribed');
    expect(errors).toHaveLength(1);
    const error = errors[0]!;
    expect(error).toBeInstanceOf(SubscriptionError);
    expect(isErrorCode(error, 'WSM_ERR_SUBSCRIPTION')).toBe(true);
    expect(error.subscription).toBe('heartbeat');
    expect((error.cause as Error).message).toBe('TOPIC_NOT_FOUND');
    expect(clientErrors).toContain(error);
    expect(sub.actor!.getSnapshot().context.lastError).toMatchObject({ phase: 'subscribe', attempt: 1 });
    // The session is fine: a request goes through.
    expect((await ask(c, { type: 'echo_request', data: 1 })).data).toBe(1);
    expect(c.state).toBe('open');

    topic.value = 'heartbeat';
    await server.restart();
    await until(sub, 'subscribed');
    await nextMessage(sub);
    expect(calls.map((x) => x.resubscribing)).toEqual([false, false]);
  });

  it('with retry: retried after its own backoff on the same session, no reopen needed', async () => {
    const server = await demo();
    const c = client(server);
    c.on('error', () => {});
    const topic = { value: 'nope' };
    const { sub, calls } = heartbeat(c, { retry: { baseDelayMs: 5, maxAttempts: 3 } }, topic);
    sub.on('error', () => {
      topic.value = 'heartbeat'; // the server will accept the next attempt
    });
    const path = states(sub);
    await c.start();
    await until(sub, 'subscribed');
    expect(path).toEqual(['subscribing', 'failed', 'subscribing', 'subscribed']);
    expect(calls.map((x) => [x.attempt, x.sessionId])).toEqual([
      [1, c.sessionId],
      [2, c.sessionId],
    ]);
    expect(c.stats().sessions).toBe(1);
    await nextMessage(sub);
  });

  it('one that never settles fails at its timeoutMs with a RequestTimeoutError cause; nothing waits for it', async () => {
    const server = await demo();
    const c = client(server);
    c.on('error', () => {});
    const stuck = c.subscribe({
      name: 'stuck',
      timeoutMs: 50,
      subscribe: (_s, { signal }) =>
        new Promise((_r, reject) => signal.addEventListener('abort', () => reject(signal.reason))),
    });
    const { sub } = heartbeat(c);
    const failed = new Promise<SubscriptionError>((resolve) => stuck.on('error', resolve));
    c.send(JSON.stringify({ type: 'echo_request', data: 'queued' }));
    const echoed = waitForEvent(c, 'message', (m) => json(m).data === 'queued');
    await c.start();
    await until(sub, 'subscribed');
    await echoed; // the queued send went out without waiting for the stuck subscribe
    expect(stuck.state).toBe('subscribing');
    const error = await failed;
    expect(stuck.state).toBe('failed');
    expect(isErrorCode(error.cause, 'WSM_ERR_REQUEST_TIMEOUT')).toBe(true);
  });
});

describe('unsubscribing', () => {
  it('during a reconnect: no unsubscribe is sent, no resubscribe follows, it is unsubscribed', async () => {
    const server = await demo();
    const c = client(server, { reconnect: { baseDelayMs: 10, maxDelayMs: 10 } });
    const { sub, calls } = heartbeat(c);
    await c.start();
    await until(sub, 'subscribed');
    const reconnecting = waitForEvent(c, 'reconnecting');
    await server.kill();
    await reconnecting;
    await until(sub, 'resubscribing');
    await sub.unsubscribe();
    expect(sub.state).toBe('unsubscribed');
    const received: string[] = [];
    server.on('message', (e) => received.push(String(e.data)));
    const open = waitForEvent(c, 'open');
    await server.restart();
    await open;
    // Whatever the client would write at the open went out before this request.
    await ask(c, { type: 'echo_request', data: 'after' });
    expect(received.filter((d) => d.includes('subscribe_request'))).toEqual([]);
    expect(calls).toHaveLength(1);
    expect(c.actor.getSnapshot().children['subscription:heartbeat']).toBeUndefined();
  });

  it('while open: the unsubscribe goes out; the name is free; later matching messages take the ordinary path', async () => {
    const server = await demo();
    const handled: Message[] = [];
    const c = client(server, { hooks: { onMessage: (m) => void handled.push(m) } });
    const { sub } = heartbeat(c);
    await c.start();
    await nextMessage(sub);
    const unsubscribed = new Promise<void>((resolve) =>
      server.on('message', (e) => String(e.data).includes('unsubscribe_request') && resolve()),
    );
    await sub.unsubscribe();
    await unsubscribed;
    expect(sub.state).toBe('unsubscribed');
    // Same name again, with no unsubscribe and a match nobody claims: the heartbeats now reach onMessage.
    const again = heartbeat(c).sub;
    expect(again.actor).toBe(c.actor.getSnapshot().children['subscription:heartbeat']);
    const plain = c.subscribe({
      name: 'plain',
      subscribe: (s) => ask(s, { type: 'echo_request', data: 'x' }),
    });
    await until(plain, 'subscribed');
    expect(plain.actor).toBe(c.actor.getSnapshot().children['subscription:plain']);
  });

  it('after unsubscribe, messages it matched go to onMessage (nothing lost silently)', async () => {
    const server = await demo();
    const handled: Message[] = [];
    const c = client(server, { hooks: { onMessage: (m) => void handled.push(m) } });
    // No unsubscribe function: the server keeps publishing after the subscription ends.
    const sub = c.subscribe({
      name: 'heartbeat',
      subscribe: (session) => ask(session, { type: 'subscribe_request', topic: 'heartbeat' }),
      match: (m) => json(m).type === 'heartbeat',
    });
    await c.start();
    await nextMessage(sub);
    expect(handled.some((m) => json(m).type === 'heartbeat')).toBe(false);
    await sub.unsubscribe();
    await waitFor(c, () => handled.some((m) => json(m).type === 'heartbeat'), 'a heartbeat in onMessage');
  });

  it('a second subscribe() with a live name throws InvalidOptionsError and changes nothing', async () => {
    const server = await demo();
    const c = client(server);
    const { sub } = heartbeat(c);
    const error = (() => {
      try {
        heartbeat(c);
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(InvalidOptionsError);
    expect((error as Error).message).toContain('subscribe.name');
    await Promise.resolve(); // the connection is told at the end of this synchronous run
    expect(c.actor.getSnapshot().context.subscriptions).toEqual(['subscription:heartbeat']);
    expect(() => c.subscribe({ name: '', subscribe: () => {} })).toThrow(InvalidOptionsError);
    expect(() => c.subscribe({ name: 'x', subscribe: 'no' } as never)).toThrow(/subscribe\.subscribe/);
    expect(() => c.subscribe({ name: 'x', subscribe: () => {}, retry: { baseDelay: 5 } } as never)).toThrow(
      /subscribe\.retry\.baseDelay/,
    );
    await c.start();
    await until(sub, 'subscribed');
  });
});

describe('order and pipelining', () => {
  it('the server sees onOpen, then the subscriptions in creation order, then the queued sends', async () => {
    const server = await demo();
    const c = client(server, {
      hooks: {
        onOpen: (session) => void session.send(JSON.stringify({ type: 'echo_request', data: 'auth' })),
      },
    });
    const subs = ['gamma', 'alpha', 'beta'].map((name) =>
      c.subscribe({ name, subscribe: (s) => ask(s, { type: 'echo_request', data: `sub ${name}` }) }),
    );
    c.send(JSON.stringify({ type: 'echo_request', data: 'queued' }));
    const order: string[] = [];
    server.on('message', (e) => order.push(JSON.parse(String(e.data)).data));
    await c.start();
    await Promise.all(subs.map((s) => until(s, 'subscribed')));
    await waitFor(c, () => order.includes('queued'), 'the queued send');
    expect(order).toEqual(['auth', 'sub gamma', 'sub alpha', 'sub beta', 'queued']);

    // The same after a reopen, with a send queued while reconnecting.
    order.length = 0;
    const reconnecting = waitForEvent(c, 'reconnecting');
    await server.kill();
    await reconnecting;
    c.send(JSON.stringify({ type: 'echo_request', data: 'queued again' }));
    await server.restart();
    await Promise.all(subs.map((s) => until(s, 'subscribed')));
    await waitFor(c, () => order.includes('queued again'), 'the queued send');
    expect(order).toEqual(['auth', 'sub gamma', 'sub alpha', 'sub beta', 'queued again']);
  });

  it('1,000 subscriptions are restored after a reopen in creation order, pipelined: every request out before the first reply', async () => {
    const server = await demo();
    const c = client(server, {
      requests: {
        timeoutMs: 10_000,
        key: { request: (_d, id: string) => id, response: (m) => json(m).reqId },
      },
    });
    const N = 1_000;
    let called = 0;
    let calledAtFirstReply: number | undefined;
    const names = Array.from({ length: N }, (_, i) => `s${String(i).padStart(4, '0')}`);
    const subs = names.map((name) =>
      c.subscribe({
        name,
        subscribe: (s) => {
          called++;
          return ask(s, { type: 'echo_request', data: name });
        },
      }),
    );
    await c.start();
    await Promise.all(subs.map((s) => until(s, 'subscribed')));

    const order: string[] = [];
    server.on('message', (e) => order.push(JSON.parse(String(e.data)).data));
    called = 0;
    const firstSession = c.sessionId;
    c.on('message', (m) => {
      if (m.sessionId !== firstSession && calledAtFirstReply === undefined) calledAtFirstReply = called;
    });
    await server.restart();
    await Promise.all(subs.map((s) => until(s, 'subscribed')));
    expect(order).toEqual(names);
    // Pipelined: all 1,000 subscribes had run (and written) before any reply arrived.
    expect(calledAtFirstReply).toBe(N);
    expect(c.stats().pendingRequests).toBe(0);
  });
});

describe('routing', () => {
  it('subscriptions sharing one key function: one key call per message; unclaimed keys take the ordinary path', async () => {
    const server = await demo();
    const handled: string[] = [];
    const c = client(server, {
      hooks: { onMessage: (m) => void handled.push(json(m).data?.channel ?? json(m).type) },
    });
    let keyCalls = 0;
    const channelOf = (m: Message) => {
      keyCalls++;
      return json(m).data?.channel as string | undefined;
    };
    const alpha = c.subscribe({ name: 'alpha', key: channelOf, subscribe: () => {} });
    const beta = c.subscribe({ name: 'beta', key: channelOf, subscribe: () => {} });
    const got: Record<string, string[]> = { alpha: [], beta: [] };
    alpha.on('message', (m) => got.alpha!.push(json(m).data.n));
    beta.on('message', (m) => got.beta!.push(json(m).data.n));
    await c.start();
    const sends = [
      { channel: 'alpha', n: 'a1' },
      { channel: 'beta', n: 'b1' },
      { channel: 'gamma', n: 'g1' },
      { channel: 'alpha', n: 'a2' },
    ];
    keyCalls = 0;
    for (const data of sends) c.send(JSON.stringify({ type: 'echo_request', data }));
    await waitFor(c, () => c.stats().messagesIn >= 4, 'four echoes');
    expect(got).toEqual({ alpha: ['a1', 'a2'], beta: ['b1'] });
    expect(handled).toEqual(['gamma']);
    expect(keyCalls).toBe(4);
  });

  it('a throwing match or key is reported (WSM_ERR_HOOK) and the message goes on to onMessage', async () => {
    const server = await demo();
    const handled: Message[] = [];
    const errors: WsmError[] = [];
    let bothHandled!: () => void;
    const both = new Promise<void>((resolve) => {
      bothHandled = resolve;
    });
    const c = client(server, {
      hooks: {
        onMessage: (m) => {
          if (handled.push(m) === 2) bothHandled();
        },
      },
    });
    c.on('error', (e) => errors.push(e));
    c.subscribe({
      name: 'bad-match',
      subscribe: () => {},
      match: () => {
        throw new Error('match broke');
      },
    });
    c.subscribe({
      name: 'bad-key',
      subscribe: () => {},
      key: () => {
        throw new Error('key broke');
      },
    });
    c.subscribe({ name: 'async', subscribe: () => {}, match: (async () => true) as never });
    await c.start();
    c.send(JSON.stringify({ type: 'echo_request', data: 1 }));
    c.send(JSON.stringify({ type: 'echo_request', data: 2 }));
    await both;
    expect(handled.map((m) => json(m).data)).toEqual([1, 2]);
    const hooks = errors.filter((e): e is HookError => e instanceof HookError).map((e) => e.hook);
    expect(hooks).toContain('subscription "bad-match" match');
    expect(hooks).toContain('subscription key');
    expect(hooks).toContain('subscription "async" match');
  });

  it('a throwing subscribe is WSM_ERR_SUBSCRIPTION; it never breaks the session', async () => {
    const server = await demo();
    const c = client(server);
    const errors: WsmError[] = [];
    c.on('error', (e) => errors.push(e));
    const sub = c.subscribe({
      name: 'throws',
      subscribe: () => {
        throw new Error('sync throw');
      },
    });
    await c.start();
    await until(sub, 'failed');
    expect(errors.map((e) => e.code)).toEqual(['WSM_ERR_SUBSCRIPTION']);
    expect(((errors[0] as SubscriptionError).cause as Error).message).toBe('sync throw');
    expect(c.state).toBe('open');
  });
});

describe('messages() and the actors', () => {
  it('messages() yields what the subscription claims and ends when it is unsubscribed, and when the client stops', async () => {
    const server = await demo();
    const c = client(server);
    const { sub } = heartbeat(c);
    await c.start();
    const read = async (s: Subscription, stopAfter: number, stop: () => Promise<void>) => {
      const seqs: number[] = [];
      for await (const m of s.messages()) {
        seqs.push(json(m).seq!);
        if (seqs.length === stopAfter) void stop();
      }
      return seqs;
    };
    const seqs = await read(sub, 2, () => sub.unsubscribe());
    expect(seqs.length).toBeGreaterThanOrEqual(2);

    const second = heartbeat(c).sub;
    const more = await read(second, 1, () => c.stop());
    expect(more.length).toBeGreaterThanOrEqual(1);
    expect(second.state).toBe('unsubscribed');
    // Ended subscriptions hand out ended iterators.
    expect(await second.messages().next()).toEqual({ value: undefined, done: true });
  });

  it('stop() ends every subscription: one made before start() and one made after a stop, their iterators end', async () => {
    const server = await demo();
    const c = client(server);
    const early = heartbeat(c).sub;
    const reading = early.messages()[Symbol.asyncIterator]().next();
    await c.stop(); // never started
    expect(early.state).toBe('unsubscribed');
    expect(await reading).toEqual({ value: undefined, done: true });

    await c.start();
    await c.stop();
    const late = heartbeat(c).sub; // made while stopped: it waits for an open
    expect(late.state).toBe('subscribing');
    await c.stop(); // a second stop ends it too
    expect(late.state).toBe('unsubscribed');
    expect(server.stats().accepted).toBe(1);
  });

  it('a subscription the user stops goes subscribed -> unsubscribed, never through resubscribing', async () => {
    const server = await demo();
    const c = client(server);
    const { sub } = heartbeat(c);
    const path = states(sub);
    await c.start();
    await until(sub, 'subscribed');
    await c.stop();
    expect(path).toEqual(['subscribing', 'subscribed', 'unsubscribed']);
  });

  it('each subscription is a child actor of the connection, visible in inspection with its states', async () => {
    const server = await demo();
    const seen: Array<{ id: string; kind: string | undefined; value?: unknown }> = [];
    const c = client(server, {
      inspect: (event: any) => {
        if (!String(event.actorRef?.id).startsWith('subscription:')) return;
        if (event.type === '@xstate.actor') seen.push({ id: event.actorRef.id, kind: 'created' });
        if (event.type === '@xstate.snapshot')
          seen.push({ id: event.actorRef.id, kind: undefined, value: event.snapshot.value });
      },
    });
    const { sub } = heartbeat(c);
    expect(sub.actor).toBe(c.actor.getSnapshot().children['subscription:heartbeat']);
    expect(c.actor.system.get('subscription:heartbeat')).toBe(sub.actor);
    await c.start();
    await until(sub, 'subscribed');
    // Its creation is inspected (the child relation is the public snapshot's `children`, above).
    expect(seen[0]).toEqual({ id: 'subscription:heartbeat', kind: 'created' });
    const values = seen.filter((s) => s.value !== undefined).map((s) => JSON.stringify(s.value));
    expect(values).toContain(JSON.stringify({ subscribing: 'running' }));
    expect(values).toContain(JSON.stringify('subscribed'));
  });

  it('a subscription made inside a client listener gets its actor once that step is over', async () => {
    const server = await demo();
    const c = client(server);
    let sub: Subscription | undefined;
    let actorInListener: unknown = 'unset';
    c.once('open', () => {
      sub = heartbeat(c).sub;
      actorInListener = sub.actor;
    });
    await c.start();
    expect(actorInListener).toBeUndefined();
    expect(sub!.actor).toBeDefined();
    await until(sub!, 'subscribed');
    await nextMessage(sub!);
  });
});
