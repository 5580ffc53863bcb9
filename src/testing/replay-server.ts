/**
 * The server side of a lifecycle replay: what `replayPath` needs from a server to perform the
 * `server.*` and `adapter.*` steps. The in-memory adapter is one (simulated time); a test can write
 * another over a real server (real time).
 */
import { ReplaySetupError } from './errors.js';
import type { LifecycleStep } from './lifecycle-steps.js';
import type { MemoryAdapter } from './memory-adapter.js';
import type { MemoryConnection } from './memory-connection.js';

/**
 * The `server.*` and `adapter.*` step types: what a {@link ReplayServer} may support.
 *
 * @example
 * ```ts
 * import type { ServerStepType } from 'wsmachine/testing';
 * const onARealServer: ServerStepType[] = ['server.accept', 'server.reject', 'server.close', 'server.drop'];
 * ```
 */
export type ServerStepType = Extract<LifecycleStep['type'], `server.${string}` | `adapter.${string}`>;

/**
 * A server `replayPath` can drive. Each method performs one step on the connection the client is
 * dialing or holding now, and may return a promise (a real server waits for the upgrade request).
 * The in-memory adapter is wrapped into one by `replayPath`; implement this over a real server to
 * replay paths in real time (then give `replayPath` no `clock`).
 *
 * @example
 * ```ts
 * import type { ReplayServer } from 'wsmachine/testing';
 * declare const http: { nextUpgrade(): Promise<{ accept(): void; reject(status: number): void; destroy(): void }> };
 * declare let live: { close(code: number): void; terminate(): void } | undefined;
 * const server: ReplayServer = {
 *   answersCloseItself: true, // ws answers a close frame at once
 *   supports: (type) => ['server.accept', 'server.reject', 'server.refuse', 'server.close', 'server.drop'].includes(type),
 *   accept: async () => (await http.nextUpgrade()).accept(),
 *   reject: async (status) => (await http.nextUpgrade()).reject(status),
 *   refuse: async () => (await http.nextUpgrade()).destroy(),
 *   close: (code) => live?.close(code),
 *   drop: () => live?.terminate(),
 *   answerClose: () => {},
 *   pong: () => {},
 *   flood: () => {},
 *   breakNextConnect: () => {},
 * };
 * ```
 */
export interface ReplayServer {
  /** The server answers the client's close frame by itself (a real `ws` server does). */
  readonly answersCloseItself: boolean;
  /** Whether this server can perform a step of this type. */
  supports(type: ServerStepType): boolean;
  /** `server.accept`: completes the upgrade of the pending dial. */
  accept(): void | Promise<void>;
  /** `server.reject`: answers the pending dial with this HTTP status. */
  reject(status: 401 | 503): void | Promise<void>;
  /** `server.refuse`: the pending dial fails (connection refused or reset). */
  refuse(): void | Promise<void>;
  /** `server.close`: sends a close frame with `code` on the open connection. */
  close(code: number): void | Promise<void>;
  /** `server.drop`: the open connection drops without a close frame. */
  drop(): void | Promise<void>;
  /** `server.answerClose`: answers the close frame the client sent. */
  answerClose(): void | Promise<void>;
  /** `server.pong`: answers the client's ping. */
  pong(): void | Promise<void>;
  /** `server.flood`: sends `message` until the client pauses reading. */
  flood(message: string | Uint8Array): void | Promise<void>;
  /** `adapter.breaks`: the next dial's `connect()` throws. */
  breakNextConnect(): void | Promise<void>;
}

/** The in-memory adapter as a {@link ReplayServer} (all steps, synchronous, simulated time). */
export function memoryReplayServer(adapter: MemoryAdapter): ReplayServer {
  const conn = (why: string): MemoryConnection => {
    const c = adapter.last;
    if (c === undefined) {
      throw new ReplaySetupError(
        `${why}: the client made no connection through this adapter: create it with \`adapter: server\``,
      );
    }
    return c;
  };
  return {
    answersCloseItself: false,
    supports: () => true,
    accept: () => conn('server.accept').open(),
    reject: (status) => conn('server.reject').reject(status),
    refuse: () => conn('server.refuse').refuse(),
    close: (code) => conn('server.close').serverClose(code),
    drop: () => conn('server.drop').drop(),
    answerClose: () => conn('server.answerClose').answerClose(),
    pong: () => conn('server.pong').pong(),
    flood: (message) => {
      const c = conn('server.flood');
      c.flood(message);
      if (!c.readingPaused) {
        throw new ReplaySetupError(
          'server.flood: the client never paused reading: create it with `hooks: control.hooks(yourHooks)` (its onMessage is what the flood blocks)',
        );
      }
    },
    breakNextConnect: () => adapter.throwOnNextConnect(),
  };
}
