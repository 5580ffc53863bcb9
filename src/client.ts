/**
 * `createClient()`: the composition root and the facade. It wires the parts of one client (send path,
 * receive path, requests, dispatcher, hooks, policy, events) around the one XState actor, registers
 * them under the actor's system for the invoked actors to find, and exposes the public API as
 * delegations. It keeps no lifecycle fact of its own: where the client is and what happens next is
 * the machine's (machines/connection.machine.ts).
 */
import { createActor } from 'xstate';
import { compose } from './api/compose.js';
import { type Instrumentation, INSTRUMENT, type Instruments } from './api/instrumentation.js';
import { LifecycleBridge } from './api/lifecycle-bridge.js';
import { type ClientActor, liveMachine } from './api/machine-config.js';
import { stateOf } from './api/state-of.js';
import { assertValidClose } from './core/close-codes.js';
import { InvalidOptionsError, InvalidStateError } from './core/errors.js';
import type { Message } from './core/message.js';
import { MAX_TIMER_MS } from './core/options.js';
import type { ClientState, Data } from './core/types.js';
import type { Emitter } from './events.js';
import type { Requests } from './rpc/requests.js';
import type { Counters } from './session/counters.js';
import type { ExclusiveSession } from './session/dispatch-types.js';
import type { Dispatcher } from './session/dispatcher.js';
import type { Outbox } from './session/outbox.js';
import type { SessionRegistry } from './session/session-registry.js';
import { bindServices } from './session/services.js';
import type { Subscription } from './session/subscription.js';
import type { SubscriptionOptions } from './session/subscription-types.js';
import type { Subscriptions } from './session/subscriptions.js';
import type { SocketAdapter } from './transport/adapter.js';
import type { ClientEvents, ClientOptions, ClientStats, RequestOptions, SendResult } from './types.js';

export { INSTRUMENT, type Instrumentation, type RequestOutcome } from './api/instrumentation.js';
export { stateOf } from './api/state-of.js';
export type { ClientActor } from './api/machine-config.js';

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
export class WsClient {
  /** The running XState actor: `waitFor(client.actor, ...)`, `subscribe`, inspection. */
  readonly actor: ClientActor;
  private readonly emitter: Emitter<ClientEvents & Record<string, unknown>>;
  private readonly counters: Counters;
  private readonly sessions: SessionRegistry;
  private readonly outbox: Outbox;
  private readonly requests: Requests;
  private readonly dispatcher: Dispatcher;
  private readonly subscriptions: Subscriptions;
  private readonly instruments: Instruments;
  private readonly bridge: LifecycleBridge;

  /** Use {@link createClient}: it binds the runtime's default adapter. */
  constructor(options: ClientOptions, defaultAdapter: SocketAdapter | (() => SocketAdapter) | undefined) {
    const parts = compose(options, defaultAdapter, {
      send: (event) => this.actor.send(event),
      state: () => this.state,
    });
    this.emitter = parts.emitter;
    this.counters = parts.services.counters;
    this.sessions = parts.services.sessions;
    this.outbox = parts.services.outbox;
    this.requests = parts.services.requests;
    this.dispatcher = parts.services.dispatcher;
    this.subscriptions = parts.services.subscriptions;
    this.instruments = parts.instruments;
    this.actor = createActor(liveMachine, {
      input: { config: parts.config },
      clock: parts.services.clock,
      ...(options.inspect ? { inspect: options.inspect as never } : {}),
    });
    bindServices(this.actor.system, parts.services);
    this.bridge = new LifecycleBridge(this.actor as never, parts.bridge);
    this.actor.start();
  }

  /** The current lifecycle state (read from the machine). */
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
   * Bytes accepted but not yet handed to the OS: what the send buffer holds plus what the open
   * socket still buffers (the WHATWG `bufferedAmount`, across reconnects).
   */
  get bufferedAmount(): number {
    return this.outbox.queuedBytes + (this.sessions.current?.handle.conn?.bufferedAmount ?? 0);
  }

  /**
   * Starts the client. Resolves when the first session is `open` (onOpen done).
   *
   * @throws {InvalidStateError} (as a rejection) when already started.
   * @throws {StartError} (as a rejection) when the first start fails; `cause` says why.
   */
  start(): Promise<void> {
    this.subscriptions.flush();
    return this.bridge.start();
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
      const t = options.timeoutMs;
      if (t !== undefined && (typeof t !== 'number' || !Number.isInteger(t) || t < 0 || t > MAX_TIMER_MS)) {
        throw new InvalidOptionsError([
          { option: 'stop.timeoutMs', value: t, expected: `an integer from 0 to ${MAX_TIMER_MS}` },
        ]);
      }
    } catch (error) {
      return Promise.reject(error);
    }
    this.subscriptions.flush();
    return this.bridge.stop({ code: options.code, reason: options.reason, timeoutMs: options.timeoutMs });
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
    this.subscriptions.flush();
    this.actor.send({ type: 'client.restart', reason });
  }

  /**
   * Sends a message: `'sent'` when handed to the socket, `'queued'` while not open.
   *
   * @throws {InvalidOptionsError} for data that is not a string, Uint8Array or ArrayBuffer, or whose
   *   buffer was detached.
   * @throws {NotOpenError} when not open and `sendBuffer` is false, or when the client is stopped.
   * @throws {SendBufferFullError} when the send buffer is full (the message was not queued).
   */
  send(data: Data): SendResult {
    // Subscriptions made just before are told to the connection first: their requests go out first.
    this.subscriptions.flush();
    return this.outbox.send(data);
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
    this.subscriptions.flush();
    return this.requests.request(undefined, data, options);
  }

  /**
   * Removes a pending request (the seeds' RemoveFromQueue); its promise rejects
   * {@link RequestAbortedError}. Accepts the request's promise or its key.
   *
   * @returns whether something was removed.
   */
  cancel(requestOrKey: Promise<Message> | unknown): boolean {
    return this.requests.cancel(requestOrKey);
  }

  /**
   * Runs `fn` with normal dispatch paused (the seeds' read mutex, without its deadlocks): inside,
   * `session.send()` and `session.next(predicate?, { timeoutMs })` read the stream directly, in order.
   * Messages `fn` does not read are dispatched in order after it returns. Replies to pending requests
   * and pongs are still matched first. Calls queue in FIFO order and wait for the client to be open.
   * A session that ends rejects a pending `next()` with {@link ConnectionClosedError} (what the section
   * held goes back to normal dispatch); `stop()` rejects it with {@link ClientStoppedError} and never
   * waits for `fn`.
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
    if (typeof fn !== 'function') {
      return Promise.reject(
        new InvalidOptionsError([{ option: 'exclusive(fn)', value: fn, expected: 'a function' }]),
      );
    }
    this.subscriptions.flush();
    return this.dispatcher.exclusive(fn);
  }

  /**
   * The incoming stream as an async iterator: every message not consumed by a request, a pong or an
   * exclusive section. Several iterators each get every message. It ends when the client stops. An
   * iterator that falls `inbound.iteratorBufferSize` messages or `inbound.iteratorBufferBytes` bytes
   * behind ends with {@link QueueOverflowError} (what it held is reported `unhandled`) instead of
   * holding memory (or pausing the socket) for everyone.
   *
   * @example
   * ```ts
   * for await (const m of client.messages()) console.log(m.data);
   * ```
   */
  messages(): AsyncIterableIterator<Message> {
    return this.dispatcher.subscribe();
  }

  /**
   * Declares a subscription once; the client subscribes it at every open (after `onOpen`, before
   * queued sends, in creation order, pipelined) until `sub.unsubscribe()` or the client stops. Its
   * lifecycle is a child actor of the connection (`sub.actor`); the messages it claims (`key`,
   * `match`) go to its listeners and `sub.messages()`, not to `onMessage`. A subscribe that fails
   * makes it `failed` ({@link SubscriptionError}) and is retried at the next reopen, or after its own
   * backoff with `retry`; it never blocks the others or the session.
   *
   * @throws {InvalidOptionsError} for bad options, or a `name` a live subscription of this client has
   *   (an unsubscribed one frees its name).
   *
   * @example
   * ```ts
   * const sub = client.subscribe({
   *   name: 'heartbeat',
   *   subscribe: async (session, { resubscribing, lastMessage }) => {
   *     const reply = await session.request(JSON.stringify({ type: 'subscribe_request', topic: 'heartbeat' }));
   *     if (reply.json<{ status: string }>().status !== 'OK') throw new Error('refused');
   *   },
   *   unsubscribe: (session) => session.request(JSON.stringify({ type: 'unsubscribe_request', topic: 'heartbeat' })),
   *   match: (m) => m.json<{ type?: string }>().type === 'heartbeat',
   * });
   * sub.on('message', (m) => console.log(m.data));
   * ```
   */
  subscribe(options: SubscriptionOptions): Subscription {
    return this.subscriptions.create(options);
  }

  /** Tells the heartbeat a pong arrived (for app protocols whose pong the client cannot recognise). */
  pongReceived(): void {
    this.sessions.current?.pong();
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
      dials: c.dials,
      reconnects: c.reconnects,
      pendingRequests: this.requests.correlator.size,
      queuedSends: this.outbox.queued,
      queuedBytes: this.outbox.queuedBytes,
      undelivered: c.undelivered,
      unhandled: c.unhandled,
      inboundQueued: this.dispatcher.queued,
      inboundQueuePeak: this.dispatcher.peak,
      inboundDiscarded: c.unhandled,
      lastRttMs: c.lastRttMs,
    };
  }

  /** Adds a typed listener; returns a function that removes it. */
  on<K extends keyof ClientEvents>(event: K, listener: (payload: ClientEvents[K]) => void): () => void {
    return this.emitter.on(event, listener as never);
  }

  /** Removes a listener (also one added with `once`). */
  off<K extends keyof ClientEvents>(event: K, listener?: (payload: ClientEvents[K]) => void): void {
    this.emitter.off(event, listener as never);
  }

  /** Adds a listener that runs once; returns a function that removes it. */
  once<K extends keyof ClientEvents>(event: K, listener: (payload: ClientEvents[K]) => void): () => void {
    return this.emitter.once(event, listener as never);
  }

  /** Attaches an instrumentation (what `wsmachine/otel` uses); returns a function that detaches it. */
  [INSTRUMENT](instrumentation: Instrumentation): () => void {
    return this.instruments.attach(instrumentation);
  }
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
