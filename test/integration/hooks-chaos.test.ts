/**
 * User code at its worst (issue 11, "Beyond single scenarios"): every hook and user function throws
 * (sync and async), is slow or never settles, or calls stop() from inside; start() twice; start()
 * after stop(). The client must report each failure with the hook's name, carry on (or stop when
 * asked), settle stop() within its bounds, and never reach XState's `error` status.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { type WsClient, createClient, isWsmError } from '../../src/node.js';
import type { ClientOptions } from '../../src/types.js';
import {
  type Recorder,
  type TestWsServer,
  cleanup,
  events,
  startRejectingServer,
  startWsServer,
  track,
  waitFor,
} from '../helpers/servers.js';

afterEach(async () => {
  await cleanup();
  vi.restoreAllMocks();
});

function make(options: ClientOptions): { client: WsClient; rec: Recorder } {
  const client = track(
    createClient({ heartbeat: false, closeTimeoutMs: 200, reconnect: { baseDelayMs: 0 }, ...options }),
  );
  return { client, rec: events(client) };
}

const hookErrors = (rec: Recorder) =>
  rec
    .of('error')
    .filter((e) => e.code === 'WSM_ERR_HOOK')
    .map((e) => (e as { hook?: string }).hook);

/** A failure of user code: a sync throw or a rejected promise. */
type Failure = 'throws' | 'rejects';
const fail = (kind: Failure, what: string) => {
  const error = new Error(`${what} ${kind}`);
  if (kind === 'throws') throw error;
  return Promise.reject(error);
};

describe('throwing user code is reported with its name and the client carries on', () => {
  it.each<Failure>(['throws', 'rejects'])(
    'onMessage %s: every message still reaches it, the session stays',
    async (kind) => {
      const server = await startWsServer({ echo: true });
      let calls = 0;
      const { client, rec } = make({
        url: server.url,
        hooks: {
          onMessage: () => {
            calls++;
            return fail(kind, 'onMessage') as never;
          },
        },
      });
      await client.start();
      client.send('a');
      client.send('b');
      await waitFor(client, () => hookErrors(rec).length === 2, 'two hook errors');
      expect(calls).toBe(2);
      expect(hookErrors(rec)).toEqual(['onMessage', 'onMessage']);
      expect(client.state).toBe('open');
    },
  );

  it.each<Failure>(['throws', 'rejects'])(
    'onClose %s: reported, the default frame goes out, the client reconnects',
    async (kind) => {
      const server = await startWsServer();
      const { client, rec } = make({
        url: server.url,
        hooks: { onClose: () => fail(kind, 'onClose') as never },
      });
      await client.start();
      client.restart('test');
      await waitFor(client, () => rec.of('open').length === 2, 'reopened');
      expect(hookErrors(rec)).toContain('onClose');
      expect((await server.waitForClosed(0)).code).toBe(1001);
    },
  );

  it.each<Failure>(['throws', 'rejects'])(
    'onOpen %s on a reconnect: that session closes and the client retries',
    async (kind) => {
      const server = await startWsServer();
      let opens = 0;
      const { client, rec } = make({
        url: server.url,
        hooks: {
          onOpen: () => {
            opens++;
            // The first start succeeds; the next two sessions fail in onOpen; then it works again.
            return opens === 2 || opens === 3 ? (fail(kind, 'onOpen') as never) : undefined;
          },
        },
      });
      await client.start();
      server.terminateAll();
      await waitFor(client, () => rec.of('open').length === 2, 'open after two failed onOpen');
      expect(opens).toBe(4);
      expect(rec.of('error').filter((e) => (e as { hook?: string }).hook === 'onOpen')).toHaveLength(2);
    },
  );

  it.each<Failure>(['throws', 'rejects'])(
    'onRestartError %s: reported, reconnecting continues',
    async (kind) => {
      const server = await startRejectingServer(503);
      const { client, rec } = make({
        url: server.url,
        reconnect: { baseDelayMs: 0, retryOnStart: true },
        hooks: { onRestartError: () => fail(kind, 'onRestartError') as never },
      });
      void client.start().catch(() => {});
      await waitFor(
        client,
        () => hookErrors(rec).filter((h) => h === 'onRestartError').length >= 2,
        'two reports',
      );
      expect(client.state === 'reconnecting' || client.state === 'connecting').toBe(true);
      await client.stop();
      expect(client.actor.getSnapshot().status).toBe('active');
    },
  );

  it('onError throws: the client reports that on console.error and carries on', async () => {
    const lines: string[] = [];
    vi.spyOn(console, 'error').mockImplementation((...args: unknown[]) => {
      lines.push(args.map(String).join(' '));
    });
    const server = await startWsServer({ echo: true });
    let seen = 0;
    const client = track(
      createClient({
        url: server.url,
        heartbeat: false,
        hooks: {
          onMessage: () => {
            throw new Error('handler');
          },
          onError: () => {
            seen++;
            throw new Error('onError itself');
          },
        },
      }),
    );
    await client.start();
    client.send('x');
    client.send('y');
    await waitFor(client, () => seen === 2 && client.stats().messagesIn === 2, 'two errors');
    expect(lines.some((l) => l.includes('the onError hook threw'))).toBe(true);
    expect(client.state).toBe('open');
  });

  it('user functions throw (url, headers, prepare, key, match, isPong, heartbeat.message, shouldReconnect, random): reported, never the error status', async () => {
    const server = await startWsServer({ echo: true });
    const boom = (name: string) => () => {
      throw new Error(`${name} boom`);
    };
    // Each user function throws once, then behaves: the client must survive every one of them.
    const once = <T>(name: string, then: T) => {
      let thrown = false;
      return ((...args: unknown[]) => {
        if (!thrown) {
          thrown = true;
          boom(name)();
        }
        return typeof then === 'function' ? (then as (...a: unknown[]) => unknown)(...args) : then;
      }) as never;
    };
    const { client, rec } = make({
      url: once('url', server.url),
      headers: once('headers', { 'x-test': '1' }),
      prepare: once('prepare', () => 'prepared'),
      requests: {
        key: {
          request: (data: unknown) => String(data),
          response: once('key.response', (m: { data: unknown }) => String(m.data)),
        },
      },
      heartbeat: {
        intervalMs: 40,
        timeoutMs: 400,
        message: once('heartbeat.message', () => 'hb'),
        isPong: once('isPong', (m: { data: unknown }) => m.data === 'hb'),
      },
      reconnect: {
        baseDelayMs: 0,
        retryOnStart: true,
        shouldReconnect: once('shouldReconnect', () => true),
        random: once('random', () => 0.5),
      },
    });
    await client.start();
    client.send('plain');
    await expect(client.request('r1', { timeoutMs: 2_000 })).resolves.toBeDefined();
    server.terminateAll();
    await waitFor(client, () => rec.of('open').length >= 2, 'reopened after a drop', 8_000);
    await waitFor(client, () => rec.of('pong').length >= 2, 'heartbeat pongs');
    const reported = new Set(hookErrors(rec));
    for (const hook of ['prepare', 'heartbeat.message', 'reconnect.shouldReconnect', 'reconnect.random']) {
      expect(reported, `${hook} reported (got ${[...reported].join(', ')})`).toContain(hook);
    }
    // The url/headers functions' throws end that attempt as a failed dial, with the cause.
    expect(
      rec.of('close').some((c) => String((c.error as Error | undefined)?.message).includes('url function')),
    ).toBe(true);
    expect(client.actor.getSnapshot().status).toBe('active');
    await client.stop();
    expect(client.state).toBe('stopped');
  });
});

describe('slow user code is bounded', () => {
  it('onOpen that never settles: openTimeoutMs fails the start, nothing left running', async () => {
    const server = await startWsServer();
    const { client } = make({
      url: server.url,
      openTimeoutMs: 150,
      hooks: { onOpen: () => new Promise(() => {}) },
    });
    const error = await client.start().catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'WSM_ERR_START', cause: { code: 'WSM_ERR_OPEN_TIMEOUT' } });
    expect(client.state).toBe('stopped');
  });

  it('onClose that never settles: stop() still settles after closeTimeoutMs', async () => {
    const server = await startWsServer();
    const { client } = make({ url: server.url, hooks: { onClose: () => new Promise(() => {}) } });
    await client.start();
    const t0 = performance.now();
    await client.stop();
    expect(performance.now() - t0).toBeLessThan(1_500);
    expect((await server.waitForClosed(0)).code).toBe(1000);
  });

  it('onMessage that never settles: stop() does not wait for it, and aborts its session.signal', async () => {
    const server = await startWsServer({ echo: true });
    let running!: (signal: AbortSignal) => void;
    const handlerSignal = new Promise<AbortSignal>((resolve) => {
      running = resolve;
    });
    const { client } = make({
      url: server.url,
      hooks: {
        onMessage: (_m, session) => {
          running(session.signal);
          return new Promise(() => {});
        },
      },
    });
    await client.start();
    client.send('x');
    const signal = await handlerSignal;
    expect(signal.aborted).toBe(false);
    await client.stop();
    expect(signal.aborted).toBe(true);
    expect(client.state).toBe('stopped');
  });

  it('onRestartError and the url function slow or never settling: reconnects and stop() are not held up', async () => {
    const server = await startRejectingServer(503);
    let calls = 0;
    const { client, rec } = make({
      url: () => {
        calls++;
        // Every third attempt the url function hangs: the open timeout ends that attempt.
        return calls % 3 === 0 ? new Promise<string>(() => {}) : server.url;
      },
      openTimeoutMs: 100,
      reconnect: { baseDelayMs: 0, retryOnStart: true },
      hooks: { onRestartError: () => new Promise(() => {}) },
    });
    void client.start().catch(() => {});
    await waitFor(client, () => rec.of('reconnecting').length >= 5, 'five reconnects');
    expect(
      rec
        .of('close')
        .some((c) => (c.error as { code?: string } | undefined)?.code === 'WSM_ERR_OPEN_TIMEOUT'),
    ).toBe(true);
    await client.stop();
    expect(client.state).toBe('stopped');
  });
});

describe('stop() called from inside every hook', () => {
  async function server(): Promise<TestWsServer> {
    return startWsServer({ echo: true });
  }

  it('from onOpen (awaited): start() rejects ClientStoppedError, the client is stopped', async () => {
    const s = await server();
    let stopped: Promise<void> | undefined;
    const { client } = make({
      url: s.url,
      hooks: {
        onOpen: async () => {
          stopped = client.stop();
          await stopped;
        },
      },
    });
    const error = await client.start().catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'WSM_ERR_START', cause: { code: 'WSM_ERR_CLIENT_STOPPED' } });
    await stopped;
    expect(client.state).toBe('stopped');
  });

  it('from onMessage (awaited): stop settles, nothing reconnects', async () => {
    const s = await server();
    let done: Promise<void> | undefined;
    const { client, rec } = make({
      url: s.url,
      hooks: {
        onMessage: async () => {
          done = client.stop();
          await done;
        },
      },
    });
    await client.start();
    client.send('stop please');
    await waitFor(client, () => client.state === 'stopped', 'stopped');
    await done;
    expect(rec.of('reconnecting')).toEqual([]);
    expect((await s.waitForClosed(0)).code).toBe(1000);
  });

  it('from onClose during a restart (awaited): the stop wins (stopped, not reconnecting), bounded by closeTimeoutMs', async () => {
    const s = await server();
    let done: Promise<void> | undefined;
    const { client, rec } = make({
      url: s.url,
      hooks: {
        onClose: async () => {
          done = client.stop();
          await done;
        },
      },
    });
    await client.start();
    const t0 = performance.now();
    client.restart('then stop');
    await waitFor(client, () => client.state === 'stopped', 'stopped');
    await done;
    expect(performance.now() - t0).toBeLessThan(2_000);
    expect(rec.of('open')).toHaveLength(1);
  });

  it('from onError and from onRestartError: the client stops for good', async () => {
    for (const hook of ['onError', 'onRestartError'] as const) {
      const s = await startRejectingServer(503);
      let done: Promise<void> | undefined;
      const stopNow = () => {
        done ??= client.stop();
      };
      const client: WsClient = make({
        url: s.url,
        reconnect: { baseDelayMs: 0, retryOnStart: true },
        hooks: hook === 'onError' ? { onError: stopNow } : { onRestartError: stopNow },
      }).client;
      client.on('error', () => {});
      void client.start().catch(() => {});
      await waitFor(client, () => done !== undefined && client.state === 'stopped', `stopped from ${hook}`);
      await done;
      const upgrades = s.upgrades;
      expect(client.state).toBe('stopped');
      // No timer left to dial again: the count cannot grow.
      expect(s.upgrades).toBe(upgrades);
    }
  });

  it('from the url function and from event listeners (state, open, close, reconnecting): stopped each time', async () => {
    const s = await server();
    for (const where of ['url', 'state', 'open', 'close', 'reconnecting'] as const) {
      let done: Promise<void> | undefined;
      const holder: { client?: WsClient } = {};
      const stopNow = () => {
        done ??= holder.client!.stop();
      };
      const { client } = make({
        url:
          where === 'url'
            ? () => {
                stopNow();
                return s.url;
              }
            : s.url,
        reconnect: { baseDelayMs: 0, retryOnStart: true },
      });
      holder.client = client;
      if (where === 'state') client.on('state', ({ to }) => to === 'opening' && stopNow());
      if (where === 'open') client.on('open', stopNow);
      if (where === 'close') client.on('close', stopNow);
      if (where === 'reconnecting') client.on('reconnecting', stopNow);
      const started = client.start().catch((e: unknown) => e);
      if (where === 'close' || where === 'reconnecting') {
        await waitFor(client, () => client.isOpen || done !== undefined, 'open');
        if (client.isOpen) s.terminateAll();
      }
      await waitFor(client, () => done !== undefined && client.state === 'stopped', `stopped from ${where}`);
      await done;
      await started;
      expect(client.state, where).toBe('stopped');
      expect(client.actor.getSnapshot().status).toBe('active');
    }
  });
});

describe('start() misuse', () => {
  it('start() twice: the second rejects InvalidStateError at once, the first resolves; one connection', async () => {
    const s = await startWsServer();
    const { client } = make({ url: s.url });
    const first = client.start();
    const second = await client.start().catch((e: unknown) => e);
    expect(isWsmError(second) && second.code).toBe('WSM_ERR_INVALID_STATE');
    await first;
    expect(s.connections).toHaveLength(1);
  });

  it('start() after stop(), repeatedly, and from the stopped listener: a new session each time', async () => {
    const s = await startWsServer();
    const { client, rec } = make({ url: s.url });
    for (let i = 0; i < 3; i++) {
      await client.start();
      await client.stop();
    }
    expect(rec.of('open').map((o) => o.sessionId)).toEqual([1, 2, 3]);
    // start() from inside the `stopped` listener.
    let restarted: Promise<void> | undefined;
    const off = client.on('stopped', () => {
      off();
      restarted = client.start();
    });
    await client.start();
    await client.stop();
    await restarted;
    expect(client.state).toBe('open');
    expect(rec.of('open')).toHaveLength(5);
    await client.stop();
    expect(s.openConnections).toHaveLength(0);
  });
});
