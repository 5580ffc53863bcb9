/**
 * Replays model paths against the real client (`createClient` from src/node.ts) on the in-memory
 * adapter, with a simulated clock. Each model event becomes a real action: the fake server opens,
 * rejects, closes or drops the connection, a hook settles or throws, the app calls stop(), restart()
 * or exit(), the clock advances. After every step the client's state, its machine's state value and
 * the transitions its actor took are compared with the model.
 */
import { SimulatedClock } from 'xstate';
import type { MachineConfig } from '../../machines/connection.types.js';
import { type Session, type WsClient, createClient } from '../../src/node.js';
import { type MemoryAdapter, type MemoryConnection, createMemoryAdapter } from '../../src/testing.js';
import type { ClientOptions } from '../../src/types.js';
import type { SocketAdapter } from '../../src/transport/adapter.js';
import { type ModelConfig, type ModelEvent, type ModelState, type PathStep, transitionKey } from './model.js';

/** Timer values are all different, so that no two deadlines of a path fall on the same instant. */
const TIMEOUTS = { openTimeoutMs: 700, closeTimeoutMs: 300, stopTimeoutMs: 500 } as const;

/**
 * The configurations the model is traversed and replayed with. Between them every guard goes both
 * ways: heartbeat on/off, retryOnStart on/off, attempts that run out (maxAttempts 2), a stable
 * session that resets them (resetAfterMs), credentials that can (url function) or cannot be renewed.
 */
export const MODEL_OPTIONS = {
  heartbeat: {
    ...TIMEOUTS,
    heartbeat: { intervalMs: 1_100, timeoutMs: 130, maxMissed: 2, isPong: (m) => m.data === 'pong' },
    reconnect: {
      baseDelayMs: 50,
      maxDelayMs: 50,
      jitter: 'none',
      maxAttempts: 2,
      // Attempts reset as soon as a session opens: the timer is due at once and never races a ping.
      resetAfterMs: 0,
      retryOnStart: false,
    },
  },
  quiet: {
    ...TIMEOUTS,
    heartbeat: false,
    reconnect: {
      baseDelayMs: 50,
      maxDelayMs: 50,
      jitter: 'none',
      maxAttempts: 2,
      resetAfterMs: 900,
      retryOnStart: true,
    },
  },
  /**
   * The URL is a function: each dial resolves it (asynchronously), and an auth failure may be fixed
   * by new credentials, so 401/4401 reconnect.
   */
  refreshable: {
    ...TIMEOUTS,
    url: () => 'ws://model.test/',
    heartbeat: false,
    reconnect: {
      baseDelayMs: 50,
      maxDelayMs: 50,
      jitter: 'none',
      maxAttempts: 2,
      resetAfterMs: 900,
      retryOnStart: false,
    },
  },
} satisfies Record<string, Partial<ClientOptions>>;

export type ConfigName = keyof typeof MODEL_OPTIONS;

/**
 * Backpressure bounds for the inbound actions. `inbound.paused`: three 4-byte messages for a blocked
 * handler (one runs, two queue: 8 bytes reach highWaterBytes). `inbound.buffer`: two 12-byte messages
 * held by an exclusive section (2 < highWaterMark: held messages count by number); when the section
 * ends they are dispatched to the blocked handler and the one that queues passes highWaterBytes, so
 * reading pauses without a new frame (the only way to pause while a ping is unanswered: any frame
 * that arrives answers it first).
 */
const INBOUND = { highWaterMark: 3, highWaterBytes: 8, lowWaterMark: 0 } as const;
const HOLD = 'hold';
const HELD_BY_SECTION = 'held-message';

/** Clock reading when a replay starts (the client treats a last-inbound time of 0 as "never"). */
export const START_AT = 1_000;

/** The machine config the client derives from options (read from a client, so they cannot drift). */
export function modelConfigOf(
  name: string,
  options: Partial<ClientOptions>,
  startAt = START_AT,
): ModelConfig {
  const client = createClient({ url: 'ws://model.test/', adapter: createMemoryAdapter(), ...options });
  const config: MachineConfig = client.actor.getSnapshot().context.config;
  client.actor.stop();
  return { name, config, startAt };
}

/** The model config of one of {@link MODEL_OPTIONS}. */
export function modelConfig(name: ConfigName): ModelConfig {
  return modelConfigOf(name, MODEL_OPTIONS[name] as Partial<ClientOptions>);
}

/** Flushes microtasks a bounded number of times: the adapter and the hooks settle in microtasks. */
export async function settle(rounds = 50): Promise<void> {
  for (let i = 0; i < rounds; i++) await Promise.resolve();
}

export interface Gate<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(error: unknown): void;
}

/** A promise the test settles from outside (a hook that waits for the path's say-so). */
export function gate<T>(): Gate<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  promise.catch(() => {});
  return { promise, resolve, reject };
}

/** A fake browser `window`/`document` pair, so the environment signals can be driven. */
function fakeEnvironment() {
  const window = new EventTarget();
  const document = Object.assign(new EventTarget(), { visibilityState: 'visible' });
  return { window, document };
}

/** What a replay holds to act as the app: its client, the session onOpen gave it, the exit() onRestartError gave it. */
export interface AppHandles {
  client: WsClient;
  handle: Session | undefined;
  storedExit: (() => void) | undefined;
}

/**
 * Performs a model event that is a command of the app (start, stop, restart, exit) on the real client,
 * the same way for every replay (in-memory and loopback). Returns false for any other event.
 */
export function performClientCommand(app: AppHandles, event: ModelEvent, before: ModelState): boolean {
  switch (event.type) {
    case 'client.start':
      app.client.start().catch(() => {});
      return true;
    case 'client.stop':
      void app.client.stop(event.timeoutMs === undefined ? {} : { timeoutMs: event.timeoutMs });
      return true;
    case 'client.restart':
      app.client.restart();
      return true;
    case 'client.exit':
      // The app exits through the session it holds, or the exit() onRestartError gave it.
      if (
        app.handle !== undefined &&
        app.handle.id === app.client.sessionId &&
        before.m.context.socketWasOpen
      ) {
        app.handle.exit();
      } else if (app.storedExit !== undefined) {
        app.storedExit();
      } else {
        throw new Error('the path exits, and the app holds no way to');
      }
      return true;
    default:
      return false;
  }
}

/** One real client on the in-memory adapter, driven by model events. */
export class MemoryReplay {
  readonly sim = new SimulatedClock();
  readonly memory: MemoryAdapter = createMemoryAdapter({
    autoOpen: false,
    autoPong: false,
    autoCloseReply: false,
  });
  readonly client: WsClient;
  /** Transition keys the client's actor took since the last {@link MemoryReplay.takeObserved}. */
  private observed: string[] = [];
  readonly errors: unknown[] = [];
  private readonly env = fakeEnvironment();
  private dialThrows = false;
  private handle: Session | undefined;
  private storedExit: (() => void) | undefined;
  private openGate: Gate<void> | undefined;
  private closeGate: Gate<undefined> | undefined;
  private sectionGate: Gate<void> | undefined;
  private blocking = false;
  private blocked: Array<{ sessionId: number; release: () => void }> = [];
  private disposing = false;

  constructor(name: ConfigName) {
    this.sim.increment(START_AT);
    const sim = this.sim;
    const memory = this.memory;
    const adapter: SocketAdapter = {
      name: 'memory',
      capabilities: memory.capabilities,
      connect: (request, listener) => {
        if (this.dialThrows) {
          this.dialThrows = false;
          throw new Error('connect() threw');
        }
        return memory.connect(request, listener);
      },
    };
    this.client = createClient({
      url: 'ws://model.test/',
      adapter,
      clock: {
        now: () => sim.now(),
        setTimeout: (fn, ms) => sim.setTimeout(fn, ms),
        clearTimeout: (id) => sim.clearTimeout(id as number),
      },
      ...(MODEL_OPTIONS[name] as Partial<ClientOptions>),
      inbound: INBOUND,
      environment: this.env,
      inspect: (event: any) => {
        if (event.type !== '@xstate.microstep') return;
        for (const t of event._transitions) this.observed.push(transitionKey(t));
      },
      hooks: {
        onOpen: async (session) => {
          this.handle = session;
          this.openGate = gate<void>();
          await this.openGate.promise;
        },
        onClose: () => {
          if (this.disposing) return undefined;
          this.closeGate = gate<undefined>();
          return this.closeGate.promise;
        },
        onMessage: (m) => {
          if (m.data === 'pong' || !this.blocking) return undefined;
          return new Promise<void>((release) => this.blocked.push({ sessionId: m.sessionId, release }));
        },
        onRestartError: (_error, { exit }) => {
          this.storedExit = exit;
        },
      },
    });
    this.client.on('error', (e) => this.errors.push(e));
  }

  /** The transitions observed since the last call. */
  takeObserved(): string[] {
    const taken = this.observed;
    this.observed = [];
    return taken;
  }

  private conn(): MemoryConnection {
    const conn = this.memory.last;
    if (conn === undefined) throw new Error('the path needs a connection, and the client made none');
    return conn;
  }

  /** Handlers still blocked from an ended session would skew the counts: let them finish. */
  private async releaseStaleHandlers(): Promise<void> {
    const current = this.client.sessionId;
    const stale = this.blocked.filter((b) => b.sessionId !== current);
    if (stale.length === 0) return;
    this.blocked = this.blocked.filter((b) => b.sessionId === current);
    const blocking = this.blocking;
    this.blocking = false;
    for (const b of stale) b.release();
    await settle();
    this.blocking = blocking;
  }

  /** Performs the real action of one model event. `before` is the model state it applies to. */
  async perform(event: ModelEvent, before: ModelState): Promise<void> {
    if (event.advanceMs !== undefined) {
      this.sim.increment(event.advanceMs);
      await settle();
      return;
    }
    if (
      performClientCommand(
        { client: this.client, handle: this.handle, storedExit: this.storedExit },
        event,
        before,
      )
    ) {
      await settle();
      return;
    }
    switch (event.type) {
      case 'fault.dialThrows':
        this.dialThrows = true;
        break;
      case 'socket.opened':
        this.conn().open();
        break;
      case 'socket.closed': {
        const conn = this.conn();
        switch (event.fault) {
          case 'reject401':
            conn.reject(401);
            break;
          case 'reject503':
            conn.reject(503);
            break;
          case 'drop':
            conn.drop();
            break;
          case 'close1002':
            conn.serverClose(1002);
            break;
          case 'close4401':
            conn.serverClose(4401);
            break;
          case 'echo': {
            const frame = conn.clientClose;
            if (frame === undefined)
              throw new Error('the server should echo a close frame the client never sent');
            conn.serverClose(frame.code, frame.reason);
            break;
          }
          default:
            throw new Error(`unknown fault ${String(event.fault)}`);
        }
        break;
      }
      case 'xstate.done.actor.openHook':
        this.openGate?.resolve();
        break;
      case 'xstate.error.actor.openHook':
        this.openGate?.reject(new Error('onOpen failed'));
        break;
      case 'xstate.done.actor.closeHook':
        this.closeGate?.resolve(undefined);
        break;
      case 'heartbeat.pong':
        this.conn().deliver('pong');
        break;
      case 'inbound.paused':
        await this.releaseStaleHandlers();
        this.blocking = true;
        for (let i = 0; i < 3; i++) this.conn().deliver(HOLD);
        break;
      case 'inbound.resumed':
        this.blocking = false;
        for (const b of this.blocked.splice(0)) b.release();
        break;
      case 'inbound.buffer':
        await this.releaseStaleHandlers();
        this.conn().deliver(HELD_BY_SECTION);
        this.conn().deliver(HELD_BY_SECTION);
        break;
      case 'flow.pause': {
        // A section of an earlier session may still hold the queue: let it finish first.
        this.sectionGate?.resolve();
        await settle();
        const section = gate<void>();
        this.sectionGate = section;
        this.client.exclusive(() => section.promise).catch(() => {});
        break;
      }
      case 'flow.resume':
        if (before.buffered) this.blocking = true;
        this.sectionGate?.resolve();
        break;
      case 'env.offline':
      case 'env.online':
        this.env.window.dispatchEvent(new Event(event.type.slice(4)));
        break;
      case 'env.visible':
        this.env.document.dispatchEvent(new Event('visibilitychange'));
        break;
      default:
        throw new Error(`no real action for ${event.type}`);
    }
    await settle();
  }

  /** Stops the client and everything it left running (tests call it when a path is done). */
  async dispose(): Promise<void> {
    this.disposing = true;
    this.openGate?.resolve();
    this.closeGate?.resolve(undefined);
    this.sectionGate?.resolve();
    for (const b of this.blocked.splice(0)) b.release();
    const stopped = this.client.stop().catch(() => {});
    for (let i = 0; i < 10 && this.client.state !== 'stopped' && this.client.state !== 'idle'; i++) {
      this.sim.increment(1_000);
      await settle();
    }
    await stopped;
  }
}

export type { PathStep };
