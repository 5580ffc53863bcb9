/**
 * Pure tests of the subscription statechart, alone and as the connection's child: no sockets, no
 * client, no real timers, no sleeps. As in connection.machine.test.ts, the stub actors are provided
 * once for this module and find the per-test stub state through the actor `system` (a WeakMap keyed
 * by `actor.system`); time is the TestClock.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { type Actor, type AnyActorRef, createActor, fromCallback, fromPromise } from 'xstate';
import { connectionMachine } from '../../machines/connection.machine.js';
import type { ConnectionEvent, MachineConfig, SocketCommand } from '../../machines/connection.types.js';
import { subscriptionMachine, subscriptionRetryDelay } from '../../machines/subscription.machine.js';
import type {
  SubscriptionEmitted,
  SubscriptionInput,
  SubscriptionRunInput,
} from '../../machines/subscription.types.js';
import { MachineNotBoundError, SubscriptionError, isErrorCode } from '../../src/core/errors.js';
import { TestClock } from '../helpers/test-clock.js';

// ------------------------------------------------------------------------------------------------
// Harness

interface Deferred {
  input: SubscriptionRunInput;
  signal: AbortSignal;
  resolve(): void;
  reject(error: unknown): void;
}

interface Runtime {
  clock: TestClock;
  subscribes: Deferred[];
  unsubscribes: Deferred[];
  registered: AnyActorRef[];
  /** What happened, in order, across the actors of one system (subscribes, socket commands). */
  log: string[];
  /** Subscribes resolve at once (for the connection tests). */
  autoResolve: boolean;
}

const runtimes = new WeakMap<object, Runtime>();
const rtOf = (system: unknown): Runtime => {
  const rt = runtimes.get(system as object);
  if (rt === undefined) throw new Error('no runtime bound to this system');
  return rt;
};

const run = (list: 'subscribes' | 'unsubscribes') =>
  fromPromise<void, SubscriptionRunInput>(({ input, system, signal }) => {
    const rt = rtOf(system);
    if (list === 'subscribes') rt.log.push(`subscribe ${input.name}`);
    if (rt.autoResolve) return Promise.resolve();
    return new Promise<void>((resolve, reject) => rt[list].push({ input, signal, resolve, reject }));
  });

const testSubscription = subscriptionMachine.provide({
  actors: { subscribe: run('subscribes'), unsubscribe: run('unsubscribes') },
  actions: { register: ({ self, system }) => void rtOf(system).registered.push(self) },
});

const live: Actor<any>[] = [];
afterEach(() => {
  for (const a of live.splice(0)) a.stop();
});

function start(input: Partial<SubscriptionInput> = {}) {
  const clock = new TestClock();
  const actor = createActor(testSubscription, {
    clock,
    input: { name: 'prices', timeoutMs: 0, retry: null, ...input },
  });
  const rt: Runtime = {
    clock,
    subscribes: [],
    unsubscribes: [],
    registered: [],
    log: [],
    autoResolve: false,
  };
  runtimes.set(actor.system, rt);
  const emitted: SubscriptionEmitted[] = [];
  actor.on('*', (e) => emitted.push(e as SubscriptionEmitted));
  actor.start();
  live.push(actor);
  const value = () => actor.getSnapshot().value;
  const send = (event: Parameters<typeof actor.send>[0]) => actor.send(event);
  return { actor, rt, clock, emitted, value, send, ctx: () => actor.getSnapshot().context };
}

/** Lets settled promises reach the actor (microtasks only: no time passes). */
const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

// ------------------------------------------------------------------------------------------------

describe('subscription machine: subscribing and resubscribing', () => {
  it('waits for the connection to be open, subscribes, and is told it registered', async () => {
    const { value, send, rt, ctx, actor } = start();
    expect(value()).toEqual({ subscribing: 'waiting' });
    expect(rt.registered).toEqual([actor]);
    expect(rt.subscribes).toHaveLength(0);
    send({ type: 'connection.opened', sessionId: 3 });
    expect(value()).toEqual({ subscribing: 'running' });
    expect(rt.subscribes[0]!.input).toEqual({
      name: 'prices',
      sessionId: 3,
      resubscribing: false,
      attempt: 1,
    });
    rt.subscribes[0]!.resolve();
    await flush();
    expect(value()).toBe('subscribed');
    expect(ctx()).toMatchObject({ sessionId: 3, hasSubscribed: true, attempt: 1, lastError: undefined });
  });

  it('a session that ends makes it resubscribing; the next open subscribes again with resubscribing: true', async () => {
    const { value, send, rt, ctx } = start();
    send({ type: 'connection.opened', sessionId: 1 });
    rt.subscribes[0]!.resolve();
    await flush();
    send({ type: 'connection.ended' });
    expect(value()).toEqual({ resubscribing: 'waiting' });
    expect(ctx().sessionId).toBeUndefined();
    send({ type: 'connection.opened', sessionId: 2 });
    expect(value()).toEqual({ resubscribing: 'running' });
    expect(rt.subscribes[1]!.input).toEqual({
      name: 'prices',
      sessionId: 2,
      resubscribing: true,
      attempt: 1,
    });
    rt.subscribes[1]!.resolve();
    await flush();
    expect(value()).toBe('subscribed');
  });

  it('a session that ends mid-subscribe abandons the attempt (its signal aborts; a late answer is ignored)', async () => {
    const { value, send, rt } = start();
    send({ type: 'connection.opened', sessionId: 1 });
    const first = rt.subscribes[0]!;
    send({ type: 'connection.ended' });
    expect(value()).toEqual({ subscribing: 'waiting' });
    expect(first.signal.aborted).toBe(true);
    first.resolve();
    await flush();
    expect(value()).toEqual({ subscribing: 'waiting' });
    send({ type: 'connection.opened', sessionId: 2 });
    expect(rt.subscribes[1]!.input.resubscribing).toBe(false);
  });
});

describe('subscription machine: failures', () => {
  it('a rejected subscribe makes it failed: a typed error (cause kept) is emitted, the context keeps it as data', async () => {
    const { value, send, rt, ctx, emitted } = start();
    send({ type: 'connection.opened', sessionId: 4 });
    const refusal = new Error('TOPIC_NOT_FOUND');
    rt.subscribes[0]!.reject(refusal);
    await flush();
    expect(value()).toBe('failed');
    const error = emitted.find((e) => e.type === 'subscription.failed')!.error as SubscriptionError;
    expect(error).toBeInstanceOf(SubscriptionError);
    expect(isErrorCode(error, 'WSM_ERR_SUBSCRIPTION')).toBe(true);
    expect(error.cause).toBe(refusal);
    expect(error.subscription).toBe('prices');
    expect(error.phase).toBe('subscribe');
    expect(ctx().lastError).toMatchObject({
      phase: 'subscribe',
      attempt: 1,
      sessionId: 4,
      code: 'WSM_ERR_SUBSCRIPTION',
    });
    expect(ctx().lastError!.message).toContain('TOPIC_NOT_FOUND');
    // Serializable: a JSON round trip keeps every fact.
    expect(JSON.parse(JSON.stringify(ctx()))).toEqual(ctx());
  });

  it('without retry, a failed subscription waits for the next reopen, however long the session lasts', async () => {
    const { value, send, rt, clock, ctx } = start({ timeoutMs: 0 });
    send({ type: 'connection.opened', sessionId: 1 });
    rt.subscribes[0]!.reject(new Error('no'));
    await flush();
    clock.advance(3_600_000);
    expect(value()).toBe('failed');
    expect(rt.subscribes).toHaveLength(1);
    send({ type: 'connection.ended' });
    expect(value()).toBe('failed');
    send({ type: 'connection.opened', sessionId: 2 });
    expect(value()).toEqual({ subscribing: 'running' });
    expect(rt.subscribes[1]!.input).toMatchObject({ sessionId: 2, attempt: 1, resubscribing: false });
    expect(ctx().attempt).toBe(1);
  });

  it('a failure after it was subscribed is retried at the reopen as a re-subscribe', async () => {
    const { value, send, rt } = start();
    send({ type: 'connection.opened', sessionId: 1 });
    rt.subscribes[0]!.resolve();
    await flush();
    send({ type: 'connection.ended' });
    send({ type: 'connection.opened', sessionId: 2 });
    rt.subscribes[1]!.reject(new Error('busy'));
    await flush();
    expect(value()).toBe('failed');
    send({ type: 'connection.ended' });
    send({ type: 'connection.opened', sessionId: 3 });
    expect(value()).toEqual({ resubscribing: 'running' });
    expect(rt.subscribes[2]!.input.resubscribing).toBe(true);
  });

  it('with retry, it retries after its own backoff while open, up to maxAttempts, then waits for the reopen', async () => {
    const retry = { baseDelayMs: 100, factor: 2, maxDelayMs: 300, maxAttempts: 4 };
    const { value, send, rt, clock } = start({ retry });
    send({ type: 'connection.opened', sessionId: 1 });
    const delays: number[] = [];
    for (let i = 0; i < 4; i++) {
      rt.subscribes[i]!.reject(new Error(`no ${i + 1}`));
      await flush();
      expect(value()).toBe('failed');
      if (i === 3) break;
      const before = clock.now();
      // Just before the backoff: nothing; at it: the next attempt.
      const delay = subscriptionRetryDelay({ retry, attempt: i + 1 });
      clock.advance(delay - 1);
      expect(rt.subscribes).toHaveLength(i + 1);
      clock.advance(1);
      expect(rt.subscribes).toHaveLength(i + 2);
      expect(rt.subscribes[i + 1]!.input.attempt).toBe(i + 2);
      delays.push(clock.now() - before);
    }
    expect(delays).toEqual([100, 200, 300]);
    clock.advance(60_000);
    expect(rt.subscribes).toHaveLength(4);
    send({ type: 'connection.ended' });
    send({ type: 'connection.opened', sessionId: 2 });
    expect(rt.subscribes).toHaveLength(5);
    expect(rt.subscribes[4]!.input).toMatchObject({ sessionId: 2, attempt: 1 });
  });

  it('with retry, a backoff that passes while the connection is down waits for the reopen', async () => {
    const { value, send, rt, clock } = start({
      retry: { baseDelayMs: 50, factor: 2, maxDelayMs: 50, maxAttempts: null },
    });
    send({ type: 'connection.opened', sessionId: 1 });
    rt.subscribes[0]!.reject(new Error('no'));
    await flush();
    send({ type: 'connection.ended' });
    clock.advance(1_000);
    expect(value()).toBe('failed');
    expect(rt.subscribes).toHaveLength(1);
    send({ type: 'connection.opened', sessionId: 2 });
    expect(rt.subscribes).toHaveLength(2);
  });

  it('a subscribe that does not settle within timeoutMs fails with a RequestTimeoutError cause and is abandoned', async () => {
    const { value, send, rt, clock, ctx, emitted } = start({ timeoutMs: 250 });
    send({ type: 'connection.opened', sessionId: 1 });
    clock.advance(249);
    expect(value()).toEqual({ subscribing: 'running' });
    clock.advance(1);
    expect(value()).toBe('failed');
    expect(rt.subscribes[0]!.signal.aborted).toBe(true);
    expect(ctx().lastError?.causeCode).toBe('WSM_ERR_REQUEST_TIMEOUT');
    const error = emitted.find((e) => e.type === 'subscription.failed')!.error as SubscriptionError;
    expect(isErrorCode(error.cause, 'WSM_ERR_REQUEST_TIMEOUT')).toBe(true);
    rt.subscribes[0]!.resolve();
    await flush();
    expect(value()).toBe('failed');
  });

  it('run alone, its subscribe fails loudly with MachineNotBoundError, recorded as lastError', async () => {
    const actor = createActor(subscriptionMachine, { input: { name: 'alone', timeoutMs: 0, retry: null } });
    const emitted: SubscriptionEmitted[] = [];
    actor.on('subscription.failed', (e) => emitted.push(e));
    actor.start();
    live.push(actor);
    actor.send({ type: 'connection.opened', sessionId: 1 });
    await flush();
    expect(actor.getSnapshot().value).toBe('failed');
    expect(actor.getSnapshot().context.lastError?.causeCode).toBe('WSM_ERR_NOT_BOUND');
    expect((emitted[0]!.error as SubscriptionError).cause).toBeInstanceOf(MachineNotBoundError);
  });
});

describe('subscription machine: unsubscribing and the end', () => {
  it('unsubscribe while subscribed runs the unsubscribe on the open session, then it is final', async () => {
    const { value, send, rt, actor } = start();
    send({ type: 'connection.opened', sessionId: 5 });
    rt.subscribes[0]!.resolve();
    await flush();
    send({ type: 'subscription.unsubscribe' });
    expect(value()).toBe('unsubscribing');
    expect(rt.unsubscribes[0]!.input).toMatchObject({ name: 'prices', sessionId: 5 });
    rt.unsubscribes[0]!.resolve();
    await flush();
    expect(value()).toBe('unsubscribed');
    expect(actor.getSnapshot().status).toBe('done');
  });

  it('unsubscribe before any open, or during a reconnect, sends nothing and never subscribes again', async () => {
    const a = start();
    a.send({ type: 'subscription.unsubscribe' });
    expect(a.value()).toBe('unsubscribed');
    expect(a.rt.unsubscribes).toHaveLength(0);

    const b = start();
    b.send({ type: 'connection.opened', sessionId: 1 });
    b.rt.subscribes[0]!.resolve();
    await flush();
    b.send({ type: 'connection.ended' });
    b.send({ type: 'subscription.unsubscribe' });
    expect(b.value()).toBe('unsubscribed');
    b.send({ type: 'connection.opened', sessionId: 2 });
    expect(b.rt.subscribes).toHaveLength(1);
    expect(b.rt.unsubscribes).toHaveLength(0);
  });

  it('unsubscribe mid-subscribe unsubscribes after it (the request may be out); from failed it ends at once', async () => {
    const a = start();
    a.send({ type: 'connection.opened', sessionId: 1 });
    a.send({ type: 'subscription.unsubscribe' });
    expect(a.value()).toBe('unsubscribing');
    expect(a.rt.subscribes[0]!.signal.aborted).toBe(true);
    expect(a.rt.unsubscribes).toHaveLength(1);

    const b = start();
    b.send({ type: 'connection.opened', sessionId: 1 });
    b.rt.subscribes[0]!.reject(new Error('refused'));
    await flush();
    b.send({ type: 'subscription.unsubscribe' });
    expect(b.value()).toBe('unsubscribed');
    expect(b.rt.unsubscribes).toHaveLength(0);
  });

  it('a failing or hanging unsubscribe is reported; it is unsubscribed anyway', async () => {
    const a = start({ timeoutMs: 100 });
    a.send({ type: 'connection.opened', sessionId: 1 });
    a.rt.subscribes[0]!.resolve();
    await flush();
    a.send({ type: 'subscription.unsubscribe' });
    a.rt.unsubscribes[0]!.reject(new Error('NOT_SUBSCRIBED'));
    await flush();
    expect(a.value()).toBe('unsubscribed');
    const failed = a.emitted.find((e) => e.type === 'subscription.failed')!.error as SubscriptionError;
    expect(failed.phase).toBe('unsubscribe');
    expect((failed.cause as Error).message).toBe('NOT_SUBSCRIBED');

    const b = start({ timeoutMs: 100 });
    b.send({ type: 'connection.opened', sessionId: 1 });
    b.rt.subscribes[0]!.resolve();
    await flush();
    b.send({ type: 'subscription.unsubscribe' });
    b.clock.advance(100);
    expect(b.value()).toBe('unsubscribed');
    expect(b.ctx().lastError).toMatchObject({ phase: 'unsubscribe', causeCode: 'WSM_ERR_REQUEST_TIMEOUT' });
  });

  it('a session that ends during the unsubscribe ends it (the server forgot the subscription)', async () => {
    const { value, send, rt } = start();
    send({ type: 'connection.opened', sessionId: 1 });
    rt.subscribes[0]!.resolve();
    await flush();
    send({ type: 'subscription.unsubscribe' });
    send({ type: 'connection.ended' });
    expect(value()).toBe('unsubscribed');
  });

  it('connection.stopped ends it from every state, sending nothing', async () => {
    const states: unknown[] = [];
    for (const setupTo of [
      'waiting',
      'running',
      'subscribed',
      'resubscribing',
      'failed',
      'unsubscribing',
    ] as const) {
      const s = start();
      if (setupTo !== 'waiting') s.send({ type: 'connection.opened', sessionId: 1 });
      if (setupTo === 'subscribed' || setupTo === 'resubscribing' || setupTo === 'unsubscribing') {
        s.rt.subscribes[0]!.resolve();
        await flush();
      }
      if (setupTo === 'failed') {
        s.rt.subscribes[0]!.reject(new Error('no'));
        await flush();
      }
      if (setupTo === 'resubscribing') s.send({ type: 'connection.ended' });
      if (setupTo === 'unsubscribing') s.send({ type: 'subscription.unsubscribe' });
      states.push(s.value());
      s.send({ type: 'connection.stopped' });
      expect(s.value(), setupTo).toBe('unsubscribed');
      expect(s.actor.getSnapshot().status).toBe('done');
    }
    expect(states).toEqual([
      { subscribing: 'waiting' },
      { subscribing: 'running' },
      'subscribed',
      { resubscribing: 'waiting' },
      'failed',
      'unsubscribing',
    ]);
  });

  it('describes every state', () => {
    const missing: string[] = [];
    const walk = (node: any) => {
      if (node.description === undefined) missing.push(node.id);
      for (const child of Object.values(node.states ?? {})) walk(child);
    };
    walk(subscriptionMachine.root);
    expect(missing).toEqual([]);
  });
});

// ------------------------------------------------------------------------------------------------
// As the connection's child

const socketStub = fromCallback<SocketCommand, unknown>(({ system, sendBack, receive, input }) => {
  const rt = rtOf(system);
  const sessionId = (input as { sessionId: number }).sessionId;
  receive((command) => {
    rt.log.push(command.type);
    if (command.type === 'socket.dial')
      sendBack({ type: 'socket.opened', sessionId, protocol: '', response: undefined } as ConnectionEvent);
    if (command.type === 'socket.close')
      sendBack({
        type: 'socket.closed',
        sessionId,
        code: command.code,
        reason: command.reason,
        wasClean: true,
      });
  });
});

const testConnection = connectionMachine.provide({
  actors: {
    socket: socketStub as never,
    openHook: fromPromise(async ({ system }) => void rtOf(system).log.push('onOpen')),
    closeHook: fromPromise<undefined, unknown>(async () => undefined) as never,
    subscription: testSubscription,
  },
});

const CONFIG: MachineConfig = {
  watchEnvironment: false,
  staticUrl: 'wss://example.test/feed',
  openTimeoutMs: 0,
  closeTimeoutMs: 100,
  stopTimeoutMs: 500,
  reconnect: {
    enabled: true,
    baseDelayMs: 10,
    factor: 2,
    maxDelayMs: 10,
    jitter: 'none',
    maxAttempts: null,
    resetAfterMs: 5_000,
    retryOnStart: false,
    authCloseCodes: [],
    fatalCloseCodes: [],
    credentialsRefreshable: false,
  },
  heartbeat: { enabled: false, intervalMs: 1_000, timeoutMs: 500, maxMissed: 1 },
};

function connection() {
  const clock = new TestClock();
  const actor = createActor(testConnection, { clock, input: { config: CONFIG } });
  const rt: Runtime = { clock, subscribes: [], unsubscribes: [], registered: [], log: [], autoResolve: true };
  runtimes.set(actor.system, rt);
  actor.start();
  live.push(actor);
  const add = (...names: string[]) =>
    actor.send({
      type: 'subscription.add',
      subscriptions: names.map((name) => ({
        id: `subscription:${name}`,
        input: { name, timeoutMs: 0, retry: null },
      })),
    });
  const child = (name: string) =>
    actor.getSnapshot().children[`subscription:${name}`] as AnyActorRef | undefined;
  return { actor, rt, clock, add, child };
}

describe('subscriptions as children of the connection', () => {
  it('subscription.add spawns a child (id and systemId subscription:<name>) and records the order', () => {
    const { actor, add, child } = connection();
    add('a');
    add('b');
    expect(actor.getSnapshot().context.subscriptions).toEqual(['subscription:a', 'subscription:b']);
    expect(child('a')!.getSnapshot().value).toEqual({ subscribing: 'waiting' });
    expect(actor.system.get('subscription:b')).toBe(child('b'));
    // A second add of the same id changes nothing.
    add('a');
    expect(actor.getSnapshot().context.subscriptions).toEqual(['subscription:a', 'subscription:b']);
  });

  it('on open: onOpen, then every subscription in creation order, then the queued sends', async () => {
    const { actor, rt, add, child } = connection();
    add('c', 'a');
    add('b');
    actor.send({ type: 'client.start' });
    await flush();
    expect(actor.getSnapshot().matches({ session: 'open' })).toBe(true);
    expect(rt.log).toEqual([
      'socket.dial',
      'onOpen',
      'subscribe c',
      'subscribe a',
      'subscribe b',
      'socket.flush',
    ]);
    for (const name of ['a', 'b', 'c']) expect(child(name)!.getSnapshot().value).toBe('subscribed');
  });

  it('a subscription added while open subscribes at once; one added while not open waits', async () => {
    const { actor, rt, add, child } = connection();
    actor.send({ type: 'client.start' });
    await flush();
    add('late');
    expect(rt.log.at(-1)).toBe('subscribe late');
    await flush();
    expect(child('late')!.getSnapshot().value).toBe('subscribed');
  });

  it('a session end makes them resubscribing, the reopen subscribes them again, stop ends them', async () => {
    const { actor, rt, add, child, clock } = connection();
    add('a');
    actor.send({ type: 'client.start' });
    await flush();
    actor.send({
      type: 'socket.closed',
      sessionId: actor.getSnapshot().context.sessionId,
      code: 1012,
      reason: '',
      wasClean: true,
    });
    await flush();
    expect(child('a')!.getSnapshot().value).toEqual({ resubscribing: 'waiting' });
    rt.log.length = 0;
    clock.advance(10);
    await flush();
    expect(rt.log).toEqual(['socket.dial', 'onOpen', 'subscribe a', 'socket.flush']);
    expect(child('a')!.getSnapshot().value).toBe('subscribed');
    const ref = child('a')!;
    actor.send({ type: 'client.stop' });
    await flush();
    expect(actor.getSnapshot().value).toBe('stopped');
    expect(ref.getSnapshot().value).toBe('unsubscribed');
  });

  it('subscription.remove stops the child and forgets it; the name is free again', () => {
    const { actor, add, child } = connection();
    add('a');
    const ref = child('a')!;
    actor.send({ type: 'subscription.remove', ids: ['subscription:a'] });
    expect(child('a')).toBeUndefined();
    expect(actor.getSnapshot().context.subscriptions).toEqual([]);
    expect(ref.getSnapshot().status).not.toBe('active');
    add('a');
    expect(child('a')).not.toBe(ref);
  });
});
