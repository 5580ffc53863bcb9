/**
 * Error classes of wsmachine. Every error the library creates extends {@link WsmError} and carries a
 * stable `code` from {@link ErrorCodes}; the README's error table says what to do about each.
 *
 * The guards (`isWsmError`, `isErrorCode`) use a `Symbol.for` brand instead of `instanceof`, so they
 * keep working when two copies of the package end up in one bundle.
 */
import { redactUrl } from './redact.js';

/**
 * The stable error codes. Match on these, never on messages.
 *
 * @example
 * ```ts
 * import { ErrorCodes, isWsmError } from 'wsmachine';
 * try { await client.start(); } catch (e) {
 *   if (isWsmError(e) && e.code === ErrorCodes.START) console.error('could not connect', e.cause);
 * }
 * ```
 */
export const ErrorCodes = {
  INVALID_OPTIONS: 'WSM_ERR_INVALID_OPTIONS',
  INVALID_STATE: 'WSM_ERR_INVALID_STATE',
  START: 'WSM_ERR_START',
  OPEN_TIMEOUT: 'WSM_ERR_OPEN_TIMEOUT',
  CONNECT: 'WSM_ERR_CONNECT',
  HANDSHAKE: 'WSM_ERR_HANDSHAKE',
  TLS: 'WSM_ERR_TLS',
  NOT_OPEN: 'WSM_ERR_NOT_OPEN',
  SEND_BUFFER_FULL: 'WSM_ERR_SEND_BUFFER_FULL',
  UNDELIVERED: 'WSM_ERR_UNDELIVERED',
  REQUEST_TIMEOUT: 'WSM_ERR_REQUEST_TIMEOUT',
  REQUEST_ABORTED: 'WSM_ERR_REQUEST_ABORTED',
  DUPLICATE_KEY: 'WSM_ERR_DUPLICATE_KEY',
  CONNECTION_CLOSED: 'WSM_ERR_CONNECTION_CLOSED',
  CLIENT_STOPPED: 'WSM_ERR_CLIENT_STOPPED',
  SESSION_ENDED: 'WSM_ERR_SESSION_ENDED',
  HEARTBEAT_TIMEOUT: 'WSM_ERR_HEARTBEAT_TIMEOUT',
  MESSAGE_TOO_BIG: 'WSM_ERR_MESSAGE_TOO_BIG',
  INVALID_CLOSE: 'WSM_ERR_INVALID_CLOSE',
  HOOK: 'WSM_ERR_HOOK',
  QUEUE_OVERFLOW: 'WSM_ERR_QUEUE_OVERFLOW',
  PROTOCOL: 'WSM_ERR_PROTOCOL',
  NOT_BOUND: 'WSM_ERR_NOT_BOUND',
  UNHANDLED: 'WSM_ERR_UNHANDLED',
  SUBSCRIPTION: 'WSM_ERR_SUBSCRIPTION',
} as const;

/**
 * Union of every stable error code string.
 *
 * @example
 * ```ts
 * import { createClient, type ErrorCode } from 'wsmachine';
 * const client = createClient({ url: 'wss://example.test/feed' });
 * const counts = new Map<ErrorCode, number>();
 * client.on('error', (e) => counts.set(e.code, (counts.get(e.code) ?? 0) + 1));
 * ```
 */
export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

const BRAND = Symbol.for('wsmachine.error');

/**
 * Options shared by every {@link WsmError} constructor.
 *
 * @example
 * ```ts
 * import { ErrorCodes, WsmError } from 'wsmachine';
 * const error = new WsmError(ErrorCodes.PROTOCOL, 'unexpected frame', {
 *   cause: new Error('bad JSON'),
 *   closeCode: 1002,
 * });
 * console.log(error.code, error.closeCode); // 'WSM_ERR_PROTOCOL' 1002
 * ```
 */
export interface WsmErrorOptions {
  /** The underlying error, when there is one. @default undefined (no `cause` on the error) */
  cause?: unknown;
  /** The WebSocket close code this error ended a session with, when it did. @default undefined */
  closeCode?: number;
}

/**
 * Base class of every error wsmachine creates.
 *
 * @example
 * ```ts
 * client.on('error', (e) => console.warn(e.code, e.message, e.cause));
 * ```
 */
export class WsmError extends Error {
  /** A stable `WSM_ERR_*` code. */
  readonly code: ErrorCode;
  /** The close code involved, when a session ended with this error. */
  readonly closeCode?: number;
  declare readonly cause?: unknown;

  constructor(code: ErrorCode, message: string, options: WsmErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    if (options.closeCode !== undefined) this.closeCode = options.closeCode;
    Object.defineProperty(this, BRAND, { value: true });
  }

  /** The class name (e.g. `'StartError'`), so logs and stack traces say which error it is. */
  override get name(): string {
    return this.constructor.name;
  }
}

/**
 * True when `value` is an error created by any copy of wsmachine.
 *
 * @example
 * ```ts
 * if (isWsmError(e)) console.log(e.code);
 * ```
 */
export function isWsmError(value: unknown): value is WsmError {
  if (typeof value !== 'object' || value === null) return false;
  // A thrown value may be hostile (a revoked Proxy, a getter that throws): looking must not throw.
  try {
    return (value as Record<symbol, unknown>)[BRAND] === true;
  } catch {
    return false;
  }
}

/**
 * True when `value` is a wsmachine error with the given code.
 *
 * @example
 * ```ts
 * if (isErrorCode(e, ErrorCodes.REQUEST_TIMEOUT)) retry();
 * ```
 */
export function isErrorCode<C extends ErrorCode>(value: unknown, code: C): value is WsmError & { code: C } {
  return isWsmError(value) && value.code === code;
}

/**
 * One problem with an option given to `createClient`.
 *
 * @example
 * ```ts
 * import { createClient, InvalidOptionsError, type OptionProblem } from 'wsmachine';
 * try {
 *   createClient({ url: 'http://example.test', openTimeoutMs: -1 });
 * } catch (e) {
 *   const problems: readonly OptionProblem[] = e instanceof InvalidOptionsError ? e.problems : [];
 *   for (const p of problems) console.log(p.option, 'must be', p.expected); // url ..., openTimeoutMs ...
 * }
 * ```
 */
export interface OptionProblem {
  /** Dotted path of the option, e.g. `reconnect.baseDelayMs`. */
  option: string;
  /** The value that was given. */
  value: unknown;
  /** What is allowed, e.g. `an integer >= 0`. */
  expected: string;
}

/**
 * `createClient` was given an option it cannot use. The message names each bad option, the value
 * and what is allowed; `problems` has them as data.
 *
 * @example
 * ```ts
 * try { createClient({ url: 'ws://x', openTimeoutMs: -1 }); }
 * catch (e) { if (e instanceof InvalidOptionsError) console.log(e.problems[0].option); }
 * ```
 */
export class InvalidOptionsError extends WsmError {
  readonly problems: readonly OptionProblem[];
  constructor(problems: readonly OptionProblem[]) {
    super(
      ErrorCodes.INVALID_OPTIONS,
      `Invalid wsmachine options:\n${problems
        .map((p) => `  - ${p.option}: got ${describeValue(p.value)}, expected ${p.expected}`)
        .join('\n')}`,
    );
    this.problems = problems;
  }
}

/**
 * A method was called in a state where it cannot work, e.g. `start()` while already started.
 *
 * @example
 * ```ts
 * if (client.state === 'idle' || client.state === 'stopped') await client.start();
 * ```
 */
export class InvalidStateError extends WsmError {
  /** The client state when the call was made. */
  readonly state: string;
  constructor(message: string, state: string) {
    super(ErrorCodes.INVALID_STATE, message);
    this.state = state;
  }
}

/**
 * `start()` could not reach `open`. `cause` says why: an {@link OpenTimeoutError}, a
 * {@link ConnectError}, a {@link HandshakeError}, the error `onOpen` threw, or a
 * {@link ClientStoppedError} when `stop()` aborted the start.
 *
 * @example
 * ```ts
 * await client.start().catch((e: StartError) => console.error('start failed:', e.cause));
 * ```
 */
export class StartError extends WsmError {
  /** @param during what failed, when the cause alone does not say (e.g. `'onOpen failed'`). */
  constructor(cause: unknown, during?: string) {
    super(
      ErrorCodes.START,
      `Could not start: ${during === undefined ? '' : `${during}: `}${messageOf(cause)}`,
      {
        cause,
      },
    );
  }
}

/**
 * Dial + handshake + `onOpen` did not finish within `openTimeoutMs`.
 *
 * @example
 * ```ts
 * createClient({ url, openTimeoutMs: 3_000 }); // fail faster on a stalled load balancer
 * ```
 */
export class OpenTimeoutError extends WsmError {
  readonly timeoutMs: number;
  constructor(timeoutMs: number, phase: 'connecting' | 'opening') {
    super(
      ErrorCodes.OPEN_TIMEOUT,
      `The connection was not open within openTimeoutMs (${timeoutMs} ms; still ${phase}). ` +
        `Raise openTimeoutMs if the server or onOpen is slow.`,
    );
    this.timeoutMs = timeoutMs;
  }
}

/**
 * The TCP/TLS dial failed or the connection dropped before the handshake finished.
 *
 * @example
 * ```ts
 * client.on('error', (e) => { if (e.code === 'WSM_ERR_CONNECT') showOffline(); });
 * ```
 */
export class ConnectError extends WsmError {
  constructor(message: string, cause?: unknown) {
    super(ErrorCodes.CONNECT, message, { cause, closeCode: 1006 });
  }
}

/**
 * The server answered the upgrade request with an HTTP status instead of `101`.
 * `retryAfterMs` is read from a `Retry-After` header (seconds or HTTP date) when present.
 *
 * @example
 * ```ts
 * client.on('error', (e) => { if (e instanceof HandshakeError && e.status === 401) refreshToken(); });
 * ```
 */
export class HandshakeError extends WsmError {
  readonly status: number;
  readonly retryAfterMs: number | undefined;
  constructor(status: number, retryAfterMs?: number, statusText?: string) {
    super(
      ErrorCodes.HANDSHAKE,
      `The server rejected the WebSocket upgrade with HTTP ${status}${statusText ? ` ${statusText}` : ''}` +
        (retryAfterMs !== undefined ? ` (Retry-After ${retryAfterMs} ms)` : ''),
      { closeCode: 1006 },
    );
    this.status = status;
    this.retryAfterMs = retryAfterMs;
  }
}

/**
 * The TLS handshake failed (untrusted or self-signed certificate, wrong host name). The client never
 * falls back to `ws://`.
 *
 * @example
 * ```ts
 * createClient({ url: 'wss://host', adapter: createWsAdapter({ ca: myCaPem }) });
 * ```
 */
export class TlsError extends WsmError {
  constructor(message: string, cause?: unknown) {
    super(ErrorCodes.TLS, message, { cause, closeCode: 1015 });
  }
}

/**
 * `send()` was called while the client is not open and the send buffer is disabled
 * (`sendBuffer: false`).
 *
 * @example
 * ```ts
 * if (client.isOpen) client.send(data);
 * ```
 */
export class NotOpenError extends WsmError {
  constructor(state: string) {
    super(
      ErrorCodes.NOT_OPEN,
      `Cannot send while the client is "${state}" and sendBuffer is false. ` +
        `Wait for the 'open' event, or enable sendBuffer to queue messages until the connection opens.`,
    );
  }
}

/**
 * The bounded send buffer is full: the message was NOT queued.
 *
 * @example
 * ```ts
 * try { client.send(data); } catch (e) { if (e instanceof SendBufferFullError) dropOrWait(data); }
 * ```
 */
export class SendBufferFullError extends WsmError {
  readonly maxMessages: number;
  readonly maxBytes: number;
  constructor(maxMessages: number, maxBytes: number, queuedMessages: number, queuedBytes: number) {
    super(
      ErrorCodes.SEND_BUFFER_FULL,
      `The send buffer is full (${queuedMessages}/${maxMessages} messages, ${queuedBytes}/${maxBytes} bytes); ` +
        `the message was not queued. Raise sendBuffer.maxMessages/maxBytes or wait for 'open'.`,
    );
    this.maxMessages = maxMessages;
    this.maxBytes = maxBytes;
  }
}

/**
 * Carried by the `undelivered` event: why queued or written messages were not delivered.
 *
 * @example
 * ```ts
 * client.on('undelivered', ({ messages, reason }) => console.warn(messages.length, reason.message));
 * ```
 */
export class UndeliveredError extends WsmError {
  constructor(message: string, cause?: unknown) {
    super(ErrorCodes.UNDELIVERED, message, { cause });
  }
}

/**
 * A request got no matching response within its timeout. The pending entry is removed; a late
 * response is treated as an ordinary message.
 *
 * @example
 * ```ts
 * await client.request(data, { timeoutMs: 2_000 }).catch((e) => e instanceof RequestTimeoutError && retry());
 * ```
 */
export class RequestTimeoutError extends WsmError {
  readonly timeoutMs: number;
  constructor(timeoutMs: number) {
    super(ErrorCodes.REQUEST_TIMEOUT, `No response within ${timeoutMs} ms`);
    this.timeoutMs = timeoutMs;
  }
}

/**
 * A request was cancelled by `cancel()` or its `AbortSignal`.
 *
 * @example
 * ```ts
 * const ac = new AbortController(); client.request(data, { signal: ac.signal }); ac.abort();
 * ```
 */
export class RequestAbortedError extends WsmError {
  constructor(reason?: unknown) {
    super(ErrorCodes.REQUEST_ABORTED, 'The request was aborted', { cause: reason });
  }
}

/**
 * A request's key equals the key of a request still pending; the new request was rejected.
 *
 * @example
 * ```ts
 * client.request(data, { params: { id: nextId++ } }); // keep keys unique while pending
 * ```
 */
export class DuplicateKeyError extends WsmError {
  readonly key: unknown;
  constructor(key: unknown) {
    super(ErrorCodes.DUPLICATE_KEY, `A request with key ${describeValue(key)} is already pending`);
    this.key = key;
  }
}

/**
 * The connection closed while a request was pending: its outcome is unknown (the server may or may
 * not have processed it).
 *
 * @example
 * ```ts
 * createClient({ url, requests: { onDisconnect: 'resend' } }); // for idempotent requests
 * ```
 */
export class ConnectionClosedError extends WsmError {
  constructor(
    message = 'The connection closed before a response arrived; the outcome is unknown',
    closeCode?: number,
  ) {
    super(ErrorCodes.CONNECTION_CLOSED, message, closeCode === undefined ? {} : { closeCode });
  }
}

/**
 * The client was stopped (or exited) while this operation was pending.
 *
 * @example
 * ```ts
 * await client.request(data).catch((e) => { if (e instanceof ClientStoppedError) return; throw e; });
 * ```
 */
export class ClientStoppedError extends WsmError {
  constructor(message = 'The client was stopped') {
    super(ErrorCodes.CLIENT_STOPPED, message);
  }
}

/**
 * A `session` handle was used after its session ended, so it cannot write into a newer connection.
 *
 * @example
 * ```ts
 * hooks: { onMessage: (m, session) => { if (!session.signal.aborted) session.send('ack'); } }
 * ```
 */
export class SessionEndedError extends WsmError {
  constructor(sessionId: number) {
    super(
      ErrorCodes.SESSION_ENDED,
      `Session ${sessionId} has ended; its handle cannot write to a newer connection. Use client.send() instead.`,
    );
  }
}

/**
 * The peer did not answer pings in time; the session was terminated (close 1006).
 *
 * @example
 * ```ts
 * client.on('error', (e) => e instanceof HeartbeatTimeoutError && log('peer went silent'));
 * ```
 */
export class HeartbeatTimeoutError extends WsmError {
  constructor(missed: number) {
    super(ErrorCodes.HEARTBEAT_TIMEOUT, `heartbeat timeout: ${missed} ping(s) unanswered`, {
      closeCode: 1006,
    });
  }
}

/**
 * A message was larger than `maxPayloadBytes`, or arrived in more pieces than the adapter keeps for
 * one message (see the fragment limit in the README); the session was closed with 1009.
 *
 * @param limit the `maxPayloadBytes` in force.
 * @param size the message's size, when known.
 * @param options `message` replaces the default text (for a limit other than the size); `cause` is
 *   the runtime's own error.
 *
 * @example
 * ```ts
 * createClient({ url, maxPayloadBytes: 16 * 1024 * 1024 });
 * ```
 */
export class MessageTooBigError extends WsmError {
  constructor(limit: number, size?: number, options: { message?: string; cause?: unknown } = {}) {
    super(
      ErrorCodes.MESSAGE_TOO_BIG,
      options.message ??
        `A message exceeded maxPayloadBytes (${limit} bytes${size === undefined ? '' : `; got ${size}`})`,
      { closeCode: 1009, cause: options.cause },
    );
  }
}

/**
 * A close code or reason that a client may not send (1005, 1006, 1015, out of range, or a reason over
 * 123 UTF-8 bytes). Nothing was sent.
 *
 * @example
 * ```ts
 * await client.stop({ code: 4000, reason: 'bye' }); // 1000 or 3000-4999 are always allowed
 * ```
 */
export class InvalidCloseError extends WsmError {
  constructor(message: string) {
    super(ErrorCodes.INVALID_CLOSE, message);
  }
}

/**
 * A user hook threw or rejected. `hook` names it; `cause` is what it threw. The client carries on.
 *
 * @example
 * ```ts
 * client.on('error', (e) => { if (e instanceof HookError) console.error(`${e.hook} failed`, e.cause); });
 * ```
 */
export class HookError extends WsmError {
  readonly hook: string;
  readonly sessionId: number | undefined;
  /** What the hook was called with, when that helps (for `prepare`: the raw Message). */
  readonly input?: unknown;
  constructor(hook: string, cause: unknown, sessionId?: number, input?: unknown) {
    super(ErrorCodes.HOOK, `The ${hook} hook threw: ${messageOf(cause)}`, { cause });
    this.hook = hook;
    this.sessionId = sessionId;
    if (input !== undefined) this.input = input;
  }
}

/**
 * An inbound buffer (an unread `messages()` iterator, or the inbound queue) passed its bound.
 *
 * @example
 * ```ts
 * for await (const m of client.messages()) handle(m); // read promptly, or it ends with this error
 * ```
 */
export class QueueOverflowError extends WsmError {
  constructor(message: string) {
    super(ErrorCodes.QUEUE_OVERFLOW, message);
  }
}

/**
 * The peer broke the WebSocket protocol (bad frame, invalid UTF-8, illegal close code). `closeCode`
 * is 1002 or 1007 as RFC 6455 says.
 *
 * @example
 * ```ts
 * client.on('close', ({ code }) => code === 1002 && reportServerBug());
 * ```
 */
export class ProtocolError extends WsmError {
  constructor(message: string, closeCode: number, cause?: unknown) {
    super(ErrorCodes.PROTOCOL, message, { cause, closeCode });
  }
}

/**
 * The connection machine was run without the service that binds it to sockets and hooks
 * (`createActor(connectionMachine)`). It cannot dial by itself: run it through `createClient()`, or
 * embed it in your own machine with `fromClient()`. To test the machine alone, provide its actors with
 * `connectionMachine.provide({ actors: { socket, target, openHook, closeHook } })`.
 *
 * @example
 * ```ts
 * import { createActor } from 'xstate';
 * import { connectionMachine } from 'wsmachine/machines';
 * const actor = createActor(connectionMachine, { input: { config } });
 * actor.subscribe({ error: (e) => console.error(e) }); // MachineNotBoundError on the first start
 * ```
 */
export class MachineNotBoundError extends WsmError {
  constructor(what: string) {
    super(
      ErrorCodes.NOT_BOUND,
      `The connection machine has no ${what === 'input' ? 'input (`{ config }`)' : `"${what}" actor`}: it runs ` +
        'only inside a client. Use createClient(options) (client.actor is the running machine), or ' +
        'fromClient() to invoke it from your own machine; to test the machine alone, give it input and ' +
        'provide its actors with connectionMachine.provide({ actors: { socket, target, openHook, closeHook } }).',
    );
  }
}

/**
 * Received messages that were not handed to a handler, an iterator, an exclusive section or a
 * request (the inbound twin of {@link UndeliveredError}): reported on the `error` channel only when
 * nothing listens to the `unhandled` event.
 *
 * @example
 * ```ts
 * client.on('unhandled', ({ messages, reason }) => console.warn(messages.length, 'not handled:', reason.message));
 * ```
 */
export class UnhandledMessagesError extends WsmError {
  constructor(message: string, cause?: unknown) {
    super(ErrorCodes.UNHANDLED, message, { cause });
  }
}

/**
 * A subscription's `subscribe` (or `unsubscribe`) rejected, threw, or did not settle within the
 * subscription's `timeoutMs`. `cause` is what it failed with (the server's refusal, a
 * {@link RequestTimeoutError}, a {@link ConnectionClosedError}...). A failed subscribe is retried at
 * the next reopen, or after the subscription's own backoff when it has `retry`; it never blocks the
 * other subscriptions or the session.
 *
 * @example
 * ```ts
 * const sub = client.subscribe({ name: 'prices', subscribe: (s) => s.request('{"op":"sub","topic":"prices"}') });
 * sub.on('error', (e) => console.warn(`${e.subscription} ${e.phase} failed (attempt ${e.attempt}):`, e.cause));
 * ```
 */
export class SubscriptionError extends WsmError {
  /** The subscription's `name`. */
  readonly subscription: string;
  /** What failed: the user's `subscribe` or `unsubscribe`. */
  readonly phase: 'subscribe' | 'unsubscribe';
  /** The attempt that failed (1 for the first attempt of a session), 0 for an unsubscribe. */
  readonly attempt: number;
  constructor(subscription: string, phase: 'subscribe' | 'unsubscribe', cause: unknown, attempt = 0) {
    super(
      ErrorCodes.SUBSCRIPTION,
      `The ${phase} of subscription ${JSON.stringify(subscription)} failed: ${messageOf(cause)}` +
        (phase === 'subscribe'
          ? '. It is retried at the next reopen (or after its retry backoff, with `retry`); `cause` is what the server or your code said.'
          : '. The subscription is unsubscribed on this side anyway.'),
      { cause },
    );
    this.subscription = subscription;
    this.phase = phase;
    this.attempt = attempt;
  }
}

/**
 * A short, log-safe description of any value (never prints whole objects).
 *
 * @example
 * ```ts
 * import { describeValue } from 'wsmachine';
 * describeValue('wss://user:pw@example.test/feed?token=abc'); // '"wss://***@example.test/feed?token=***"'
 * describeValue({ apiKey: 'secret' });                         // 'an object'
 * describeValue([1, 2, 3]);                                    // 'an array of 3'
 * ```
 */
export function describeValue(value: unknown): string {
  // Thrown values can be hostile (a revoked Proxy, getters that throw): describing must never throw.
  try {
    return describeUnsafe(value);
  } catch {
    return 'an unreadable value';
  }
}

function describeUnsafe(value: unknown): string {
  if (typeof value === 'string') {
    // A URL may carry credentials or a token in its query: never print those.
    const safe = /^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? redactUrl(value) : value;
    return JSON.stringify(safe.length > 60 ? `${safe.slice(0, 57)}...` : safe);
  }
  if (isUrlObject(value)) return describeValue(value.href);
  if (typeof value === 'function') return 'a function';
  if (value === null || value === undefined || typeof value !== 'object') return String(value);
  if (Array.isArray(value)) return `an array of ${value.length}`;
  return 'an object';
}

/**
 * The message of an unknown thrown value.
 *
 * @example
 * ```ts
 * import { messageOf } from 'wsmachine';
 * messageOf(new Error('boom')); // 'boom'
 * messageOf('oops');            // '"oops"' (a non-error is described with describeValue)
 * ```
 */
export function messageOf(error: unknown): string {
  try {
    if (error instanceof Error) {
      const message = error.message;
      if (typeof message === 'string') return message;
    }
  } catch {
    // A Proxy of an Error whose traps throw: fall through to the safe description.
  }
  return describeValue(error);
}

function isUrlObject(value: unknown): value is { href: string } {
  return (
    typeof value === 'object' && value !== null && typeof (value as { href?: unknown }).href === 'string'
  );
}
