/**
 * The socket adapter contract. An adapter turns one concrete WebSocket implementation (the `ws`
 * package, the native `WebSocket`, the in-memory test adapter) into the same small, strict shape, so
 * the machine never sees runtime quirks.
 *
 * The contract every adapter keeps (checked by the suite in test/contract):
 * - `connect()` never throws for network reasons; failures arrive as `onClose` with `error` set.
 * - `onOpen` fires at most once; `onClose` fires exactly once per connection, always asynchronously
 *   after `connect()` returned, whether the dial failed, the handshake was rejected or the socket
 *   closed. Nothing fires after `onClose`.
 * - `terminate()` ends the connection at once (abandoning it where the runtime cannot kill it) and
 *   `onClose` still fires once.
 * - Adapters never import xstate, the machines or the client.
 */
import type { Data, HandshakeResponse } from '../core/types.js';

/**
 * What an adapter can do beyond the basics.
 *
 * @example
 * ```ts
 * import { createWsAdapter } from 'wsmachine/node';
 * createWsAdapter().capabilities; // { protocolPing: true, pause: true, headers: true, terminate: true }
 * ```
 */
export interface AdapterCapabilities {
  /** Can send protocol pings and observe pongs (ws: yes; browsers: no). */
  readonly protocolPing: boolean;
  /** Can stop reading from the socket for backpressure (ws: yes; browsers: no). */
  readonly pause: boolean;
  /** Can send custom HTTP headers on the upgrade (Node only). */
  readonly headers: boolean;
  /** Can kill the connection without a close handshake. */
  readonly terminate: boolean;
}

/**
 * What to connect to, resolved for one attempt.
 *
 * @example
 * ```ts
 * import { createClient, type SocketAdapter } from 'wsmachine';
 * import { createWsAdapter } from 'wsmachine/node';
 * const ws = createWsAdapter();
 * // An adapter that logs every dial, then lets the ws adapter make it.
 * const logging: SocketAdapter = {
 *   name: 'logging-ws',
 *   capabilities: ws.capabilities,
 *   connect(request, listener) {
 *     console.log('dial', request.url, request.protocols ?? [], `max ${request.maxPayloadBytes} B`);
 *     return ws.connect(request, listener);
 *   },
 * };
 * const client = createClient({ url: 'ws://127.0.0.1:8080', adapter: logging });
 * ```
 */
export interface ConnectRequest {
  url: string;
  protocols?: string[] | undefined;
  headers?: Record<string, string> | undefined;
  /** Reject messages above this size (ws enforces it while reading; others check after receipt). */
  maxPayloadBytes: number;
  /** How long `close()` waits for the peer's close frame before terminating. */
  closeTimeoutMs: number;
  /** A bound on dial + handshake, when the adapter can enforce one natively. 0 = none. */
  handshakeTimeoutMs: number;
  /** Node: the socket must not keep the process alive. */
  unref?: boolean | undefined;
}

/**
 * Information about an opened connection.
 *
 * @example
 * ```ts
 * import type { ConnectionListener, OpenInfo } from 'wsmachine';
 * // Wraps the client's listener to log what each connection negotiated.
 * const logOpen = (listener: ConnectionListener): ConnectionListener => ({
 *   onOpen: (info: OpenInfo) => {
 *     console.log('open', info.protocol || '(no subprotocol)', info.extensions, info.response?.status);
 *     listener.onOpen(info);
 *   },
 *   onMessage: (data, binary) => listener.onMessage(data, binary),
 *   onClose: (info) => listener.onClose(info),
 *   onPong: (data) => listener.onPong?.(data),
 * });
 * ```
 */
export interface OpenInfo {
  /** The subprotocol the server picked ('' for none). */
  protocol: string;
  /** Negotiated extensions ('' for none). */
  extensions: string;
  /** The upgrade response, where the adapter can see it. */
  response?: HandshakeResponse | undefined;
}

/**
 * How a connection ended, as the adapter saw it.
 *
 * @example
 * ```ts
 * import type { AdapterCloseInfo, ConnectionListener } from 'wsmachine';
 * // Wraps the client's listener to log how each connection ended.
 * const logClose = (listener: ConnectionListener): ConnectionListener => ({
 *   onOpen: (info) => listener.onOpen(info),
 *   onMessage: (data, binary) => listener.onMessage(data, binary),
 *   onClose: (info: AdapterCloseInfo) => {
 *     console.log('closed', info.code, info.reason, info.wasClean ? 'clean' : 'unclean', info.error);
 *     listener.onClose(info);
 *   },
 *   onPong: (data) => listener.onPong?.(data),
 * });
 * ```
 */
export interface AdapterCloseInfo {
  code: number;
  reason: string;
  wasClean: boolean;
  /** Why, when an error ended it (dial error, handshake rejection, protocol violation). */
  error?: unknown;
}

/**
 * Callbacks an adapter calls. Plain methods, not events: the receive path must stay cheap.
 *
 * @example
 * ```ts
 * import { createClient, type ConnectionListener, type SocketAdapter } from 'wsmachine';
 * import { createWsAdapter } from 'wsmachine/node';
 * const ws = createWsAdapter();
 * let received = 0;
 * // An adapter that counts incoming messages before the client sees them.
 * const counting: SocketAdapter = {
 *   name: 'counting-ws',
 *   capabilities: ws.capabilities,
 *   connect(request, listener) {
 *     const counted: ConnectionListener = {
 *       onOpen: (info) => listener.onOpen(info),
 *       onMessage: (data, binary) => {
 *         received++;
 *         listener.onMessage(data, binary);
 *       },
 *       onClose: (info) => listener.onClose(info),
 *       onPong: (data) => listener.onPong?.(data),
 *       onPing: (data) => listener.onPing?.(data),
 *     };
 *     return ws.connect(request, counted);
 *   },
 * };
 * const client = createClient({ url: 'ws://127.0.0.1:8080', adapter: counting });
 * ```
 */
export interface ConnectionListener {
  onOpen(info: OpenInfo): void;
  /**
   * Text as `string`, binary as `Uint8Array`. `bytes` is the size on the wire when the adapter has it
   * for free (UTF-8 for text); otherwise the client counts it.
   */
  onMessage(data: string | Uint8Array, binary: boolean, bytes?: number): void;
  /** Exactly once per connection. */
  onClose(info: AdapterCloseInfo): void;
  /** A protocol pong arrived (only adapters with `protocolPing`). */
  onPong?(data: Uint8Array): void;
  /** A protocol ping from the server arrived (already answered by the adapter). */
  onPing?(data: Uint8Array): void;
}

/**
 * One connection made by an adapter.
 *
 * @example
 * ```ts
 * import type { Data, SocketConnection } from 'wsmachine';
 * // Counts the bytes a connection writes and delegates the rest (an adapter without pings or pause).
 * class CountingConnection implements SocketConnection {
 *   bytesOut = 0;
 *   constructor(private readonly inner: SocketConnection) {}
 *   send(data: Data): void {
 *     this.bytesOut += typeof data === 'string' ? new TextEncoder().encode(data).length : data.byteLength;
 *     this.inner.send(data);
 *   }
 *   close(code: number, reason: string): void {
 *     this.inner.close(code, reason);
 *   }
 *   terminate(): void {
 *     this.inner.terminate();
 *   }
 *   get bufferedAmount(): number {
 *     return this.inner.bufferedAmount;
 *   }
 * }
 * ```
 */
export interface SocketConnection {
  /** Writes one message. Throws only when the socket is not open. */
  send(data: Data): void;
  /** Starts the closing handshake with an already validated code and reason. */
  close(code: number, reason: string): void;
  /** Ends the connection now, without waiting for the peer. */
  terminate(): void;
  /** Sends a protocol ping (only with `capabilities.protocolPing`). */
  ping?(data?: Uint8Array): void;
  /**
   * Sends an unsolicited protocol pong, a one-way heartbeat (RFC 6455 §5.5.3; only with
   * `capabilities.protocolPing`). The client never calls it; tools such as `wsmachine connect`'s
   * `/pong` do, through an adapter that wraps this one.
   */
  pong?(data?: Uint8Array): void;
  /** Stops reading from the socket (only with `capabilities.pause`). */
  pause?(): void;
  /** Resumes reading. */
  resume?(): void;
  /** Bytes written but not yet handed to the OS. */
  readonly bufferedAmount: number;
  /**
   * Bytes read from the network so far, where the adapter can see them (Node). The heartbeat counts
   * a frame still arriving as life: a big message on a slow link is not a dead peer.
   */
  readonly bytesRead?: number | undefined;
}

/**
 * A factory of connections over one WebSocket implementation.
 *
 * @example
 * ```ts
 * import { createClient } from 'wsmachine';
 * import { createWsAdapter } from 'wsmachine/node';
 * const client = createClient({ url, adapter: createWsAdapter({ perMessageDeflate: true }) });
 * ```
 */
export interface SocketAdapter {
  /** A short name for logs and the inspector, e.g. `ws`, `native`, `memory`. */
  readonly name: string;
  readonly capabilities: AdapterCapabilities;
  /** Starts a connection. Never throws for network reasons (see the contract above). */
  connect(request: ConnectRequest, listener: ConnectionListener): SocketConnection;
}
