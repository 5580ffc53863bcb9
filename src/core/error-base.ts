/**
 * The base of every wsmachine error: the stable codes ({@link ErrorCodes}), {@link WsmError}, the
 * guards, and the safe description of thrown values the error messages use.
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
