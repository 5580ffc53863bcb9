/**
 * The public shapes of `wsmachine/server`: the options of {@link startDemoServer}, its events and
 * counters, and the {@link DemoServer} it returns. The server's jobs live beside this file (upgrades,
 * dispatch, subscriptions, faults, outbound, lifecycle); `demo-server.ts` re-exports these names.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { FaultCommand } from './protocol.js';

/**
 * Options of {@link startDemoServer}.
 *
 * @example
 * ```ts
 * const server = await startDemoServer({ port: 0, heartbeatIntervalMs: 250 });
 * ```
 */
export interface DemoServerOptions {
  /** Interface to listen on. @default '127.0.0.1' */
  host?: string;
  /** Port to listen on; 0 picks a free one (read it back from `server.port`). @default 0 */
  port?: number;
  /** Time between `heartbeat` publications to a subscribed connection. @default 1000 */
  heartbeatIntervalMs?: number;
  /** Path of the raw echo endpoint; every other path speaks the demo protocol. @default '/echo' */
  echoPath?: string;
  /**
   * How long `closeAll()`, `close()` and `restart()` wait for a client to answer the close frame
   * before destroying its socket. @default 1000
   */
  closeTimeoutMs?: number;
  /** Bigger incoming messages close the connection with 1009. @default 16_777_216 (16 MiB) */
  maxPayloadBytes?: number;
}

/**
 * Which endpoint a connection came in on: `'echo'` for `echoPath`, `'demo'` for every other path.
 *
 * @example
 * ```ts
 * import { type DemoEndpoint, startDemoServer } from 'wsmachine/server';
 * const server = await startDemoServer();
 * const perEndpoint: Record<DemoEndpoint, number> = { demo: 0, echo: 0 };
 * server.on('connection', ({ endpoint }) => perEndpoint[endpoint]++);
 * ```
 */
export type DemoEndpoint = 'demo' | 'echo';

/**
 * Events of {@link DemoServer.on}: what a test waits on instead of sleeping.
 *
 * @example
 * ```ts
 * const connected = new Promise((resolve) => server.on('connection', (e) => resolve(e.headers)));
 * ```
 */
export interface DemoServerEvents {
  /** The server listens (at start and after each `restart()`). */
  listening: { port: number };
  /** A WebSocket connection was accepted. */
  connection: {
    id: number;
    endpoint: DemoEndpoint;
    path: string;
    headers: IncomingHttpHeaders;
    protocol: string;
  };
  /** A message arrived (before it is handled). */
  message: { id: number; endpoint: DemoEndpoint; data: string | Uint8Array; binary: boolean };
  /** A connection ended; `code` is what the server saw (1006 when the TCP connection just went away). */
  disconnect: { id: number; code: number; reason: string };
  /** A handshake was answered with an HTTP error by a `reject_handshakes` fault. */
  rejected: { status: number; retryAfterSeconds: number | undefined };
  /** A fault command was applied; `id` is the connection that sent it (undefined: programmatic). */
  fault: { id: number | undefined; command: FaultCommand };
  /** The server stopped listening (`close()`, `kill()`, or the first half of `restart()`). */
  closed: { port: number };
}

/**
 * Counters of {@link DemoServer.stats}.
 *
 * @example
 * ```ts
 * expect(server.stats()).toMatchObject({ accepted: 1, rejected: 0 });
 * ```
 */
export interface DemoServerStats {
  /** WebSocket connections accepted since the server started (across restarts). */
  accepted: number;
  /** Connections open now. */
  open: number;
  /** Handshakes answered with an HTTP error by a `reject_handshakes` fault. */
  rejected: number;
  messagesIn: number;
  messagesOut: number;
}

/**
 * A running demo server. Created by {@link startDemoServer}.
 *
 * @example
 * ```ts
 * const server = await startDemoServer();
 * server.fault({ fault: 'delay', ms: 500 });          // every reply 500 ms late
 * server.rejectHandshakes(2, 503, 1);                  // the next two dials get 503, Retry-After: 1
 * await server.closeAll(4000, 'maintenance');          // a close frame with that code and reason
 * await server.close();                                // 1001 to whoever is left, then stop listening
 * ```
 */
export interface DemoServer {
  /** `ws://host:port`: the demo protocol. */
  readonly url: string;
  /** `ws://host:port/echo`: the raw echo endpoint (text and binary frames echoed unchanged). */
  readonly echoUrl: string;
  readonly host: string;
  /** The port, kept across `restart()`. */
  readonly port: number;
  /** False after `close()` or `kill()` until `restart()`. */
  readonly listening: boolean;
  /** Counters. */
  stats(): DemoServerStats;
  /** Adds a listener; returns a function that removes it. */
  on<K extends keyof DemoServerEvents>(
    event: K,
    listener: (payload: DemoServerEvents[K]) => void,
  ): () => void;
  /**
   * Sends a close frame with `code` and `reason` to every open connection and resolves once they have
   * all closed (a client that does not answer within `closeTimeoutMs` is destroyed).
   * @param code @default 1001 (Going Away)
   * @param reason @default 'server shutting down'
   * @returns how many connections were closed.
   * @throws {RangeError} for a code a server may not send (1004-1006, 1015, outside 1000-4999) or a
   *   reason over 123 UTF-8 bytes.
   */
  closeAll(code?: number, reason?: string): Promise<number>;
  /** Destroys every open connection's TCP socket without a close frame; returns how many. */
  dropAll(): number;
  /**
   * Applies a fault. `close`, `drop` and `close_after` act on every connection open now; `no_pong`
   * and `delay` set server-wide behaviour for every connection, now and later, until turned off
   * (`{ fault: 'no_pong', enabled: false }`, `{ fault: 'delay', ms: 0 }`); `reject_handshakes`
   * rejects the next handshakes. Settings survive `restart()`.
   * @throws {RangeError} when a parameter is out of range.
   */
  fault(command: FaultCommand): void;
  /**
   * Answers the next `count` handshakes with HTTP `status` (and `Retry-After: retryAfterSeconds`).
   * @param status @default 503
   */
  rejectHandshakes(count: number, status?: number, retryAfterSeconds?: number): void;
  /**
   * Stops listening and destroys every connection without a close frame: what a crash looks like to
   * clients (close 1006, then connection refused). Resolves once the port is free.
   */
  kill(): Promise<void>;
  /**
   * Shuts down: `closeAll(code, reason)` (1001 by default), then stops listening. Idempotent.
   */
  close(options?: { code?: number; reason?: string }): Promise<void>;
  /**
   * Listens again on the same port, so clients reconnect to the same URL. When still listening, it
   * first closes every connection with 1012 (Service Restart), or kills them with `{ kill: true }`.
   */
  restart(options?: { kill?: boolean; code?: number; reason?: string }): Promise<void>;
}
