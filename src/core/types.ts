/**
 * Plain data types shared by the machine, the adapters and the client. No DOM or Node types leak
 * through here, so the browser entry stays clean.
 */

/**
 * What can be sent: text, or bytes.
 *
 * @example
 * ```ts
 * import { createClient, type Data } from 'wsmachine';
 * const client = createClient({ url: 'wss://example.test/feed' });
 * const frames: Data[] = ['hello', new Uint8Array([1, 2, 3]), new ArrayBuffer(8)];
 * for (const frame of frames) client.send(frame); // 'queued' until the connection opens
 * ```
 */
export type Data = string | Uint8Array | ArrayBuffer;

/**
 * The names users see in `client.state`.
 *
 * @example
 * ```ts
 * import { ClientStates, type ClientState } from 'wsmachine';
 * const isClientState = (s: string): s is ClientState => (ClientStates as readonly string[]).includes(s);
 * isClientState('reconnecting'); // true
 * ```
 */
export const ClientStates = [
  'idle',
  'connecting',
  'opening',
  'open',
  'closing',
  'reconnecting',
  'stopped',
] as const;
/**
 * One of {@link ClientStates}.
 *
 * @example
 * ```ts
 * import { createClient, type ClientState } from 'wsmachine';
 * const client = createClient({ url: 'wss://example.test/feed' });
 * const state: ClientState = client.state; // 'idle' until start()
 * client.on('state', ({ from, to }) => console.log(`${from} -> ${to}`));
 * ```
 */
export type ClientState = (typeof ClientStates)[number];

/**
 * A source of time. All of the client's timing (the machine's delays, deadlines) goes through one of
 * these, so a test can drive time with XState's `SimulatedClock` plus a `now()`.
 *
 * @example
 * ```ts
 * import { SimulatedClock } from 'xstate';
 * const sim = new SimulatedClock();
 * createClient({ url, clock: { now: () => sim.now(), setTimeout: (f, ms) => sim.setTimeout(f, ms), clearTimeout: (id) => sim.clearTimeout(id) } });
 * ```
 */
export interface Clock {
  /** Milliseconds; only differences are used. @default performance.now (monotonic: a system clock step moves no deadline) */
  now(): number;
  /** @default globalThis.setTimeout */
  setTimeout(fn: () => void, ms: number): unknown;
  /** @default globalThis.clearTimeout */
  clearTimeout(id: unknown): void;
}

/**
 * How a session ended.
 *
 * @example
 * ```ts
 * import { createClient, type CloseInfo } from 'wsmachine';
 * const client = createClient({
 *   url: 'wss://example.test/feed',
 *   hooks: {
 *     onClose: (info: CloseInfo) => console.log(info.code, info.reason, info.wasClean ? 'clean' : 'dropped'),
 *   },
 * });
 * ```
 */
export interface CloseInfo {
  /** Close code; 1006 when the connection dropped without a close frame. */
  code: number;
  /** Close reason (may be empty). */
  reason: string;
  /** True when a close frame was exchanged. */
  wasClean: boolean;
  /** The session that ended. */
  sessionId: number;
  /** The error that ended it, when one did (dial failure, handshake rejection, timeout...). */
  error?: unknown;
  /** HTTP status when the upgrade was rejected. */
  status?: number;
  /** Parsed `Retry-After`, when the server sent one. */
  retryAfterMs?: number;
  /** True when the session ended because we asked (`stop()`, `restart()`, `exit()`). */
  requested?: boolean;
}

/**
 * Given to `url`/`headers` functions on every attempt.
 *
 * @example
 * ```ts
 * import { createClient, type AttemptInfo } from 'wsmachine';
 * const client = createClient({
 *   // fail over to the second host from the third dial on
 *   url: ({ attempt }: AttemptInfo) => (attempt < 2 ? 'wss://a.example.test/v1' : 'wss://b.example.test/v1'),
 * });
 * ```
 */
export interface AttemptInfo {
  /** 0 for the first dial after `start()`, +1 for each reconnect dial. */
  attempt: number;
  /** Aborted when the attempt is abandoned (stop, open timeout). */
  signal: AbortSignal;
  /** How the previous session ended, if there was one. */
  lastClose: CloseInfo | undefined;
}

/**
 * The HTTP response of a successful upgrade, when the adapter can see it (ws).
 *
 * @example
 * ```ts
 * import { createClient } from 'wsmachine';
 * const client = createClient({
 *   url: 'wss://example.test/feed',
 *   hooks: {
 *     onOpen: (_session, { response }) => console.log(response?.status, response?.headers['set-cookie']),
 *   },
 * });
 * ```
 */
export interface HandshakeResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
}
