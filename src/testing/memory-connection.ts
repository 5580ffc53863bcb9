/**
 * One in-memory connection: the server side a test plays (open, deliver, close, drop, reject, answer
 * pings and close frames) and the `SocketConnection` side the client drives. Every callback to the
 * client fires asynchronously (a microtask), as the adapter contract requires, except
 * `deliverNow`, so the client behaves as it does over a real socket.
 */
import { HandshakeError } from '../core/errors.js';
import type { Data } from '../core/types.js';
import type {
  AdapterCloseInfo,
  ConnectRequest,
  ConnectionListener,
  SocketConnection,
} from '../transport/adapter.js';

/** What a connection asks of the adapter that made it. */
export interface MemoryConnectionOwner {
  readonly autoPong: boolean;
  readonly autoCloseReply: boolean;
  notifySent(connection: MemoryConnection, data: Data): void;
}

/**
 * One in-memory connection, seen from the server side your test plays.
 *
 * @example
 * ```ts
 * import { createClient } from 'wsmachine';
 * import { createMemoryAdapter } from 'wsmachine/testing';
 * const server = createMemoryAdapter();
 * const client = createClient({ url: 'ws://test.invalid', adapter: server });
 * await client.start();
 * const conn = server.last!;
 * client.send('ping');
 * console.log(conn.sent);                // ['ping']
 * conn.deliver('pong');                  // the client receives 'pong'
 * conn.serverClose(4000, 'maintenance'); // the client reconnects after its backoff
 * ```
 */
export class MemoryConnection implements SocketConnection {
  /** What the client asked for. */
  readonly request: ConnectRequest;
  /** Every message the client sent, in order. */
  readonly sent: Data[] = [];
  /** The close frame the client sent, if it did. */
  clientClose: { code: number; reason: string } | undefined;
  /** True after the client terminated the connection. */
  terminated = false;
  /** Pings the client sent. */
  pings = 0;
  /** `'connecting' | 'open' | 'closed'` */
  status: 'connecting' | 'open' | 'closed' = 'connecting';
  /** When true, pings are not answered and nothing is delivered (a blackholed peer). */
  silent = false;
  /**
   * True while the client has paused reading (backpressure: its handlers fell behind). Delivery is
   * not held back by it: your test decides what arrives, and can flood until this turns true.
   */
  readingPaused = false;
  private readonly listener: ConnectionListener;
  private readonly owner: MemoryConnectionOwner;

  constructor(request: ConnectRequest, listener: ConnectionListener, owner: MemoryConnectionOwner) {
    this.request = request;
    this.listener = listener;
    this.owner = owner;
  }

  // --- the server side, for your test ---

  /** Completes the handshake. */
  open(protocol = ''): void {
    if (this.status !== 'connecting') return;
    queueMicrotask(() => {
      if (this.status !== 'connecting') return;
      this.status = 'open';
      this.listener.onOpen({ protocol, extensions: '' });
    });
  }

  /** Delivers a message to the client (text as string, binary as Uint8Array). */
  deliver(data: string | Uint8Array): void {
    queueMicrotask(() => {
      if (this.status !== 'open' || this.silent) return;
      this.listener.onMessage(data, typeof data !== 'string');
    });
  }

  /** Delivers a message synchronously (for tests of the hot path that must not wait a microtask). */
  deliverNow(data: string | Uint8Array): void {
    if (this.status !== 'open' || this.silent) return;
    this.listener.onMessage(data, typeof data !== 'string');
  }

  /**
   * Delivers `data` again and again, synchronously, until the client pauses reading (its handlers
   * are behind and its inbound queue reached `inbound.highWaterMark`) or `limit` messages went in.
   *
   * @returns how many messages were delivered.
   * @example
   * ```ts
   * // With an onMessage that never finishes, the client pauses after inbound.highWaterMark messages.
   * const delivered = server.last!.flood('tick');
   * console.log(delivered, server.last!.readingPaused); // e.g. 1001 true
   * ```
   */
  flood(data: string | Uint8Array, limit = 1_000_000): number {
    let delivered = 0;
    while (!this.readingPaused && delivered < limit && this.status === 'open' && !this.silent) {
      this.listener.onMessage(data, typeof data !== 'string');
      delivered++;
    }
    return delivered;
  }

  /** The server closes with a close frame. */
  serverClose(code = 1000, reason = ''): void {
    this.end({ code, reason, wasClean: true });
  }

  /**
   * The server answers the close frame the client sent (a clean close with the same code and
   * reason): what `autoCloseReply` does by itself.
   *
   * @throws {Error} when the client sent no close frame on this connection.
   */
  answerClose(): void {
    const frame = this.clientClose;
    if (frame === undefined) {
      throw new Error('The client sent no close frame on this connection: there is nothing to answer');
    }
    this.end({ code: frame.code, reason: frame.reason, wasClean: true });
  }

  /** The server answers a ping (a protocol pong), whatever `autoPong` says. Ignored unless open. */
  pong(): void {
    queueMicrotask(() => {
      if (this.status === 'open' && !this.silent) this.listener.onPong?.(new Uint8Array());
    });
  }

  /** The connection drops without a close frame (TCP reset): 1006. */
  drop(error?: unknown): void {
    this.end({ code: 1006, reason: '', wasClean: false, ...(error === undefined ? {} : { error }) });
  }

  /** Rejects the upgrade with an HTTP status (and Retry-After in ms). */
  reject(status: number, retryAfterMs?: number): void {
    this.end({ code: 1006, reason: '', wasClean: false, error: new HandshakeError(status, retryAfterMs) });
  }

  /** Fails the dial (connection refused). */
  refuse(error: unknown = new Error('connect ECONNREFUSED')): void {
    this.end({ code: 1006, reason: '', wasClean: false, error });
  }

  private end(info: AdapterCloseInfo): void {
    if (this.status === 'closed') return;
    this.status = 'closed';
    queueMicrotask(() => this.listener.onClose(info));
  }

  // --- the SocketConnection side, used by the client ---

  /** Always 0: nothing is buffered between the client and your test. */
  get bufferedAmount(): number {
    return 0;
  }

  /**
   * The client writes a message: it is appended to {@link MemoryConnection.sent} and passed to the
   * adapter's `onSend`.
   *
   * @throws {Error} when the connection is not open, as a real socket does.
   */
  send(data: Data): void {
    if (this.status !== 'open') throw new Error('The socket is not open');
    this.sent.push(data);
    this.owner.notifySent(this, data);
  }

  /**
   * The client starts the closing handshake: the frame is kept in `clientClose` and answered (a clean
   * close) when `autoCloseReply` is on and the peer is not `silent`. Before open, it terminates.
   */
  close(code: number, reason: string): void {
    if (this.status === 'closed') return;
    if (this.status === 'connecting') {
      this.terminate();
      return;
    }
    this.clientClose = { code, reason };
    if (this.owner.autoCloseReply && !this.silent) this.end({ code, reason, wasClean: true });
  }

  /** The client kills the connection: `terminated` becomes true and the close is not clean. */
  terminate(): void {
    this.terminated = true;
    this.end({
      code: this.clientClose?.code ?? 1006,
      reason: this.clientClose?.reason ?? '',
      wasClean: false,
    });
  }

  /** The client sends a protocol ping: counted in `pings`; answered with `autoPong` unless `silent`. */
  ping(): void {
    if (this.status !== 'open') return;
    this.pings++;
    if (this.owner.autoPong && !this.silent) this.pong();
  }

  /** The client stops reading (backpressure): `readingPaused` becomes true. */
  pause(): void {
    this.readingPaused = true;
  }

  /** The client resumes reading: `readingPaused` becomes false. */
  resume(): void {
    this.readingPaused = false;
  }
}
