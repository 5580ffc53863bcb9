/**
 * Connection policy against real peers (issue 4): what the client does after each class of close
 * code and handshake rejection, Retry-After, open timeouts, per-attempt url/headers functions and
 * their abort signal, the shouldReconnect override, close-code validation, and the spread of a
 * reconnect storm (deterministic, seeded).
 *
 * Time is collapsed through small option values; every wait is on an event or a promise.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { backoffDelay } from '../../src/core/backoff.js';
import { DEFAULTS } from '../../src/core/options.js';
import {
  ClientStoppedError,
  ConnectError,
  HandshakeError,
  HookError,
  InvalidCloseError,
  OpenTimeoutError,
  StartError,
} from '../../src/core/errors.js';
import type { AttemptInfo } from '../../src/core/types.js';
import { createClient } from '../../src/node.js';
import type { ClientOptions } from '../../src/types.js';
import {
  type LiveServer,
  type LiveServerOptions,
  mulberry32,
  nextEvent,
  startHangServer,
  startLiveServer,
  within,
} from '../helpers/liveness-servers.js';

type Client = ReturnType<typeof createClient>;

const cleanups: Array<() => Promise<void> | void> = [];

afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

async function server(options?: LiveServerOptions): Promise<LiveServer> {
  const s = await startLiveServer(options);
  cleanups.push(() => s.close());
  return s;
}

/** A client whose errors are collected (not printed) and which is stopped after the test. */
function client(options: ClientOptions): { c: Client; errors: unknown[] } {
  const c = createClient({ openTimeoutMs: 2_000, closeTimeoutMs: 200, heartbeat: false, ...options });
  const errors: unknown[] = [];
  c.on('error', (e) => errors.push(e));
  cleanups.push(() => c.stop());
  return { c, errors };
}

/** A server that closes its first connection with `code` and keeps later ones open. */
function closingFirstWith(code: number): LiveServerOptions {
  return {
    onConnection: (conn) => {
      if (conn.n === 1) conn.ws.close(code, `bye ${code}`);
    },
  };
}

describe('server close codes: retry or stop as the policy table says', () => {
  it.each([1001, 1011, 1012, 1014, 4000])('%i -> transient: reconnects', async (code) => {
    const s = await server(closingFirstWith(code));
    const { c } = client({ url: s.url, reconnect: { baseDelayMs: 0, maxDelayMs: 0 } });
    const closed = nextEvent(c, 'close');
    const reconnecting = nextEvent(c, 'reconnecting');
    const reopened = nextEvent(c, 'open', (o) => o.restarting);
    await c.start();
    const close = await closed;
    expect(close.code).toBe(code);
    expect(close.reason).toBe(`bye ${code}`);
    expect(close.wasClean).toBe(true);
    expect(close.class).toBe('transient');
    const r = await reconnecting;
    expect(r.attempt).toBe(1);
    expect(r.delayMs).toBe(0);
    expect(r.cause).toMatchObject({ code, reason: `bye ${code}` });
    await reopened;
    expect(c.state).toBe('open');
    expect(s.connections.length).toBe(2);
  });

  it('1013 (try again later) reconnects after a longer delay than a network blip', async () => {
    const s = await server(closingFirstWith(1013));
    const { c } = client({ url: s.url, reconnect: { baseDelayMs: 10, maxDelayMs: 1_000 } });
    const reconnecting = nextEvent(c, 'reconnecting');
    const reopened = nextEvent(c, 'open', (o) => o.restarting);
    await c.start();
    const r = await reconnecting;
    // Full jitter alone would give at most baseDelayMs (10 ms) for the first reconnect.
    expect(r.delayMs).toBeGreaterThanOrEqual(50);
    await reopened;
  });

  it.each([1002, 1003, 1008])('%i -> fatal: stops with a `stopped` event', async (code) => {
    const s = await server(closingFirstWith(code));
    const { c } = client({ url: s.url, reconnect: { baseDelayMs: 0, maxDelayMs: 0 } });
    let reconnects = 0;
    c.on('reconnecting', () => reconnects++);
    const closed = nextEvent(c, 'close');
    const stopped = nextEvent(c, 'stopped');
    await c.start();
    const close = await closed;
    expect(close.code).toBe(code);
    expect(close.class).toBe('fatal');
    const st = await stopped;
    expect(st.error).toMatchObject({ closeCode: code });
    expect(c.state).toBe('stopped');
    expect(reconnects).toBe(0);
    expect(s.upgrades.length).toBe(1);
  });

  it('4403 with a static url -> auth, not refreshable: stops', async () => {
    const s = await server(closingFirstWith(4403));
    const { c } = client({ url: s.url, reconnect: { baseDelayMs: 0, maxDelayMs: 0 } });
    const closed = nextEvent(c, 'close');
    const stopped = nextEvent(c, 'stopped');
    await c.start();
    expect((await closed).class).toBe('auth');
    await stopped;
    expect(c.state).toBe('stopped');
    expect(s.upgrades.length).toBe(1);
  });

  it('4403 with a url function -> auth, refreshable: reconnects and asks for the url again', async () => {
    const s = await server(closingFirstWith(4403));
    const calls: AttemptInfo[] = [];
    const { c } = client({
      url: (info) => {
        calls.push(info);
        return s.url;
      },
      reconnect: { baseDelayMs: 0, maxDelayMs: 0 },
    });
    const reopened = nextEvent(c, 'open', (o) => o.restarting);
    await c.start();
    await reopened;
    expect(calls.length).toBe(2);
    expect(calls[1]!.lastClose).toMatchObject({ code: 4403 });
  });
});

describe('handshake rejections', () => {
  /** Accepts only `token2`, from the query or an Authorization header; 401 otherwise. */
  const onlyToken2: LiveServerOptions = {
    onUpgrade: (_n, req) => {
      const url = new URL(req.url ?? '/', 'http://x');
      const ok = url.searchParams.get('token') === 'token2' || req.headers.authorization === 'Bearer token2';
      return ok ? 'accept' : { status: 401 };
    },
  };

  it('401 with a url function: called again with a new token, the second attempt succeeds', async () => {
    const s = await server(onlyToken2);
    const calls: AttemptInfo[] = [];
    const { c, errors } = client({
      url: async (info) => {
        calls.push(info);
        return `${s.url}?token=token${calls.length}`;
      },
      reconnect: { baseDelayMs: 0, maxDelayMs: 0, retryOnStart: true },
    });
    const closed = nextEvent(c, 'close');
    await c.start();
    const close = await closed;
    expect(close.status).toBe(401);
    expect(close.class).toBe('auth');
    expect(calls.map((i) => i.attempt)).toEqual([0, 1]);
    expect(calls[0]!.signal).toBeInstanceOf(AbortSignal);
    expect(calls[0]!.lastClose).toBeUndefined();
    expect(calls[1]!.lastClose).toMatchObject({ code: 1006, status: 401 });
    expect(s.upgrades.map((u) => u.url)).toEqual(['/?token=token1', '/?token=token2']);
    expect(errors.some((e) => e instanceof HandshakeError && e.status === 401)).toBe(true);
    expect(c.state).toBe('open');
  });

  it('401 with a headers function: new credentials on the next attempt', async () => {
    const s = await server(onlyToken2);
    let n = 0;
    const seen: AttemptInfo[] = [];
    const { c } = client({
      url: s.url,
      headers: async (info) => {
        seen.push(info);
        n++;
        return { authorization: `Bearer token${n}` };
      },
      reconnect: { baseDelayMs: 0, maxDelayMs: 0, retryOnStart: true },
    });
    await c.start();
    expect(seen.map((i) => i.attempt)).toEqual([0, 1]);
    expect(seen[1]!.lastClose).toMatchObject({ status: 401 });
    expect(s.upgrades.map((u) => u.headers.authorization)).toEqual(['Bearer token1', 'Bearer token2']);
    expect(c.state).toBe('open');
  });

  it('401 with a static url and static headers: stops (retrying the same credentials is pointless)', async () => {
    const s = await server(onlyToken2);
    const { c } = client({
      url: `${s.url}?token=token1`,
      reconnect: { baseDelayMs: 0, maxDelayMs: 0, retryOnStart: true },
    });
    const stopped = nextEvent(c, 'stopped');
    const error = await c.start().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(StartError);
    expect((error as StartError).cause).toBeInstanceOf(HandshakeError);
    expect(((error as StartError).cause as HandshakeError).status).toBe(401);
    await stopped;
    expect(c.state).toBe('stopped');
    expect(s.upgrades.length).toBe(1);
  });

  it('503 with Retry-After: 1 -> the next attempt is not earlier than 1 s later', async () => {
    const s = await server({
      onUpgrade: (n) => (n === 1 ? { status: 503, headers: { 'Retry-After': '1' } } : 'accept'),
    });
    const { c } = client({
      url: s.url,
      reconnect: { baseDelayMs: 0, maxDelayMs: 0, retryOnStart: true },
    });
    const reconnecting = nextEvent(c, 'reconnecting');
    await c.start();
    const r = await reconnecting;
    expect(r.delayMs).toBeGreaterThanOrEqual(1_000);
    expect(r.cause).toBeInstanceOf(HandshakeError);
    expect((r.cause as HandshakeError).status).toBe(503);
    expect((r.cause as HandshakeError).retryAfterMs).toBe(1_000);
    const [first, second] = s.upgrades;
    // Measured at the server, between the two upgrade requests.
    expect(second!.at - first!.at).toBeGreaterThanOrEqual(1_000);
  });

  it('a port that accepts TCP but never upgrades -> open timeout, then a retry', async () => {
    const hang = await startHangServer();
    cleanups.push(() => hang.close());
    const { c, errors } = client({
      url: hang.url,
      openTimeoutMs: 150,
      reconnect: { baseDelayMs: 0, maxDelayMs: 0, retryOnStart: true },
    });
    const reconnecting = nextEvent(c, 'reconnecting');
    const started = c.start().catch((e: unknown) => e);
    const r = await reconnecting;
    expect(r.attempt).toBe(1);
    expect(r.cause).toBeInstanceOf(OpenTimeoutError);
    await within(hang.acceptedAtLeast(2), 'a second connection');
    expect(hang.accepted).toBeGreaterThanOrEqual(2);
    expect(errors.some((e) => e instanceof OpenTimeoutError)).toBe(true);
    await c.stop();
    expect(await started).toBeInstanceOf(StartError);
  });
});

describe('per-attempt url and headers functions', () => {
  it('stop() aborts the signal of a pending url function', async () => {
    let seen: AttemptInfo | undefined;
    let called!: () => void;
    const calledP = new Promise<void>((resolve) => {
      called = resolve;
    });
    const { c } = client({
      url: (info) => {
        seen = info;
        called();
        // Never resolves on its own: only the abort ends it.
        return new Promise<string>((_, reject) => {
          info.signal.addEventListener('abort', () => reject(info.signal.reason));
        });
      },
    });
    const started = c.start().catch((e: unknown) => e);
    await within(calledP, 'the url function is called');
    expect(seen!.signal.aborted).toBe(false);
    expect(c.state).toBe('connecting');
    await c.stop();
    expect(seen!.signal.aborted).toBe(true);
    expect(seen!.signal.reason).toBeInstanceOf(ClientStoppedError);
    const error = await started;
    expect(error).toBeInstanceOf(StartError);
    expect((error as StartError).cause).toBeInstanceOf(ClientStoppedError);
    expect(c.state).toBe('stopped');
  });

  it('a url function that throws counts as a failed attempt, with its error as the cause', async () => {
    const s = await server();
    const boom = new Error('token service down');
    let calls = 0;
    const { c, errors } = client({
      url: () => {
        calls++;
        if (calls === 1) throw boom;
        return s.url;
      },
      reconnect: { baseDelayMs: 0, maxDelayMs: 0, retryOnStart: true },
    });
    const reconnecting = nextEvent(c, 'reconnecting');
    await c.start();
    const r = await reconnecting;
    expect(r.attempt).toBe(1);
    expect(r.cause).toBeInstanceOf(ConnectError);
    expect((r.cause as ConnectError).cause).toBe(boom);
    const reported = errors.find((e) => e instanceof ConnectError) as ConnectError | undefined;
    expect(reported?.cause).toBe(boom);
    expect(calls).toBe(2);
    expect(s.upgrades.length).toBe(1);
    expect(c.state).toBe('open');
  });
});

describe('shouldReconnect override', () => {
  it('can retry a fatal close (1008)', async () => {
    const s = await server(closingFirstWith(1008));
    const infos: unknown[] = [];
    const { c } = client({
      url: s.url,
      reconnect: {
        baseDelayMs: 0,
        maxDelayMs: 0,
        shouldReconnect: (info) => {
          infos.push(info);
          return true;
        },
      },
    });
    const reopened = nextEvent(c, 'open', (o) => o.restarting);
    await c.start();
    await reopened;
    expect(infos).toEqual([
      expect.objectContaining({
        class: 'fatal',
        code: 1008,
        reason: 'bye 1008',
        attempt: 1,
        defaultDecision: false,
      }),
    ]);
  });

  it('can stop on a transient close (1012)', async () => {
    const s = await server(closingFirstWith(1012));
    const { c } = client({
      url: s.url,
      reconnect: { baseDelayMs: 0, maxDelayMs: 0, shouldReconnect: () => false },
    });
    const stopped = nextEvent(c, 'stopped');
    await c.start();
    await stopped;
    expect(c.state).toBe('stopped');
    expect(s.upgrades.length).toBe(1);
  });
});

describe('close codes a client must never send', () => {
  it.each([
    [{ code: 1005 }],
    [{ code: 1006 }],
    [{ code: 1015 }],
    [{ code: 999 }],
    [{ code: 5000 }],
    [{ code: 1000, reason: 'x'.repeat(124) }],
  ])('stop(%o) is refused with InvalidCloseError and has no effect', async (opts) => {
    const s = await server();
    const { c } = client({ url: s.url });
    await c.start();
    const conn = await s.connection(1);
    await expect(c.stop(opts)).rejects.toBeInstanceOf(InvalidCloseError);
    expect(c.state).toBe('open');
    await c.stop();
    const seen = await within(conn.closed, 'server-side close');
    expect(seen.code).toBe(1000);
  });

  it('onClose returning { code: 1006 } is refused and the default code goes on the wire', async () => {
    const s = await server();
    const { c, errors } = client({ url: s.url, hooks: { onClose: () => ({ code: 1006 }) } });
    await c.start();
    const conn = await s.connection(1);
    await c.stop();
    const seen = await within(conn.closed, 'server-side close');
    expect(seen.code).toBe(1000);
    const refused = errors.find((e) => e instanceof HookError) as HookError | undefined;
    expect(refused?.hook).toBe('onClose');
    expect(refused?.cause).toBeInstanceOf(InvalidCloseError);
  });
});

describe('reconnect storm (deterministic)', () => {
  /** The largest number of delays inside any half-open 100 ms window. */
  function busiestWindow(delays: number[], windowMs = 100): number {
    const sorted = [...delays].sort((a, b) => a - b);
    let best = 0;
    let lo = 0;
    for (let hi = 0; hi < sorted.length; hi++) {
      while (sorted[hi]! - sorted[lo]! >= windowMs) lo++;
      best = Math.max(best, hi - lo + 1);
    }
    return best;
  }

  const CLIENTS = 200;

  it.each([1, 42, 2024, 0xdecaf])(
    'defaults (full jitter), seed %i: no 100 ms window holds over 25%%',
    (seed) => {
      const random = mulberry32(seed);
      const delays = Array.from({ length: CLIENTS }, () => backoffDelay(DEFAULTS.reconnect, 1, random));
      expect(delays.every((d) => d >= 0 && d <= DEFAULTS.reconnect.baseDelayMs)).toBe(true);
      expect(busiestWindow(delays)).toBeLessThanOrEqual(CLIENTS * 0.25);
    },
  );

  it("jitter 'none': one window holds at least 86%", () => {
    const random = mulberry32(7);
    const policy = { ...DEFAULTS.reconnect, jitter: 'none' as const };
    const delays = Array.from({ length: CLIENTS }, () => backoffDelay(policy, 1, random));
    expect(busiestWindow(delays)).toBeGreaterThanOrEqual(CLIENTS * 0.86);
  });
});
