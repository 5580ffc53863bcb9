/**
 * Pure tests of the connection statechart: no sockets, no hooks, no real timers. The socket and hook
 * actors are stubs provided once for this module; each test steers them through the machine's
 * `runtime` input (the same channel the real client uses), and drives time with XState's
 * SimulatedClock.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { type Actor, type AnyEventObject, createActor, fromCallback, fromPromise } from 'xstate';
import { type CloseHookOutput, connectionMachine } from '../../machines/connection.machine.js';
import { TestClock } from '../helpers/test-clock.js';
import type {
  ConnectionEmitted,
  ConnectionEvent,
  HookActorInput,
  MachineConfig,
  SocketActorInput,
  SocketCommand,
} from '../../machines/connection.types.js';
import {
  HandshakeError,
  HeartbeatTimeoutError,
  OpenTimeoutError,
  isErrorCode,
} from '../../src/core/errors.js';

// ------------------------------------------------------------------------------------------------
// Harness

/** One invocation of the socket actor, as the stub saw it. */
interface SocketRecord {
  input: SocketActorInput;
  sendBack: (event: ConnectionEvent) => void;
  commands: SocketCommand[];
  /** True once the machine stopped the actor (the real one terminates its socket here). */
  stopped: boolean;
}

/** Per-test behaviour of the stubs, passed to the machine as its opaque `runtime`. */
interface StubRuntime {
  sockets: SocketRecord[];
  openHookCalls: HookActorInput[];
  closeHookCalls: HookActorInput[];
  /** What the onOpen stub does. Default: resolves at once. */
  openHook: (input: HookActorInput) => Promise<void>;
  /** What the onClose stub does. Default: resolves at once with no close frame. */
  closeHook: (input: HookActorInput) => Promise<CloseHookOutput>;
  /** When set, the socket stub throws this while starting. */
  socketThrows: unknown;
}

/** The stubs, provided once per module (ARCHITECTURE.md §3). */
const testMachine = connectionMachine.provide({
  actors: {
    socket: fromCallback<SocketCommand, SocketActorInput>(({ input, sendBack, receive }) => {
      const rt = input.runtime as StubRuntime;
      if (rt.socketThrows !== undefined) throw rt.socketThrows;
      const record: SocketRecord = {
        input,
        sendBack: sendBack as (event: ConnectionEvent) => void,
        commands: [],
        stopped: false,
      };
      rt.sockets.push(record);
      receive((command) => {
        record.commands.push(command);
      });
      return () => {
        record.stopped = true;
      };
    }),
    openHook: fromPromise<void, HookActorInput>(({ input }) => {
      const rt = input.runtime as StubRuntime;
      rt.openHookCalls.push(input);
      return rt.openHook(input);
    }),
    closeHook: fromPromise<CloseHookOutput, HookActorInput>(({ input }) => {
      const rt = input.runtime as StubRuntime;
      rt.closeHookCalls.push(input);
      return rt.closeHook(input);
    }),
  },
});

type ConfigOverrides = Partial<Omit<MachineConfig, 'reconnect' | 'heartbeat'>> & {
  reconnect?: Partial<MachineConfig['reconnect']>;
  heartbeat?: Partial<MachineConfig['heartbeat']>;
};

function makeConfig(overrides: ConfigOverrides = {}): MachineConfig {
  return {
    openTimeoutMs: overrides.openTimeoutMs ?? 1_000,
    closeTimeoutMs: overrides.closeTimeoutMs ?? 100,
    stopTimeoutMs: overrides.stopTimeoutMs ?? 500,
    reconnect: {
      enabled: true,
      baseDelayMs: 100,
      factor: 2,
      maxDelayMs: 1_000,
      jitter: 'none',
      maxAttempts: Number.POSITIVE_INFINITY,
      resetAfterMs: 5_000,
      retryOnStart: false,
      authCloseCodes: [4401, 4403],
      fatalCloseCodes: [],
      credentialsRefreshable: false,
      shouldReconnect: undefined,
      random: () => 0.5,
      ...overrides.reconnect,
    },
    heartbeat: {
      enabled: false,
      intervalMs: 1_000,
      timeoutMs: 500,
      maxMissed: 1,
      ...overrides.heartbeat,
    },
  };
}

/** The client-visible name of a snapshot, plus `ended` (the transient decision state). */
function phaseOf(snapshot: { matches(value: any): boolean }): string {
  if (snapshot.matches({ session: { establishing: 'connecting' } })) return 'connecting';
  if (snapshot.matches({ session: { establishing: 'opening' } })) return 'opening';
  if (snapshot.matches({ session: 'open' })) return 'open';
  if (snapshot.matches({ session: 'closing' })) return 'closing';
  for (const s of ['idle', 'ended', 'reconnecting', 'stopped']) if (snapshot.matches(s)) return s;
  return JSON.stringify((snapshot as { value?: unknown }).value);
}

type TestActor = Actor<typeof testMachine>;

interface Harness {
  actor: TestActor;
  clock: TestClock;
  rt: StubRuntime;
  emitted: ConnectionEmitted[];
  /** Every phase the machine passed through, microstep by microstep (consecutive duplicates merged). */
  path: string[];
  errors: unknown[];
  send(event: ConnectionEvent): void;
  /** The phase now. */
  phase(): string;
  /** The socket record of the current (latest) dial. */
  socket(): SocketRecord;
  emittedOf<T extends ConnectionEmitted['type']>(type: T): Extract<ConnectionEmitted, { type: T }>[];
}

const live: Harness[] = [];

function harness(overrides: ConfigOverrides = {}, rtOverrides: Partial<StubRuntime> = {}): Harness {
  const clock = new TestClock();
  const rt: StubRuntime = {
    sockets: [],
    openHookCalls: [],
    closeHookCalls: [],
    openHook: () => Promise.resolve(),
    closeHook: () => Promise.resolve(undefined),
    socketThrows: undefined,
    ...rtOverrides,
  };
  const emitted: ConnectionEmitted[] = [];
  const path: string[] = [];
  const errors: unknown[] = [];
  const actor = createActor(testMachine, {
    clock,
    input: { config: makeConfig(overrides), runtime: rt },
    inspect: (ev) => {
      if (ev.type === '@xstate.microstep' && ev.actorRef === actor) {
        const p = phaseOf(ev.snapshot as never);
        if (path[path.length - 1] !== p) path.push(p);
      }
    },
  });
  actor.on('*', (e) => {
    emitted.push(e as ConnectionEmitted);
  });
  actor.subscribe({ error: (e) => errors.push(e) });
  actor.start();
  path.push(phaseOf(actor.getSnapshot()));
  const h: Harness = {
    actor,
    clock,
    rt,
    emitted,
    path,
    errors,
    send: (event) => actor.send(event),
    phase: () => phaseOf(actor.getSnapshot()),
    socket: () => {
      const s = rt.sockets[rt.sockets.length - 1];
      if (s === undefined) throw new Error('no socket was dialled');
      return s;
    },
    emittedOf: (type) => emitted.filter((e) => e.type === type) as never,
  };
  live.push(h);
  return h;
}

afterEach(() => {
  // Whatever a test did, the root actor never reaches XState's `error` status.
  for (const h of live.splice(0)) {
    expect(h.actor.getSnapshot().status).not.toBe('error');
    expect(h.errors).toEqual([]);
    h.actor.stop();
  }
});

/** Lets promise actors (the hook stubs) settle: a fixed number of microtask turns, no timers. */
async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await Promise.resolve();
}

/** The socket of the current session reports `opened`, and the onOpen stub settles. */
async function opened(h: Harness, protocol = ''): Promise<void> {
  const s = h.socket();
  s.sendBack({ type: 'socket.opened', sessionId: s.input.sessionId, protocol, response: undefined });
  await settle();
}

/** start() and reach `open`. */
async function startOpen(h: Harness): Promise<void> {
  h.send({ type: 'client.start' });
  await opened(h);
  expect(h.phase()).toBe('open');
}

/** The socket of the current session reports `closed`, and any onClose stub settles. */
async function closed(
  h: Harness,
  close: Partial<Extract<ConnectionEvent, { type: 'socket.closed' }>> = {},
): Promise<void> {
  const s = h.socket();
  s.sendBack({
    type: 'socket.closed',
    sessionId: s.input.sessionId,
    code: 1006,
    reason: '',
    wasClean: false,
    ...close,
  });
  await settle();
}

const ctx = (h: Harness) => h.actor.getSnapshot().context;
const never = <T>() => new Promise<T>(() => {});

// ------------------------------------------------------------------------------------------------

describe('start and open', () => {
  it('starts idle with nothing scheduled, and start enters session.establishing.connecting', () => {
    const h = harness();
    expect(h.phase()).toBe('idle');
    expect(h.rt.sockets).toHaveLength(0);
    h.send({ type: 'client.start' });
    expect(h.actor.getSnapshot().matches({ session: { establishing: 'connecting' } })).toBe(true);
    expect(h.rt.sockets).toHaveLength(1);
    expect(h.socket().input).toMatchObject({ sessionId: 1, attempt: 0, restarting: false });
    expect(ctx(h).sessionId).toBe(1);
  });

  it('socket.opened -> opening (onOpen runs with the protocol) -> open when onOpen resolves', async () => {
    let release!: () => void;
    const h = harness({}, { openHook: () => new Promise<void>((r) => (release = r)) });
    h.send({ type: 'client.start' });
    h.socket().sendBack({ type: 'socket.opened', sessionId: 1, protocol: 'chat', response: undefined });
    expect(h.phase()).toBe('opening');
    await settle();
    expect(h.phase()).toBe('opening');
    expect(h.rt.openHookCalls).toHaveLength(1);
    expect(h.rt.openHookCalls[0]).toMatchObject({ sessionId: 1, restarting: false, protocol: 'chat' });
    release();
    await settle();
    expect(h.phase()).toBe('open');
    expect(h.emittedOf('session.open')).toEqual([
      { type: 'session.open', sessionId: 1, restarting: false, attempt: 0 },
    ]);
    expect(ctx(h)).toMatchObject({ hasOpened: true, sessionOpened: true, socketOpen: true });
  });

  it('a failing onOpen on the first start ends in stopped, reporting the error as an onOpen failure', async () => {
    const boom = new Error('auth refused');
    const h = harness({}, { openHook: () => Promise.reject(boom) });
    h.send({ type: 'client.start' });
    await opened(h);
    expect(h.phase()).toBe('closing');
    expect(h.socket().commands).toEqual([{ type: 'socket.close', code: 1001, reason: '' }]);
    await closed(h, { code: 1001, wasClean: true });
    expect(h.phase()).toBe('stopped');
    expect(h.path).toEqual(['idle', 'connecting', 'opening', 'closing', 'ended', 'stopped']);
    expect(h.emittedOf('connection.error')).toEqual([
      { type: 'connection.error', error: boom, sessionId: 1, hook: 'onOpen' },
    ]);
    // The socket had opened, so onClose ran for it.
    expect(h.rt.closeHookCalls).toHaveLength(1);
    expect(h.emittedOf('client.stopped')).toEqual([
      { type: 'client.stopped', error: boom, requested: undefined, hasOpened: false },
    ]);
    expect(h.socket().stopped).toBe(true);
  });

  it('a failing onOpen on a restart closes the session and reconnects', async () => {
    let calls = 0;
    const h = harness(
      {},
      { openHook: () => (++calls === 1 ? Promise.resolve() : Promise.reject(new Error('no'))) },
    );
    await startOpen(h);
    await closed(h);
    expect(h.phase()).toBe('reconnecting');
    h.clock.advance(100);
    await opened(h);
    // The socket is open: it is closed with 1001 (going away) before the retry.
    expect(h.phase()).toBe('closing');
    expect(h.socket().commands).toEqual([{ type: 'socket.close', code: 1001, reason: '' }]);
    await closed(h, { code: 1001, wasClean: true });
    expect(h.phase()).toBe('reconnecting');
    expect(ctx(h).attempt).toBe(2);
  });

  it('a socket actor that throws goes through closing to stopped, not to the error status', () => {
    const h = harness({}, { socketThrows: new Error('cannot create socket') });
    h.send({ type: 'client.start' });
    expect(h.phase()).toBe('stopped');
    expect(h.path).toContain('closing');
    expect(ctx(h).lastError).toEqual(new Error('cannot create socket'));
    expect(h.emittedOf('client.stopped')).toHaveLength(1);
  });
});

describe('open timeout', () => {
  it('no socket.opened within openTimeoutMs: closing -> stopped on the first start, with an OpenTimeoutError', () => {
    const h = harness({ openTimeoutMs: 1_000 });
    h.send({ type: 'client.start' });
    h.clock.advance(999);
    expect(h.phase()).toBe('connecting');
    expect(h.emittedOf('client.stopped')).toHaveLength(0);
    h.clock.advance(1);
    expect(h.phase()).toBe('stopped');
    expect(h.path).toEqual(['idle', 'connecting', 'closing', 'ended', 'stopped']);
    const { lastError, lastClose } = ctx(h);
    expect(lastError).toBeInstanceOf(OpenTimeoutError);
    expect(isErrorCode(lastError, 'WSM_ERR_OPEN_TIMEOUT')).toBe(true);
    expect((lastError as OpenTimeoutError).timeoutMs).toBe(1_000);
    expect(lastClose).toMatchObject({ code: 1006, reason: 'open timeout', wasClean: false });
    const stopped = h.emittedOf('client.stopped');
    expect(stopped).toHaveLength(1);
    expect(stopped[0]!.error).toBe(lastError);
    expect(stopped[0]!.requested).toBeUndefined();
    // The dial was abandoned (the real socket actor terminates here) and onClose did not run.
    expect(h.socket().stopped).toBe(true);
    expect(h.rt.closeHookCalls).toHaveLength(0);
    expect(h.clock.pending).toBe(0);
  });

  it('the open timeout also bounds onOpen (dial + handshake + onOpen together)', async () => {
    const h = harness({ openTimeoutMs: 1_000 }, { openHook: () => never() });
    h.send({ type: 'client.start' });
    h.clock.advance(600);
    await opened(h);
    expect(h.phase()).toBe('opening');
    h.clock.advance(399);
    expect(h.phase()).toBe('opening');
    h.clock.advance(1);
    expect(h.phase()).toBe('closing');
    expect((ctx(h).lastError as Error).message).toContain('opening');
    await settle();
    expect(h.rt.closeHookCalls).toHaveLength(1);
    // The peer does not answer the close frame: abandoned after closeTimeoutMs.
    h.clock.advance(100);
    expect(h.phase()).toBe('stopped');
    expect(h.emittedOf('client.stopped')[0]!.error).toBeInstanceOf(OpenTimeoutError);
  });

  it('openTimeoutMs 0 disables the timeout', () => {
    const h = harness({ openTimeoutMs: 0 });
    h.send({ type: 'client.start' });
    h.clock.advance(3_600_000);
    expect(h.phase()).toBe('connecting');
  });

  it('with retryOnStart a timed-out first start reconnects instead of stopping', () => {
    const h = harness({ openTimeoutMs: 1_000, reconnect: { retryOnStart: true } });
    h.send({ type: 'client.start' });
    h.clock.advance(1_000);
    expect(h.phase()).toBe('reconnecting');
    expect(ctx(h).attempt).toBe(1);
  });
});

describe('backoff timing', () => {
  it("jitter 'none': delay n is baseDelayMs * factor^(n-1), capped at maxDelayMs, to the millisecond", async () => {
    const h = harness({ reconnect: { baseDelayMs: 100, factor: 2, maxDelayMs: 1_000, jitter: 'none' } });
    await startOpen(h);
    await closed(h);
    const expected = [100, 200, 400, 800, 1_000, 1_000];
    for (const [i, delay] of expected.entries()) {
      const attempt = i + 1;
      expect(h.phase()).toBe('reconnecting');
      expect(ctx(h).attempt).toBe(attempt);
      expect(h.emittedOf('reconnect.scheduled').at(-1)).toMatchObject({ attempt, delayMs: delay });
      const dials = h.rt.sockets.length;
      h.clock.increment(delay - 1);
      expect(h.phase()).toBe('reconnecting');
      expect(h.rt.sockets).toHaveLength(dials);
      h.clock.increment(1);
      expect(h.phase()).toBe('connecting');
      expect(h.rt.sockets).toHaveLength(dials + 1);
      expect(h.socket().input).toMatchObject({ attempt, restarting: true, sessionId: attempt + 1 });
      await closed(h); // the reconnect dial fails
    }
  });

  it('full jitter: the delay is random() * cap with the injected random source', async () => {
    const draws = [0.25, 0.5, 0.75, 0.1];
    let calls = 0;
    const random = () => draws[calls++ % draws.length]!;
    const h = harness({
      reconnect: { baseDelayMs: 100, factor: 3, maxDelayMs: 10_000, jitter: 'full', random },
    });
    await startOpen(h);
    await closed(h);
    const caps = [100, 300, 900, 2_700];
    for (const [i, cap] of caps.entries()) {
      const delay = Math.round(draws[i]! * cap);
      expect(ctx(h).retryDelayMs).toBe(delay);
      h.clock.increment(delay - 1);
      expect(h.phase()).toBe('reconnecting');
      h.clock.increment(1);
      expect(h.phase()).toBe('connecting');
      await closed(h);
    }
    expect(calls).toBe(caps.length + 1);
  });

  it('attempts reset to 0 only after the session stayed open resetAfterMs', async () => {
    const h = harness({ reconnect: { resetAfterMs: 5_000 } });
    await startOpen(h);
    await closed(h); // attempt 1
    h.clock.advance(100);
    await closed(h); // attempt 1 failed -> attempt 2
    h.clock.advance(200);
    expect(ctx(h).attempt).toBe(2);
    await opened(h);
    expect(h.phase()).toBe('open');
    expect(h.emittedOf('session.open').at(-1)).toMatchObject({ restarting: true, attempt: 2 });
    h.clock.advance(4_999);
    expect(ctx(h).attempt).toBe(2);
    h.clock.advance(1);
    expect(ctx(h).attempt).toBe(0);
    await closed(h);
    // Back to the first step of the backoff.
    expect(ctx(h).attempt).toBe(1);
    expect(ctx(h).retryDelayMs).toBe(100);
  });

  it('a session that drops before resetAfterMs keeps climbing the backoff', async () => {
    const h = harness({ reconnect: { resetAfterMs: 5_000 } });
    await startOpen(h);
    await closed(h);
    h.clock.advance(100);
    await closed(h);
    h.clock.advance(200);
    await opened(h);
    h.clock.advance(4_999);
    await closed(h);
    expect(ctx(h).attempt).toBe(3);
    expect(ctx(h).retryDelayMs).toBe(400);
  });

  it('maxAttempts exhausted -> stopped, with nothing left scheduled', async () => {
    const h = harness({ reconnect: { maxAttempts: 2 } });
    await startOpen(h);
    await closed(h);
    expect(h.phase()).toBe('reconnecting');
    h.clock.advance(100);
    await closed(h);
    expect(h.phase()).toBe('reconnecting');
    h.clock.advance(200);
    const refused = new Error('ECONNREFUSED');
    await closed(h, { error: refused });
    expect(h.phase()).toBe('stopped');
    expect(h.rt.sockets).toHaveLength(3);
    expect(h.emittedOf('client.stopped')).toEqual([
      { type: 'client.stopped', error: refused, requested: undefined, hasOpened: true },
    ]);
    expect(h.clock.pending).toBe(0);
    h.clock.advance(3_600_000);
    expect(h.rt.sockets).toHaveLength(3);
  });

  it('maxAttempts 0 never reconnects', async () => {
    const h = harness({ reconnect: { maxAttempts: 0 } });
    await startOpen(h);
    await closed(h);
    expect(h.phase()).toBe('stopped');
  });

  it('reconnect disabled never reconnects', async () => {
    const h = harness({ reconnect: { enabled: false } });
    await startOpen(h);
    await closed(h);
    expect(h.phase()).toBe('stopped');
  });

  it('restart() of a stable session reconnects at once; restart() during backoff skips the wait', async () => {
    const h = harness();
    await startOpen(h);
    h.send({ type: 'client.restart' });
    await closed(h, { code: 1001, wasClean: true });
    expect(h.phase()).toBe('reconnecting');
    expect(ctx(h).retryDelayMs).toBe(0);
    h.clock.advance(0);
    expect(h.phase()).toBe('connecting');
    await closed(h);
    expect(h.phase()).toBe('reconnecting');
    expect(ctx(h).retryDelayMs).toBe(200);
    h.send({ type: 'client.restart' });
    expect(h.phase()).toBe('connecting');
    expect(h.rt.sockets).toHaveLength(3);
    expect(h.clock.pending).toBe(1); // only the open timeout of the new dial
  });
});

describe('stop and exit', () => {
  it('stop during backoff: reconnecting -> stopped, no delayed events left, the socket is never dialled again', async () => {
    const h = harness();
    await startOpen(h);
    await closed(h);
    expect(h.phase()).toBe('reconnecting');
    h.clock.advance(50);
    h.send({ type: 'client.stop' });
    expect(h.phase()).toBe('stopped');
    expect(h.clock.pending).toBe(0);
    expect(h.emittedOf('client.stopped')).toEqual([
      { type: 'client.stopped', error: undefined, requested: 'stop', hasOpened: true },
    ]);
    const snapshot = h.actor.getSnapshot();
    h.clock.advance(24 * 3_600_000);
    expect(h.actor.getSnapshot()).toBe(snapshot);
    expect(h.rt.sockets).toHaveLength(1);
    expect(h.emittedOf('client.stopped')).toHaveLength(1);
  });

  it('stop during connecting: the dial is abandoned, onClose does not run, nothing is left scheduled', () => {
    const h = harness();
    h.send({ type: 'client.start' });
    h.clock.advance(10);
    h.send({ type: 'client.stop' });
    expect(h.phase()).toBe('stopped');
    expect(h.path).toEqual(['idle', 'connecting', 'closing', 'ended', 'stopped']);
    expect(h.socket().stopped).toBe(true);
    expect(h.rt.closeHookCalls).toHaveLength(0);
    expect(h.clock.pending).toBe(0);
    expect(h.emittedOf('client.stopped')).toEqual([
      { type: 'client.stopped', error: undefined, requested: 'stop', hasOpened: false },
    ]);
    // A late open of the abandoned socket changes nothing.
    h.socket().sendBack({ type: 'socket.opened', sessionId: 1, protocol: '', response: undefined });
    h.clock.advance(3_600_000);
    expect(h.phase()).toBe('stopped');
    expect(h.rt.sockets).toHaveLength(1);
  });

  it('stop while open: onClose runs, the close frame defaults to 1000, the peer reply ends it', async () => {
    const h = harness();
    await startOpen(h);
    h.send({ type: 'client.stop' });
    expect(h.phase()).toBe('closing');
    await settle();
    expect(h.rt.closeHookCalls).toHaveLength(1);
    expect(h.socket().commands).toEqual([{ type: 'socket.close', code: 1000, reason: '' }]);
    expect(h.phase()).toBe('closing');
    await closed(h, { code: 1000, wasClean: true });
    expect(h.phase()).toBe('stopped');
    expect(h.clock.pending).toBe(0);
  });

  it('stop({ code, reason }) wins over the close frame onClose picks', async () => {
    const h = harness({}, { closeHook: () => Promise.resolve({ code: 4001, reason: 'hook' }) });
    await startOpen(h);
    h.send({ type: 'client.stop', code: 4000, reason: 'bye' });
    await settle();
    expect(h.socket().commands).toEqual([{ type: 'socket.close', code: 4000, reason: 'bye' }]);
  });

  it('restart uses the close frame onClose picks, else 1001', async () => {
    const h = harness();
    await startOpen(h);
    h.send({ type: 'client.restart', reason: 'rotate' });
    await settle();
    expect(h.socket().commands).toEqual([{ type: 'socket.close', code: 1001, reason: 'rotate' }]);

    const g = harness({}, { closeHook: () => Promise.resolve({ code: 4002, reason: 'picked' }) });
    await startOpen(g);
    g.send({ type: 'client.restart' });
    await settle();
    expect(g.socket().commands).toEqual([{ type: 'socket.close', code: 4002, reason: 'picked' }]);
  });

  it('stop bounded by stopTimeoutMs even when onClose never resolves and the peer never answers', async () => {
    const h = harness({ stopTimeoutMs: 500, closeTimeoutMs: 10_000 }, { closeHook: () => never() });
    await startOpen(h);
    h.send({ type: 'client.stop' });
    await settle();
    h.clock.advance(499);
    expect(h.phase()).toBe('closing');
    h.clock.advance(1);
    expect(h.phase()).toBe('stopped');
    expect(h.socket().stopped).toBe(true);
    expect(h.clock.pending).toBe(0);
    expect(h.emittedOf('client.stopped')).toHaveLength(1);
  });

  it('stop({ timeoutMs }) overrides stopTimeoutMs for that stop', async () => {
    const h = harness({ stopTimeoutMs: 5_000, closeTimeoutMs: 10_000 }, { closeHook: () => never() });
    await startOpen(h);
    h.send({ type: 'client.stop', timeoutMs: 50 });
    h.clock.advance(49);
    expect(h.phase()).toBe('closing');
    h.clock.advance(1);
    expect(h.phase()).toBe('stopped');
  });

  it('a stop arriving while a restart is already closing is still bounded by its own deadline', async () => {
    const h = harness({ stopTimeoutMs: 5_000, closeTimeoutMs: 10_000 }, { closeHook: () => never() });
    await startOpen(h);
    h.send({ type: 'client.restart' });
    h.clock.advance(1_000);
    expect(h.phase()).toBe('closing');
    h.send({ type: 'client.stop', timeoutMs: 50 });
    h.clock.advance(49);
    expect(h.phase()).toBe('closing');
    h.clock.advance(1);
    expect(h.phase()).toBe('stopped');
    expect(h.rt.sockets).toHaveLength(1);
    expect(h.clock.pending).toBe(0);
  });

  it('a second stop during closing replaces the first deadline and leaves no timer behind', async () => {
    const h = harness({ stopTimeoutMs: 5_000, closeTimeoutMs: 10_000 }, { closeHook: () => never() });
    await startOpen(h);
    h.send({ type: 'client.restart' });
    h.send({ type: 'client.stop', timeoutMs: 1_000 });
    h.clock.advance(100);
    h.send({ type: 'client.stop', timeoutMs: 3_000 });
    h.clock.advance(2_999);
    expect(h.phase()).toBe('closing');
    h.clock.advance(1);
    expect(h.phase()).toBe('stopped');
    expect(h.clock.pending).toBe(0);
    expect(h.emittedOf('client.stopped')).toHaveLength(1);
  });

  it('a closing that ends normally after a stop leaves no stop deadline scheduled', async () => {
    const h = harness();
    await startOpen(h);
    h.send({ type: 'client.restart' });
    h.send({ type: 'client.stop', timeoutMs: 1_000 });
    await settle();
    await closed(h, { code: 1000, wasClean: true });
    expect(h.phase()).toBe('stopped');
    expect(h.clock.pending).toBe(0);
  });

  it('a stop without timeoutMs during a closing restart ends within stopTimeoutMs of the stop', async () => {
    const h = harness({ stopTimeoutMs: 500, closeTimeoutMs: 10_000 }, { closeHook: () => never() });
    await startOpen(h);
    h.send({ type: 'client.restart' });
    h.clock.advance(300);
    h.send({ type: 'client.stop' });
    h.clock.advance(500);
    expect(h.phase()).toBe('stopped');
  });

  it('a slow onClose is cut at closeTimeoutMs, then the close frame goes out', async () => {
    const h = harness({ closeTimeoutMs: 300 }, { closeHook: () => never() });
    await startOpen(h);
    h.send({ type: 'client.restart' });
    h.clock.advance(299);
    expect(h.socket().commands).toEqual([]);
    h.clock.advance(1);
    expect(h.socket().commands).toEqual([{ type: 'socket.close', code: 1001, reason: '' }]);
    // The peer never answers: the socket is abandoned at the next closeTimeoutMs.
    h.clock.advance(299);
    expect(h.phase()).toBe('closing');
    h.clock.advance(1);
    // A restart of a stable session reconnects without a backoff wait.
    expect(h.path.slice(-3)).toEqual(['ended', 'reconnecting', 'connecting']);
    expect(h.rt.sockets).toHaveLength(2);
    expect(h.rt.sockets[0]!.stopped).toBe(true);
  });

  it('stop during a restart that is already closing ends in stopped, not reconnecting', async () => {
    const h = harness();
    await startOpen(h);
    h.send({ type: 'client.restart' });
    h.send({ type: 'client.stop' });
    await settle();
    await closed(h, { code: 1001, wasClean: true });
    expect(h.phase()).toBe('stopped');
    expect(h.rt.closeHookCalls).toHaveLength(1);
    expect(h.rt.sockets).toHaveLength(1);
  });

  it('exit from open and from reconnecting stops for good', async () => {
    const h = harness();
    await startOpen(h);
    h.send({ type: 'client.exit' });
    await settle();
    expect(h.socket().commands).toEqual([{ type: 'socket.close', code: 1000, reason: '' }]);
    await closed(h, { code: 1000, wasClean: true });
    expect(h.phase()).toBe('stopped');
    expect(h.emittedOf('client.stopped').at(-1)).toMatchObject({ requested: 'exit' });

    const g = harness();
    await startOpen(g);
    await closed(g);
    expect(g.phase()).toBe('reconnecting');
    g.send({ type: 'client.exit' });
    expect(g.phase()).toBe('stopped');
    expect(g.clock.pending).toBe(0);
  });

  it('stop during opening: onClose runs for the opened socket, the frame is 1000, start counts as failed', async () => {
    const h = harness({}, { openHook: () => never() });
    h.send({ type: 'client.start' });
    await opened(h);
    expect(h.phase()).toBe('opening');
    h.send({ type: 'client.stop' });
    await settle();
    expect(h.rt.closeHookCalls).toHaveLength(1);
    expect(h.socket().commands).toEqual([{ type: 'socket.close', code: 1000, reason: '' }]);
    await closed(h, { code: 1000, wasClean: true });
    expect(h.phase()).toBe('stopped');
    expect(h.emittedOf('session.open')).toHaveLength(0);
    expect(h.emittedOf('client.stopped')).toEqual([
      { type: 'client.stopped', error: undefined, requested: 'stop', hasOpened: false },
    ]);
  });

  it('exit during connecting stops without reconnecting, even with retryOnStart', () => {
    const h = harness({ reconnect: { retryOnStart: true } });
    h.send({ type: 'client.start' });
    h.send({ type: 'client.exit' });
    expect(h.phase()).toBe('stopped');
    expect(h.emittedOf('client.stopped')[0]).toMatchObject({ requested: 'exit' });
    h.clock.advance(3_600_000);
    expect(h.rt.sockets).toHaveLength(1);
  });

  it('offline during backoff pauses attempts; online dials at once; stop while offline leaves nothing', async () => {
    const h = harness();
    await startOpen(h);
    await closed(h);
    h.send({ type: 'env.offline' });
    h.clock.advance(3_600_000);
    expect(h.phase()).toBe('reconnecting');
    expect(h.rt.sockets).toHaveLength(1);
    h.send({ type: 'env.online' });
    expect(h.phase()).toBe('connecting');
    expect(h.rt.sockets).toHaveLength(2);

    const g = harness();
    await startOpen(g);
    await closed(g);
    g.send({ type: 'env.offline' });
    g.send({ type: 'client.stop' });
    expect(g.phase()).toBe('stopped');
    expect(g.clock.pending).toBe(0);
  });

  it('start after stop begins again from attempt 0 with a new session id', async () => {
    const h = harness();
    await startOpen(h);
    await closed(h);
    h.clock.advance(100);
    h.send({ type: 'client.stop' });
    expect(h.phase()).toBe('stopped');
    h.send({ type: 'client.start' });
    expect(h.phase()).toBe('connecting');
    expect(h.socket().input).toMatchObject({ attempt: 0, restarting: false, sessionId: 3 });
    expect(ctx(h)).toMatchObject({ attempt: 0, hasOpened: false, endRequest: undefined });
  });
});

describe('stale socket events', () => {
  it('events carrying an old session id are ignored', async () => {
    const h = harness();
    await startOpen(h);
    const old = h.socket();
    await closed(h);
    h.clock.advance(100);
    expect(h.phase()).toBe('connecting');
    expect(ctx(h).sessionId).toBe(2);

    old.sendBack({ type: 'socket.opened', sessionId: 1, protocol: '', response: undefined });
    expect(h.phase()).toBe('connecting');
    old.sendBack({ type: 'socket.closed', sessionId: 1, code: 1006, reason: '', wasClean: false });
    expect(h.phase()).toBe('connecting');

    await opened(h);
    expect(h.phase()).toBe('open');
    old.sendBack({ type: 'socket.closed', sessionId: 1, code: 1002, reason: '', wasClean: true });
    h.send({ type: 'heartbeat.missed', sessionId: 1 });
    expect(h.phase()).toBe('open');
    expect(ctx(h).lastClose).toBeUndefined();
  });

  it('events without a matching session id are ignored in closing too', async () => {
    const h = harness();
    await startOpen(h);
    h.send({ type: 'client.restart' });
    await settle();
    expect(h.phase()).toBe('closing');
    h.send({ type: 'socket.closed', sessionId: 99, code: 1000, reason: '', wasClean: true });
    expect(h.phase()).toBe('closing');
    await closed(h, { code: 1001, wasClean: true });
    expect(h.phase()).toBe('reconnecting');
  });
});

describe('closing', () => {
  it('runs onClose only for sessions whose socket opened', async () => {
    // A failed dial: no onClose.
    const h = harness({ reconnect: { retryOnStart: true } });
    h.send({ type: 'client.start' });
    await closed(h, { error: new Error('ECONNREFUSED') });
    expect(h.rt.closeHookCalls).toHaveLength(0);
    // An opened session: onClose exactly once, even when the close arrives twice.
    h.clock.advance(100);
    await opened(h);
    const s = h.socket();
    await closed(h);
    s.sendBack({
      type: 'socket.closed',
      sessionId: s.input.sessionId,
      code: 1006,
      reason: '',
      wasClean: false,
    });
    await settle();
    expect(h.rt.closeHookCalls).toHaveLength(1);
    expect(h.rt.closeHookCalls[0]).toMatchObject({ sessionId: 2, lastClose: { code: 1006, sessionId: 2 } });
    expect(h.emittedOf('session.closed').map((e) => e.close.sessionId)).toEqual([1, 2]);
  });

  it('a rejecting onClose does not break the machine: the default frame goes out', async () => {
    const h = harness({}, { closeHook: () => Promise.reject(new Error('hook failed')) });
    await startOpen(h);
    h.send({ type: 'client.restart' });
    await settle();
    expect(h.socket().commands).toEqual([{ type: 'socket.close', code: 1001, reason: '' }]);
  });

  it('emits session.ending then session.closed once per session', async () => {
    const h = harness();
    await startOpen(h);
    await closed(h, { code: 1012, reason: 'restart', wasClean: true });
    const order = h.emitted.map((e) => e.type).filter((t) => t.startsWith('session.'));
    expect(order).toEqual(['session.open', 'session.ending', 'session.closed']);
    expect(h.emittedOf('session.closed')[0]).toMatchObject({
      close: { code: 1012, reason: 'restart', wasClean: true, sessionId: 1 },
      closeClass: 'transient',
      reachedOpen: true,
      requested: undefined,
    });
  });
});

describe('heartbeat', () => {
  it('sends a ping command to the socket actor after intervalMs, and a pong re-arms it', async () => {
    const h = harness({ heartbeat: { enabled: true, intervalMs: 1_000, timeoutMs: 500, maxMissed: 1 } });
    await startOpen(h);
    const pings = () => h.socket().commands.filter((c) => c.type === 'socket.ping').length;
    h.clock.advance(999);
    expect(pings()).toBe(0);
    h.clock.advance(1);
    expect(pings()).toBe(1);
    expect(h.emittedOf('heartbeat.sent')).toEqual([{ type: 'heartbeat.sent', sessionId: 1 }]);
    for (let i = 2; i <= 6; i++) {
      h.clock.advance(400);
      h.send({ type: 'heartbeat.pong', sessionId: 1 });
      h.clock.advance(999);
      expect(pings()).toBe(i - 1);
      h.clock.advance(1);
      expect(pings()).toBe(i);
    }
    expect(h.phase()).toBe('open');
  });

  it.each([
    { maxMissed: 1, intervalMs: 1_000, timeoutMs: 500 },
    { maxMissed: 2, intervalMs: 1_000, timeoutMs: 1_000 },
    { maxMissed: 3, intervalMs: 1_000, timeoutMs: 400 },
    { maxMissed: 4, intervalMs: 250, timeoutMs: 100 },
  ])('missing $maxMissed pong(s) is detected at maxMissed*intervalMs + timeoutMs (%o)', async (hb) => {
    const h = harness({ heartbeat: { enabled: true, ...hb }, closeTimeoutMs: 100_000 });
    await startOpen(h);
    const detectAt = hb.maxMissed * hb.intervalMs + hb.timeoutMs;
    h.clock.advance(detectAt - 1);
    expect(h.phase()).toBe('open');
    h.clock.advance(1);
    expect(h.phase()).toBe('closing');
    expect(h.socket().commands.filter((c) => c.type === 'socket.ping')).toHaveLength(hb.maxMissed);
    expect(ctx(h).lastClose).toMatchObject({ code: 1006, reason: 'heartbeat timeout', wasClean: false });
    expect(ctx(h).lastError).toBeInstanceOf(HeartbeatTimeoutError);
    expect(h.emittedOf('heartbeat.missed')).toEqual([
      { type: 'heartbeat.missed', sessionId: 1, missed: hb.maxMissed },
    ]);
    // A dead peer is not waited for: the session ends (and reconnects) once onClose is done.
    await settle();
    expect(h.phase()).toBe('reconnecting');
    expect(h.socket().stopped).toBe(true);
  });

  it('a pong resets the missed count', async () => {
    const h = harness({ heartbeat: { enabled: true, intervalMs: 1_000, timeoutMs: 400, maxMissed: 2 } });
    await startOpen(h);
    h.clock.advance(1_400); // ping at 1000, missed at 1400
    expect(ctx(h).missedPongs).toBe(1);
    h.clock.advance(700); // ping at 2000
    h.send({ type: 'heartbeat.pong', sessionId: 1 }); // at 2100
    expect(ctx(h).missedPongs).toBe(0);
    // Without the reset, the second miss would be at 2400.
    h.clock.advance(2_399);
    expect(h.phase()).toBe('open'); // ping 3100, miss 3500, ping 4100
    h.clock.advance(1); // miss at 4500
    expect(h.phase()).toBe('closing');
  });

  it('a heartbeat.missed fact from the service ends the session at once', async () => {
    const h = harness({ heartbeat: { enabled: true, intervalMs: 1_000, timeoutMs: 500, maxMissed: 3 } });
    await startOpen(h);
    h.clock.advance(1_000);
    h.send({ type: 'heartbeat.missed', sessionId: 1 });
    expect(h.phase()).toBe('closing');
    expect(ctx(h).lastClose).toMatchObject({ code: 1006, reason: 'heartbeat timeout' });
  });

  it('with the heartbeat disabled no ping is ever sent', async () => {
    const h = harness({ heartbeat: { enabled: false } });
    await startOpen(h);
    h.clock.advance(3_600_000);
    expect(h.socket().commands).toEqual([]);
    expect(h.phase()).toBe('open');
  });
});

describe('reconnect decisions by close class', () => {
  it.each([
    [1000, 'reconnecting'],
    [1001, 'reconnecting'],
    [1006, 'reconnecting'],
    [1011, 'reconnecting'],
    [1012, 'reconnecting'],
    [1013, 'reconnecting'],
    [1014, 'reconnecting'],
    [4000, 'reconnecting'],
    [1002, 'stopped'],
    [1003, 'stopped'],
    [1007, 'stopped'],
    [1008, 'stopped'],
    [1009, 'stopped'],
    [1010, 'stopped'],
    [4401, 'stopped'],
    [4403, 'stopped'],
  ])('server close %i after open -> %s', async (code, expected) => {
    const h = harness();
    await startOpen(h);
    await closed(h, { code, wasClean: code !== 1006 });
    expect(h.phase()).toBe(expected);
  });

  it('1002 is fatal: stopped, with the class on session.closed', async () => {
    const h = harness();
    await startOpen(h);
    await closed(h, { code: 1002, reason: 'protocol error', wasClean: true });
    expect(h.emittedOf('session.closed')[0]!.closeClass).toBe('fatal');
    expect(h.emittedOf('client.stopped')).toHaveLength(1);
    expect(h.clock.pending).toBe(0);
  });

  it('4401 is auth: stopped unless the credentials can be refreshed', async () => {
    const h = harness();
    await startOpen(h);
    await closed(h, { code: 4401, wasClean: true });
    expect(h.emittedOf('session.closed')[0]!.closeClass).toBe('auth');
    expect(h.phase()).toBe('stopped');

    const g = harness({ reconnect: { credentialsRefreshable: true } });
    await startOpen(g);
    await closed(g, { code: 4401, wasClean: true });
    expect(g.phase()).toBe('reconnecting');
  });

  it('an app code listed in fatalCloseCodes stops', async () => {
    const h = harness({ reconnect: { fatalCloseCodes: [4500] } });
    await startOpen(h);
    await closed(h, { code: 4500, wasClean: true });
    expect(h.phase()).toBe('stopped');
  });

  it('handshake 401 on a reconnect dial -> stopped, unless credentialsRefreshable', async () => {
    const reject401 = { code: 1006, status: 401, error: new HandshakeError(401) };
    const h = harness();
    await startOpen(h);
    await closed(h);
    h.clock.advance(100);
    await closed(h, reject401);
    expect(h.phase()).toBe('stopped');
    expect(h.emittedOf('session.closed').at(-1)!.closeClass).toBe('auth');
    expect(h.emittedOf('client.stopped')[0]!.error).toBe(reject401.error);

    const g = harness({ reconnect: { credentialsRefreshable: true } });
    await startOpen(g);
    await closed(g);
    g.clock.advance(100);
    await closed(g, reject401);
    expect(g.phase()).toBe('reconnecting');
  });

  it('handshake 404 is fatal, 503 is transient', async () => {
    const h = harness({ reconnect: { retryOnStart: true } });
    h.send({ type: 'client.start' });
    await closed(h, { status: 503, error: new HandshakeError(503) });
    expect(h.phase()).toBe('reconnecting');
    h.clock.advance(100);
    await closed(h, { status: 404, error: new HandshakeError(404) });
    expect(h.phase()).toBe('stopped');
  });

  it('shouldReconnect overrides the table and sees the facts', async () => {
    const seen: unknown[] = [];
    const h = harness({
      reconnect: {
        shouldReconnect: (info) => {
          seen.push(info);
          return info.code === 1002;
        },
      },
    });
    await startOpen(h);
    await closed(h, { code: 1002, reason: 'bad frame', wasClean: true });
    expect(h.phase()).toBe('reconnecting');
    expect(seen).toEqual([
      {
        class: 'fatal',
        code: 1002,
        reason: 'bad frame',
        status: undefined,
        error: undefined,
        attempt: 1,
        defaultDecision: false,
      },
    ]);
    h.clock.advance(100);
    await opened(h);
    await closed(h, { code: 1006 });
    expect(h.phase()).toBe('stopped');
    expect(seen[1]).toMatchObject({ class: 'transient', code: 1006, defaultDecision: true });
  });

  it('shouldReconnect is not asked when the user stopped or exited', async () => {
    let asked = 0;
    const h = harness({
      reconnect: {
        shouldReconnect: () => {
          asked++;
          return true;
        },
      },
    });
    await startOpen(h);
    h.send({ type: 'client.stop' });
    await settle();
    await closed(h, { code: 1000, wasClean: true });
    expect(h.phase()).toBe('stopped');
    expect(asked).toBe(0);
  });

  it('1013 Try Again Later waits longer than a network drop', async () => {
    const base = { reconnect: { baseDelayMs: 100, maxDelayMs: 10_000, jitter: 'none' as const } };
    const drop = harness(base);
    await startOpen(drop);
    await closed(drop, { code: 1006 });
    const tryLater = harness(base);
    await startOpen(tryLater);
    await closed(tryLater, { code: 1013, wasClean: true });
    expect(ctx(drop).retryDelayMs).toBe(100);
    expect(ctx(tryLater).retryDelayMs).toBe(500);
    tryLater.clock.advance(499);
    expect(tryLater.phase()).toBe('reconnecting');
    tryLater.clock.advance(1);
    expect(tryLater.phase()).toBe('connecting');
  });

  it.each(['none', 'full'] as const)('the Retry-After floor is honoured (jitter %s)', async (jitter) => {
    const h = harness({ reconnect: { baseDelayMs: 100, maxDelayMs: 1_000, jitter, random: () => 0.999 } });
    await startOpen(h);
    await closed(h);
    h.clock.advance(100);
    await closed(h, { status: 503, retryAfterMs: 3_000, error: new HandshakeError(503, 3_000) });
    expect(h.phase()).toBe('reconnecting');
    const delay = ctx(h).retryDelayMs;
    expect(delay).toBeGreaterThanOrEqual(3_000);
    if (jitter === 'none') expect(delay).toBe(3_000);
    else expect(delay).toBeGreaterThan(3_000); // jitter is added on top of the floor
    h.clock.advance(2_999);
    expect(h.phase()).toBe('reconnecting');
    h.clock.advance(delay - 2_999);
    expect(h.phase()).toBe('connecting');
  });
});

describe('status', () => {
  it('never reaches the error status across a long mixed run', async () => {
    const h = harness({ heartbeat: { enabled: true, intervalMs: 1_000, timeoutMs: 500, maxMissed: 1 } });
    const seen: AnyEventObject[] = [];
    h.actor.on('*', (e) => {
      seen.push(e);
    });
    await startOpen(h);
    for (let i = 0; i < 5; i++) {
      h.clock.advance(1_500); // heartbeat death
      await settle();
      h.clock.advance(ctx(h).retryDelayMs);
      await opened(h);
    }
    h.send({ type: 'client.stop' });
    await settle();
    await closed(h, { code: 1000, wasClean: true });
    expect(h.phase()).toBe('stopped');
    expect(h.actor.getSnapshot().status).toBe('active');
    expect(seen.filter((e) => e.type === 'session.open')).toHaveLength(6);
  });
});
