/**
 * Issue 21.4: no thrown value can crash or wedge the client. Every hook (onOpen, onMessage, onClose,
 * onError, onRestartError), a listener, `prepare`, `heartbeat.isPong`, `requests.key.*`,
 * `requests.match`, `reconnect.shouldReconnect`, `reconnect.random`, the `url` function, throws or
 * rejects with a hostile value: `undefined`, a string, a revoked Proxy, an object whose getters (and
 * conversions) throw, a Proxy whose every trap throws, a thenable whose `then` throws.
 *
 * Each test asserts from outside, against a real loopback `ws` server: no uncaught exception and no
 * unhandled rejection in the process, the receive path keeps going (later messages are handled, in
 * order), `start()` and `stop()` settle, and each failure is reported as `WSM_ERR_HOOK` naming the
 * function, with a message that is a plain string (a safe description of the value).
 */
import { format } from 'node:util';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  type Message,
  StartError,
  type WsClient,
  type WsmError,
  createClient,
  isWsmError,
} from '../../src/node.js';
import { observe } from '../faults/observe.js';
import { cleanup, startWsServer, track, waitFor } from '../helpers/servers.js';

// -------------------------------------------------------------------------------------------------
// The hostile values

const boom = () => {
  throw new Error('hostile getter');
};

/** A fresh hostile value each call (a revoked Proxy cannot be un-revoked, so none is shared). */
const HOSTILE: Array<[string, () => unknown]> = [
  ['undefined', () => undefined],
  ['a string', () => 'a thrown string'],
  [
    'a revoked Proxy',
    () => {
      const { proxy, revoke } = Proxy.revocable({}, {});
      revoke();
      return proxy;
    },
  ],
  [
    'an object whose getters and conversions throw',
    () =>
      Object.defineProperties(Object.create(Error.prototype) as object, {
        message: { get: boom },
        name: { get: boom },
        stack: { get: boom },
        code: { get: boom },
        cause: { get: boom },
        href: { get: boom },
        // biome-ignore lint/suspicious/noThenProperty: a getter that throws on `then` is the point
        then: { get: boom },
        toString: { get: boom },
        valueOf: { get: boom },
        [Symbol.toPrimitive]: { get: boom },
      }),
  ],
  [
    'a Proxy whose every trap throws',
    () =>
      new Proxy(
        {},
        {
          get: boom,
          has: boom,
          getPrototypeOf: boom,
          getOwnPropertyDescriptor: boom,
          ownKeys: boom,
          defineProperty: boom,
          set: boom,
          deleteProperty: boom,
          isExtensible: boom,
          preventExtensions: boom,
          setPrototypeOf: boom,
        },
      ),
  ],
  [
    'a thenable whose then throws',
    () => ({
      // biome-ignore lint/suspicious/noThenProperty: the hostile value under test is exactly this
      then() {
        throw new Error('then threw');
      },
    }),
  ],
];

/**
 * How user code fails: a synchronous throw, or a rejected promise. (The thenable is also returned
 * from an async function in its own tests: resolving with it calls its `then`, which throws.)
 */
type Mode = 'throws' | 'rejects';
const MODES: Mode[] = ['throws', 'rejects'];

/** A function that fails with `make()` the way `mode` says. */
function failing(mode: Mode, make: () => unknown): () => unknown {
  if (mode === 'throws')
    return () => {
      throw make();
    };
  return () => Promise.reject(make());
}

/** Something the test can wait on: `until(predicate)` re-checks on every `changed()`. */
class Watch {
  private checks = new Set<() => void>();

  changed(): void {
    for (const check of [...this.checks]) check();
  }

  until(predicate: () => boolean, label: string, guardMs = 5_000): Promise<void> {
    if (predicate()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!predicate()) return;
        clearTimeout(timer);
        this.checks.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        this.checks.delete(check);
        reject(new Error(`Timed out waiting for ${label}`));
      }, guardMs);
      this.checks.add(check);
    });
  }
}

// -------------------------------------------------------------------------------------------------
// Process-level guard: nothing escapes as an uncaught exception or an unhandled rejection

const escaped: unknown[] = [];
const onEscape = (e: unknown) => escaped.push(e);
beforeEach(() => {
  escaped.length = 0;
  process.on('uncaughtException', onEscape);
  process.on('unhandledRejection', onEscape);
});
afterEach(async () => {
  await cleanup();
  vi.restoreAllMocks();
  process.off('uncaughtException', onEscape);
  process.off('unhandledRejection', onEscape);
});

/** Lets Node report what escaped this turn (it does so after the microtasks of a macrotask). */
async function nothingEscaped(): Promise<void> {
  await new Promise<void>((resolve) => setImmediate(resolve));
  await new Promise<void>((resolve) => setImmediate(resolve));
  expect(escaped.map((e) => escapedName(e))).toEqual([]);
}

function escapedName(e: unknown): string {
  try {
    return e instanceof Error ? `${e.name}: ${e.message}` : typeof e;
  } catch {
    return 'an unreadable value';
  }
}

/** The WSM_ERR_HOOK errors of a client, by hook name. */
function hookErrors(client: WsClient): { all: WsmError[]; hooks(): string[] } {
  const all: WsmError[] = [];
  client.on('error', (e) => all.push(e));
  return {
    all,
    hooks: () =>
      all.filter((e) => e.code === 'WSM_ERR_HOOK').map((e) => (e as WsmError & { hook: string }).hook),
  };
}

/** Every reported error has a readable string message and a stable code. */
function expectSafe(errors: WsmError[]): void {
  for (const e of errors) {
    expect(isWsmError(e)).toBe(true);
    expect(typeof e.message).toBe('string');
    expect(e.message.length).toBeGreaterThan(0);
    expect(typeof e.code).toBe('string');
    expect(() => String(e)).not.toThrow();
  }
}

// -------------------------------------------------------------------------------------------------

describe.each(HOSTILE)('user code that fails with %s', (valueName, make) => {
  it('the receive path: prepare, requests.key.response and onMessage fail (throw, reject) and a message listener throws, on every message; each message still reaches onMessage, in order', async () => {
    const note = observe(46);
    const server = await startWsServer({ echo: true });
    const handled: string[] = [];
    const watch = new Watch();
    let i = 0;
    const nextFailure = () => failing(MODES[i++ % 2]!, make)();
    const client = track(
      createClient({
        url: server.url,
        heartbeat: false,
        prepare: () => nextFailure(),
        requests: { key: { request: (d) => String(d), response: () => nextFailure() } },
        hooks: {
          onMessage: ((m: Message) => {
            handled.push(String(m.data));
            watch.changed();
            return nextFailure();
          }) as never,
        },
      }),
    );
    const errors = hookErrors(client);
    client.on('message', () => {
      throw make();
    });
    await client.start();
    // A pending request, so that every incoming message goes through requests.key.response.
    const pending = client.request('pending', { timeoutMs: 60_000 }).catch((e: unknown) => e);
    const sent = ['pending', 'm0', 'm1', 'm2', 'm3', 'm4', 'm5', 'after'];
    for (const m of sent.slice(1)) client.send(m);
    await watch.until(() => handled.length >= sent.length, 'every echo handled');
    expect(handled).toEqual(sent);
    await client.stop();
    expect(await pending).toMatchObject({ code: 'WSM_ERR_CLIENT_STOPPED' });
    await nothingEscaped();
    expect(new Set(errors.hooks())).toEqual(
      new Set(['prepare', 'requests.key.response', "'message' listener", 'onMessage']),
    );
    expectSafe(errors.all);
    note(
      `${valueName}: every message handled in order; prepare, key.response, the listener and onMessage reported as WSM_ERR_HOOK`,
    );
  });

  it('heartbeat.isPong fails on every message (throw, reject): each message still reaches onMessage', async () => {
    const server = await startWsServer({ echo: true });
    const handled: string[] = [];
    const watch = new Watch();
    let i = 0;
    const client = track(
      createClient({
        url: server.url,
        heartbeat: {
          intervalMs: 60_000,
          timeoutMs: 1_000,
          message: 'app-ping',
          isPong: () => failing(MODES[i++ % 2]!, make)() as boolean,
        },
        hooks: {
          onMessage: (m: Message) => {
            handled.push(String(m.data));
            watch.changed();
          },
        },
      }),
    );
    const errors = hookErrors(client);
    await client.start();
    for (const m of ['a', 'b', 'c']) client.send(m);
    await watch.until(() => handled.length >= 3, 'three echoes');
    expect(handled).toEqual(['a', 'b', 'c']);
    await client.stop();
    await nothingEscaped();
    expect(new Set(errors.hooks())).toEqual(new Set(['heartbeat.isPong']));
    expectSafe(errors.all);
  });

  it.each(MODES)(
    'onOpen %s: start() settles with a StartError whose message and cause say onOpen failed',
    async (mode) => {
      const note = observe(46);
      const server = await startWsServer();
      const client = track(
        createClient({ url: server.url, heartbeat: false, hooks: { onOpen: failing(mode, make) as never } }),
      );
      const errors = hookErrors(client);
      const outcome = await client.start().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(outcome).toBeInstanceOf(StartError);
      const start = outcome as StartError;
      expect(start.message).toMatch(/onOpen/);
      expect(isWsmError(start.cause)).toBe(true);
      expect((start.cause as WsmError).code).toBe('WSM_ERR_HOOK');
      expect((start.cause as WsmError).message).toMatch(/onOpen/);
      expect(client.state).toBe('stopped');
      await nothingEscaped();
      expect(errors.hooks()).toContain('onOpen');
      expectSafe(errors.all);
      note(`${valueName}, onOpen ${mode}: start() rejected "${start.message.slice(0, 90)}"`);
    },
  );

  it.each(MODES)(
    'onClose %s: stop() settles, the default close frame (1000) goes out, reported as WSM_ERR_HOOK',
    async (mode) => {
      const server = await startWsServer();
      const client = track(
        createClient({ url: server.url, heartbeat: false, hooks: { onClose: failing(mode, make) as never } }),
      );
      const errors = hookErrors(client);
      await client.start();
      await client.stop();
      expect(client.state).toBe('stopped');
      expect(await server.waitForClosed(0)).toEqual({ code: 1000, reason: '' });
      await nothingEscaped();
      expect(errors.hooks()).toEqual(['onClose']);
      expectSafe(errors.all);
    },
  );

  it.each(MODES)('onError %s: the client carries on; the failure is printed, safely', async (mode) => {
    const server = await startWsServer({ echo: true });
    const printed: unknown[][] = [];
    // Formatted the way console.error formats (util.inspect), so a value that breaks printing shows.
    vi.spyOn(console, 'error').mockImplementation(
      (...args: unknown[]) => void printed.push([format(...args)]),
    );
    const handled: string[] = [];
    const watch = new Watch();
    const client = track(
      createClient({
        url: server.url,
        heartbeat: false,
        hooks: {
          onError: failing(mode, make) as never,
          onMessage: (m: Message) => {
            handled.push(String(m.data));
            watch.changed();
            if (m.data === 'fail') throw new Error('a handler error, for onError to see');
          },
        },
      }),
    );
    await client.start();
    client.send('fail');
    client.send('next');
    await watch.until(() => handled.length >= 2, 'both echoes');
    expect(handled).toEqual(['fail', 'next']);
    await client.stop();
    await nothingEscaped();
    expect(printed.filter((args) => String(args[0]).includes('onError'))).toHaveLength(1);
  });

  it.each(MODES)(
    'reconnect.shouldReconnect, reconnect.random and onRestartError %s: reported, and the client reconnects with the default decision',
    async (mode) => {
      const server = await startWsServer();
      const client = track(
        createClient({
          url: server.url,
          heartbeat: false,
          reconnect: {
            baseDelayMs: 1,
            maxDelayMs: 1,
            shouldReconnect: failing(mode, make) as never,
            random: failing(mode, make) as never,
          },
          hooks: { onRestartError: failing(mode, make) as never },
        }),
      );
      const errors = hookErrors(client);
      await client.start();
      // The server goes away: the reconnect attempts fail (onRestartError), then it comes back.
      await server.close();
      await waitFor(client, () => client.stats().dials >= 3, 'two failed reconnect dials');
      await server.restart();
      await waitFor(client, () => client.isOpen && client.sessionId > 1, 'reopened');
      await client.stop();
      await nothingEscaped();
      const hooks = new Set(errors.hooks());
      expect(hooks.has('onRestartError')).toBe(true);
      expect(hooks.has('reconnect.random')).toBe(true);
      expect(hooks.has('reconnect.shouldReconnect')).toBe(true);
      expectSafe(errors.all);
    },
  );

  it.each(MODES)(
    'requests.key.request %s: that request rejects with WSM_ERR_HOOK; nothing is sent',
    async (mode) => {
      const server = await startWsServer({ echo: true });
      const client = track(
        createClient({
          url: server.url,
          heartbeat: false,
          requests: { key: { request: failing(mode, make), response: (m) => String(m.data) } },
        }),
      );
      await client.start();
      const rejection = await client.request('q', { timeoutMs: 2_000 }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(isWsmError(rejection)).toBe(true);
      expect(rejection).toMatchObject({ code: 'WSM_ERR_HOOK', hook: 'requests.key.request' });
      expectSafe([rejection as WsmError]);
      expect(client.stats().messagesOut).toBe(0);
      await client.stop();
      await nothingEscaped();
    },
  );

  it.each(MODES)(
    'requests.match %s: reported, and the reply is an ordinary message for onMessage',
    async (mode) => {
      const server = await startWsServer({ echo: true });
      const handled: string[] = [];
      const watch = new Watch();
      const client = track(
        createClient({
          url: server.url,
          heartbeat: false,
          requests: { match: failing(mode, make) as never },
          hooks: {
            onMessage: (m: Message) => {
              handled.push(String(m.data));
              watch.changed();
            },
          },
        }),
      );
      const errors = hookErrors(client);
      await client.start();
      const pending = client.request('r1', { timeoutMs: 200 }).then(
        () => 'resolved',
        (e: unknown) => (isWsmError(e) ? e.code : 'untyped'),
      );
      await watch.until(() => handled.includes('r1'), 'the reply as an ordinary message');
      expect(await pending).toBe('WSM_ERR_REQUEST_TIMEOUT');
      await client.stop();
      await nothingEscaped();
      // A throw is reported once; a rejected promise twice: "returned a promise", then its rejection.
      expect(errors.hooks()).toEqual(
        mode === 'throws' ? ['requests.match'] : ['requests.match', 'requests.match'],
      );
      expectSafe(errors.all);
    },
  );

  it.each(MODES)(
    'the url function %s: start() settles with a StartError, with a safe description',
    async (mode) => {
      const client = track(createClient({ url: failing(mode, make) as never, heartbeat: false }));
      const errors = hookErrors(client);
      const outcome = await client.start().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(outcome).toBeInstanceOf(StartError);
      expect(client.state).toBe('stopped');
      await nothingEscaped();
      expectSafe([outcome as WsmError, ...errors.all]);
    },
  );

  it('listeners of state, open and close that throw it: start() and stop() settle, each reported', async () => {
    const server = await startWsServer();
    const client = track(createClient({ url: server.url, heartbeat: false }));
    const errors = hookErrors(client);
    const thrower = () => {
      throw make();
    };
    client.on('state', thrower);
    client.on('open', thrower);
    client.on('close', thrower);
    await client.start();
    await client.stop();
    expect(client.state).toBe('stopped');
    await nothingEscaped();
    expect(new Set(errors.hooks())).toEqual(
      new Set(["'state' listener", "'open' listener", "'close' listener"]),
    );
    expectSafe(errors.all);
  });
});

describe('a thenable whose then throws, returned (resolved) from async user code', () => {
  const thenable = HOSTILE.find(([name]) => name === 'a thenable whose then throws')![1];
  const resolvesWith = () => (async () => thenable()) as never;

  it('onOpen resolving with it: start() settles with StartError (onOpen failed); onClose resolving with it: stop() settles', async () => {
    const server = await startWsServer();
    const opening = track(
      createClient({ url: server.url, heartbeat: false, hooks: { onOpen: resolvesWith() } }),
    );
    const openErrors = hookErrors(opening);
    const outcome = (await opening.start().catch((e: unknown) => e)) as StartError;
    expect(outcome).toBeInstanceOf(StartError);
    expect(outcome.message).toMatch(/onOpen/);
    const closing = track(
      createClient({ url: server.url, heartbeat: false, hooks: { onClose: resolvesWith() as never } }),
    );
    const closeErrors = hookErrors(closing);
    await closing.start();
    await closing.stop();
    expect(closing.state).toBe('stopped');
    await nothingEscaped();
    expect(openErrors.hooks()).toContain('onOpen');
    expect(closeErrors.hooks()).toEqual(['onClose']);
    expectSafe([...openErrors.all, ...closeErrors.all]);
  });

  it('onMessage and onRestartError resolving with it: reported; the next message is handled', async () => {
    const server = await startWsServer({ echo: true });
    const handled: string[] = [];
    const watch = new Watch();
    const client = track(
      createClient({
        url: server.url,
        heartbeat: false,
        hooks: {
          onMessage: (async (m: Message) => {
            handled.push(String(m.data));
            watch.changed();
            return thenable();
          }) as never,
        },
      }),
    );
    const errors = hookErrors(client);
    await client.start();
    client.send('one');
    client.send('two');
    await watch.until(() => handled.length >= 2, 'both echoes');
    expect(handled).toEqual(['one', 'two']);
    await client.stop();
    await nothingEscaped();
    expect(errors.hooks()).toEqual(['onMessage', 'onMessage']);
    expectSafe(errors.all);
  });
});

describe('asynchronous listeners', () => {
  it.each(HOSTILE)(
    'a message listener that rejects with %s: reported as WSM_ERR_HOOK, never an unhandled rejection',
    async (_name, make) => {
      const server = await startWsServer({ echo: true });
      const client = track(createClient({ url: server.url, heartbeat: false }));
      const errors = hookErrors(client);
      const watch = new Watch();
      let seen = 0;
      client.on('message', async () => {
        seen++;
        watch.changed();
        throw make();
      });
      errors.all.length = 0;
      client.on('error', () => watch.changed());
      await client.start();
      client.send('one');
      client.send('two');
      await watch.until(() => seen === 2 && errors.hooks().length === 2, 'both rejections reported');
      await nothingEscaped();
      expect(errors.hooks()).toEqual(["'message' listener", "'message' listener"]);
      expectSafe(errors.all);
    },
  );
});

describe('throw undefined in onOpen', () => {
  it('start() rejects StartError whose message and cause say onOpen failed (not a misleading close)', async () => {
    const note = observe(46);
    const server = await startWsServer();
    const client = track(
      createClient({
        url: server.url,
        heartbeat: false,
        hooks: {
          onOpen: () => {
            throw undefined;
          },
        },
      }),
    );
    client.on('error', () => {});
    const error = (await client.start().catch((e: unknown) => e)) as StartError;
    expect(error).toBeInstanceOf(StartError);
    expect(error.message).toBe('Could not start: onOpen failed: The onOpen hook threw: undefined');
    expect(error.cause).toMatchObject({ code: 'WSM_ERR_HOOK', hook: 'onOpen' });
    expect(error.message).not.toMatch(/1001|reconnect policy/);
    expect(client.state).toBe('stopped');
    note(`throw undefined in onOpen: start() rejected "${error.message}"`);
  });
});
