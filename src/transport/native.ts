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
 * - `binaryType = 'arraybuffer'`, delivered as `Uint8Array`.
 */
import { ConnectError, MessageTooBigError } from '../core/errors.js';
import type { Data } from '../core/types.js';
import type {
  AdapterCloseInfo,
  ConnectRequest,
  ConnectionListener,
  SocketAdapter,
  SocketConnection,
} from './adapter.js';

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

const OPEN = 1;
const encoder = new TextEncoder();

class NativeConnection implements SocketConnection {
  private readonly socket: WebSocketLike | undefined;
  private readonly listener: ConnectionListener;
  private readonly maxPayloadBytes: number;
  private opened = false;
  private closed = false;
  /** The code we meant to close with, when the runtime could not send it. */
  private intended: { code: number; reason: string; error?: unknown } | undefined;

  constructor(Ctor: WebSocketCtor, request: ConnectRequest, listener: ConnectionListener) {
    this.listener = listener;
    this.maxPayloadBytes = request.maxPayloadBytes;
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
    socket.onerror = () => {
      if (!this.opened) {
        // Node 20's undici never fires `close` after a rejected upgrade; browsers fire error then
        // close 1006. Ending here covers both without waiting.
        this.abandon();
        this.finish({
          code: 1006,
          reason: '',
          wasClean: false,
          error: new ConnectError('Could not connect (the browser hides the reason)'),
        });
      }
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
      } else this.finish({ code: ev.code, reason: ev.reason, wasClean: ev.wasClean });
    };
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
    socket.onopen = null;
    socket.onmessage = null;
    socket.onerror = null;
    socket.onclose = null;
    try {
      socket.close(1000);
    } catch {
      // Closing a socket that is still CONNECTING may throw in some runtimes; it is abandoned anyway.
    }
  }

  private finish(info: AdapterCloseInfo): void {
    if (this.closed) return;
    this.closed = true;
    this.listener.onClose(info);
  }

  get bufferedAmount(): number {
    return this.socket?.bufferedAmount ?? 0;
  }

  send(data: Data): void {
    if (this.socket === undefined || this.socket.readyState !== OPEN)
      throw new ConnectError('The socket is not open');
    this.socket.send(data);
  }

  close(code: number, reason: string): void {
    const socket = this.socket;
    if (socket === undefined || this.closed) return;
    // Browsers accept only 1000 and 3000-4999 from script: send 1000 and report the intended code.
    const sendable = code === 1000 || (code >= 3000 && code <= 4999);
    if (!sendable) this.intended = { code, reason };
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
