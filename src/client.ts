/**
 * `createClient()`: the composition root. It creates the one XState actor of a client and the thin
 * service around it (adapter, send buffer, dispatcher, pending requests, events). The machine decides
 * every lifecycle step; this file performs the effects it asks for and carries data on the hot path
 * without touching the machine.
 */
import { type Actor, type SnapshotFrom, createActor } from 'xstate';
import { connectionMachine, type CloseHookOutput } from '../machines/connection.machine.js';
import type {
  ConnectionEmitted,
  ConnectionEvent,
  HookActorInput,
  MachineConfig,
  SocketActorInput,
} from '../machines/connection.types.js';
import { assertValidClose } from './core/close-codes.js';
import {
  ClientStoppedError,
  ConnectError,
  ConnectionClosedError,
  DuplicateKeyError,
  HandshakeError,
  HookError,
  InvalidCloseError,
  InvalidOptionsError,
  InvalidStateError,
  NotOpenError,
  RequestAbortedError,
  SessionEndedError,
  StartError,
  UndeliveredError,
  type WsmError,
  isWsmError,
  messageOf,
} from './core/errors.js';
import { Message } from './core/message.js';
import { MAX_TIMER_MS, type ResolvedOptions, checkUrl, resolveOptions } from './core/options.js';
import type { AttemptInfo, ClientState, Clock, CloseInfo, Data } from './core/types.js';
import { Emitter } from './events.js';
import { redactUrl } from './redact.js';
import { Correlator, type PendingEntry } from './rpc/correlator.js';
import { type DispatchSession, Dispatcher, type ExclusiveSession } from './session/dispatcher.js';
import { SendQueue, byteLength } from './session/send-queue.js';
import {
  type SessionRuntime,
  type SocketLink,
  closeHookActor,
  openHookActor,
  socketActor,
} from './session/socket.actor.js';
import type { SocketAdapter, SocketConnection } from './transport/adapter.js';
import type {
  ClientEvents,
  ClientOptions,
  ClientStats,
  CloseRequest,
  RequestOptions,
  SendResult,
  Session,
} from './types.js';

/**
 * @internal The key under which a client accepts an {@link Instrumentation}. A `Symbol.for` key, so
 * `wsmachine/otel` finds it across copies of the package without the core importing OpenTelemetry.
 */
export const INSTRUMENT: unique symbol = Symbol.for('wsmachine.instrument') as never;

/** Provided once per module, never per client (a provide() costs ~240 µs and 24 KiB). */
const liveMachine = connectionMachine.provide({
  actors: { socket: socketActor, openHook: openHookActor, closeHook: closeHookActor },
});

/**
 * The running actor's type, for embedding (`waitFor`, `useSelector`).
 *
 * @example
 * ```ts
 * import { waitFor } from 'xstate';
 * import { type ClientActor, createClient } from 'wsmachine';
 * // Resolves when the client is reconnecting (e.g. to show a banner).
 * const whenReconnecting = (actor: ClientActor) => waitFor(actor, (s) => s.matches('reconnecting'));
 * const client = createClient({ url: 'wss://example.test/feed' });
 * void whenReconnecting(client.actor).then(() => console.log('connection lost, retrying'));
 * ```
 */
export type ClientActor = Actor<typeof liveMachine>;
type Snapshot = SnapshotFrom<typeof liveMachine>;

const realClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (id) => clearTimeout(id as ReturnType<typeof setTimeout>),
};

/**
 * The client state name of a machine snapshot.
 *
 * @example
 * ```ts
 * client.actor.subscribe((s) => console.log(stateOf(s)));
 * ```
 */
export function stateOf(snapshot: { matches(value: any): boolean }): ClientState {
  if (snapshot.matches({ session: 'open' })) return 'open';
  if (snapshot.matches({ session: 'closing' })) return 'closing';
  if (snapshot.matches({ session: { establishing: 'opening' } })) return 'opening';
  if (snapshot.matches('session')) return 'connecting';
  if (snapshot.matches('reconnecting')) return 'reconnecting';
  if (snapshot.matches('stopped')) return 'stopped';
  return 'idle';
}

function isData(value: unknown): value is Data {
  return typeof value === 'string' || value instanceof Uint8Array || value instanceof ArrayBuffer;
}

/** The per-session handle given to hooks. */
class SessionHandle implements Session {
  readonly id: number;
  /**
   * Made on first use of `signal` (most sessions never ask for it; an AbortController with its
   * signal costs ~0.5 KiB per client), already aborted when the session is ending by then.
   */
  private abort: AbortController | undefined;
  /** The abort reason, from the moment the session started ending. */
  private endReason: ConnectionClosedError | undefined;
  private readonly client: WsClient;
  /** The connection, once the handshake completed. */
  conn: SocketConnection | undefined;
  /** The subprotocol the server picked. */
  protocol = '';
  /** True from the moment the machine starts closing this session. */
  ending = false;
  /** True once the machine left the session: the handle refuses to write. */
  ended = false;

  constructor(id: number, client: WsClient) {
    this.id = id;
    this.client = client;
  }

  get signal(): AbortSignal {
    if (this.abort === undefined) {
      this.abort = new AbortController();
      if (this.endReason !== undefined) this.abort.abort(this.endReason);
    }
    return this.abort.signal;
  }

  markEnding(): void {
    this.ending = true;
    if (this.endReason !== undefined) return;
    this.endReason = new ConnectionClosedError('The session is ending');
    this.abort?.abort(this.endReason);
  }

  send(data: Data): SendResult {
    if (this.ended || this.conn === undefined) throw new SessionEndedError(this.id);
    this.client.writeOrThrow(this, data);
    return 'sent';
  }

  request(data: Data, options?: RequestOptions): Promise<Message> {
    return this.client.requestOn(this, data, options ?? {});
  }

  get context(): unknown {
    return this.client.traceContextOf(this.id);
  }

  restart(reason?: string): void {
    assertValidClose(undefined, reason);
    if (!this.ending && !this.ended) this.client.sendToMachine({ type: 'client.restart', reason });
  }

  exit(reason?: string): void {
    assertValidClose(undefined, reason);
    if (!this.ended) this.client.sendToMachine({ type: 'client.exit', reason });
  }
}

/**
 * A WebSocket client whose lifecycle is an XState v5 statechart. Create it with {@link createClient}.
 *
 * @example
 * ```ts
 * import { createClient } from 'wsmachine';
 * const client = createClient({
 *   url: 'wss://example.test/feed',
 *   requests: { key: { request: (_data, id) => id, response: (m) => m.json<{ id?: number }>().id } },
 * });
 * client.on('state', ({ from, to }) => console.log(from, '->', to));
 * await client.start();                                                  // resolves once open
 * client.send(JSON.stringify({ op: 'subscribe', topic: 'prices' }));    // 'sent'
 * const reply = await client.request(JSON.stringify({ id: 1, op: 'snapshot' }), { params: 1 });
 * console.log(reply.json(), client.stats().messagesIn);
 * await client.stop();                                                   // always settles
 * ```
 */
export class WsClient implements SessionRuntime {
  /** The running XState actor: `waitFor(client.actor, ...)`, `subscribe`, inspection. */
  readonly actor: ClientActor;
  private readonly options: ResolvedOptions;
  private readonly adapter: SocketAdapter;
  private readonly clock: Clock;
  private readonly emitter: Emitter<ClientEvents & Record<string, unknown>>;
  private readonly queue: SendQueue | undefined;
  private readonly correlator: Correlator;
  private current: SessionHandle | undefined;
  private lastState: ClientState = 'idle';
  private lastClose: CloseInfo | undefined;
  private pendingEmits: Array<ConnectionEmitted | ClientStepEvent> = [];
  private draining = false;
  private startWaiter: { resolve: () => void; reject: (e: unknown) => void } | undefined;
  private stopWaiters: Array<() => void> = [];
  /** Session whose ping is out and not yet answered (0 = none). */
  private awaitingPongFor = 0;
  private pingSentAt = 0;
  /** clock.now() of the last inbound frame (message, pong or ping) on the current session. */
  private lastInboundAt = 0;
  private readonly dispatcher: Dispatcher;
  private openWaiters: Array<{ resolve: (s: DispatchSession) => void; reject: (e: unknown) => void }> = [];
  private readonly counters = {
    messagesIn: 0,
    messagesOut: 0,
    bytesIn: 0,
    bytesOut: 0,
    sessions: 0,
    reconnects: 0,
    undelivered: 0,
    lastRttMs: undefined as number | undefined,
  };
  private readonly hooks: ClientOptions['hooks'] & {};
  private readonly prepare: ((m: Message) => unknown) | undefined;
  private readonly isPong: ((m: Message) => boolean) | undefined;
  /** Errors already reported on console.error (made on the first such report). */
  private reportedWithoutListener: WeakSet<object> | undefined;
  private readonly unref: boolean;
  private readonly environment: EnvironmentSignals | undefined;
  private detachEnvironment: (() => void) | undefined;

  /** @internal use {@link createClient}. */
  constructor(options: ClientOptions, defaultAdapter: SocketAdapter | (() => SocketAdapter) | undefined) {
    const adapter =
      options?.adapter ?? (typeof defaultAdapter === 'function' ? defaultAdapter() : defaultAdapter);
    if (adapter === undefined) {
      throw new InvalidOptionsError([
        {
          option: 'adapter',
          value: undefined,
          expected:
            'a SocketAdapter: this runtime has no global WebSocket; import from "wsmachine/node" (uses ws) or pass one',
        },
      ]);
    }
    this.options = resolveOptions(options, {
      protocolPing: adapter.capabilities?.protocolPing === true,
      headers: adapter.capabilities?.headers === true,
    });
    this.adapter = adapter;
    const baseClock = options.clock ?? realClock;
    // unref: timers must not keep Node alive (the socket is unref'd by the adapter).
    this.clock =
      options.unref === true
        ? {
            now: () => baseClock.now(),
            setTimeout: (fn, ms) => {
              const t = baseClock.setTimeout(fn, ms) as { unref?: () => void };
              t?.unref?.();
              return t;
            },
            clearTimeout: (id) => baseClock.clearTimeout(id),
          }
        : baseClock;
    this.unref = options.unref === true;
    this.receiveClock = options.clock === undefined;
    this.environment = resolveEnvironment(options.environment);
    this.hooks = (options.hooks ?? {}) as NonNullable<ClientOptions['hooks']>;
    this.prepare = this.options.prepare;
    this.isPong = this.options.heartbeat.isPong;
    this.emitter = new Emitter((error, event) => {
      // A throwing `error` listener must not be reported through `error` again (endless recursion).
      if (event === 'error') console.error("wsmachine: an 'error' listener threw", error);
      else this.reportError(new HookError(`'${event}' listener`, error));
    });
    const sb = this.options.sendBuffer;
    this.queue = sb.enabled ? new SendQueue(sb.maxMessages, sb.maxBytes) : undefined;
    this.correlator = new Correlator(this.clock, {
      keyOfResponse: this.options.requests.key?.response,
      match: this.options.requests.match,
      onMatcherError: (error, which) => this.reportError(new HookError(which, error)),
    });

    this.dispatcher = new Dispatcher({
      onMessage: this.hooks.onMessage as ((m: Message, s: unknown) => unknown) | undefined,
      concurrency: this.options.concurrency,
      limits: this.options.inbound,
      clock: this.clock,
      reportError: (error) => this.reportError(error),
      current: () => this.current,
      whenOpen: () => this.whenOpen(),
      pauseReading: (session) => {
        const conn = (session as SessionHandle).conn;
        if (conn?.pause === undefined || !this.adapter.capabilities.pause) return false;
        conn.pause();
        return true;
      },
      resumeReading: (session) => (session as SessionHandle).conn?.resume?.(),
      notify: (type) => {
        // Nothing could be read while paused: the heartbeat's silence clock restarts on resume.
        if (type === 'inbound.resumed') this.lastInboundAt = this.clock.now();
        this.actor.send({ type });
      },
      overflow: (session, error) => {
        this.reportError(error);
        if (this.current === session)
          this.actor.send({ type: 'client.restart', reason: 'inbound queue overflow' });
      },
    });
    const o = this.options;
    const config: MachineConfig = {
      openTimeoutMs: o.openTimeoutMs,
      closeTimeoutMs: o.closeTimeoutMs,
      stopTimeoutMs: o.stopTimeoutMs,
      reconnect: {
        ...o.reconnect,
        // User code must never throw inside a guard or an assign: the actor would reach XState's
        // `error` status. A throwing policy is reported and the default decision is used.
        shouldReconnect:
          o.reconnect.shouldReconnect === undefined
            ? undefined
            : (info) => {
                try {
                  return o.reconnect.shouldReconnect!(info) === true;
                } catch (error) {
                  this.reportError(new HookError('reconnect.shouldReconnect', error));
                  return info.defaultDecision;
                }
              },
        random: () => {
          try {
            const r = o.reconnect.random();
            return typeof r === 'number' && r >= 0 && r < 1 ? r : Math.random();
          } catch (error) {
            this.reportError(new HookError('reconnect.random', error));
            return Math.random();
          }
        },
        credentialsRefreshable: typeof options.url === 'function' || typeof options.headers === 'function',
      },
      heartbeat: {
        enabled: o.heartbeat.enabled,
        intervalMs: o.heartbeat.intervalMs,
        timeoutMs: o.heartbeat.timeoutMs,
        maxMissed: o.heartbeat.maxMissed,
      },
    };
    this.actor = createActor(liveMachine, {
      input: { config, runtime: this },
      clock: this.clock,
      ...(options.inspect ? { inspect: options.inspect as never } : {}),
    });
    this.actor.on('*', (event) => {
      this.pendingEmits.push(event as ConnectionEmitted);
    });
    this.actor.subscribe({
      next: (snapshot) => this.onSnapshot(snapshot),
      error: (error) => this.machineFailed(error),
    });
    this.actor.start();
  }

  // ---------------------------------------------------------------------------------------------
  // Public API

  /** The current lifecycle state. */
  get state(): ClientState {
    return stateOf(this.actor.getSnapshot());
  }

  /** True while the state is `open`. */
  get isOpen(): boolean {
    return this.state === 'open';
  }

  /** The id of the current (or last) session; 0 before the first dial. */
  get sessionId(): number {
    return this.actor.getSnapshot().context.sessionId;
  }

  /** 0 for the first dial after start(), +1 per reconnect dial, reset after a stable session. */
  get attempt(): number {
    return this.actor.getSnapshot().context.attempt;
  }

  /**
   * Starts the client. Resolves when the first session is `open` (onOpen done).
   *
   * @throws {InvalidStateError} (as a rejection) when already started.
   * @throws {StartError} (as a rejection) when the first start fails; `cause` says why.
   */
  start(): Promise<void> {
    if (this.draining) {
      // Called from a listener while a step's events are still being handled: run after them.
      return new Promise<void>((resolve, reject) =>
        this.deferred.push(() => this.start().then(resolve, reject)),
      );
    }
    if (this.startWaiter !== undefined) {
      return Promise.reject(new InvalidStateError('start() is already in progress; await it.', this.state));
    }
    const state = this.state;
    if (state !== 'idle' && state !== 'stopped') {
      return Promise.reject(
        new InvalidStateError(`start() was called while the client is "${state}"; call stop() first.`, state),
      );
    }
    return new Promise<void>((resolve, reject) => {
      this.startWaiter = { resolve, reject };
      this.attachEnvironment();
      this.actor.send({ type: 'client.start' });
    });
  }

  /**
   * Stops the client: cancels backoff and dials, rejects pending requests, reports queued sends as
   * `undelivered`, closes (code: this argument, else onClose's choice, else 1000), and terminates at
   * the deadline. Always settles; idempotent.
   *
   * @throws {InvalidCloseError} (as a rejection, with no side effect) for an unsendable code or a
   *   reason over 123 UTF-8 bytes.
   */
  stop(options: { code?: number; reason?: string; timeoutMs?: number } = {}): Promise<void> {
    try {
      assertValidClose(options.code, options.reason);
      if (
        options.timeoutMs !== undefined &&
        (typeof options.timeoutMs !== 'number' ||
          !Number.isInteger(options.timeoutMs) ||
          options.timeoutMs < 0 ||
          options.timeoutMs > MAX_TIMER_MS)
      ) {
        throw new InvalidOptionsError([
          {
            option: 'stop.timeoutMs',
            value: options.timeoutMs,
            expected: `an integer from 0 to ${MAX_TIMER_MS}`,
          },
        ]);
      }
    } catch (error) {
      return Promise.reject(error);
    }
    if (this.draining) {
      // Called from a listener while a step's events are still being handled: run after them, and
      // after any start() deferred before it, so the calls take effect in the order they were made.
      return new Promise<void>((resolve, reject) =>
        this.deferred.push(() => this.stop(options).then(resolve, reject)),
      );
    }
    const state = this.state;
    if (state === 'idle' || state === 'stopped') {
      const reason = new ClientStoppedError();
      this.failEverything(reason);
      this.dispatcher.stopped(reason);
      const openWaiters = this.openWaiters;
      this.openWaiters = [];
      for (const w of openWaiters) w.reject(reason);
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => {
      this.stopWaiters.push(resolve);
      // A guard of last resort outside the machine: whatever a hook or the peer does, stop settles.
      // Armed before the stop is sent: from `connecting` or `reconnecting` the machine reaches
      // `stopped` inside actor.send(), and the waiters (with this timer's clear) run right there.
      const limit = Math.min(
        MAX_TIMER_MS,
        (options.timeoutMs ?? this.options.stopTimeoutMs) + this.options.closeTimeoutMs + 100,
      );
      const timer = this.clock.setTimeout(() => {
        if (this.stopWaiters.includes(resolve)) {
          this.reportError(
            new HookError('stop', new Error(`stop() passed its deadline of ${limit} ms in "${this.state}"`)),
          );
          this.stopWaiters = this.stopWaiters.filter((w) => w !== resolve);
          resolve();
        }
      }, limit);
      this.stopWaiters.push(() => this.clock.clearTimeout(timer));
      this.actor.send({
        type: 'client.stop',
        code: options.code,
        reason: options.reason,
        timeoutMs: options.timeoutMs,
      });
    });
  }

  /**
   * Ends the current session through `closing` and reconnects.
   *
   * @throws {InvalidStateError} when the client is not started.
   */
  restart(reason?: string): void {
    assertValidClose(undefined, reason);
    const state = this.state;
    if (state === 'idle' || state === 'stopped') {
      throw new InvalidStateError(`restart() needs a started client; it is "${state}". Call start().`, state);
    }
    this.actor.send({ type: 'client.restart', reason });
  }

  /**
   * Sends a message: `'sent'` when handed to the socket, `'queued'` while not open.
   *
   * @throws {NotOpenError} when not open and `sendBuffer` is false, or when the client is stopped.
   * @throws {SendBufferFullError} when the send buffer is full (the message was not queued).
   */
  send(data: Data): SendResult {
    if (!isData(data)) throw invalidData(data);
    const cur = this.current;
    if (cur?.conn !== undefined && !cur.ending && this.lastStateIsOpen()) {
      if (this.write(cur, data)) return 'sent';
    }
    return this.enqueue(data, undefined);
  }

  /**
   * Sends a request and resolves with its response. Registered before the write, so a reply in the
   * same tick is matched.
   *
   * @throws {RequestTimeoutError} (as a rejection) when no response came within `timeoutMs`.
   * @throws {RequestAbortedError} (as a rejection) when `signal` aborted or `cancel()` removed it.
   * @throws {ConnectionClosedError} (as a rejection) when the connection dropped first
   *   (`requests.onDisconnect: 'reject'`); {@link ClientStoppedError} when the client stopped.
   * @throws {InvalidStateError} (as a rejection) when neither `requests.key` nor `requests.match` is set.
   * @throws {DuplicateKeyError} (as a rejection) when a pending request already has this key.
   * @throws {NotOpenError} or {@link SendBufferFullError} (as a rejection) as `send()` would throw them.
   */
  request(data: Data, options: RequestOptions = {}): Promise<Message> {
    return this.requestOn(undefined, data, options);
  }

  /**
   * Removes a pending request (the seeds' RemoveFromQueue); its promise rejects
   * {@link RequestAbortedError}. Accepts the request's promise or its key.
   *
   * @returns whether something was removed.
   */
  cancel(requestOrKey: Promise<Message> | unknown): boolean {
    const entry =
      requestOrKey instanceof Promise
        ? (requestOrKey as RequestPromise)[PENDING_ENTRY]
        : this.correlator.byKeyLookup(requestOrKey);
    if (entry === undefined) return false;
    return this.correlator.reject(entry, new RequestAbortedError('cancelled'));
  }

  /**
   * Runs `fn` with normal dispatch paused (the seeds' read mutex, without its deadlocks): inside,
   * `session.send()` and `session.next(predicate?, { timeoutMs })` read the stream directly, in order.
   * Messages `fn` does not read are dispatched in order after it returns. Replies to pending requests
   * and pongs are still matched first. Calls queue in FIFO order and wait for the client to be open.
   * A session that ends rejects a pending `next()` with {@link ConnectionClosedError}; `stop()` rejects
   * it with {@link ClientStoppedError} and never waits for `fn`.
   *
   * Do not await a nested `client.exclusive()` inside `fn`: it is queued behind `fn` itself.
   *
   * @example
   * ```ts
   * const balance = await client.exclusive(async (s) => {
   *   s.send('BALANCE');
   *   return (await s.next((m) => String(m.data).startsWith('BALANCE '), { timeoutMs: 2_000 })).data;
   * });
   * ```
   */
  exclusive<T>(fn: (session: ExclusiveSession) => Promise<T> | T): Promise<T> {
    if (typeof fn !== 'function') return Promise.reject(invalidArgument('exclusive(fn)', fn, 'a function'));
    return this.dispatcher.exclusive(fn);
  }

  /**
   * The incoming stream as an async iterator: every message not consumed by a request, a pong or an
   * exclusive section. Several iterators each get every message. It ends when the client stops. An
   * iterator that falls `inbound.iteratorBufferSize` messages behind ends with
   * {@link QueueOverflowError} instead of holding memory (or pausing the socket) for everyone.
   *
   * @example
   * ```ts
   * for await (const m of client.messages()) console.log(m.data);
   * ```
   */
  messages(): AsyncIterableIterator<Message> {
    return this.dispatcher.subscribe();
  }

  /** Tells the heartbeat a pong arrived (for app protocols whose pong the client cannot recognise). */
  pongReceived(): void {
    const cur = this.current;
    if (cur !== undefined) this.liveness(cur.id);
  }

  /** Counters and gauges. */
  stats(): ClientStats {
    const c = this.counters;
    return {
      messagesIn: c.messagesIn,
      messagesOut: c.messagesOut,
      bytesIn: c.bytesIn,
      bytesOut: c.bytesOut,
      sessions: c.sessions,
      reconnects: c.reconnects,
      pendingRequests: this.correlator.size,
      queuedSends: this.queue?.size ?? 0,
      undelivered: c.undelivered,
      inboundQueued: this.dispatcher.queued,
      inboundQueuePeak: this.dispatcher.peak,
      inboundDiscarded: this.dispatcher.discarded,
      lastRttMs: c.lastRttMs,
    };
  }

  /** Adds a typed listener; returns a function that removes it. */
  on<K extends keyof ClientEvents>(event: K, listener: (payload: ClientEvents[K]) => void): () => void {
    return this.emitter.on(event, listener as never);
  }

  /** Removes a listener. */
  off<K extends keyof ClientEvents>(event: K, listener?: (payload: ClientEvents[K]) => void): void {
    this.emitter.off(event, listener as never);
  }

  /** Adds a listener that runs once; returns a function that removes it. */
  once<K extends keyof ClientEvents>(event: K, listener: (payload: ClientEvents[K]) => void): () => void {
    return this.emitter.once(event, listener as never);
  }

  // ---------------------------------------------------------------------------------------------
  // Machine bridge

  /** @internal */
  sendToMachine(event: ConnectionEvent): void {
    this.actor.send(event);
  }

  /**
   * Direct writes are allowed once the session is open AND its queued sends were flushed: a send from
   * a `state` -> `open` listener (which runs before the flush) must not overtake the queue.
   */
  private lastStateIsOpen(): boolean {
    const cur = this.current;
    // Without a send buffer there is nothing a direct write could overtake.
    return (
      this.lastState === 'open' &&
      cur !== undefined &&
      (this.queue === undefined || this.flushedSession === cur.id)
    );
  }

  /** The session whose send queue was flushed (direct writes are in order from then on). */
  private flushedSession = 0;

  /**
   * Emitted machine events run after the snapshot is updated (XState runs emit actions during the
   * transition, before `getSnapshot()` changes), so listeners see `client.state` already at the new
   * state, and the `state` event comes before the event that caused it.
   */
  private onSnapshot(_snapshot: Snapshot): void {
    if (this.draining) return;
    this.draining = true;
    try {
      // Loop until stable: a listener may cause further machine steps.
      for (;;) {
        const to = stateOf(this.actor.getSnapshot());
        if (to !== this.lastState) {
          const from = this.lastState;
          this.lastState = to;
          this.emitter.emit('state', { from, to });
          continue;
        }
        const event = this.pendingEmits.shift();
        if (event === undefined) break;
        this.handleMachineEvent(event);
      }
    } finally {
      this.draining = false;
    }
    // Calls made from listeners while the events of a step were still being handled (e.g. start()
    // then stop() from a `state` -> `stopped` listener) run once the client's bookkeeping caught up
    // and the actor finished its step: in a microtask, in the order they were made. Run inside the
    // step, start()'s event would only be queued and a following stop() would see the old state.
    if (this.deferred.length > 0 && !this.deferredScheduled) {
      this.deferredScheduled = true;
      queueMicrotask(this.runDeferred);
    }
  }

  private deferredScheduled = false;

  private readonly runDeferred = (): void => {
    this.deferredScheduled = false;
    const calls = this.deferred;
    this.deferred = [];
    for (const call of calls) call();
  };

  private deferred: Array<() => void> = [];

  /**
   * Backstop: if the machine ever reached XState's `error` status (it must not), settle everything
   * the client owes its caller instead of hanging: requests, queued sends, start() and stop().
   */
  private machineFailed(error: unknown): void {
    const failure = new HookError('machine', error);
    this.reportError(failure);
    const reason = new ClientStoppedError(`The client failed: ${messageOf(error)}`);
    this.failEverything(reason);
    this.dispatcher.stopped(reason);
    const openWaiters = this.openWaiters;
    this.openWaiters = [];
    for (const w of openWaiters) w.reject(reason);
    const waiter = this.startWaiter;
    this.startWaiter = undefined;
    waiter?.reject(new StartError(failure));
    this.detachEnvironment?.();
    this.detachEnvironment = undefined;
    this.emitter.emit('stopped', { error: failure });
    const waiters = this.stopWaiters;
    this.stopWaiters = [];
    for (const w of waiters) w();
  }

  private handleMachineEvent(event: ConnectionEmitted | ClientStepEvent): void {
    switch (event.type) {
      case 'session.open': {
        const cur = this.current;
        this.counters.sessions++;
        // The heartbeat starts now; frames could not count while onOpen ran or reading was paused.
        this.lastInboundAt = this.clock.now();
        // Reading was paused for backpressure during `opening`, where the heartbeat region does not
        // exist yet: tell it now, or it pings a peer it cannot hear and kills a healthy session.
        if (this.dispatcher.readingPaused) this.actor.send({ type: 'inbound.paused' });
        this.flush(cur);
        this.emitter.emit('open', {
          sessionId: event.sessionId,
          restarting: event.restarting,
          protocol: cur?.protocol ?? '',
        });
        const waiter = this.startWaiter;
        this.startWaiter = undefined;
        waiter?.resolve();
        if (cur !== undefined && this.openWaiters.length > 0) {
          const openWaiters = this.openWaiters;
          this.openWaiters = [];
          for (const w of openWaiters) w.resolve(cur);
        }
        break;
      }
      case 'session.ending': {
        const cur = this.current;
        if (cur !== undefined && cur.id === event.sessionId) cur.markEnding();
        if (this.awaitingPongFor === event.sessionId) this.awaitingPongFor = 0;
        break;
      }
      case 'session.closed': {
        const close = event.close;
        this.lastClose = close;
        const cur = this.current;
        if (cur !== undefined && cur.id === close.sessionId) {
          cur.markEnding();
          cur.ended = true;
          this.current = undefined;
        }
        this.dispatcher.sessionEnded(
          close.sessionId,
          event.requested === 'stop' || event.requested === 'exit'
            ? new ClientStoppedError()
            : new ConnectionClosedError(
                `The session ended (${close.code} ${close.reason})`.trim(),
                close.code,
              ),
        );
        this.settleRequestsOnDisconnect(close, event.requested);
        this.emitter.emit('close', { ...close, class: event.closeClass });
        if (
          !event.reachedOpen &&
          event.requested === undefined &&
          (event.restarting || this.options.reconnect.retryOnStart)
        ) {
          // An onOpen failure leaves no error on the close info: pass the one the machine recorded.
          this.callRestartError(close.error ?? this.actor.getSnapshot().context.lastError, event.attempt);
        }
        break;
      }
      case 'connection.error': {
        if (event.error === undefined) break;
        const error =
          event.hook !== undefined && !isWsmError(event.error)
            ? new HookError(event.hook, event.error, event.sessionId)
            : event.error;
        this.reportError(asWsmError(error));
        break;
      }
      case 'client.connecting':
        this.emitter.emit('connecting', { attempt: event.attempt, url: event.url });
        break;
      case 'reconnect.scheduled':
        this.emitter.emit('reconnecting', {
          attempt: event.attempt,
          delayMs: event.delayMs,
          cause: event.cause,
        });
        break;
      case 'heartbeat.sent':
        break;
      case 'heartbeat.missed':
        this.emitter.emit('heartbeat-missed', { missed: event.missed });
        break;
      case 'client.stopped': {
        const stoppedByUser = event.requested === 'stop' || event.requested === 'exit';
        const error = stoppedByUser
          ? undefined
          : (event.error ??
            (this.lastClose
              ? new ConnectionClosedError(
                  `The connection closed (${this.lastClose.code} ${this.lastClose.reason}) and the reconnect policy stopped`,
                  this.lastClose.code,
                )
              : undefined));
        const reason = stoppedByUser
          ? new ClientStoppedError(event.requested === 'exit' ? 'exit() was called' : 'stop() was called')
          : asWsmError(error ?? new ClientStoppedError('The client stopped'));
        this.failEverything(reason);
        this.dispatcher.stopped(
          reason instanceof ClientStoppedError ? reason : new ClientStoppedError(reason.message),
        );
        const openWaiters = this.openWaiters;
        this.openWaiters = [];
        for (const w of openWaiters) w.reject(new ClientStoppedError(reason.message));
        const waiter = this.startWaiter;
        this.startWaiter = undefined;
        if (waiter !== undefined) {
          const cause = stoppedByUser
            ? new ClientStoppedError(
                event.requested === 'exit'
                  ? 'exit() was called before the connection opened'
                  : 'stop() was called before the connection opened',
              )
            : (event.error ?? reason);
          waiter.reject(new StartError(cause));
        }
        this.detachEnvironment?.();
        this.detachEnvironment = undefined;
        this.emitter.emit('stopped', { error });
        const waiters = this.stopWaiters;
        this.stopWaiters = [];
        for (const w of waiters) w();
        break;
      }
    }
  }

  // ---------------------------------------------------------------------------------------------
  // SessionRuntime: what the socket and hook actors call

  /** @internal */
  connectSocket(input: SocketActorInput, sendBack: (event: ConnectionEvent) => void): SocketLink {
    const sessionId = input.sessionId;
    const session = new SessionHandle(sessionId, this);
    this.current = session;
    if (input.restarting) this.counters.reconnects++;
    // Only a url or headers function sees the attempt's signal: made for that path alone.
    let abort: AbortController | undefined;
    let conn: SocketConnection | undefined;
    let disposed = false;
    const fail = (error: unknown) => {
      if (disposed) return;
      const e = asWsmError(error);
      sendBack({ type: 'socket.closed', sessionId, code: 1006, reason: '', wasClean: false, error: e });
    };
    const dial = (url: string, headers: Record<string, string> | undefined, inStep: boolean) => {
      if (disposed) return;
      const bad = checkUrl(url);
      if (bad !== undefined) {
        fail(new ConnectError(`The url function returned ${redactUrl(url)}, expected ${bad}`));
        return;
      }
      const connecting = { attempt: input.attempt, url: redactUrl(url) };
      // Inside the machine's step (a static URL dials as the socket actor starts), the event waits for
      // the step's snapshot, so that `state` -> `connecting` comes first, as for every other event.
      if (inStep) this.pendingEmits.push({ type: 'client.connecting', ...connecting });
      else this.emitter.emit('connecting', connecting);
      conn = this.adapter.connect(
        {
          url,
          protocols: this.options.protocols,
          headers,
          maxPayloadBytes: this.options.maxPayloadBytes,
          closeTimeoutMs: this.options.closeTimeoutMs,
          handshakeTimeoutMs: this.options.openTimeoutMs,
          unref: this.unref,
        },
        {
          onOpen: (info) => {
            if (disposed) return;
            session.conn = conn;
            this.lastInboundAt = this.clock.now();
            session.protocol = info.protocol;
            sendBack({ type: 'socket.opened', sessionId, protocol: info.protocol, response: info.response });
          },
          onMessage: (data, binary) => {
            if (!disposed) this.receive(session, data, binary);
          },
          onClose: (info) => {
            if (disposed) return;
            const error = info.error;
            sendBack({
              type: 'socket.closed',
              sessionId,
              code: info.code,
              reason: info.reason,
              wasClean: info.wasClean,
              ...(error === undefined ? {} : { error }),
              ...(error instanceof HandshakeError
                ? { status: error.status, retryAfterMs: error.retryAfterMs }
                : {}),
            });
          },
          onPong: () => {
            if (!disposed) this.liveness(sessionId);
          },
          onPing: () => {
            if (!disposed) this.liveness(sessionId);
          },
        },
      );
    };
    const resolveUrl = this.options.url;
    const resolveHeaders = this.options.headers;
    const staticUrl =
      typeof resolveUrl === 'string' ? resolveUrl : isUrlObject(resolveUrl) ? resolveUrl.href : undefined;
    if (staticUrl !== undefined && typeof resolveHeaders !== 'function') {
      // The common case stays synchronous: no promise per dial.
      dial(staticUrl, resolveHeaders as Record<string, string> | undefined, true);
    } else {
      abort = new AbortController();
      const attempt: AttemptInfo = {
        attempt: input.attempt,
        signal: abort.signal,
        lastClose: this.lastClose,
      };
      void (async () => {
        let url: string;
        let headers: Record<string, string> | undefined;
        try {
          const u = staticUrl ?? (await (resolveUrl as (a: AttemptInfo) => unknown)(attempt));
          url = typeof u === 'string' ? u : isUrlObject(u) ? u.href : String(u);
        } catch (error) {
          fail(new ConnectError(`The url function threw: ${messageOf(error)}`, error));
          return;
        }
        try {
          headers =
            typeof resolveHeaders === 'function'
              ? ((await resolveHeaders(attempt)) as Record<string, string>)
              : (resolveHeaders as Record<string, string> | undefined);
        } catch (error) {
          fail(new ConnectError(`The headers function threw: ${messageOf(error)}`, error));
          return;
        }
        // Outside the socket actor's start, a throwing adapter.connect() is a failed dial (else: an
        // unhandled rejection, and the session hangs in connecting).
        try {
          dial(url, headers, false);
        } catch (error) {
          fail(new ConnectError(`The adapter's connect() threw: ${messageOf(error)}`, error));
        }
      })();
    }
    return {
      command: (command) => {
        if (command.type === 'socket.close') {
          if (conn === undefined) return;
          try {
            conn.close(command.code, command.reason);
          } catch (error) {
            this.reportError(new InvalidCloseError(`Could not send the close frame: ${messageOf(error)}`));
            conn.terminate();
          }
        } else if (command.type === 'socket.ping') {
          this.ping(session);
        }
      },
      dispose: () => {
        disposed = true;
        abort?.abort(new ClientStoppedError('The attempt was abandoned'));
        session.markEnding();
        try {
          conn?.terminate();
        } catch {
          // Terminating a socket that already failed is not an error worth reporting.
        }
      },
    };
  }

  /** @internal */
  async runOpenHook(input: HookActorInput): Promise<void> {
    const onOpen = this.hooks.onOpen;
    const session = this.current;
    if (onOpen === undefined || session === undefined || session.id !== input.sessionId) return;
    const spans = this.startHookSpans('onOpen', input.sessionId);
    try {
      await onOpen(session, {
        restarting: input.restarting,
        response: input.response,
        protocol: input.protocol,
      });
      this.endHookSpans(spans, undefined);
    } catch (error) {
      this.endHookSpans(spans, error);
      throw error;
    }
  }

  /** @internal */
  async runCloseHook(input: HookActorInput): Promise<CloseHookOutput> {
    const onClose = this.hooks.onClose;
    const session = this.current;
    if (onClose === undefined || session === undefined || session.id !== input.sessionId) return undefined;
    const req = input.endRequest;
    const info: CloseInfo = input.lastClose ?? {
      code: req?.code ?? (req?.kind === 'restart' ? 1001 : 1000),
      reason: req?.reason ?? '',
      wasClean: true,
      sessionId: input.sessionId,
      requested: true,
    };
    let picked: CloseRequest | undefined | void;
    const spans = this.startHookSpans('onClose', input.sessionId);
    try {
      picked = await onClose(info, session);
      this.endHookSpans(spans, undefined);
    } catch (error) {
      this.endHookSpans(spans, error);
      this.reportError(new HookError('onClose', error, input.sessionId));
      return undefined;
    }
    if (picked === undefined || picked === null) return undefined;
    try {
      assertValidClose(picked.code, picked.reason);
    } catch (error) {
      this.reportError(new HookError('onClose', error, input.sessionId));
      return undefined;
    }
    return {
      code: picked.code ?? (req?.kind === 'restart' || !req ? 1001 : 1000),
      reason: picked.reason ?? '',
    };
  }

  // ---------------------------------------------------------------------------------------------
  // Receive path (hot): adapter -> message -> prepare -> pong / correlator -> handlers. No actor.send.

  /**
   * With the real clock, the receive path reads the time once per socket read, not once per message:
   * every message of one read (`ws` hands over a whole TCP read synchronously, up to ~2,000 small
   * frames) arrived at the same moment, and `Date.now()` costs 70-170 ns here, a third of the whole
   * per-message budget. The value is dropped at the next microtask, i.e. before the next read.
   * An injected clock (tests) is read per message, as before.
   */
  private readonly receiveClock: boolean;
  private readAt = -1;
  private readonly endRead = (): void => {
    this.readAt = -1;
  };

  private readTime(): number {
    let now = this.readAt;
    if (now < 0) {
      now = this.readAt = this.clock.now();
      queueMicrotask(this.endRead);
    }
    return now;
  }

  private receive(session: SessionHandle, data: string | Uint8Array, binary: boolean): void {
    const c = this.counters;
    c.messagesIn++;
    c.bytesIn += binary ? (data as Uint8Array).byteLength : (data as string).length;
    const now = this.receiveClock ? this.readTime() : this.clock.now();
    this.lastInboundAt = now;
    if (this.awaitingPongFor === session.id) this.liveness(session.id);
    const message = new Message(data, binary, session.id, now);
    if (this.prepare !== undefined) {
      try {
        message.prepared = this.prepare(message);
      } catch (error) {
        const e = new HookError('prepare', error, session.id);
        (e as { message_?: Message }).message_ = message;
        this.reportError(e);
      }
    }
    this.emitter.emit('message', message);
    if (this.isPong !== undefined) {
      let pong = false;
      try {
        pong = this.isPong(message);
      } catch (error) {
        this.reportError(new HookError('heartbeat.isPong', error, session.id));
      }
      if (pong) return;
    }
    const entry = this.correlator.take(message);
    if (entry !== undefined) {
      this.deliverResponse(entry, message, session);
      return;
    }
    this.dispatcher.deliver(message, session);
  }

  private deliverResponse(entry: PendingEntry, message: Message, session: SessionHandle): void {
    if (entry.callback !== undefined) {
      try {
        entry.callback(message);
      } catch (error) {
        this.reportError(new HookError('request callback', error, session.id));
      }
    }
    entry.resolve(message);
  }

  // ---------------------------------------------------------------------------------------------
  // Heartbeat

  private ping(session: SessionHandle): void {
    const conn = session.conn;
    if (conn === undefined || session.ending) return;
    const hb = this.options.heartbeat;
    const now = this.clock.now();
    // Judge by wall clock, not by counting ticks: after a laptop sleep or a throttled tab, the first
    // tick that runs sees how long the peer has really been silent and ends the session at once.
    const bound = hb.maxMissed * hb.intervalMs + hb.timeoutMs;
    // lastInboundAt is set when the session opens, so this never judges a session by a stale value.
    if (now - this.lastInboundAt > bound) {
      this.actor.send({ type: 'heartbeat.missed', sessionId: session.id });
      return;
    }
    this.awaitingPongFor = session.id;
    this.pingSentAt = now;
    try {
      if (hb.message !== undefined) {
        const m = typeof hb.message === 'function' ? (hb.message as () => Data)() : (hb.message as Data);
        conn.send(m);
        this.counters.messagesOut++;
      } else conn.ping?.();
      this.emitter.emit('ping', { sessionId: session.id });
    } catch (error) {
      this.reportError(new HookError('heartbeat.message', error, session.id));
    }
  }

  /** Any inbound frame or pong answers an outstanding ping; one machine event per ping at most. */
  private liveness(sessionId: number): void {
    this.lastInboundAt = this.clock.now();
    if (this.awaitingPongFor !== sessionId) return;
    this.awaitingPongFor = 0;
    const rtt = this.clock.now() - this.pingSentAt;
    this.counters.lastRttMs = rtt;
    this.actor.send({ type: 'heartbeat.pong', sessionId });
    this.emitter.emit('pong', { rttMs: rtt });
  }

  /**
   * Browser signals, attached while started: `offline` pauses reconnect attempts (the state stays
   * `reconnecting`), `online` attempts at once, and a tab becoming visible probes the heartbeat so a
   * socket that died while hidden is found within one `timeoutMs`.
   */
  private attachEnvironment(): void {
    const env = this.environment;
    if (env === undefined || this.detachEnvironment !== undefined) return;
    const offs: Array<() => void> = [];
    const listen = (target: EventTargetLike, type: string, fn: () => void) => {
      target.addEventListener(type, fn);
      offs.push(() => target.removeEventListener(type, fn));
    };
    if (env.online && env.window !== undefined) {
      listen(env.window, 'offline', () => this.actor.send({ type: 'env.offline' }));
      listen(env.window, 'online', () => this.actor.send({ type: 'env.online' }));
      // Sync with now: an `online` missed while stopped (listeners detached) must not keep the next run
      // paused. Unknown (no navigator) counts as online.
      this.actor.send({ type: env.isOnline() === false ? 'env.offline' : 'env.online' });
    }
    if (env.visibility && env.document !== undefined) {
      const doc = env.document;
      listen(doc, 'visibilitychange', () => {
        if (doc.visibilityState === 'visible') this.actor.send({ type: 'env.visible' });
      });
    }
    this.detachEnvironment = () => {
      for (const off of offs) off();
    };
  }

  /** Resolves with the session once open (now, or at the next open); rejects when the client stops. */
  private whenOpen(): Promise<DispatchSession> {
    const cur = this.current;
    if (cur !== undefined && cur.conn !== undefined && !cur.ending && this.lastStateIsOpen())
      return Promise.resolve(cur);
    const state = this.state;
    if (state === 'stopped')
      return Promise.reject(new ClientStoppedError('The client is stopped; call start() first'));
    return new Promise((resolve, reject) => this.openWaiters.push({ resolve, reject }));
  }

  // ---------------------------------------------------------------------------------------------
  // Send path

  /** Writes on a session's socket; returns false when the socket refused (it closed underneath). */
  private write(session: SessionHandle, data: Data): boolean {
    const conn = session.conn;
    if (conn === undefined) return false;
    try {
      conn.send(data);
    } catch {
      return false;
    }
    this.counters.messagesOut++;
    this.counters.bytesOut += typeof data === 'string' ? data.length : data.byteLength;
    return true;
  }

  /** @internal session.send(): writes now or throws. */
  writeOrThrow(session: SessionHandle, data: Data): void {
    if (!isData(data)) throw invalidData(data);
    if (!this.write(session, data)) throw new SessionEndedError(session.id);
  }

  private enqueue(data: Data, request: PendingEntry | undefined): SendResult {
    const state = this.state;
    if (this.queue === undefined) throw new NotOpenError(state);
    if (state === 'stopped') {
      throw new NotOpenError(state);
    }
    this.queue.push(data, byteLength(data), this.clock.now(), request);
    return 'queued';
  }

  /** Flushes queued sends (and requests to resend) in order, after onOpen completed. */
  private flush(session: SessionHandle | undefined): void {
    if (session === undefined || session.conn === undefined) return;
    this.flushedSession = session.id;
    // Requests to resend go first: they were issued before anything queued now.
    for (const entry of this.correlator.entries()) {
      if (
        entry.boundSession === 0 &&
        entry.writtenOn !== 0 &&
        entry.writtenOn !== session.id &&
        !entry.settled
      ) {
        if (!this.write(session, entry.data)) return;
        entry.writtenOn = session.id;
        entry.resent = true;
      }
    }
    if (this.queue === undefined || this.queue.size === 0) return;
    const items = this.queue.drain();
    const maxAge = this.options.sendBuffer.maxAgeMs;
    const now = this.clock.now();
    const expired: Data[] = [];
    for (let i = 0; i < items.length; i++) {
      const item = items[i]!;
      const request = item.tag as PendingEntry | undefined;
      if (request?.settled) continue;
      if (maxAge !== undefined && now - item.queuedAt > maxAge) {
        if (request !== undefined) {
          this.correlator.reject(
            request,
            new UndeliveredError(`Queued longer than sendBuffer.maxAgeMs (${maxAge} ms)`),
          );
        } else expired.push(item.data);
        continue;
      }
      if (!this.write(session, item.data)) {
        // The socket closed mid-flush: keep the rest queued for the next session, in order.
        this.queue.unshift(items.slice(i));
        break;
      }
      if (request !== undefined) request.writtenOn = session.id;
    }
    if (expired.length > 0) {
      this.reportUndelivered(
        expired,
        new UndeliveredError(`Queued longer than sendBuffer.maxAgeMs (${maxAge} ms)`),
      );
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Requests

  /** @internal client.request and session.request. */
  requestOn(session: SessionHandle | undefined, data: Data, options: RequestOptions): Promise<Message> {
    const rq = this.options.requests;
    let entry: PendingEntry | undefined;
    let resolveFn!: (m: Message) => void;
    let rejectFn!: (e: unknown) => void;
    const promise = new Promise<Message>((resolve, reject) => {
      resolveFn = resolve;
      rejectFn = reject;
    });
    try {
      if (!isData(data)) throw invalidData(data);
      if (rq.key === undefined && rq.match === undefined) {
        throw new InvalidStateError(
          'request() needs a way to match responses: set requests.key (O(1)) or requests.match in createClient.',
          this.state,
        );
      }
      if (session !== undefined && (session.ended || session.conn === undefined))
        throw new SessionEndedError(session.id);
      if (options.signal?.aborted) throw new RequestAbortedError(options.signal.reason);
      const timeoutMs = options.timeoutMs ?? rq.timeoutMs;
      if (!Number.isInteger(timeoutMs) || timeoutMs < 0 || timeoutMs > MAX_TIMER_MS) {
        throw new InvalidOptionsError([
          { option: 'request.timeoutMs', value: timeoutMs, expected: `an integer from 0 to ${MAX_TIMER_MS}` },
        ]);
      }
      let key = options.key;
      if (key === undefined && rq.key !== undefined) {
        try {
          key = rq.key.request(data, options.params);
        } catch (error) {
          // User code: a typed error naming it, like every other hook (the request was not sent).
          throw new HookError('requests.key.request', error);
        }
      }
      if (key !== undefined && this.correlator.hasKey(key)) throw new DuplicateKeyError(key);
      const callback = options.callback;
      const sessionForCallback = session;
      entry = this.correlator.register({
        data,
        params: options.params,
        key,
        timeoutMs,
        boundSession: session?.id ?? 0,
        signal: options.signal,
        callback:
          callback === undefined
            ? undefined
            : (m: Message) =>
                callback(m, (sessionForCallback ?? this.current ?? dummySession(m.sessionId)) as Session),
        resolve: resolveFn,
        reject: rejectFn,
      });
      // The entry rides on the promise under a module-private symbol, for cancel(promise). A WeakMap
      // keyed by the promise costs 1-2 µs per request here (a promise has no identity-hash slot, and
      // ephemerons slow every GC); the property costs a few ns and keeps the same lifetime.
      (promise as RequestPromise)[PENDING_ENTRY] = entry;
      if (this.instruments !== undefined) this.traceRequest(entry, promise, session?.id);
      // Registered first, then written: a reply in the same tick finds its entry.
      if (session !== undefined) {
        if (!this.write(session, data)) throw new SessionEndedError(session.id);
        entry.writtenOn = session.id;
      } else {
        const cur = this.current;
        if (cur?.conn !== undefined && !cur.ending && this.lastStateIsOpen() && this.write(cur, data)) {
          entry.writtenOn = cur.id;
        } else {
          this.enqueue(data, entry);
        }
      }
    } catch (error) {
      if (entry !== undefined) this.correlator.reject(entry, error);
      else rejectFn(error);
    }
    return promise;
  }

  /** Decides the fate of pending requests when a session ends. */
  private settleRequestsOnDisconnect(close: CloseInfo, requested: string | undefined): void {
    if (this.correlator.size === 0) return;
    const sid = close.sessionId;
    const stopping = requested === 'stop' || requested === 'exit';
    const resend = this.options.requests.onDisconnect === 'resend' && !stopping;
    this.correlator.rejectWhere(
      (e) => e.boundSession === sid || (e.writtenOn === sid && (!resend || e.resent)),
      () =>
        // stop()/exit() is the cause, not a lost connection: the API promises ClientStoppedError.
        stopping
          ? new ClientStoppedError(requested === 'exit' ? 'exit() was called' : 'stop() was called')
          : new ConnectionClosedError(
              `The connection closed (${close.code}${close.reason ? ` ${close.reason}` : ''}) before a response arrived; the outcome is unknown`,
              close.code,
            ),
    );
  }

  // ---------------------------------------------------------------------------------------------
  // Instrumentation (wsmachine/otel attaches here; nothing is paid when nothing is attached)

  private instruments: Instrumentation[] | undefined;

  /** @internal attaches an instrumentation (see `wsmachine/otel`); returns a function that detaches it. */
  [INSTRUMENT](instrumentation: Instrumentation): () => void {
    this.instruments = [...(this.instruments ?? []), instrumentation];
    return () => {
      const rest = (this.instruments ?? []).filter((i) => i !== instrumentation);
      this.instruments = rest.length > 0 ? rest : undefined;
    };
  }

  /** @internal the trace context instrumentation keeps for a session (`session.context`). */
  traceContextOf(sessionId: number): unknown {
    const list = this.instruments;
    if (list === undefined) return undefined;
    for (const i of list) {
      const c = i.sessionContext?.(sessionId);
      if (c !== undefined) return c;
    }
    return undefined;
  }

  private traceRequest(entry: PendingEntry, promise: Promise<Message>, sessionId: number | undefined): void {
    const list = this.instruments ?? [];
    const tokens = list.map((i) =>
      this.guarded(() => i.requestStarted?.({ id: entry.id, key: entry.key, sessionId })),
    );
    // A throwing instrumentation is reported, never left as an unhandled rejection of this chain.
    const settle = (outcome: RequestOutcome, error: unknown) => {
      for (let n = 0; n < list.length; n++) {
        try {
          list[n]!.requestSettled?.(tokens[n], outcome, error);
        } catch (e) {
          this.reportError(new HookError('instrumentation', e));
        }
      }
    };
    promise.then(
      () => settle('ok', undefined),
      (error: unknown) => settle(requestOutcome(error), error),
    );
  }

  /**
   * Starts hook spans. Each token stays paired with the instrumentation that made it: one attached
   * or detached while the hook runs must not receive another's token.
   */
  private startHookSpans(hook: 'onOpen' | 'onClose', sessionId: number): HookSpans {
    return this.instruments?.map((i) => [i, this.guarded(() => i.hookStarted?.(hook, sessionId))] as const);
  }

  /** Runs instrumentation code: a throw is reported and yields undefined, never breaking the client. */
  private guarded<T>(fn: () => T): T | undefined {
    try {
      return fn();
    } catch (error) {
      this.reportError(new HookError('instrumentation', error));
      return undefined;
    }
  }

  private endHookSpans(spans: HookSpans, error: unknown): void {
    if (spans === undefined) return;
    for (const [i, token] of spans) {
      // A throwing instrumentation must not turn a hook's success into a failure.
      try {
        i.hookEnded?.(token, error);
      } catch (e) {
        this.reportError(new HookError('instrumentation', e));
      }
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Errors and loss accounting

  private failEverything(reason: WsmError): void {
    const stopError =
      reason.code === 'WSM_ERR_CLIENT_STOPPED' ? reason : new ClientStoppedError(reason.message);
    this.correlator.rejectWhere(
      () => true,
      () => stopError,
    );
    if (this.queue !== undefined && this.queue.size > 0) {
      const items = this.queue.drain();
      // Queued requests were rejected above: only plain sends are reported as undelivered.
      const lost = items.filter((i) => i.tag === undefined).map((i) => i.data);
      if (lost.length > 0) this.reportUndelivered(lost, new UndeliveredError(reason.message, reason));
    }
  }

  private reportUndelivered(messages: Data[], reason: WsmError): void {
    this.counters.undelivered += messages.length;
    if (this.emitter.has('undelivered')) this.emitter.emit('undelivered', { messages, reason });
    else
      this.reportError(
        new UndeliveredError(`${messages.length} message(s) were not delivered: ${reason.message}`, reason),
      );
  }

  private callRestartError(error: unknown, attempt: number): void {
    const hook = this.hooks.onRestartError;
    if (hook === undefined) return;
    const exit = () => this.actor.send({ type: 'client.exit', reason: 'onRestartError exit()' });
    try {
      const r = hook(error, { attempt: Math.max(1, attempt), exit });
      if (r && typeof (r as Promise<void>).then === 'function') {
        (r as Promise<void>).catch((e) => this.reportError(new HookError('onRestartError', e)));
      }
    } catch (e) {
      this.reportError(new HookError('onRestartError', e));
    }
  }

  /** Reports an error: the `error` event and `hooks.onError`; console.error once when nobody listens. */
  private reportError(error: WsmError): void {
    const onError = this.hooks.onError;
    if (onError !== undefined) {
      try {
        onError(error);
      } catch (e) {
        console.error('wsmachine: the onError hook threw', e);
      }
    }
    if (this.emitter.has('error')) this.emitter.emit('error', error);
    else if (onError === undefined) {
      this.reportedWithoutListener ??= new WeakSet();
      if (this.reportedWithoutListener.has(error)) return;
      this.reportedWithoutListener.add(error);
      console.error(`wsmachine: ${error.code}: ${error.message} (add client.on('error') to handle this)`);
    }
  }
}

/** A client event raised inside a machine step, delivered after the step's snapshot like the others. */
type ClientStepEvent = { type: 'client.connecting'; attempt: number; url: string };

/** Hook spans in flight: each token with the instrumentation that started it. */
type HookSpans = ReadonlyArray<readonly [Instrumentation, unknown]> | undefined;

/** The pending entry of a request promise (see requestOn). */
const PENDING_ENTRY: unique symbol = Symbol('wsmachine.pendingEntry');
type RequestPromise = Promise<Message> & { [PENDING_ENTRY]?: PendingEntry };

/**
 * How a settled request ended, for instrumentation: `timeout` ({@link RequestTimeoutError}),
 * `aborted` ({@link RequestAbortedError}), `closed` (the connection or session ended first), `stopped`
 * (the client stopped), `error` (anything else).
 *
 * @example
 * ```ts
 * import type { RequestOutcome } from 'wsmachine';
 * // Which outcomes a caller may retry: the server may never have seen the request.
 * const retryable: Record<RequestOutcome, boolean> = {
 *   ok: false, timeout: true, aborted: false, closed: true, stopped: false, error: false,
 * };
 * ```
 */
export type RequestOutcome = 'ok' | 'timeout' | 'aborted' | 'closed' | 'stopped' | 'error';

/**
 * @internal What instrumentation can observe beyond the public events: request and hook lifetimes,
 * and a trace context per session for `session.context`. Every method is optional.
 */
export interface Instrumentation {
  requestStarted?(info: { id: number; key: unknown; sessionId: number | undefined }): unknown;
  requestSettled?(token: unknown, outcome: RequestOutcome, error: unknown): void;
  hookStarted?(hook: 'onOpen' | 'onClose', sessionId: number): unknown;
  hookEnded?(token: unknown, error: unknown): void;
  sessionContext?(sessionId: number): unknown;
}

function requestOutcome(error: unknown): RequestOutcome {
  if (!isWsmError(error)) return 'error';
  switch (error.code) {
    case 'WSM_ERR_REQUEST_TIMEOUT':
      return 'timeout';
    case 'WSM_ERR_REQUEST_ABORTED':
      return 'aborted';
    case 'WSM_ERR_CONNECTION_CLOSED':
    case 'WSM_ERR_SESSION_ENDED':
      return 'closed';
    case 'WSM_ERR_CLIENT_STOPPED':
      return 'stopped';
    default:
      return 'error';
  }
}

interface EventTargetLike {
  addEventListener(type: string, fn: () => void): void;
  removeEventListener(type: string, fn: () => void): void;
}

interface EnvironmentSignals {
  online: boolean;
  visibility: boolean;
  window: EventTargetLike | undefined;
  document: (EventTargetLike & { visibilityState?: string }) | undefined;
  isOnline(): boolean | undefined;
}

/** Finds the browser's window/document (or the ones given for tests); undefined in Node. */
function resolveEnvironment(option: ClientOptions['environment']): EnvironmentSignals | undefined {
  if (option === false) return undefined;
  const g = globalThis as {
    addEventListener?: unknown;
    removeEventListener?: unknown;
    document?: unknown;
    navigator?: { onLine?: boolean };
  };
  const win =
    option?.window ?? (typeof g.addEventListener === 'function' ? (g as EventTargetLike) : undefined);
  const doc =
    option?.document ??
    (typeof (g.document as { addEventListener?: unknown } | undefined)?.addEventListener === 'function'
      ? (g.document as EventTargetLike & { visibilityState?: string })
      : undefined);
  if (win === undefined && doc === undefined) return undefined;
  return {
    online: option?.online !== false,
    visibility: option?.visibility !== false,
    window: win as EventTargetLike | undefined,
    document: doc as (EventTargetLike & { visibilityState?: string }) | undefined,
    isOnline: () => g.navigator?.onLine,
  };
}

function isUrlObject(value: unknown): value is URL {
  return (
    typeof value === 'object' && value !== null && typeof (value as { href?: unknown }).href === 'string'
  );
}

function asWsmError(error: unknown): WsmError {
  if (isWsmError(error)) return error;
  return new ConnectError(messageOf(error), error);
}

function invalidArgument(option: string, value: unknown, expected: string): InvalidOptionsError {
  return new InvalidOptionsError([{ option, value, expected }]);
}

function invalidData(data: unknown): InvalidOptionsError {
  return new InvalidOptionsError([
    {
      option: 'data',
      value: data,
      expected: 'a string, Uint8Array or ArrayBuffer (serialize objects with JSON.stringify)',
    },
  ]);
}

function dummySession(id: number): Session {
  const ended = (): never => {
    throw new SessionEndedError(id);
  };
  return {
    id,
    send: ended,
    request: () => Promise.reject(new SessionEndedError(id)),
    restart: () => {},
    exit: () => {},
    signal: AbortSignal.abort(),
  };
}

/**
 * Creates a client. In Node (`wsmachine` resolves to the Node entry) the default adapter is `ws`;
 * in browsers it is the native `WebSocket`.
 *
 * @throws {InvalidOptionsError} naming each bad option, its value and the allowed range.
 *
 * @example
 * ```ts
 * import { createClient } from 'wsmachine';
 * const client = createClient({ url: 'ws://127.0.0.1:8080', hooks: { onMessage: (m) => console.log(m.data) } });
 * client.on('state', ({ from, to }) => console.log(from, '->', to));
 * await client.start();
 * client.send('hello');
 * await client.stop();
 * ```
 */
export type CreateClient = (options: ClientOptions) => WsClient;

/** @internal used by the entry points to bind their default adapter. */
export function makeCreateClient(
  defaultAdapter: SocketAdapter | (() => SocketAdapter | undefined),
): CreateClient {
  return (options) => new WsClient(options, defaultAdapter as SocketAdapter | (() => SocketAdapter));
}
