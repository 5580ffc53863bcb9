/**
 * The adapter over the `ws` package (Node). The only file in the library that imports `ws`.
 *
 * What it adds on top of `ws` (each one measured on this project's machine, see ARCHITECTURE.md §8):
 * - a handshake bound (`ws` has none by default: a stalled server leaves a socket CONNECTING forever);
 * - `unexpected-response` read into a typed {@link HandshakeError} (status, Retry-After) and then
 *   terminated, because listening to that event suppresses `error` and `close` until we do;
 * - a bounded close: `closeTimeout` is capped (ws waits 30 s for a dead peer by default);
 * - binary data as a `Uint8Array` (the `Buffer` ws made, which is one: no copy, no wrapper), text as
 *   `string`;
 * - errors classified: TLS -> {@link TlsError}, protocol violations -> {@link ProtocolError} with the
 *   code ws sent (1002/1007), oversize -> {@link MessageTooBigError} (1009), dial -> {@link ConnectError};
 * - a fragment limit that follows `maxPayloadBytes` ({@link maxFragmentsFor}) instead of ws's fixed
 *   16,384, which refused legal messages; a message over it is a {@link MessageTooBigError}.
 */
import WebSocket, { type ClientOptions } from 'ws';
import {
  ConnectError,
  HandshakeError,
  MessageTooBigError,
  ProtocolError,
  TlsError,
  isWsmError,
  messageOf,
} from '../core/errors.js';
import { parseRetryAfter } from '../core/retry-after.js';
import type { Data, HandshakeResponse } from '../core/types.js';
import type {
  AdapterCloseInfo,
  ConnectRequest,
  ConnectionListener,
  SocketAdapter,
  SocketConnection,
} from './adapter.js';

/**
 * Options passed through to `new WebSocket()` from `ws`: TLS (`ca`, `cert`, `key`,
 * `rejectUnauthorized`, `servername`), `agent`, `perMessageDeflate`, `followRedirects`,
 * `maxRedirects`, `family`, `localAddress`, `origin`, ... Options the client owns (`headers`,
 * `maxPayload`, `handshakeTimeout`, `closeTimeout`) come from `createClient` and override these.
 *
 * @example
 * ```ts
 * import { readFileSync } from 'node:fs';
 * import { createClient, createWsAdapter, type WsClientOptions } from 'wsmachine/node';
 * const tls: WsClientOptions = { ca: readFileSync('ca.pem'), rejectUnauthorized: true }; // a private CA
 * const client = createClient({ url: 'wss://feed.internal:8443', adapter: createWsAdapter(tls) });
 * ```
 */
export type WsClientOptions = Omit<
  ClientOptions,
  'headers' | 'maxPayload' | 'handshakeTimeout' | 'closeTimeout'
> & {
  /** TLS server name (SNI and certificate check), passed through to `https.request`. */
  servername?: string;
};

const TLS_ERROR_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'ERR_SSL_WRONG_VERSION_NUMBER',
]);

/** ws's own default `maxFragments`: the floor of the limit, so no message ws accepts is refused. */
const WS_DEFAULT_MAX_FRAGMENTS = 16_384;
/** ws's own default `maxBufferedChunks` (socket reads held while one frame's payload arrives). */
const WS_DEFAULT_MAX_BUFFERED_CHUNKS = 262_144;
/**
 * Payload bytes allowed per fragment. ws holds ~107 B of heap for each fragment of a message until
 * the last one arrives (measured on Node 20 with 10^5 and 10^6 one-byte fragments), so one fragment
 * per 128 B of `maxPayloadBytes` keeps that bookkeeping below the payload bound itself: a message
 * costs at most about twice `maxPayloadBytes`, however the server fragments it.
 */
const PAYLOAD_BYTES_PER_FRAGMENT = 128;

/**
 * The most fragments one message may arrive in over the ws adapter: `maxPayloadBytes / 128`, and
 * never fewer than ws's default 16,384 (64 MiB, the default `maxPayloadBytes`, allows 524,288).
 * `createWsAdapter({ maxFragments })` overrides it.
 */
function maxFragmentsFor(maxPayloadBytes: number): number {
  return Math.max(WS_DEFAULT_MAX_FRAGMENTS, Math.ceil(maxPayloadBytes / PAYLOAD_BYTES_PER_FRAGMENT));
}

/**
 * ws reports both of its piece limits with one code and 1008, as if the server broke the protocol.
 * A message in many pieces is legal: it is over a size-like limit of ours, so it is reported as
 * too big (1009), saying which limit and how to raise it.
 */
function tooManyPieces(
  error: unknown,
  maxPayloadBytes: number,
  options: WsClientOptions,
): MessageTooBigError {
  const chunks = /buffered chunks/i.test(messageOf(error));
  const message = chunks
    ? `A message frame arrived in more than ${options.maxBufferedChunks ?? WS_DEFAULT_MAX_BUFFERED_CHUNKS} socket reads (ws's maxBufferedChunks): raise it with createWsAdapter({ maxBufferedChunks })`
    : `A message arrived in more than ${options.maxFragments ?? maxFragmentsFor(maxPayloadBytes)} fragments, the most the ws adapter keeps for one message with maxPayloadBytes ${maxPayloadBytes} (one per ${PAYLOAD_BYTES_PER_FRAGMENT} bytes): raise maxPayloadBytes, or set createWsAdapter({ maxFragments })`;
  return new MessageTooBigError(maxPayloadBytes, undefined, { message, cause: error });
}

/** Maps a `ws`/Node error to a typed wsmachine error. */
function classifyWsError(
  error: unknown,
  opened: boolean,
  maxPayloadBytes: number,
  options: WsClientOptions = {},
): unknown {
  if (isWsmError(error)) return error;
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string') {
    if (TLS_ERROR_CODES.has(code) || code.startsWith('ERR_TLS_') || code.startsWith('ERR_SSL_')) {
      return new TlsError(`TLS verification failed: ${messageOf(error)}`, error);
    }
    if (code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') return new MessageTooBigError(maxPayloadBytes);
    if (code === 'WS_ERR_TOO_MANY_BUFFERED_PARTS') return tooManyPieces(error, maxPayloadBytes, options);
    if (code === 'WS_ERR_INVALID_UTF8')
      return new ProtocolError(`Invalid UTF-8 from the server`, 1007, error);
    if (code.startsWith('WS_ERR_')) {
      const statusCode = (error as { [k: symbol]: unknown })[statusSymbol(error)];
      return new ProtocolError(
        `The server broke the WebSocket protocol: ${messageOf(error)}`,
        typeof statusCode === 'number' ? statusCode : 1002,
        error,
      );
    }
  }
  return new ConnectError(
    opened ? `The connection failed: ${messageOf(error)}` : `Could not connect: ${messageOf(error)}`,
    error,
  );
}

/** ws stores the close code it sent for a protocol error under a symbol property named `status-code`. */
function statusSymbol(error: unknown): symbol {
  if (typeof error !== 'object' || error === null) return Symbol();
  return Object.getOwnPropertySymbols(error).find((s) => s.description === 'status-code') ?? Symbol();
}

class WsConnection implements SocketConnection {
  private readonly socket: WebSocket | undefined;
  private readonly listener: ConnectionListener;
  private readonly maxPayloadBytes: number;
  private readonly options: WsClientOptions;
  private opened = false;
  private closed = false;
  private error: unknown;
  private response: HandshakeResponse | undefined;
  /** The net.Socket under ws while corked for the current tick. */
  private corked: { uncork(): void } | undefined;
  private readonly uncork = () => {
    const raw = this.corked;
    this.corked = undefined;
    raw?.uncork();
  };

  constructor(request: ConnectRequest, listener: ConnectionListener, options: WsClientOptions) {
    this.listener = listener;
    this.maxPayloadBytes = request.maxPayloadBytes;
    this.options = options;
    let socket: WebSocket;
    try {
      const wsOptions: ClientOptions & { closeTimeout?: number } = {
        followRedirects: false,
        ...options,
        ...(request.headers ? { headers: request.headers } : {}),
        maxPayload: request.maxPayloadBytes,
        maxFragments: options.maxFragments ?? maxFragmentsFor(request.maxPayloadBytes),
        // Never wait ws's default 30 s for a dead peer's close frame (the option exists since ws 8.18;
        // @types/ws does not know it yet).
        closeTimeout: request.closeTimeoutMs,
        ...(request.handshakeTimeoutMs > 0 ? { handshakeTimeout: request.handshakeTimeoutMs } : {}),
      };
      socket = new WebSocket(request.url, request.protocols ?? [], wsOptions);
    } catch (error) {
      // A malformed URL from a per-attempt url function: report it like a failed dial, asynchronously,
      // as the contract says.
      this.socket = undefined;
      queueMicrotask(() =>
        this.finish({ code: 1006, reason: '', wasClean: false, error: classifyWsError(error, false, 0) }),
      );
      return;
    }
    this.socket = socket;
    if (request.unref) {
      // ws keeps the pending HTTP request in `_req`; its socket is the one the WebSocket will use.
      const req = (
        socket as unknown as { _req?: { on(e: 'socket', fn: (s: { unref(): void }) => void): void } }
      )._req;
      req?.on('socket', (s) => s.unref());
    }
    socket.on('upgrade', (res) => {
      this.response = { status: res.statusCode ?? 101, headers: { ...res.headers } };
    });
    socket.on('open', () => {
      this.opened = true;
      this.listener.onOpen({
        protocol: socket.protocol,
        extensions: socket.extensions,
        response: this.response,
      });
    });
    socket.on('message', (data: Buffer, isBinary: boolean) => {
      if (this.closed) return;
      // A Buffer is a Uint8Array: hand it over as is (no wrapper object per binary frame).
      if (isBinary) this.listener.onMessage(data, true, data.length);
      else this.listener.onMessage(data.toString(), false, data.length);
    });
    socket.on('unexpected-response', (_req, res) => {
      const retryAfter = res.headers['retry-after'];
      // Wall time on purpose: Retry-After may be an HTTP date, which only the wall clock can subtract.
      this.error = new HandshakeError(
        res.statusCode ?? 0,
        parseRetryAfter(Array.isArray(retryAfter) ? retryAfter[0] : retryAfter, Date.now()),
        res.statusMessage,
      );
      res.resume();
      // Handling this event suppresses ws's own error/close until we terminate.
      socket.terminate();
    });
    socket.on('error', (error) => {
      // Keep the first, most specific error (a HandshakeError beats ws's "closed before established").
      if (this.error === undefined)
        this.error = classifyWsError(error, this.opened, this.maxPayloadBytes, this.options);
    });
    socket.on('close', (code: number, reason: Buffer) => {
      const error = this.error;
      const errorCode = isWsmError(error) ? error.closeCode : undefined;
      // ws reports 1006 after it failed the connection for a protocol error; report the code it sent.
      const reported = code === 1006 && errorCode !== undefined && errorCode !== 1006 ? errorCode : code;
      this.finish({
        code: reported,
        reason: reason.toString(),
        // 1005 means a close frame without a status code: still a clean close.
        wasClean: code !== 1006,
        ...(error === undefined ? {} : { error }),
      });
    });
    socket.on('ping', (data: Buffer) => this.listener.onPing?.(data));
    socket.on('pong', (data: Buffer) => this.listener.onPong?.(data));
  }

  private finish(info: AdapterCloseInfo): void {
    if (this.closed) return;
    this.closed = true;
    this.listener.onClose(info);
  }

  get bufferedAmount(): number {
    return this.socket?.bufferedAmount ?? 0;
  }

  /** What the net.Socket under ws has read (ws keeps it in `_socket`, stable across ws 8). */
  get bytesRead(): number | undefined {
    return (this.socket as unknown as { _socket?: { bytesRead?: number } | null } | undefined)?._socket
      ?.bytesRead;
  }

  send(data: Data): void {
    const socket = this.socket;
    // ws silently drops writes after close (it only grows bufferedAmount): refuse them instead, so the
    // caller can report the message as undelivered.
    if (socket === undefined || socket.readyState !== WebSocket.OPEN)
      throw new ConnectError('The socket is not open');
    if (this.corked === undefined) {
      // Coalesce every send issued in this tick into one TCP write: pipelined requests pay one
      // syscall per batch instead of one per message. ws keeps its net.Socket in `_socket` (stable
      // across ws 8); without it we simply do not cork.
      const raw = (socket as unknown as { _socket?: { cork(): void; uncork(): void } | null })._socket;
      if (raw) {
        raw.cork();
        this.corked = raw;
        queueMicrotask(this.uncork);
      }
    }
    socket.send(data);
  }

  close(code: number, reason: string): void {
    const socket = this.socket;
    if (socket === undefined || this.closed) return;
    if (socket.readyState === WebSocket.CONNECTING) {
      socket.terminate();
      return;
    }
    socket.close(code, reason);
  }

  terminate(): void {
    this.socket?.terminate();
  }

  ping(data?: Uint8Array): void {
    if (this.socket?.readyState === WebSocket.OPEN) this.socket.ping(data);
  }

  pong(data?: Uint8Array): void {
    if (this.socket?.readyState === WebSocket.OPEN) this.socket.pong(data);
  }

  pause(): void {
    this.socket?.pause();
  }

  resume(): void {
    this.socket?.resume();
  }
}

/**
 * Creates the Node adapter over the `ws` package, passing TLS, agent, compression and redirect
 * settings through to `ws`.
 *
 * @param options passed to `new WebSocket()`; `followRedirects` @default false; `maxFragments` (the
 *   most fragments one message may arrive in) @default maxPayloadBytes / 128, at least 16,384 (ws's
 *   default; a message over it ends the session with {@link MessageTooBigError}, 1009)
 *
 * @example
 * ```ts
 * import { createClient, createWsAdapter } from 'wsmachine/node';
 * const client = createClient({
 *   url: 'wss://example.test/feed',
 *   adapter: createWsAdapter({ ca: myCaPem, perMessageDeflate: false }),
 * });
 * ```
 */
export function createWsAdapter(options: WsClientOptions = {}): SocketAdapter {
  return {
    name: 'ws',
    capabilities: { protocolPing: true, pause: true, headers: true, terminate: true },
    connect(request, listener) {
      return new WsConnection(request, listener, options);
    },
  };
}
