/**
 * RFC 6455 close codes: which a client may send, and how the end of a session is classified for the
 * reconnect decision. Pure: no I/O.
 */
import { InvalidCloseError } from './errors.js';

/**
 * Named close codes (RFC 6455 section 7.4.1 and the IANA registry).
 *
 * @example
 * ```ts
 * await client.stop({ code: CloseCodes.NORMAL });
 * ```
 */
export const CloseCodes = {
  NORMAL: 1000,
  GOING_AWAY: 1001,
  PROTOCOL_ERROR: 1002,
  UNSUPPORTED_DATA: 1003,
  NO_STATUS: 1005,
  ABNORMAL: 1006,
  INVALID_PAYLOAD: 1007,
  POLICY_VIOLATION: 1008,
  MESSAGE_TOO_BIG: 1009,
  MANDATORY_EXTENSION: 1010,
  INTERNAL_ERROR: 1011,
  SERVICE_RESTART: 1012,
  TRY_AGAIN_LATER: 1013,
  BAD_GATEWAY: 1014,
  TLS_HANDSHAKE: 1015,
} as const;

/** Largest close reason a frame can carry: 125 payload bytes minus the 2-byte code. */
export const MAX_CLOSE_REASON_BYTES = 123;

const encoder = new TextEncoder();

/**
 * Whether a client may put `code` in a close frame: 1000, 1001-1003, 1007-1014 and 3000-4999.
 * 1005, 1006 and 1015 are reserved for reporting and must never be sent.
 *
 * @example
 * ```ts
 * import { isSendableCloseCode } from 'wsmachine';
 * isSendableCloseCode(1000); // true
 * isSendableCloseCode(4001); // true: an application code
 * isSendableCloseCode(1006); // false: reserved for reporting a dropped connection
 * ```
 */
export function isSendableCloseCode(code: number): boolean {
  if (!Number.isInteger(code)) return false;
  if (code >= 3000 && code <= 4999) return true;
  return code >= 1000 && code <= 1014 && code !== 1004 && code !== 1005 && code !== 1006;
}

/**
 * Validates a close code and reason a user asked to send. Throws {@link InvalidCloseError} with what to
 * do instead; returns nothing on success.
 *
 * @throws {InvalidCloseError} when the code is not sendable or the reason is over 123 UTF-8 bytes.
 */
export function assertValidClose(code: number | undefined, reason: string | undefined): void {
  if (code !== undefined && !isSendableCloseCode(code)) {
    throw new InvalidCloseError(
      `Close code ${String(code)} cannot be sent by a client. Use 1000 (normal), 1001 (going away), ` +
        `1002-1003, 1007-1014, or an application code in 3000-4999; 1005, 1006 and 1015 are reserved.`,
    );
  }
  if (reason !== undefined) {
    if (typeof reason !== 'string') throw new InvalidCloseError('A close reason must be a string.');
    const bytes = encoder.encode(reason).length;
    if (bytes > MAX_CLOSE_REASON_BYTES) {
      throw new InvalidCloseError(
        `A close reason may be at most ${MAX_CLOSE_REASON_BYTES} UTF-8 bytes; this one is ${bytes}. Shorten it.`,
      );
    }
  }
}

/**
 * How the end of a session is classified for the reconnect decision.
 * - `normal`: we closed it on purpose (`stop()`, `exit()`).
 * - `transient`: worth retrying with backoff (network drops, 1001, 1006, 1011-1014, 5xx, 408, 429).
 * - `auth`: credentials were refused (handshake 401/403, app codes marked as auth).
 * - `fatal`: retrying cannot help (protocol errors 1002/1003/1007-1010, handshake 400/404/426, TLS).
 *
 * @example
 * ```ts
 * import { createClient, type CloseClass } from 'wsmachine';
 * const client = createClient({ url: 'wss://example.test/feed' });
 * client.on('close', (event) => {
 *   const cls: CloseClass = event.class;
 *   if (cls === 'auth') console.warn('credentials refused: refresh the token');
 * });
 * ```
 */
export type CloseClass = 'normal' | 'transient' | 'auth' | 'fatal';

/** What {@link classifyClose} looks at. */
export interface ClassifyInput {
  /** The close code reported for the session (1006 when there was no close frame). */
  code: number;
  /** HTTP status when the upgrade was rejected. */
  status?: number | undefined;
  /** True when the close came from our own `stop()`/`exit()`. */
  requested?: boolean;
  /** True when TLS verification failed. */
  tls?: boolean;
  /** App close codes (3000-4999) to treat as `auth`. */
  authCodes?: readonly number[];
  /** App close codes (3000-4999) to treat as `fatal`. */
  fatalCodes?: readonly number[];
}

const FATAL_CLOSE = new Set<number>([1002, 1003, 1007, 1008, 1009, 1010]);
const FATAL_STATUS = new Set<number>([400, 404, 405, 410, 426]);
const AUTH_STATUS = new Set<number>([401, 403]);

/**
 * Classifies the end of a session. See the README's "Reconnect policy" table.
 *
 * @example
 * ```ts
 * classifyClose({ code: 1006 });               // 'transient'
 * classifyClose({ code: 1006, status: 401 });  // 'auth'
 * classifyClose({ code: 1002 });               // 'fatal'
 * ```
 */
export function classifyClose(input: ClassifyInput): CloseClass {
  if (input.requested) return 'normal';
  if (input.tls) return 'fatal';
  if (input.status !== undefined) {
    if (AUTH_STATUS.has(input.status)) return 'auth';
    if (FATAL_STATUS.has(input.status)) return 'fatal';
    // 408, 429, 5xx (502 from a proxy with its backend down) and anything else: retry with backoff.
    return 'transient';
  }
  if (input.authCodes?.includes(input.code)) return 'auth';
  if (input.fatalCodes?.includes(input.code)) return 'fatal';
  if (FATAL_CLOSE.has(input.code)) return 'fatal';
  return 'transient';
}
