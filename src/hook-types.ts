/**
 * Public types of the hooks and of the session handle they receive (re-exported by `./types.js`).
 */
import type { CloseClass } from './core/close-codes.js';
import type { WsmError } from './core/errors.js';
import type { Message } from './core/message.js';
import type { CloseInfo, Data, HandshakeResponse } from './core/types.js';
import type { RequestOptions } from './types.js';

/**
 * `'sent'`: handed to the socket. `'queued'`: buffered until the connection opens.
 *
 * @example
 * ```ts
 * import { createClient, type SendResult } from 'wsmachine';
 * const client = createClient({ url: 'wss://example.test/feed' });
 * const result: SendResult = client.send('hello'); // 'queued': not started yet
 * await client.start();                            // the queued message is flushed once open
 * client.send('again');                            // 'sent'
 * ```
 */
export type SendResult = 'sent' | 'queued';

/**
 * A value or a promise of it.
 *
 * @example
 * ```ts
 * import type { MaybePromise, Message } from 'wsmachine';
 * // A handler type that accepts sync and async handlers alike, as the hooks do.
 * type Handler = (message: Message) => MaybePromise<void>;
 * const log: Handler = (m) => console.log(m.data);
 * const save: Handler = async (m) => { await Promise.resolve(m.data); };
 * ```
 */
export type MaybePromise<T> = T | Promise<T>;

/**
 * A handle on one session (one connection). Hooks receive it. It refuses to write into a newer
 * session: once its session ended, `send()` throws {@link SessionEndedError}, so an old handler can
 * never write into a new connection.
 *
 * @example
 * ```ts
 * hooks: {
 *   onOpen: async (session) => { session.send(JSON.stringify({ op: 'auth', token })); },
 *   onMessage: (m, session) => { if (m.data === 'bye') session.restart(); },
 * }
 * ```
 */
export interface Session {
  /** Unique per connection attempt for the life of the client (never reused across reconnects). */
  readonly id: number;
  /**
   * Writes to this session's socket now (also during `onOpen`, before queued sends are flushed).
   * @throws {SessionEndedError} when this session has ended.
   */
  send(data: Data): SendResult;
  /**
   * Sends a request on this session (see `client.request`). Rejects with {@link SessionEndedError}
   * when this session has ended.
   */
  request(data: Data, options?: RequestOptions): Promise<Message>;
  /** Ends this session through `closing` and reconnects. Takes effect at once. */
  restart(reason?: string): void;
  /** Ends this session and stops the client for good (no reconnect). Takes effect at once. */
  exit(reason?: string): void;
  /** Aborted when the session ends: pass it to work that must not outlive the connection. */
  readonly signal: AbortSignal;
  /**
   * The session's trace context when OpenTelemetry instrumentation is attached (`wsmachine/otel`),
   * else `undefined`. Use it to parent your own spans: `context.with(session.context, fn)`.
   */
  readonly context?: unknown;
}

/**
 * Second argument of `onOpen`.
 *
 * @example
 * ```ts
 * import { createClient, type OpenContext, type Session } from 'wsmachine';
 * const client = createClient({
 *   url: 'wss://example.test/feed',
 *   protocols: ['feed.v2', 'feed.v1'],
 *   hooks: {
 *     onOpen: (session: Session, { restarting, protocol }: OpenContext) => {
 *       session.send(JSON.stringify({ op: restarting ? 'resume' : 'hello', version: protocol }));
 *     },
 *   },
 * });
 * ```
 */
export interface OpenContext {
  /** True when this is a reconnect (not the first session after `start()`). */
  restarting: boolean;
  /** The HTTP upgrade response, when the adapter can see it (Node `ws`). */
  response: HandshakeResponse | undefined;
  /** The subprotocol the server picked ('' for none). */
  protocol: string;
}

/**
 * What `onClose` may return to choose the close frame.
 *
 * @example
 * ```ts
 * import { createClient, type CloseRequest } from 'wsmachine';
 * const client = createClient({
 *   url: 'wss://example.test/feed',
 *   hooks: {
 *     // an app code when we end the session (stop, restart, exit); a code given to stop() still wins
 *     onClose: (info): CloseRequest | undefined =>
 *       info.requested ? { code: 4000, reason: 'bye' } : undefined,
 *   },
 * });
 * ```
 */
export interface CloseRequest {
  /** A sendable close code (1000, 1001-1003, 1007-1014, 3000-4999). */
  code?: number;
  /** At most 123 UTF-8 bytes. */
  reason?: string;
}

/**
 * Second argument of `onRestartError`.
 *
 * @example
 * ```ts
 * import { createClient, type RestartErrorContext } from 'wsmachine';
 * const client = createClient({
 *   url: 'wss://example.test/feed',
 *   hooks: {
 *     onRestartError: (error, { attempt, exit }: RestartErrorContext) => {
 *       console.warn(`reconnect attempt ${attempt} failed`, error);
 *       if (attempt >= 5) exit(); // give up: the client goes to 'stopped'
 *     },
 *   },
 * });
 * ```
 */
export interface RestartErrorContext {
  /** The reconnect attempt that failed (1 for the first reconnect). */
  attempt: number;
  /** Stop trying: the client goes to `stopped`. */
  exit(): void;
}

/**
 * Lifecycle hooks that can steer the client (the Go seeds' callbacks, without their bugs). All may be
 * async. A hook that throws is reported as an `error` event ({@link HookError} naming the hook) and
 * the client carries on, except where a throw is the documented way to steer (`onOpen`).
 *
 * @example
 * ```ts
 * createClient({
 *   url,
 *   hooks: {
 *     onOpen: async (session, { restarting }) => { await session.request(login()); },
 *     onMessage: (m) => console.log(m.data),
 *     onClose: (info) => (info.requested ? { code: 1000, reason: 'bye' } : undefined),
 *     onRestartError: (error, { attempt, exit }) => { if (attempt > 10) exit(); },
 *   },
 * });
 * ```
 */
export interface Hooks {
  /**
   * Runs after the handshake, before `open` (queued sends are flushed after it). It may send and
   * await replies on `session`. Throw/reject: on the first start `start()` rejects {@link StartError}
   * with the cause; on a reconnect the session closes and the client retries. `session.exit()` inside
   * stops for good. Bounded by `openTimeoutMs` together with the dial.
   */
  onOpen?(session: Session, context: OpenContext): MaybePromise<void>;
  /** Every message not consumed by a request. At most `concurrency` run at once. */
  onMessage?(message: Message, session: Session): MaybePromise<void>;
  /**
   * Runs exactly once per session that opened (reached `opening`), when it ends, before the close
   * frame is sent. May return the code and reason for the close frame; `stop()`'s own code wins.
   */
  onClose?(info: CloseInfo, session: Session): MaybePromise<CloseRequest | undefined | void>;
  /** Every error the client reports (same as the `error` event). */
  onError?(error: WsmError): void;
  /** A reconnect attempt failed (dial, handshake, timeout or `onOpen`). Call `exit()` to give up. */
  onRestartError?(error: unknown, context: RestartErrorContext): MaybePromise<void>;
}

/**
 * What `shouldReconnect` sees.
 *
 * @example
 * ```ts
 * import { createClient, type ReconnectInfo } from 'wsmachine';
 * const client = createClient({
 *   url: 'wss://example.test/feed',
 *   reconnect: {
 *     // also retry 1008 (policy violation, 'fatal' by default): this server sends it when rate limiting
 *     shouldReconnect: (info: ReconnectInfo) => info.defaultDecision || info.code === 1008,
 *   },
 * });
 * ```
 */
export interface ReconnectInfo {
  /** The class of the end of the session (see the README's reconnect table). */
  class: CloseClass;
  /** Close code reported for the session. */
  code: number;
  /** Close reason. */
  reason: string;
  /** HTTP status when the upgrade was rejected. */
  status: number | undefined;
  /** The error that ended the session, if any. */
  error: unknown;
  /** The reconnect attempt that would follow (1 for the first reconnect). */
  attempt: number;
  /** The default decision for this class. */
  defaultDecision: boolean;
}
