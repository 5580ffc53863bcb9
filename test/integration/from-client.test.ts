/**
 * `fromClient`: the connection as a child actor of an app machine, against real `ws` servers on
 * 127.0.0.1. The parent machine invokes it and records every `wsmachine.*` event it receives; tests
 * wait on the parent's snapshot (XState's `waitFor`) or on server events. Nothing sleeps.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { type DemoServer, startDemoServer } from '../../src/server.js';
import { type ActorRefFrom, assign, createActor, sendTo, setup, waitFor } from 'xstate';
import {
  type FromClientCommand,
  type FromClientEvent,
  type FromClientInput,
  type FromClientLogic,
  type WsClient,
  clientOf,
  fromClient,
} from '../../src/node.js';
import {
  activeTimers,
  cleanup,
  countingClock,
  freePortClosed,
  startWsServer,
  waitForEvent,
} from '../helpers/servers.js';

const actors: Array<{ stop(): unknown }> = [];
afterEach(async () => {
  for (const a of actors.splice(0)) a.stop();
  await cleanup();
});

interface AppContext {
  options: Partial<FromClientInput>;
  events: FromClientEvent[];
  failure: unknown;
}
type AppEvent = FromClientEvent | { type: 'leave' } | { type: 'command'; command: FromClientCommand };

/** An app machine: `live` invokes the connection; `away`, `failed` and `finished` do not. */
function appMachine(logic: FromClientLogic<any> = fromClient()) {
  return setup({
    types: {
      context: {} as AppContext,
      events: {} as AppEvent,
      input: {} as Partial<FromClientInput>,
    },
    actors: { ws: logic },
  }).createMachine({
    id: 'app',
    context: ({ input }) => ({ options: input, events: [], failure: undefined }),
    initial: 'live',
    states: {
      live: {
        invoke: {
          id: 'ws',
          src: 'ws',
          input: ({ context }: { context: AppContext }) => context.options as FromClientInput,
          onError: { target: 'failed', actions: assign({ failure: ({ event }) => event.error }) },
          onDone: 'finished',
        },
        on: {
          leave: 'away',
          command: { actions: sendTo('ws', ({ event }) => event.command) },
        },
      },
      away: {},
      failed: {},
      finished: {},
    },
    on: {
      'wsmachine.*': { actions: assign({ events: ({ context, event }) => [...context.events, event] }) },
    },
  });
}

type App = ActorRefFrom<ReturnType<typeof appMachine>>;

function startApp(input: Partial<FromClientInput>, logic?: FromClientLogic<any>, inspect?: (e: any) => void) {
  const app = createActor(appMachine(logic), { input, ...(inspect ? { inspect } : {}) });
  actors.push(app);
  app.start();
  return app;
}

const types = (app: App) => app.getSnapshot().context.events.map((e) => e.type);
const until = (app: App, predicate: (events: FromClientEvent[]) => boolean) =>
  waitFor(app, (s) => predicate(s.context.events), { timeout: 5_000 });
const count = (events: FromClientEvent[], type: FromClientEvent['type']) =>
  events.filter((e) => e.type === type).length;
const ofType = <T extends FromClientEvent['type']>(app: App, type: T) =>
  app.getSnapshot().context.events.filter((e): e is Extract<FromClientEvent, { type: T }> => e.type === type);

/** The client the app's child owns (captured while it runs). */
function clientIn(app: App): WsClient {
  const client = clientOf(app.getSnapshot().children.ws);
  if (client === undefined) throw new Error('the ws child owns no client');
  return client;
}

describe('fromClient: lifecycle events to the parent', () => {
  it('sends open, close, reconnecting, open in order when the server drops the connection', async () => {
    const server = await startWsServer();
    const app = startApp({ url: server.url, heartbeat: false, reconnect: { baseDelayMs: 0 } });
    await until(app, (e) => count(e, 'wsmachine.open') === 1);
    expect(ofType(app, 'wsmachine.open')[0]).toEqual({
      type: 'wsmachine.open',
      sessionId: 1,
      restarting: false,
    });

    server.terminateAll();
    await until(app, (e) => count(e, 'wsmachine.open') === 2);
    expect(types(app)).toEqual([
      'wsmachine.open',
      'wsmachine.close',
      'wsmachine.reconnecting',
      'wsmachine.open',
    ]);
    const [, close, reconnecting, reopen] = app.getSnapshot().context.events;
    expect(close).toEqual({
      type: 'wsmachine.close',
      code: 1006,
      reason: '',
      wasClean: false,
      class: 'transient',
      sessionId: 1,
    });
    expect(reconnecting).toEqual({ type: 'wsmachine.reconnecting', attempt: 1, delayMs: 0 });
    expect(reopen).toMatchObject({ type: 'wsmachine.open', restarting: true });
    // A dropped connection that is being retried is not a failure of the actor.
    expect(app.getSnapshot().value).toBe('live');
    expect(app.getSnapshot().children.ws?.getSnapshot()).toMatchObject({ status: 'active', state: 'open' });
  });

  it('wsmachine.restart ends the session with 1001 and reconnects', async () => {
    const server = await startWsServer();
    const app = startApp({ url: server.url, heartbeat: false, reconnect: { baseDelayMs: 0 } });
    await until(app, (e) => count(e, 'wsmachine.open') === 1);
    app.send({ type: 'command', command: { type: 'wsmachine.restart', reason: 'new token' } });
    expect(await server.waitForClosed(0)).toEqual({ code: 1001, reason: 'new token' });
    await until(app, (e) => count(e, 'wsmachine.open') === 2);
    expect(ofType(app, 'wsmachine.open')[1]).toMatchObject({ restarting: true });
    expect(server.connections).toHaveLength(2);
  });
});

describe('fromClient: commands from the parent', () => {
  /** Answers `{"id":n,...}` with `{"id":n,"echo":...}`; never answers `{"silent":true}`. */
  const startRpcServer = () =>
    startWsServer({
      onConnection: ({ socket }) =>
        socket.on('message', (raw) => {
          const m = JSON.parse(raw.toString()) as { id?: number; silent?: boolean; push?: string };
          if (m.push !== undefined) socket.send(JSON.stringify({ push: m.push }));
          else if (!m.silent && m.id !== undefined) socket.send(JSON.stringify({ id: m.id, echo: m }));
        }),
    });
  const rpc = {
    requests: {
      key: { request: (data: unknown) => JSON.parse(String(data)).id, response: (m: any) => m.json().id },
    },
  } satisfies Partial<FromClientInput>;

  it('send reaches the server; requests come back as wsmachine.response carrying their ids', async () => {
    const server = await startRpcServer();
    const app = startApp({ url: server.url, heartbeat: false, ...rpc });
    await until(app, (e) => count(e, 'wsmachine.open') === 1);

    app.send({ type: 'command', command: { type: 'wsmachine.send', data: JSON.stringify({ hello: 1 }) } });
    expect(await server.waitForMessages(0, 1)).toEqual(['{"hello":1}']);

    app.send({
      type: 'command',
      command: { type: 'wsmachine.request', data: '{"id":7,"q":"a"}', id: 'first' },
    });
    app.send({ type: 'command', command: { type: 'wsmachine.request', data: '{"id":8,"q":"b"}', id: 42 } });
    await until(app, (e) => count(e, 'wsmachine.response') === 2);
    const replies = ofType(app, 'wsmachine.response').map((r) => ({ id: r.id, data: r.message.json() }));
    expect(replies).toEqual([
      { id: 'first', data: { id: 7, echo: { id: 7, q: 'a' } } },
      { id: 42, data: { id: 8, echo: { id: 8, q: 'b' } } },
    ]);
    expect(count(app.getSnapshot().context.events, 'wsmachine.requestFailed')).toBe(0);
  });

  it('a request that times out comes back as wsmachine.requestFailed with its id and a typed error', async () => {
    const server = await startRpcServer();
    const app = startApp({ url: server.url, heartbeat: false, ...rpc });
    await until(app, (e) => count(e, 'wsmachine.open') === 1);
    app.send({
      type: 'command',
      command: {
        type: 'wsmachine.request',
        data: '{"id":1,"silent":true}',
        options: { timeoutMs: 30 },
        id: 'slow',
      },
    });
    await until(app, (e) => count(e, 'wsmachine.requestFailed') === 1);
    const [failed] = ofType(app, 'wsmachine.requestFailed');
    expect(failed?.id).toBe('slow');
    expect(failed?.error.code).toBe('WSM_ERR_REQUEST_TIMEOUT');
    expect(app.getSnapshot().value).toBe('live');
  });

  it('forwardMessages: true sends messages as wsmachine.message, but not the replies to requests', async () => {
    const server = await startRpcServer();
    const seenByHook: string[] = [];
    const app = startApp({
      url: server.url,
      heartbeat: false,
      forwardMessages: true,
      hooks: { onMessage: (m) => void seenByHook.push(String(m.data)) },
      ...rpc,
    });
    await until(app, (e) => count(e, 'wsmachine.open') === 1);
    app.send({ type: 'command', command: { type: 'wsmachine.request', data: '{"id":1}', id: 'r' } });
    await until(app, (e) => count(e, 'wsmachine.response') === 1);
    app.send({ type: 'command', command: { type: 'wsmachine.send', data: '{"push":"news"}' } });
    await until(app, (e) => count(e, 'wsmachine.message') === 1);
    expect(ofType(app, 'wsmachine.message').map((e) => e.message.data)).toEqual(['{"push":"news"}']);
    // The user's own onMessage still runs.
    expect(seenByHook).toEqual(['{"push":"news"}']);
  });

  it('a bad command is reported as wsmachine.error with a typed error; the parent carries on', async () => {
    const server = await startRpcServer();
    const app = startApp({ url: server.url, heartbeat: false, ...rpc });
    await until(app, (e) => count(e, 'wsmachine.open') === 1);

    // An object instead of a string or bytes (what an untyped app easily sends).
    app.send({ type: 'command', command: { type: 'wsmachine.send', data: { hello: 1 } as never } });
    // A command this actor does not know.
    app.send({ type: 'command', command: { type: 'wsmachine.sned' } as never });
    // A close reason over 123 bytes.
    app.send({ type: 'command', command: { type: 'wsmachine.restart', reason: 'x'.repeat(200) } });
    await until(app, (e) => count(e, 'wsmachine.error') === 3);
    const errors = ofType(app, 'wsmachine.error').map((e) => e.error);
    expect(errors.map((e) => e.code)).toEqual([
      'WSM_ERR_INVALID_OPTIONS',
      'WSM_ERR_INVALID_OPTIONS',
      'WSM_ERR_INVALID_CLOSE',
    ]);
    expect(errors[0]?.message).toMatch(/JSON\.stringify/);
    expect(errors[1]?.message).toMatch(/wsmachine\.sned/);

    // Still live, still connected: a good send goes through.
    expect(app.getSnapshot().value).toBe('live');
    app.send({ type: 'command', command: { type: 'wsmachine.send', data: '{"ok":true}' } });
    expect(await server.waitForMessages(0, 1)).toEqual(['{"ok":true}']);
    expect(server.connections).toHaveLength(1);
  });
});

describe('fromClient: subscriptions (the demo server)', () => {
  const demos: DemoServer[] = [];
  afterEach(async () => {
    await Promise.allSettled(demos.splice(0).map((d) => d.kill()));
  });
  const demoInput = (server: DemoServer): Partial<FromClientInput> => ({
    url: server.url,
    heartbeat: false,
    reconnect: { baseDelayMs: 0, maxDelayMs: 0 },
    requests: {
      key: { request: (_data, id: string) => id, response: (m) => m.json<{ reqId?: string }>().reqId },
    },
  });
  let n = 0;
  const heartbeat = {
    name: 'heartbeat',
    subscribe: async (session: { request: WsClient['request'] }) => {
      const reqId = `s${++n}`;
      const reply = await session.request(
        JSON.stringify({ type: 'subscribe_request', reqId, topic: 'heartbeat' }),
        {
          params: reqId,
        },
      );
      if (reply.json<{ status: string }>().status !== 'OK') throw new Error('refused');
    },
    match: (m: { json<T>(): T }) => m.json<{ type?: string }>().type === 'heartbeat',
  };

  it('input.subscriptions: states reach the parent as wsmachine.subscription, claimed messages as wsmachine.subscription.message; again after a restart', async () => {
    const server = await startDemoServer({ port: 0, heartbeatIntervalMs: 15 });
    demos.push(server);
    const app = startApp({ ...demoInput(server), forwardMessages: true, subscriptions: [heartbeat] });
    await until(app, (e) => count(e, 'wsmachine.subscription.message') >= 2);
    expect(ofType(app, 'wsmachine.subscription').map(({ from, to }) => `${from} -> ${to}`)).toEqual([
      'subscribing -> subscribed',
    ]);
    const [first] = ofType(app, 'wsmachine.subscription.message');
    expect(first?.name).toBe('heartbeat');
    expect(first?.message.json<{ type: string }>().type).toBe('heartbeat');
    // Claimed messages are the subscription's: none came as a plain wsmachine.message.
    expect(count(app.getSnapshot().context.events, 'wsmachine.message')).toBe(0);

    // The server restarts (1012): the parent sees the subscription go through resubscribing and back.
    await server.restart();
    await until(app, (e) => count(e, 'wsmachine.open') === 2 && count(e, 'wsmachine.subscription') === 3);
    expect(ofType(app, 'wsmachine.subscription').map(({ from, to }) => `${from} -> ${to}`)).toEqual([
      'subscribing -> subscribed',
      'subscribed -> resubscribing',
      'resubscribing -> subscribed',
    ]);
    // The subscription is the client's own: clientOf(...) reaches the same one.
    expect(clientIn(app).stats().sessions).toBe(2);
  });

  it('a subscription the client refuses (no name) fails the actor with InvalidOptionsError; nothing is dialled', async () => {
    const server = await startDemoServer({ port: 0 });
    demos.push(server);
    const app = startApp({ ...demoInput(server), subscriptions: [{ ...heartbeat, name: '' }] });
    await waitFor(app, (s) => s.matches('failed'), { timeout: 5_000 });
    const failure = app.getSnapshot().context.failure as { code: string; message: string };
    expect(failure.code).toBe('WSM_ERR_INVALID_OPTIONS');
    expect(failure.message).toMatch(/name/);
    expect(server.stats().accepted).toBe(0);
  });
});

describe('fromClient: the life of the invoking state', () => {
  it('leaving the state closes the socket with 1000 and leaves no timers', async () => {
    const server = await startWsServer();
    const clock = countingClock();
    const timersBefore = activeTimers();
    const app = startApp({
      url: server.url,
      clock,
      heartbeat: { intervalMs: 30_000, timeoutMs: 10_000 },
    });
    await until(app, (e) => count(e, 'wsmachine.open') === 1);
    const child = app.getSnapshot().children.ws!;
    const client = clientIn(app);
    expect(clock.pending()).toBeGreaterThan(0); // the heartbeat is armed
    const stopped = waitForEvent(client, 'stopped');

    app.send({ type: 'leave' });
    expect(app.getSnapshot().value).toBe('away');
    expect(child.getSnapshot().status).toBe('stopped');
    expect(await server.waitForClosed(0)).toEqual({ code: 1000, reason: '' });
    expect(await stopped).toEqual({ error: undefined });
    expect(client.state).toBe('stopped');
    expect(clock.pending()).toBe(0);
    expect(activeTimers()).toBeLessThanOrEqual(timersBefore);
    expect(clientOf(child)).toBeUndefined();
    // Nothing from the stopped client reached the parent after it left.
    expect(types(app)).toEqual(['wsmachine.open']);
  });

  it('stopping the whole app stops the client too', async () => {
    const server = await startWsServer();
    const app = startApp({ url: server.url, heartbeat: false });
    await until(app, (e) => count(e, 'wsmachine.open') === 1);
    const client = clientIn(app);
    app.stop();
    expect(await server.waitForClosed(0)).toEqual({ code: 1000, reason: '' });
    await waitForEvent(client, 'stopped').catch(() => undefined);
    expect(client.state).toBe('stopped');
  });

  it('defaults merge under the input, option group by option group', async () => {
    const server = await startWsServer();
    const opened: boolean[] = [];
    const logic = fromClient({
      url: server.url,
      heartbeat: false,
      reconnect: { baseDelayMs: 0, jitter: 'none' },
      hooks: { onOpen: (_s, { restarting }) => void opened.push(restarting) },
    });
    // The input overrides one reconnect field and adds a hook; the other defaults stay.
    const app = startApp({ reconnect: { maxAttempts: 5 }, hooks: { onClose: () => undefined } }, logic);
    await until(app, (e) => count(e, 'wsmachine.open') === 1);
    server.terminateAll();
    await until(app, (e) => count(e, 'wsmachine.open') === 2);
    expect(ofType(app, 'wsmachine.reconnecting')[0]).toMatchObject({ delayMs: 0 });
    expect(opened).toEqual([false, true]);
  });
});

describe('fromClient: failures of the client reach onError, nothing else does', () => {
  it('a first start that fails: wsmachine.stopped, then onError with a StartError', async () => {
    const port = await freePortClosed();
    const app = startApp({ url: `ws://127.0.0.1:${port}`, heartbeat: false });
    await waitFor(app, (s) => s.matches('failed'), { timeout: 5_000 });
    expect(types(app)).toEqual(['wsmachine.error', 'wsmachine.close', 'wsmachine.stopped']);
    const failure = app.getSnapshot().context.failure as { code: string; cause: { code: string } };
    expect(failure.code).toBe('WSM_ERR_START');
    expect(failure.cause.code).toBe('WSM_ERR_CONNECT');
    expect(ofType(app, 'wsmachine.stopped')[0]?.error).toBe(failure.cause);
  });

  it('the reconnect policy giving up (an auth close code) reaches onError', async () => {
    const server = await startWsServer();
    const app = startApp({ url: server.url, heartbeat: false, reconnect: { baseDelayMs: 0 } });
    await until(app, (e) => count(e, 'wsmachine.open') === 1);
    (await server.waitForConnections(1)).socket.close(4401, 'token expired');
    await waitFor(app, (s) => s.matches('failed'), { timeout: 5_000 });
    expect(types(app)).toEqual(['wsmachine.open', 'wsmachine.close', 'wsmachine.stopped']);
    expect(ofType(app, 'wsmachine.close')[0]).toMatchObject({ code: 4401, class: 'auth' });
    const failure = app.getSnapshot().context.failure as { code: string; closeCode?: number };
    expect(failure).toBe(ofType(app, 'wsmachine.stopped')[0]?.error);
    expect(failure.code).toBe('WSM_ERR_CONNECTION_CLOSED');
    expect(failure.closeCode).toBe(4401);
    expect(server.connections).toHaveLength(1);
  });

  it('bad options reach onError as InvalidOptionsError', async () => {
    const app = startApp({ url: 'http://not-a-websocket.test', heartbeat: false });
    await waitFor(app, (s) => s.matches('failed'), { timeout: 5_000 });
    const failure = app.getSnapshot().context.failure as { code: string; message: string };
    expect(failure.code).toBe('WSM_ERR_INVALID_OPTIONS');
    expect(failure.message).toMatch(/url/);
  });

  it('session.exit() from a hook ends the actor with onDone, not onError', async () => {
    const server = await startWsServer();
    const app = startApp({
      url: server.url,
      heartbeat: false,
      hooks: { onMessage: (m, session) => (m.data === 'bye' ? session.exit() : undefined) },
    });
    await until(app, (e) => count(e, 'wsmachine.open') === 1);
    (await server.waitForConnections(1)).socket.send('bye');
    await waitFor(app, (s) => s.matches('finished'), { timeout: 5_000 });
    expect(ofType(app, 'wsmachine.stopped')).toEqual([{ type: 'wsmachine.stopped', error: undefined }]);
    expect(app.getSnapshot().context.failure).toBeUndefined();
  });
});

describe('fromClient: inspection', () => {
  it("the parent's inspect observer sees the child actor, its snapshots and the events it sends", async () => {
    const server = await startWsServer();
    const seen: Array<{ type: string; id?: string; state?: string; event?: string; source?: string }> = [];
    const app = startApp({ url: server.url, heartbeat: false }, undefined, (e) => {
      // The root actor's id is its session id; name it.
      const id = e.actorRef?.sessionId === e.rootId ? 'app' : (e.actorRef?.id as string | undefined);
      if (e.type === '@xstate.actor') seen.push({ type: e.type, ...(id ? { id } : {}) });
      if (e.type === '@xstate.snapshot' && id === 'ws')
        seen.push({ type: e.type, id, state: e.snapshot.state });
      if (e.type === '@xstate.event' && id === 'app' && String(e.event.type).startsWith('wsmachine.'))
        seen.push({ type: e.type, event: e.event.type });
    });
    await until(app, (e) => count(e, 'wsmachine.open') === 1);
    app.send({ type: 'leave' });
    await server.waitForClosed(0);

    expect(seen.filter((s) => s.type === '@xstate.actor').map((s) => s.id)).toEqual(['app', 'ws']);
    const childStates = seen.filter((s) => s.type === '@xstate.snapshot').map((s) => s.state);
    // Distinct states in order (the initial snapshot repeats `idle`).
    expect(childStates.filter((s, i) => s !== childStates[i - 1])).toEqual([
      'idle',
      'connecting',
      'opening',
      'open',
    ]);
    expect(seen.filter((s) => s.type === '@xstate.event').map((s) => s.event)).toEqual(['wsmachine.open']);
  });
});
