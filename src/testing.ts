/**
 * `wsmachine/testing`: a scriptable in-memory adapter for tests. It drives the real client and the
 * real machine (not a mock of the callbacks, as the Go seeds ship): your test plays the server,
 * deciding when each connection opens, what it receives, and how it ends.
 *
 * Every callback fires asynchronously (a microtask), as the adapter contract requires, so the client
 * behaves as it does over a real socket.
 */
import { HandshakeError } from './core/errors.js';
import type { Data } from './core/types.js';
import type {
  AdapterCapabilities,
  AdapterCloseInfo,
  ConnectRequest,
  ConnectionListener,
  SocketAdapter,
  SocketConnection,
} from './transport/adapter.js';

/**
 * Options of {@link createMemoryAdapter}.
 *
 * @example
 * ```ts
 * import { createClient } from 'wsmachine';
 * import { createMemoryAdapter } from 'wsmachine/testing';
 * const server = createMemoryAdapter({ autoOpen: false }); // the test decides when each dial opens
 * const client = createClient({ url: 'ws://test.invalid', adapter: server });
 * const started = client.start();
 * (await server.nextConnection(0)).open();
 * await started;
 * ```
 */
export interface MemoryAdapterOptions {
  /** Open every connection as soon as it is made. @default true */
  autoOpen?: boolean;
  /** Answer protocol pings with a pong. @default true */
  autoPong?: boolean;
  /** Answer the client's close frame with a close frame (a clean close). @default true */
  autoCloseReply?: boolean;
  /** Capabilities to claim. @default { protocolPing: true, pause: true, headers: true, terminate: true } */
  capabilities?: Partial<AdapterCapabilities>;
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
  private readonly listener: ConnectionListener;
  private readonly owner: MemoryAdapter;

  constructor(request: ConnectRequest, listener: ConnectionListener, owner: MemoryAdapter) {
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

  /** The server closes with a close frame. */
  serverClose(code = 1000, reason = ''): void {
    this.end({ code, reason, wasClean: true });
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
    if (this.owner.autoPong && !this.silent) {
      queueMicrotask(() => {
        if (this.status === 'open' && !this.silent) this.listener.onPong?.(new Uint8Array());
      });
    }
  }

  /** The client stops reading (backpressure). A no-op here: your test decides what is delivered. */
  pause(): void {}
  /** The client resumes reading. A no-op here. */
  resume(): void {}
}

/**
 * The adapter plus the controls of the fake server.
 *
 * @example
 * ```ts
 * import { createClient } from 'wsmachine';
 * import { MemoryAdapter } from 'wsmachine/testing';
 * const server = new MemoryAdapter({ autoPong: false }); // a peer that never answers pings
 * const client = createClient({
 *   url: 'ws://test.invalid',
 *   adapter: server,
 *   heartbeat: { intervalMs: 1_000, timeoutMs: 500 },
 * });
 * await client.start();
 * // ~1.5 s later the heartbeat declares the session dead; after its backoff the client dials again:
 * const second = await server.nextConnection(1);
 * ```
 */
export class MemoryAdapter implements SocketAdapter {
  readonly name = 'memory';
  readonly capabilities: AdapterCapabilities;
  /** Every connection made, in order. */
  readonly connections: MemoryConnection[] = [];
  autoOpen: boolean;
  autoPong: boolean;
  autoCloseReply: boolean;
  /** Called for every message a client sends (e.g. to echo it). */
  onSend: ((connection: MemoryConnection, data: Data) => void) | undefined;
  private waiters: Array<(c: MemoryConnection) => void> = [];

  constructor(options: MemoryAdapterOptions = {}) {
    this.autoOpen = options.autoOpen ?? true;
    this.autoPong = options.autoPong ?? true;
    this.autoCloseReply = options.autoCloseReply ?? true;
    this.capabilities = {
      protocolPing: true,
      pause: true,
      headers: true,
      terminate: true,
      ...options.capabilities,
    };
  }

  /**
   * Called by the client for each dial: records a new {@link MemoryConnection} (opened at once when
   * `autoOpen` is on) and wakes the callers of {@link MemoryAdapter.nextConnection}.
   */
  connect(request: ConnectRequest, listener: ConnectionListener): SocketConnection {
    const connection = new MemoryConnection(request, listener, this);
    this.connections.push(connection);
    if (this.autoOpen) connection.open();
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w(connection);
    return connection;
  }

  /** The latest connection. */
  get last(): MemoryConnection | undefined {
    return this.connections[this.connections.length - 1];
  }

  /** Resolves with the next connection the client makes (or the latest, if `index` is already there). */
  nextConnection(index = this.connections.length): Promise<MemoryConnection> {
    const existing = this.connections[index];
    if (existing !== undefined) return Promise.resolve(existing);
    return new Promise((resolve) => {
      const wait = () => {
        if (this.connections.length > index) resolve(this.connections[index]!);
        else this.waiters.push(wait);
      };
      this.waiters.push(wait);
    });
  }

  /** @internal */
  notifySent(connection: MemoryConnection, data: Data): void {
    this.onSend?.(connection, data);
  }
}

/**
 * Creates a scriptable in-memory adapter: pass it as `adapter` and play the server from your test.
 *
 * @example
 * ```ts
 * import { createClient } from 'wsmachine';
 * import { createMemoryAdapter } from 'wsmachine/testing';
 *
 * const server = createMemoryAdapter();
 * server.onSend = (conn, data) => conn.deliver(`echo:${data}`);   // an echo server
 * const client = createClient({ url: 'ws://test.invalid', adapter: server, reconnect: { baseDelayMs: 0 } });
 * await client.start();
 * server.last!.drop();                                            // the network drops
 * // the real machine goes closing -> reconnecting -> connecting -> opening -> open
 * ```
 */
export function createMemoryAdapter(options: MemoryAdapterOptions = {}): MemoryAdapter {
  return new MemoryAdapter(options);
}
