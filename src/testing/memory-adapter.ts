/**
 * The scriptable in-memory adapter: it drives the real client and the real machine (not a mock of
 * the callbacks): your test plays the server, deciding when each connection opens, what it receives,
 * and how it ends.
 */
import { ConnectError } from '../core/errors.js';
import type { Data } from '../core/types.js';
import type {
  AdapterCapabilities,
  ConnectRequest,
  ConnectionListener,
  SocketAdapter,
  SocketConnection,
} from '../transport/adapter.js';
import { MemoryConnection } from './memory-connection.js';

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
  /** The error the next `connect()` throws, if a test broke the adapter. */
  private breakNext: unknown;
  private broken = false;

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
   *
   * @throws the error given to {@link MemoryAdapter.throwOnNextConnect}, once.
   */
  connect(request: ConnectRequest, listener: ConnectionListener): SocketConnection {
    if (this.broken) {
      this.broken = false;
      const error = this.breakNext;
      this.breakNext = undefined;
      throw error;
    }
    const connection = new MemoryConnection(request, listener, this);
    this.connections.push(connection);
    if (this.autoOpen) connection.open();
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w(connection);
    return connection;
  }

  /**
   * Breaks the adapter for one dial: the next `connect()` throws `error` (a broken adapter; the
   * contract says connect() never throws, and the client must survive one that does).
   *
   * @example
   * ```ts
   * server.throwOnNextConnect();
   * await client.start().catch((e) => console.log(e.cause)); // ConnectError: The adapter's connect() threw
   * ```
   */
  throwOnNextConnect(error: unknown = new ConnectError('The memory adapter was told to break')): void {
    this.broken = true;
    this.breakNext = error;
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
