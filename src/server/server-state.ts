/**
 * What every job of the demo server shares: one record per connection and the server-wide state
 * (counters, fault settings, the event sink). The jobs (upgrades, dispatch, subscriptions, faults,
 * outbound) are functions over these two records, so each can be read without the others.
 */
import type { WebSocket, WebSocketServer } from 'ws';
import { MAX_CLOSE_REASON_BYTES, isSendableCloseCode } from '../core/close-codes.js';
import type { DemoEndpoint, DemoServerEvents } from './demo-server-api.js';

/** `WebSocket.OPEN` of `ws`, without importing the value for one constant. */
export const OPEN = 1;

/** One accepted WebSocket connection. */
export interface Connection {
  readonly id: number;
  readonly endpoint: DemoEndpoint;
  readonly socket: WebSocket;
  /** `performance.now()` at accept: the origin of the heartbeat's `uptimeMs`. */
  readonly openedAt: number;
  /** Resolves once the socket has closed (close frame exchanged, or TCP gone). */
  readonly closed: Promise<void>;
  ended: boolean;
  subscription: Subscription | undefined;
  /** Per-connection override of the server-wide setting. */
  noPong: boolean | undefined;
  /** Per-connection override of the server-wide setting. */
  delayMs: number | undefined;
  closeAfter: { remaining: number; code: number; reason: string } | undefined;
  /** Delayed replies not yet sent (the delay fault); cleared when the connection closes. */
  readonly timers: Set<NodeJS.Timeout>;
}

/** The one heartbeat publisher a connection may have. */
export interface Subscription {
  timer: NodeJS.Timeout;
  seq: number;
}

/** The `reject_handshakes` fault while it has handshakes left to reject. */
export interface RejectSetting {
  remaining: number;
  status: number;
  retryAfterSeconds: number | undefined;
}

/** The server-wide state the jobs read and write. */
export interface ServerState {
  readonly heartbeatIntervalMs: number;
  readonly echoPath: string;
  readonly closeTimeoutMs: number;
  readonly wss: WebSocketServer;
  readonly connections: Map<number, Connection>;
  readonly counters: { accepted: number; rejected: number; messagesIn: number; messagesOut: number };
  /** Server-wide fault settings (a connection may override noPong and delayMs). */
  noPong: boolean;
  delayMs: number;
  reject: RejectSetting | undefined;
  nextId: number;
  emit<K extends keyof DemoServerEvents>(event: K, payload: DemoServerEvents[K]): void;
}

const encoder = new TextEncoder();

/**
 * Checks a close frame the server is asked to send.
 * @throws {RangeError} for a code a server may not send or a reason over 123 UTF-8 bytes.
 */
export function validateClose(code: number, reason: string): void {
  if (!isSendableCloseCode(code)) {
    throw new RangeError(
      `close code ${String(code)} cannot be sent: use 1000-1003, 1007-1014 or 3000-4999 (1004-1006 and 1015 are reserved)`,
    );
  }
  if (encoder.encode(reason).byteLength > MAX_CLOSE_REASON_BYTES) {
    throw new RangeError(`close reason is longer than ${MAX_CLOSE_REASON_BYTES} UTF-8 bytes`);
  }
}

/** An integer in `[min, max]`. */
export function isInt(value: unknown, min: number, max: number): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max;
}

/**
 * Stops a connection's heartbeat publisher. Part of the connection's teardown (a close frame sent or
 * the socket gone) as much as of unsubscribing, so it lives with the record.
 */
export function stopPublishing(conn: Connection): void {
  if (conn.subscription === undefined) return;
  clearInterval(conn.subscription.timer);
  conn.subscription = undefined;
}
