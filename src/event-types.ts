/**
 * Public types of the client's events and stats (re-exported by `./types.js`).
 */
import type { CloseClass } from './core/close-codes.js';
import type { WsmError } from './core/errors.js';
import type { Message } from './core/message.js';
import type { ClientState, CloseInfo, Data } from './core/types.js';

/**
 * Payload of the `close` event.
 *
 * @example
 * ```ts
 * import { createClient, type CloseEvent } from 'wsmachine';
 * const client = createClient({ url: 'wss://example.test/feed' });
 * client.on('close', (event: CloseEvent) => {
 *   console.log(`session ${event.sessionId} closed: ${event.code} ${event.reason} (${event.class})`);
 * });
 * ```
 */
export interface CloseEvent extends CloseInfo {
  /** How the reconnect decision classified it. */
  class: CloseClass;
}

/**
 * Typed events of `client.on`. The `message` event fires for every message, including responses
 * consumed by a request: it is an observer's view of the wire (logging, metrics, the inspector),
 * while `onMessage` is the application's handler.
 *
 * @example
 * ```ts
 * import { createClient, type ClientEvents } from 'wsmachine';
 * const client = createClient({ url: 'wss://example.test/feed' });
 * const logEvent = <K extends keyof ClientEvents>(event: K) =>
 *   client.on(event, (payload: ClientEvents[K]) => console.log(event, payload));
 * logEvent('reconnecting'); // { attempt, delayMs, cause }
 * logEvent('pong');         // { rttMs }
 * ```
 */
export interface ClientEvents {
  state: { from: ClientState; to: ClientState };
  connecting: { attempt: number; url: string };
  open: { sessionId: number; restarting: boolean; protocol: string; extensions: string };
  message: Message;
  close: CloseEvent;
  reconnecting: { attempt: number; delayMs: number; cause: unknown };
  error: WsmError;
  ping: { sessionId: number };
  pong: { rttMs: number };
  'heartbeat-missed': { missed: number };
  undelivered: { messages: Data[]; reason: WsmError };
  /**
   * Received messages that were not handed to a handler, an iterator, an exclusive section or a
   * request, with why (the inbound twin of `undelivered`).
   */
  unhandled: { messages: Message[]; reason: WsmError };
  stopped: { error: unknown };
}

/**
 * Counters returned by `client.stats()`.
 *
 * @example
 * ```ts
 * import { createClient, type ClientStats } from 'wsmachine';
 * const client = createClient({ url: 'wss://example.test/feed' });
 * setInterval(() => {
 *   const s: ClientStats = client.stats();
 *   console.log(`in ${s.messagesIn} out ${s.messagesOut} queued ${s.queuedSends} rtt ${s.lastRttMs} ms`);
 * }, 10_000).unref();
 * ```
 */
export interface ClientStats {
  messagesIn: number;
  messagesOut: number;
  bytesIn: number;
  bytesOut: number;
  /** Sessions that opened. */
  sessions: number;
  /** Dials made: every connection attempt, opened or not (each has its own `sessionId`). */
  dials: number;
  /** Reconnect dials made. */
  reconnects: number;
  pendingRequests: number;
  /** Messages waiting in the send buffer. */
  queuedSends: number;
  /** Their size in bytes (UTF-8 for text). */
  queuedBytes: number;
  /** Messages reported in `undelivered` events so far. */
  undelivered: number;
  /** Incoming messages waiting for a handler slot. */
  inboundQueued: number;
  /** The highest `inboundQueued` seen. */
  inboundQueuePeak: number;
  /** Received messages reported in `unhandled` events so far. */
  unhandled: number;
  /** The same count as `unhandled` (its name in the first release). */
  inboundDiscarded: number;
  /** Round trip of the last answered heartbeat ping. */
  lastRttMs: number | undefined;
}
