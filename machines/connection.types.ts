/**
 * Context, input, events and emitted events of the connection machine. Pure types: the machine
 * imports only `xstate` and `src/core`.
 */
import type { BackoffPolicy } from '../src/core/backoff.js';
import type { CloseClass } from '../src/core/close-codes.js';
import type { CloseInfo, HandshakeResponse } from '../src/core/types.js';

/** The reconnect policy the machine decides with. */
export interface MachineReconnectConfig extends BackoffPolicy {
  enabled: boolean;
  maxAttempts: number;
  resetAfterMs: number;
  retryOnStart: boolean;
  authCloseCodes: readonly number[];
  fatalCloseCodes: readonly number[];
  /** True when `url` or `headers` is a function: an auth failure may be fixed by new credentials. */
  credentialsRefreshable: boolean;
  /** User override of the decision; `undefined` keeps the class table. */
  shouldReconnect: ((info: ReconnectDecisionInfo) => boolean) | undefined;
  /** Random source in [0, 1) for jitter. Injected, so the machine stays deterministic under test. */
  random: () => number;
}

/** Heartbeat settings the machine's heartbeat region runs with. */
export interface MachineHeartbeatConfig {
  enabled: boolean;
  intervalMs: number;
  timeoutMs: number;
  maxMissed: number;
}

/** Static per-client configuration, given once through `input`. */
export interface MachineConfig {
  openTimeoutMs: number;
  closeTimeoutMs: number;
  stopTimeoutMs: number;
  reconnect: MachineReconnectConfig;
  heartbeat: MachineHeartbeatConfig;
}

/** What the reconnect override sees. */
export interface ReconnectDecisionInfo {
  class: CloseClass;
  code: number;
  reason: string;
  status: number | undefined;
  error: unknown;
  attempt: number;
  defaultDecision: boolean;
}

/** Input of the connection machine. */
export interface ConnectionInput {
  config: MachineConfig;
  /**
   * Opaque handle of the service that binds this machine to sockets and hooks. The machine never
   * calls it; it only passes it to the invoked actors (provided by the client once per module).
   */
  runtime?: unknown;
}

/** Why the current session is ending at the user's request. */
export interface EndRequest {
  kind: 'stop' | 'restart' | 'exit';
  code: number | undefined;
  reason: string | undefined;
  /** stop({ timeoutMs }) for this stop only. */
  timeoutMs?: number | undefined;
}

/** The machine's context. */
export interface ConnectionContext {
  config: MachineConfig;
  runtime: unknown;
  /** Increments on every dial; never reused for the life of the client. */
  sessionId: number;
  /** 0 for the first dial after start, +1 per reconnect dial, reset after a stable session. */
  attempt: number;
  /** The current dial is a reconnect. */
  restarting: boolean;
  /** Some session reached `open` since the last `start()`. */
  hasOpened: boolean;
  /** The current session reached `open`. */
  sessionOpened: boolean;
  /** The current socket completed its handshake and has not closed. */
  socketOpen: boolean;
  /** The current socket completed its handshake (the session "exists" for onClose). */
  socketWasOpen: boolean;
  endRequest: EndRequest | undefined;
  /** Close frame chosen for the current closing. */
  closeFrame: { code: number; reason: string } | undefined;
  lastClose: CloseInfo | undefined;
  lastError: unknown;
  /** Delay chosen for the current `reconnecting` wait. */
  retryDelayMs: number;
  /** Heartbeat: consecutive unanswered pings. */
  missedPongs: number;
  /** The environment reported the device offline (browsers: the `offline` event). */
  offline: boolean;
}

/** Socket events carry the session id they belong to; stale ones are ignored. */
export type SocketEvent =
  | {
      type: 'socket.opened';
      sessionId: number;
      protocol: string;
      response: HandshakeResponse | undefined;
    }
  | {
      type: 'socket.closed';
      sessionId: number;
      code: number;
      reason: string;
      wasClean: boolean;
      error?: unknown;
      status?: number | undefined;
      retryAfterMs?: number | undefined;
    };

/** Every event the machine accepts. */
export type ConnectionEvent =
  | { type: 'client.start' }
  | {
      type: 'client.stop';
      code?: number | undefined;
      reason?: string | undefined;
      timeoutMs?: number | undefined;
    }
  | { type: 'client.restart'; reason?: string | undefined }
  | { type: 'client.exit'; reason?: string | undefined }
  | SocketEvent
  | { type: 'heartbeat.pong'; sessionId: number }
  | { type: 'heartbeat.probe' }
  | { type: 'env.offline' }
  | { type: 'env.online' }
  | { type: 'env.visible' }
  | { type: 'flow.pause' }
  | { type: 'flow.resume' }
  | { type: 'inbound.paused' }
  | { type: 'inbound.resumed' }
  | { type: 'stop.timedOut' }
  | { type: 'heartbeat.missed'; sessionId: number };

/** Commands the machine sends to the socket actor. */
export type SocketCommand = { type: 'socket.close'; code: number; reason: string } | { type: 'socket.ping' };

/** Input of the invoked socket actor. */
export interface SocketActorInput {
  runtime: unknown;
  sessionId: number;
  attempt: number;
  restarting: boolean;
  lastClose: CloseInfo | undefined;
}

/** Input of the onOpen / onClose hook actors. */
export interface HookActorInput {
  runtime: unknown;
  sessionId: number;
  restarting: boolean;
  protocol: string;
  response: HandshakeResponse | undefined;
  lastClose: CloseInfo | undefined;
  endRequest: EndRequest | undefined;
}

/** Events the machine emits for the service to act on (`actor.on(type, ...)`). */
export type ConnectionEmitted =
  | { type: 'session.open'; sessionId: number; restarting: boolean; attempt: number }
  | { type: 'session.ending'; sessionId: number; requested: EndRequest | undefined; reachedOpen: boolean }
  | {
      type: 'session.closed';
      close: CloseInfo;
      closeClass: CloseClass;
      reachedOpen: boolean;
      restarting: boolean;
      attempt: number;
      requested: EndRequest['kind'] | undefined;
    }
  | { type: 'connection.error'; error: unknown; sessionId: number; hook?: string }
  | { type: 'reconnect.scheduled'; attempt: number; delayMs: number; cause: unknown }
  | { type: 'heartbeat.sent'; sessionId: number }
  | { type: 'heartbeat.missed'; sessionId: number; missed: number }
  | { type: 'client.stopped'; error: unknown; requested: EndRequest['kind'] | undefined; hasOpened: boolean };
