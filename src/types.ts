import type { Message } from './core/message.js';
import type { AttemptInfo, Clock, Data } from './core/types.js';
import type { SocketAdapter } from './transport/adapter.js';
import type { Hooks, MaybePromise, ReconnectInfo, Session } from './hook-types.js';

export type * from './hook-types.js';
export type * from './event-types.js';

/**
 * Reconnect policy. Partial objects merge with the defaults.
 *
 * @example
 * ```ts
 * createClient({ url, reconnect: { baseDelayMs: 250, maxDelayMs: 10_000, maxAttempts: 20 } });
 * ```
 */
export interface ReconnectOptions {
  /** Delay cap of the first reconnect. @default 1000 */
  baseDelayMs?: number;
  /** Growth of the delay cap per attempt. @default 2 */
  factor?: number;
  /** Upper bound of every delay. @default 30_000 */
  maxDelayMs?: number;
  /** `'full'`: uniform in [0, cap]; `'none'`: exactly the cap. @default 'full' */
  jitter?: 'full' | 'none';
  /** Reconnect attempts before giving up (`stopped`). @default Infinity */
  maxAttempts?: number;
  /** The attempt counter resets to 0 only after a session stayed open this long. @default 5_000 */
  resetAfterMs?: number;
  /** Keep retrying when the first start fails (else `start()` rejects at once). @default false */
  retryOnStart?: boolean;
  /** Overrides the reconnect decision. @default the close-class table in the README */
  shouldReconnect?(info: ReconnectInfo): boolean;
  /** Random source in [0, 1) for jitter (inject a seeded one in tests). @default Math.random */
  random?(): number;
  /** App close codes (3000-4999) that mean "credentials refused". @default [4401, 4403] */
  authCloseCodes?: readonly number[];
  /** App close codes (3000-4999) that must never be retried. @default [] */
  fatalCloseCodes?: readonly number[];
}

/**
 * Bounded buffer for sends made while not open. Partial objects merge with the defaults.
 *
 * @example
 * ```ts
 * createClient({ url, sendBuffer: { maxMessages: 100, maxBytes: 64 * 1024 } });
 * ```
 */
export interface SendBufferOptions {
  /** @default 1000 */
  maxMessages?: number;
  /** Sum of message sizes (UTF-8 bytes for text). @default 1_048_576 (1 MiB) */
  maxBytes?: number;
  /** Messages older than this when the connection opens are reported `undelivered`, not sent. @default undefined (no limit) */
  maxAgeMs?: number;
}

/**
 * Key functions for O(1) request/response correlation.
 *
 * @example
 * ```ts
 * import { createClient, type RequestKeyOptions } from 'wsmachine';
 * // JSON-RPC 2.0: a request's id is its key, and its response carries the same id.
 * const byId: RequestKeyOptions<number> = {
 *   request: (_data, id) => id,
 *   response: (m) => m.json<{ id?: number }>().id,
 * };
 * const client = createClient({ url: 'wss://rpc.example.test', requests: { key: byId } });
 * await client.start();
 * const ping = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' });
 * const reply = await client.request(ping, { params: 1 });
 * ```
 */
export interface RequestKeyOptions<P = any> {
  /** The key of an outgoing request. @default none (required) */
  request(data: Data, params: P): unknown;
  /** The key of an incoming message, or `undefined` when it is not a response. @default none (required) */
  response(message: Message): unknown;
}

/**
 * A pending request, as `requests.match` sees it.
 *
 * @example
 * ```ts
 * import { createClient, type PendingRequest } from 'wsmachine';
 * // The seeds' MatchMsg: a response answers the oldest pending request for the same method.
 * const client = createClient({
 *   url: 'wss://example.test/feed',
 *   requests: {
 *     match: (request: PendingRequest<{ method: string }>, response) =>
 *       response.json<{ method?: string }>().method === request.params.method,
 *   },
 * });
 * await client.start();
 * const reply = await client.request(JSON.stringify({ method: 'time' }), { params: { method: 'time' } });
 * ```
 */
export interface PendingRequest<P = any> {
  /** Unique id, never reused for the life of the client. */
  readonly id: number;
  readonly data: Data;
  readonly params: P;
  readonly key: unknown;
  /** `clock.now()` when it was registered. */
  readonly sentAt: number;
}

/**
 * Request/response options. Partial objects merge with the defaults.
 *
 * @example
 * ```ts
 * createClient({ url, prepare: (m) => m.json(), requests: {
 *   key: { request: (_d, p) => p.id, response: (m) => (m.prepared as any)?.id },
 * } });
 * ```
 */
export interface RequestsOptions<P = any> {
  /** Default timeout of each request; 0 disables. @default 30_000 */
  timeoutMs?: number;
  /**
   * Keyed O(1) correlation.
   * @default undefined: responses are found with `match`; with neither, `request()` rejects with
   *   {@link InvalidStateError}.
   */
  key?: RequestKeyOptions<P>;
  /**
   * The seeds' MatchMsg: used when no `key` is set, scanned in registration order.
   * @default undefined (with `key` set, it is never called)
   */
  match?(request: PendingRequest<P>, response: Message): boolean;
  /** Fate of pending requests when the connection drops. @default 'reject' */
  onDisconnect?: 'reject' | 'resend';
}

/**
 * Per-request options.
 *
 * @example
 * ```ts
 * import { createClient, type RequestOptions } from 'wsmachine';
 * const client = createClient({
 *   url: 'wss://example.test/rpc',
 *   requests: { key: { request: (_data, id) => id, response: (m) => m.json<{ id?: number }>().id } },
 * });
 * await client.start();
 * const options: RequestOptions<number> = {
 *   params: 42,
 *   timeoutMs: 2_000,
 *   signal: AbortSignal.timeout(5_000),
 * };
 * const reply = await client.request(JSON.stringify({ id: 42, op: 'quote' }), options);
 * ```
 */
export interface RequestOptions<P = any> {
  /** This request's timeout; 0 disables. @default requests.timeoutMs */
  timeoutMs?: number;
  /** Aborts the request: its promise rejects with {@link RequestAbortedError}. @default undefined */
  signal?: AbortSignal;
  /** Passed to `requests.key.request` and `requests.match`. @default undefined */
  params?: P;
  /**
   * Overrides `requests.key.request`.
   * @default `requests.key.request(data, params)`, or none without `requests.key`
   */
  key?: unknown;
  /** Seed-style callback, called with the response (the promise still resolves too). @default undefined */
  callback?(message: Message, session: Session): void;
}

/**
 * Heartbeat (ping/pong) options. Partial objects merge with the defaults.
 *
 * @example
 * ```ts
 * createClient({ url, heartbeat: { intervalMs: 10_000, timeoutMs: 5_000 } });
 * ```
 */
export interface HeartbeatOptions {
  /** Time between pings. @default 30_000 */
  intervalMs?: number;
  /** How long to wait for a pong. @default 10_000 */
  timeoutMs?: number;
  /** Consecutive unanswered pings before the session is declared dead. @default 1 */
  maxMissed?: number;
  /** An app-level ping message, or a function that makes one per ping. @default protocol ping */
  message?: Data | (() => Data);
  /**
   * Recognises an app-level pong (consumed: it does not reach `onMessage`).
   * @default undefined: no message is consumed as a pong; any incoming message still answers a ping
   */
  isPong?(message: Message): boolean;
}

/**
 * Options of {@link createClient}. Only `url` is required; partial nested objects merge with the
 * defaults.
 *
 * @example
 * ```ts
 * const client = createClient({
 *   url: 'ws://127.0.0.1:8080',
 *   reconnect: { baseDelayMs: 500 },
 *   hooks: { onMessage: (m) => console.log(m.data) },
 * });
 * ```
 */
export interface ClientOptions {
  /**
   * Where to connect; a function is called on every attempt (fresh tokens, failover).
   * @default none (required)
   */
  url: string | URL | ((attempt: AttemptInfo) => MaybePromise<string | URL>);
  /** Subprotocols to offer. @default [] */
  protocols?: string | string[];
  /** Upgrade request headers (Node only); a function is called on every attempt. @default {} */
  headers?: Record<string, string> | ((attempt: AttemptInfo) => MaybePromise<Record<string, string>>);
  /** The socket implementation. @default `ws` in Node, native `WebSocket` in browsers */
  adapter?: SocketAdapter;
  /** Bigger incoming messages close the session with 1009. @default 67_108_864 (64 MiB) */
  maxPayloadBytes?: number;
  /** Bound on dial + handshake + `onOpen`; 0 disables. @default 10_000 */
  openTimeoutMs?: number;
  /** How long closing waits for the peer's close frame before terminating. @default 1_000 */
  closeTimeoutMs?: number;
  /** Bound on the whole `stop()`; then the socket is terminated. @default 5_000 */
  stopTimeoutMs?: number;
  /** `false` disables reconnecting. @default see {@link ReconnectOptions} */
  reconnect?: false | ReconnectOptions;
  /** `false` disables it. @default on with protocol pings where the adapter can, else off */
  heartbeat?: false | HeartbeatOptions;
  /** Request/response settings. @default see {@link RequestsOptions} */
  requests?: RequestsOptions;
  /** Runs once per incoming message; its result is `message.prepared`. @default undefined */
  prepare?(message: Message): unknown;
  /** `false`: `send()` while not open throws {@link NotOpenError}. @default see {@link SendBufferOptions} */
  sendBuffer?: false | SendBufferOptions;
  /**
   * Max `onMessage` handlers in flight (an async handler counts until its promise settles). With 1,
   * messages are handled strictly in arrival order; with N > 1, handlers start in arrival order but
   * may finish in any order. @default 1
   */
  concurrency?: number;
  /** Bounds and backpressure of the inbound queue. @default see {@link InboundOptions} */
  inbound?: InboundOptions;
  /** Lifecycle hooks. @default {} */
  hooks?: Hooks;
  /** An XState inspection observer, passed to `createActor`. @default undefined */
  inspect?: (event: unknown) => void;
  /** Time source for every delay and deadline. @default real time */
  clock?: Clock;
  /**
   * Node: let the process exit even while this client is started (timers and the socket are
   * unref'd). By default a started client keeps the process alive, like any open socket, so a bot does
   * not exit in the middle of a reconnect. @default false
   */
  unref?: boolean;
  /**
   * Browser signals, each on by default where it exists: `online` (going offline pauses reconnect
   * attempts, coming back online attempts at once) and `visibility` (a tab that becomes visible probes
   * the heartbeat at once). `window`/`document` may be given for tests. `false` turns both off.
   * @default { online: true, visibility: true } in browsers; nothing to attach to in Node
   */
  environment?:
    | false
    | {
        online?: boolean;
        visibility?: boolean;
        window?: {
          addEventListener(type: string, fn: () => void): void;
          removeEventListener(type: string, fn: () => void): void;
        };
        document?: {
          visibilityState?: string;
          addEventListener(type: string, fn: () => void): void;
          removeEventListener(type: string, fn: () => void): void;
        };
      };
}

/**
 * Inbound queue bounds. When handlers fall behind and the queue passes a high-water mark, the client
 * stops reading from the socket (`ws`: TCP backpressure reaches the server) and resumes at the
 * low-water mark. Browsers cannot pause a WebSocket: there the queue grows to `maxQueued`, then the
 * session is restarted with a {@link QueueOverflowError} reported, instead of using unbounded memory.
 *
 * @example
 * ```ts
 * createClient({ url, concurrency: 4, inbound: { highWaterMark: 500, lowWaterMark: 50 } });
 * ```
 */
export interface InboundOptions {
  /** Pause reading at this many queued messages. @default 1000 */
  highWaterMark?: number;
  /** ... or at this many queued bytes (UTF-8 for text). @default 16_777_216 (16 MiB) */
  highWaterBytes?: number;
  /** Resume reading at this many queued messages. @default 100 */
  lowWaterMark?: number;
  /**
   * Hard bound in messages; reached only where reading cannot be paused (browsers). Past it the queued
   * messages are reported `unhandled` and the session restarts. @default 100_000
   */
  maxQueued?: number;
  /** Hard bound in bytes, likewise (at least `highWaterBytes`). @default 268_435_456 (256 MiB) */
  maxQueuedBytes?: number;
  /**
   * Buffer of each `messages()` iterator before it ends with QueueOverflowError. Keep it above the
   * number of messages one socket read can hold (a 64 KiB read holds ~21,800 of the smallest frames),
   * because the whole read is delivered before any reader runs. @default 100_000
   */
  iteratorBufferSize?: number;
  /**
   * Bytes each `messages()` iterator may hold (one message of any size always fits) before it ends
   * with QueueOverflowError; what it held is reported `unhandled`. @default 16_777_216 (16 MiB)
   */
  iteratorBufferBytes?: number;
}
