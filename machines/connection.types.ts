/**
 * Context, input, events and emitted events of the connection machine. Pure types: the machine
 * imports only `xstate` and `src/core`.
 */
import type { BackoffPolicy } from '../src/core/backoff.js';
import type { CloseClass } from '../src/core/close-codes.js';
import type { CloseInfo, HandshakeResponse } from '../src/core/types.js';

/**
 * The reconnect policy the machine decides with.
 *
 * @example
 * ```ts
 * import type { MachineReconnectConfig } from 'wsmachine/machines';
 * // The client's defaults, as the machine sees them.
 * const reconnect: MachineReconnectConfig = {
 *   enabled: true, baseDelayMs: 1_000, factor: 2, maxDelayMs: 30_000, jitter: 'full',
 *   maxAttempts: Number.POSITIVE_INFINITY, resetAfterMs: 5_000, retryOnStart: false,
 *   authCloseCodes: [4401, 4403], fatalCloseCodes: [], credentialsRefreshable: false,
 *   shouldReconnect: undefined, random: Math.random,
 * };
 * ```
 */
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

/**
 * Heartbeat settings the machine's heartbeat region runs with.
 *
 * @example
 * ```ts
 * import type { MachineHeartbeatConfig } from 'wsmachine/machines';
 * // Ping every 30 s; one pong missing for 10 s ends the session.
 * const heartbeat: MachineHeartbeatConfig = {
 *   enabled: true,
 *   intervalMs: 30_000,
 *   timeoutMs: 10_000,
 *   maxMissed: 1,
 * };
 * ```
 */
export interface MachineHeartbeatConfig {
  enabled: boolean;
  intervalMs: number;
  timeoutMs: number;
  maxMissed: number;
}

/**
 * Static per-client configuration, given once through `input`.
 *
 * @example
 * ```ts
 * import { createActor } from 'xstate';
 * import { connectionMachine, type MachineConfig } from 'wsmachine/machines';
 * const config: MachineConfig = {
 *   openTimeoutMs: 10_000,
 *   closeTimeoutMs: 1_000,
 *   stopTimeoutMs: 5_000,
 *   reconnect: {
 *     enabled: true, baseDelayMs: 1_000, factor: 2, maxDelayMs: 30_000, jitter: 'full',
 *     maxAttempts: Number.POSITIVE_INFINITY, resetAfterMs: 5_000, retryOnStart: false,
 *     authCloseCodes: [4401, 4403], fatalCloseCodes: [], credentialsRefreshable: false,
 *     shouldReconnect: undefined, random: Math.random,
 *   },
 *   heartbeat: { enabled: true, intervalMs: 30_000, timeoutMs: 10_000, maxMissed: 1 },
 * };
 * const actor = createActor(connectionMachine, { input: { config } }).start(); // 'idle' until client.start
 * ```
 */
export interface MachineConfig {
  openTimeoutMs: number;
  closeTimeoutMs: number;
  stopTimeoutMs: number;
  reconnect: MachineReconnectConfig;
  heartbeat: MachineHeartbeatConfig;
}

/**
 * What the reconnect override sees.
 *
 * @example
 * ```ts
 * import type { ReconnectDecisionInfo } from 'wsmachine/machines';
 * // For MachineReconnectConfig.shouldReconnect: the default decision, at most 10 reconnects, never on auth.
 * const shouldReconnect = (info: ReconnectDecisionInfo): boolean =>
 *   info.class !== 'auth' && info.attempt <= 10 && info.defaultDecision;
 * ```
 */
export interface ReconnectDecisionInfo {
  class: CloseClass;
  code: number;
  reason: string;
  status: number | undefined;
  error: unknown;
  attempt: number;
  defaultDecision: boolean;
}

/**
 * Input of the connection machine.
 *
 * @example
 * ```ts
 * import { createActor } from 'xstate';
 * import { connectionMachine, type ConnectionInput, type MachineConfig } from 'wsmachine/machines';
 * const config: MachineConfig = {
 *   openTimeoutMs: 10_000,
 *   closeTimeoutMs: 1_000,
 *   stopTimeoutMs: 5_000,
 *   reconnect: {
 *     enabled: true, baseDelayMs: 1_000, factor: 2, maxDelayMs: 30_000, jitter: 'full',
 *     maxAttempts: Number.POSITIVE_INFINITY, resetAfterMs: 5_000, retryOnStart: false,
 *     authCloseCodes: [4401, 4403], fatalCloseCodes: [], credentialsRefreshable: false,
 *     shouldReconnect: undefined, random: Math.random,
 *   },
 *   heartbeat: { enabled: true, intervalMs: 30_000, timeoutMs: 10_000, maxMissed: 1 },
 * };
 * const input: ConnectionInput = { config, runtime: { name: 'handed to the socket and hook actors' } };
 * const actor = createActor(connectionMachine, { input });
 * ```
 */
export interface ConnectionInput {
  config: MachineConfig;
  /**
   * Opaque handle of the service that binds this machine to sockets and hooks. The machine never
   * calls it; it only passes it to the invoked actors (provided by the client once per module).
   */
  runtime?: unknown;
}

/**
 * Why the current session is ending at the user's request.
 *
 * @example
 * ```ts
 * import { createClient } from 'wsmachine';
 * import type { EndRequest } from 'wsmachine/machines';
 * const client = createClient({ url: 'wss://example.test/feed' });
 * client.actor.on('session.ending', ({ requested }) => {
 *   const request: EndRequest | undefined = requested;
 *   if (request === undefined) console.log('not requested: the peer or the network ended it');
 *   else console.log(`${request.kind} (${request.reason ?? 'no reason'})`);
 * });
 * ```
 */
export interface EndRequest {
  kind: 'stop' | 'restart' | 'exit';
  code: number | undefined;
  reason: string | undefined;
  /** stop({ timeoutMs }) for this stop only. */
  timeoutMs?: number | undefined;
}

/**
 * The machine's context.
 *
 * @example
 * ```ts
 * import { createClient } from 'wsmachine';
 * import type { ConnectionContext } from 'wsmachine/machines';
 * const client = createClient({ url: 'wss://example.test/feed' });
 * client.actor.subscribe((snapshot) => {
 *   const context: ConnectionContext = snapshot.context;
 *   console.log(`session ${context.sessionId}, attempt ${context.attempt}, missed ${context.missedPongs}`);
 * });
 * ```
 */
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

/**
 * Socket events carry the session id they belong to; stale ones are ignored.
 *
 * @example
 * ```ts
 * import type { SocketEvent } from 'wsmachine/machines';
 * // What a socket actor sends back for session 3: the handshake completed, then the peer closed.
 * const opened: SocketEvent = { type: 'socket.opened', sessionId: 3, protocol: '', response: undefined };
 * const closed: SocketEvent = {
 *   type: 'socket.closed',
 *   sessionId: 3,
 *   code: 1001,
 *   reason: 'restart',
 *   wasClean: true,
 * };
 * ```
 */
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

/**
 * Every event the machine accepts.
 *
 * @example
 * ```ts
 * import { createActor } from 'xstate';
 * import { connectionMachine, type ConnectionEvent, type MachineConfig } from 'wsmachine/machines';
 * const config: MachineConfig = {
 *   openTimeoutMs: 10_000,
 *   closeTimeoutMs: 1_000,
 *   stopTimeoutMs: 5_000,
 *   reconnect: {
 *     enabled: true, baseDelayMs: 1_000, factor: 2, maxDelayMs: 30_000, jitter: 'full',
 *     maxAttempts: Number.POSITIVE_INFINITY, resetAfterMs: 5_000, retryOnStart: false,
 *     authCloseCodes: [4401, 4403], fatalCloseCodes: [], credentialsRefreshable: false,
 *     shouldReconnect: undefined, random: Math.random,
 *   },
 *   heartbeat: { enabled: true, intervalMs: 30_000, timeoutMs: 10_000, maxMissed: 1 },
 * };
 * const actor = createActor(connectionMachine, { input: { config } }).start();
 * const goOffline: ConnectionEvent = { type: 'env.offline' }; // reconnect attempts wait for 'env.online'
 * actor.send(goOffline);
 * ```
 */
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

/**
 * Commands the machine sends to the socket actor.
 *
 * @example
 * ```ts
 * import { fromCallback } from 'xstate';
 * import type { SocketActorInput, SocketCommand } from 'wsmachine/machines';
 * // A socket actor that logs the commands it receives.
 * const socket = fromCallback<SocketCommand, SocketActorInput>(({ input, receive }) => {
 *   receive((command) => {
 *     if (command.type === 'socket.close') console.log(`session ${input.sessionId}: close ${command.code}`);
 *     else console.log(`session ${input.sessionId}: ping`);
 *   });
 * });
 * ```
 */
export type SocketCommand = { type: 'socket.close'; code: number; reason: string } | { type: 'socket.ping' };

/**
 * Input of the invoked socket actor.
 *
 * @example
 * ```ts
 * import { fromCallback, fromPromise } from 'xstate';
 * import {
 *   type CloseHookOutput,
 *   connectionMachine,
 *   type HookActorInput,
 *   type SocketActorInput,
 *   type SocketCommand,
 * } from 'wsmachine/machines';
 * // Stub actors: every dial opens at once, and closes cleanly when the machine asks.
 * const machine = connectionMachine.provide({
 *   actors: {
 *     socket: fromCallback<SocketCommand, SocketActorInput>(({ input, sendBack, receive }) => {
 *       const sessionId = input.sessionId; // stale events of older sessions are ignored by the machine
 *       sendBack({ type: 'socket.opened', sessionId, protocol: '', response: undefined });
 *       receive((command) => {
 *         if (command.type === 'socket.close') {
 *           const { code, reason } = command;
 *           sendBack({ type: 'socket.closed', sessionId, code, reason, wasClean: true });
 *         }
 *       });
 *     }),
 *     openHook: fromPromise<void, HookActorInput>(async () => {}),
 *     closeHook: fromPromise<CloseHookOutput, HookActorInput>(async () => undefined),
 *   },
 * });
 * ```
 */
export interface SocketActorInput {
  runtime: unknown;
  sessionId: number;
  attempt: number;
  restarting: boolean;
  lastClose: CloseInfo | undefined;
}

/**
 * Input of the onOpen / onClose hook actors.
 *
 * @example
 * ```ts
 * import { fromPromise } from 'xstate';
 * import type { CloseHookOutput, HookActorInput } from 'wsmachine/machines';
 * // An onClose hook actor that says goodbye properly when the user stopped the client.
 * const closeHook = fromPromise<CloseHookOutput, HookActorInput>(async ({ input }) =>
 *   input.endRequest?.kind === 'stop' ? { code: 1000, reason: `bye from ${input.sessionId}` } : undefined,
 * );
 * ```
 */
export interface HookActorInput {
  runtime: unknown;
  sessionId: number;
  restarting: boolean;
  protocol: string;
  response: HandshakeResponse | undefined;
  lastClose: CloseInfo | undefined;
  endRequest: EndRequest | undefined;
}

/**
 * Events the machine emits for the service to act on (`actor.on(type, ...)`).
 *
 * @example
 * ```ts
 * import { createClient } from 'wsmachine';
 * import type { ConnectionEmitted } from 'wsmachine/machines';
 * const client = createClient({ url: 'wss://example.test/feed' });
 * const log = (event: ConnectionEmitted) => console.log(event.type);
 * client.actor.on('reconnect.scheduled', log);
 * client.actor.on('client.stopped', log);
 * ```
 */
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
