/**
 * The errors of a connection's life: starting, dialing, the handshake, TLS, the heartbeat, the
 * protocol, and how a session or the client ended. Re-exported by `./errors.js`.
 */
import { ErrorCodes, WsmError, messageOf } from './error-base.js';

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
