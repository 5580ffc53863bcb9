/**
 * The adapter over `globalThis.WebSocket` (browsers, Node >= 22, Deno, Bun; Node 20 only with
 * `--experimental-websocket`). Browser-safe: no `ws`, no `node:*`.
 *
 * Quirks handled here:
 * - no protocol ping: `capabilities.protocolPing` is false (the heartbeat needs an app message);
 * - no `maxPayload`: the size is checked after receipt (the runtime has already buffered the
 *   message), and the session ends reporting 1009 locally;
 * - `close()` accepts only 1000 and 3000-4999: other codes are sent as 1000 with the reason, and the
 *   intended code is reported locally;
 * - no `terminate()`: the socket is abandoned (listeners dropped, close() called) and treated as
 *   closed at once;
 * - Node 20's built-in client never fires `close` after a rejected handshake: an `error` before
 *   `open` ends the connection itself;
 * - Node's built-in client fires nothing when the server's close frame arrives and the server keeps
 *   the TCP connection open (the state stays CLOSING, sends vanish): in Node the adapter watches the
 *   ready state and ends such a session within `closeTimeoutMs`, with the server's code where the
 *   runtime lets it (see native-runtime.ts);
 * - protocol violations that Node's client reports (`error`, then `close` 1006) are classified as the
 *   ws adapter classifies them (1002, 1007 for invalid UTF-8);
 * - `binaryType = 'arraybuffer'`, delivered as `Uint8Array`.
 */
import { ConnectError, MessageTooBigError, isWsmError } from '../core/errors.js';
import type { Data } from '../core/types.js';
import type {
  AdapterCloseInfo,
  ConnectRequest,
  ConnectionListener,
  SocketAdapter,
  SocketConnection,
} from './adapter.js';
import { classifyRuntimeFailure, destroyTransport, isNodeRuntime } from './native-runtime.js';

/** The subset of the WHATWG WebSocket this adapter uses. */
interface WebSocketLike {
  readonly readyState: number;
  readonly protocol: string;
  readonly extensions: string;
  readonly bufferedAmount: number;
  binaryType: string;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  onclose: ((ev: { code: number; reason: string; wasClean: boolean }) => void) | null;
  send(data: Data): void;
  close(code?: number, reason?: string): void;
}
type WebSocketCtor = new (url: string, protocols?: string | string[]) => WebSocketLike;
type Timer = ReturnType<typeof setTimeout>;

const OPEN = 1;
const CLOSING = 2;
const encoder = new TextEncoder();

class NativeConnection implements SocketConnection {
  private readonly socket: WebSocketLike | undefined;
  private readonly listener: ConnectionListener;
  private readonly maxPayloadBytes: number;
  private readonly closeTimeoutMs: number;
  private opened = false;
  private closed = false;
  /** We started the close (close(), terminate() or an abandon): CLOSING is then ours, not the server's. */
  private closeRequested = false;
  /** The code we meant to close with, when the runtime could not send it. */
  private intended: { code: number; reason: string; error?: unknown } | undefined;
  /** A violation the runtime reported with `error` on the open connection, for the `close` after it. */
  private failure: Error | undefined;
  /** Node: the ready-state watch, and the deadline once the server's close frame has been seen. */
  private watch: Timer | undefined;
  private watchPeriodMs = 0;
  private deadline: Timer | undefined;

  constructor(Ctor: WebSocketCtor, request: ConnectRequest, listener: ConnectionListener) {
    this.listener = listener;
    this.maxPayloadBytes = request.maxPayloadBytes;
    this.closeTimeoutMs = request.closeTimeoutMs;
    let socket: WebSocketLike;
    try {
      socket = new Ctor(request.url, request.protocols ?? []);
    } catch (error) {
      this.socket = undefined;
      queueMicrotask(() =>
        this.finish({
          code: 1006,
          reason: '',
          wasClean: false,
          error: new ConnectError(`Could not connect: ${String(error)}`, error),
        }),
      );
      return;
    }
    this.socket = socket;
    socket.binaryType = 'arraybuffer';
    socket.onopen = () => {
      this.opened = true;
      if (isNodeRuntime()) this.watchForServerClose();
      this.listener.onOpen({ protocol: socket.protocol, extensions: socket.extensions });
    };
    socket.onmessage = (ev) => {
      if (this.closed) return;
      const data = ev.data;
      if (typeof data === 'string') {
        // Cheap bound first: a UTF-16 string of n units is at most 3n UTF-8 bytes.
        if (data.length * 3 > this.maxPayloadBytes && encoder.encode(data).length > this.maxPayloadBytes) {
          this.tooBig(data.length);
          return;
        }
        this.listener.onMessage(data, false);
      } else {
        const bytes =
          data instanceof ArrayBuffer ? new Uint8Array(data) : new Uint8Array(data as ArrayBufferLike);
        if (bytes.byteLength > this.maxPayloadBytes) {
          this.tooBig(bytes.byteLength);
          return;
        }
        this.listener.onMessage(bytes, true);
      }
    };
    socket.onerror = (ev) => {
      if (this.opened) {
        // The runtime failed the connection; its `close` (1006) follows and reports this instead.
        this.failure ??= classifyRuntimeFailure(ev, this.maxPayloadBytes);
        return;
      }
      // Node 20's undici never fires `close` after a rejected upgrade; browsers fire error then
      // close 1006. Ending here covers both without waiting.
      this.abandon();
      this.finish({
        code: 1006,
        reason: '',
        wasClean: false,
        error: new ConnectError('Could not connect (the browser hides the reason)'),
      });
    };
    socket.onclose = (ev) => {
      const intended = this.intended;
      if (intended !== undefined) {
        this.finish({
          code: intended.code,
          reason: intended.reason,
          wasClean: ev.wasClean,
          ...(intended.error === undefined ? {} : { error: intended.error }),
        });
      } else if (this.failure !== undefined && ev.code === 1006) {
        const error = this.failure;
        const code = isWsmError(error) && error.closeCode !== undefined ? error.closeCode : 1006;
        this.finish({ code, reason: '', wasClean: false, error });
      } else this.finish({ code: ev.code, reason: ev.reason, wasClean: ev.wasClean });
    };
  }

  /**
   * Node's client fires no event when the server's close frame arrives: it only moves to CLOSING and
   * waits for the server to close TCP. Watch the ready state (unref'd: the socket itself keeps the
   * process alive), at half of `closeTimeoutMs`, so detection plus the wait below fit in it.
   */
  private watchForServerClose(): void {
    this.watchPeriodMs = Math.min(Math.max(this.closeTimeoutMs / 2, 25), 1_000);
    this.watch = setInterval(() => this.checkServerClose(), this.watchPeriodMs);
    (this.watch as { unref?: () => void }).unref?.();
  }

  /** Called by the watch and by a refused send: has the server started the closing handshake? */
  private checkServerClose(): void {
    const socket = this.socket;
    if (socket === undefined || this.closed || this.closeRequested || this.deadline !== undefined) return;
    if (this.watch === undefined || socket.readyState !== CLOSING) return;
    clearInterval(this.watch);
    this.watch = undefined;
    // RFC 6455 §7.1.1: the server closes TCP first. Give it the rest of closeTimeoutMs, then end it.
    this.deadline = setTimeout(
      () => this.endServerClose(),
      Math.max(0, this.closeTimeoutMs - this.watchPeriodMs),
    );
  }

  private endServerClose(): void {
    this.deadline = undefined;
    const socket = this.socket;
    if (socket === undefined || this.closed) return;
    // undici v6: ending the TCP connection makes the runtime fire `close` with the server's code and
    // reason (wasClean, the handshake completed). One more period bounds that, in case it does not.
    if (destroyTransport(socket)) {
      this.deadline = setTimeout(() => this.giveUpServerClose(), this.watchPeriodMs);
      return;
    }
    this.giveUpServerClose();
  }

  /** The runtime keeps the server's close code to itself: report 1005 (no status known). */
  private giveUpServerClose(): void {
    this.deadline = undefined;
    if (this.closed) return;
    this.abandon();
    this.finish({ code: 1005, reason: '', wasClean: false });
  }

  private tooBig(size: number): void {
    const error = new MessageTooBigError(this.maxPayloadBytes, size);
    this.intended = { code: 1009, reason: 'message too big', error };
    this.abandon();
    this.finish({ code: 1009, reason: 'message too big', wasClean: false, error });
  }

  /** Drops listeners and closes; the connection is treated as closed from now on. */
  private abandon(): void {
    const socket = this.socket;
    if (socket === undefined) return;
    this.closeRequested = true;
    socket.onopen = null;
    socket.onmessage = null;
    socket.onerror = null;
    socket.onclose = null;
    try {
      socket.close(1000);
    } catch {
      // Closing a socket that is still CONNECTING may throw in some runtimes; it is abandoned anyway.
    }
    // Node's client cannot end a CLOSING connection through the API: where its TCP socket is
    // reachable, end it, so a peer that never answers cannot keep the socket (and Node) alive.
    destroyTransport(socket);
  }

  private finish(info: AdapterCloseInfo): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.watch);
    clearTimeout(this.deadline);
    this.watch = undefined;
    this.deadline = undefined;
    this.listener.onClose(info);
  }

  get bufferedAmount(): number {
    return this.socket?.bufferedAmount ?? 0;
  }

  send(data: Data): void {
    const socket = this.socket;
    if (socket === undefined || socket.readyState !== OPEN) {
      // Node's client ignores sends once the server's close frame arrived: refuse them (the client
      // queues them for the next session) and start ending this one now.
      if (socket?.readyState === CLOSING) this.checkServerClose();
      throw new ConnectError('The socket is not open');
    }
    socket.send(data);
  }

  close(code: number, reason: string): void {
    const socket = this.socket;
    if (socket === undefined || this.closed) return;
    // Browsers accept only 1000 and 3000-4999 from script: send 1000 and report the intended code.
    const sendable = code === 1000 || (code >= 3000 && code <= 4999);
    if (!sendable) this.intended = { code, reason };
    this.closeRequested = true;
    socket.close(sendable ? code : 1000, reason);
  }

  terminate(): void {
    if (this.closed) return;
    this.abandon();
    const intended = this.intended;
    // Report asynchronously, as the adapter contract says.
    queueMicrotask(() =>
      this.finish({ code: intended?.code ?? 1006, reason: intended?.reason ?? '', wasClean: false }),
    );
  }
}

/**
 * Creates the adapter over the runtime's native `WebSocket`.
 *
 * @param WebSocketImpl the constructor to use. @default globalThis.WebSocket
 * @throws {ConnectError} when the runtime has no WebSocket (Node 20 without `--experimental-websocket`).
 *
 * @example
 * ```ts
 * import { createClient, createNativeAdapter } from 'wsmachine';
 * const client = createClient({ url: 'wss://example.test', adapter: createNativeAdapter() });
 * ```
 */
export function createNativeAdapter(WebSocketImpl?: unknown): SocketAdapter {
  const Ctor = (WebSocketImpl ?? (globalThis as { WebSocket?: unknown }).WebSocket) as
    | WebSocketCtor
    | undefined;
  if (typeof Ctor !== 'function') {
    throw new ConnectError(
      'This runtime has no global WebSocket. In Node, import from "wsmachine/node" (ws adapter), or run Node 22+ (or Node 20 with --experimental-websocket).',
    );
  }
  return {
    name: 'native',
    capabilities: { protocolPing: false, pause: false, headers: false, terminate: false },
    connect(request, listener) {
      return new NativeConnection(Ctor, request, listener);
    },
  };
}

/** The native adapter when the runtime has a WebSocket, else undefined. */
export function defaultNativeAdapter(): SocketAdapter | undefined {
  return typeof (globalThis as { WebSocket?: unknown }).WebSocket === 'function'
    ? createNativeAdapter()
    : undefined;
}
