/**
 * Context, input, events and emitted events of the connection machine. Pure types: the machine
 * imports only `xstate` and `src/core`.
 *
 * Everything in the context is a serializable lifecycle fact (numbers, strings, booleans, plain
 * records, and the error objects that ended a session): no client, no functions, no URLs or headers
 * (they may carry secrets). What the machine needs from the world it gets through events, and what it
 * wants done it says through commands to its invoked actors and through emitted events.
 */
import type { CloseClass } from '../src/core/close-codes.js';
import type { OverrideInfo } from '../src/core/reconnect-policy.js';
import type { CloseInfo, HandshakeResponse } from '../src/core/types.js';
import type { SubscriptionInput } from './subscription.types.js';

/**
 * The reconnect policy the machine decides with: data only. The client's own policy (the user's
 * `shouldReconnect` override and the jitter source) is consulted by the `consultPolicy` action it
 * provides; this is what the machine's default, pure policy uses.
 *
 * @example
 * ```ts
 * import type { MachineReconnectConfig } from 'wsmachine/machines';
 * // The client's defaults, as the machine sees them.
 * const reconnect: MachineReconnectConfig = {
 *   enabled: true, baseDelayMs: 1_000, factor: 2, maxDelayMs: 30_000, jitter: 'full',
 *   maxAttempts: null, resetAfterMs: 5_000, retryOnStart: false,
 *   authCloseCodes: [4401, 4403], fatalCloseCodes: [], credentialsRefreshable: false,
 * };
 * ```
 */
export interface MachineReconnectConfig {
  enabled: boolean;
  /** Delay cap of the first reconnect. */
  baseDelayMs: number;
  /** Growth of the cap per attempt. */
  factor: number;
  /** Upper bound of every delay. */
  maxDelayMs: number;
  /** `full`: uniform in [0, cap]; `none`: exactly the cap. */
  jitter: 'full' | 'none';
  /** Reconnect attempts before giving up; `null` for no limit (JSON has no Infinity). */
  maxAttempts: number | null;
  resetAfterMs: number;
  retryOnStart: boolean;
  authCloseCodes: readonly number[];
  fatalCloseCodes: readonly number[];
  /** True when `url` or `headers` is a function: an auth failure may be fixed by new credentials. */
  credentialsRefreshable: boolean;
}

/**
 * Heartbeat settings the machine's heartbeat region runs with.
 *
 * @example
 * ```ts
 * import type { MachineHeartbeatConfig } from 'wsmachine/machines';
 * // Ping every 30 s; one ping unanswered for 10 s ends the session.
 * const heartbeat: MachineHeartbeatConfig = { enabled: true, intervalMs: 30_000, timeoutMs: 10_000, maxMissed: 1 };
 * ```
 */
export interface MachineHeartbeatConfig {
  enabled: boolean;
  intervalMs: number;
  timeoutMs: number;
  /** Consecutive unanswered pings that end the session. */
  maxMissed: number;
}

/**
 * Static per-client configuration, given once through `input`. Data only.
 *
 * @example
 * ```ts
 * import type { MachineConfig } from 'wsmachine/machines';
 * const config: MachineConfig = {
 *   watchEnvironment: false,
 *   staticUrl: 'wss://example.test/feed',
 *   openTimeoutMs: 10_000,
 *   closeTimeoutMs: 1_000,
 *   stopTimeoutMs: 5_000,
 *   reconnect: {
 *     enabled: true, baseDelayMs: 1_000, factor: 2, maxDelayMs: 30_000, jitter: 'full',
 *     maxAttempts: null, resetAfterMs: 5_000, retryOnStart: false,
 *     authCloseCodes: [4401, 4403], fatalCloseCodes: [], credentialsRefreshable: false,
 *   },
 *   heartbeat: { enabled: true, intervalMs: 30_000, timeoutMs: 10_000, maxMissed: 1 },
 * };
 * ```
 */
export interface MachineConfig {
  /** Listen to environment signals while started (browsers: online/offline, visibility). */
  watchEnvironment: boolean;
  /**
   * The URL to show for a static target (already redacted), or undefined when `url` or `headers` is a
   * function: then each attempt resolves its target first (`connecting.resolving`).
   */
  staticUrl: string | undefined;
  /** Bound on dial + handshake + onOpen; 0 disables. */
  openTimeoutMs: number;
  /** Bound on onClose, and then on the wait for the peer's close frame. */
  closeTimeoutMs: number;
  /** Bound on a whole stop(). */
  stopTimeoutMs: number;
  reconnect: MachineReconnectConfig;
  heartbeat: MachineHeartbeatConfig;
}

/**
 * What the reconnect override (`reconnect.shouldReconnect`) sees.
 *
 * @example
 * ```ts
 * import type { ReconnectDecisionInfo } from 'wsmachine/machines';
 * // The default decision, at most 10 reconnects, never on auth.
 * const shouldReconnect = (info: ReconnectDecisionInfo): boolean =>
 *   info.class !== 'auth' && info.attempt <= 10 && info.defaultDecision;
 * ```
 */
export interface ReconnectDecisionInfo extends OverrideInfo {}

/**
 * Input of the connection machine.
 *
 * @example
 * ```ts
 * import type { ConnectionInput, MachineConfig } from 'wsmachine/machines';
 * declare const config: MachineConfig;
 * const input: ConnectionInput = { config };
 * ```
 */
export interface ConnectionInput {
  config: MachineConfig;
}

/**
 * Why the current session is ending at the user's request.
 *
 * @example
 * ```ts
 * import { createClient } from 'wsmachine';
 * const client = createClient({ url: 'wss://example.test/feed' });
 * client.actor.on('session.ending', ({ requested }) => {
 *   if (requested === undefined) console.log('not requested: the peer or the network ended it');
 *   else console.log(`${requested.kind} (${requested.reason ?? 'no reason'})`);
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
 * The first reason the current session began to end. Later facts (the socket's own close, a stop()
 * during a restart) are recorded beside it but never replace it.
 * - `requested`: stop(), restart() or exit() (see `endRequest`);
 * - `closed`: the socket closed (the peer, the network, a failed dial, a rejected handshake);
 * - `openTimeout`: dial + handshake + onOpen took longer than `openTimeoutMs`;
 * - `heartbeat`: `maxMissed` consecutive pings went unanswered;
 * - `openHook`: the onOpen hook threw or rejected;
 * - `socketFailed`: the socket actor itself failed (a broken adapter).
 *
 * @example
 * ```ts
 * import { createClient } from 'wsmachine';
 * const client = createClient({ url: 'wss://example.test/feed' });
 * client.actor.subscribe((s) => s.context.endCause && console.log('ending:', s.context.endCause.kind));
 * ```
 */
export type EndCause =
  | { kind: 'requested' }
  | { kind: 'closed' }
  | { kind: 'openTimeout'; error: unknown }
  | { kind: 'heartbeat'; error: unknown }
  | { kind: 'openHook'; error: unknown }
  | { kind: 'socketFailed'; error: unknown };

/**
 * How the socket of the current session closed, as its actor reported it.
 *
 * @example
 * ```ts
 * import type { SocketClose } from 'wsmachine/machines';
 * const refused: SocketClose = { code: 1006, reason: '', wasClean: false, status: 503, retryAfterMs: 2_000 };
 * ```
 */
export interface SocketClose {
  code: number;
  reason: string;
  wasClean: boolean;
  error?: unknown;
  status?: number | undefined;
  retryAfterMs?: number | undefined;
}

/**
 * How far the current session got: `dial` (no socket yet), `socket` (the handshake completed; onOpen
 * may be running), `open` (it reached `open`).
 *
 * @example
 * ```ts
 * import type { SessionReach } from 'wsmachine/machines';
 * const hadSocket = (reached: SessionReach) => reached !== 'dial'; // onClose runs only then
 * ```
 */
export type SessionReach = 'dial' | 'socket' | 'open';

/**
 * The machine's context: serializable lifecycle facts only.
 *
 * @example
 * ```ts
 * import { createClient } from 'wsmachine';
 * const client = createClient({ url: 'wss://example.test/feed' });
 * client.actor.subscribe(({ context }) => {
 *   console.log(`session ${context.sessionId}, attempt ${context.attempt}, missed ${context.missedPongs}`);
 * });
 * ```
 */
export interface ConnectionContext {
  config: MachineConfig;
  /** Increments on every dial; never reused for the life of the client. */
  sessionId: number;
  /** 0 for the first dial after start, +1 per reconnect dial, reset after a stable session. */
  attempt: number;
  /** The current dial is a reconnect. */
  restarting: boolean;
  /** Some session reached `open` since the last `start()`. */
  hasOpened: boolean;
  /** How far the current session got. */
  reached: SessionReach;
  /** The user's request that is ending the current session, if any. */
  endRequest: EndRequest | undefined;
  /** The first reason the current session began to end. */
  endCause: EndCause | undefined;
  /** How the current session's socket closed, once its actor said so. */
  socketClose: SocketClose | undefined;
  /** The close frame chosen for the current closing. */
  closeFrame: { code: number; reason: string } | undefined;
  /** How the previous session ended: kept for the next dial (`AttemptInfo.lastClose`) and the policy. */
  lastClose: CloseInfo | undefined;
  /** Delay chosen for the current `reconnecting` wait. */
  retryDelayMs: number;
  /** Heartbeat: consecutive unanswered pings. */
  missedPongs: number;
  /** The environment reported the device offline (browsers: the `offline` event). */
  offline: boolean;
  /** Reading is paused for backpressure: pongs cannot be read, so the heartbeat is suspended. */
  readingPaused: boolean;
  /**
   * The child ids (`subscription:<name>`) of the live subscriptions, in creation order: the order
   * they are told of every open, hence the order their subscribe requests go out.
   */
  subscriptions: readonly string[];
}

/**
 * Facts the socket actor sends back. Each carries its session id; stale ones are ignored.
 *
 * @example
 * ```ts
 * import type { SocketEvent } from 'wsmachine/machines';
 * const opened: SocketEvent = { type: 'socket.opened', sessionId: 3, protocol: '', response: undefined };
 * const closed: SocketEvent = { type: 'socket.closed', sessionId: 3, code: 1001, reason: 'restart', wasClean: true };
 * ```
 */
export type SocketEvent =
  | { type: 'socket.opened'; sessionId: number; protocol: string; response: HandshakeResponse | undefined }
  | ({ type: 'socket.closed'; sessionId: number } & SocketClose)
  /** Something arrived since the last ping (a frame, a pong, or bytes of a frame still arriving). */
  | { type: 'socket.heard'; sessionId: number }
  /** Answer to `socket.judge`: nothing arrived since the last ping, input already waiting included. */
  | { type: 'socket.silent'; sessionId: number };

/**
 * Every event the machine accepts.
 *
 * @example
 * ```ts
 * import type { ConnectionEvent } from 'wsmachine/machines';
 * const goOffline: ConnectionEvent = { type: 'env.offline' }; // reconnect attempts wait for 'env.online'
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
  /** `sessionId`: sent from a session handle; ignored unless that session is the current one. */
  | { type: 'client.restart'; reason?: string | undefined; sessionId?: number | undefined }
  | { type: 'client.exit'; reason?: string | undefined; sessionId?: number | undefined }
  | SocketEvent
  | { type: 'heartbeat.probe' }
  | { type: 'env.offline' }
  | { type: 'env.online' }
  | { type: 'env.visible' }
  | { type: 'inbound.paused' }
  | { type: 'inbound.resumed' }
  | { type: 'stop.timedOut' }
  /**
   * `client.subscribe()`: spawn each as a child (id and systemId `id`), in this order. The client
   * sends the subscriptions made in one synchronous run together: XState copies its children map per
   * event, so one event for 10,000 subscriptions costs one copy, not 10,000.
   */
  | { type: 'subscription.add'; subscriptions: ReadonlyArray<{ id: string; input: SubscriptionInput }> }
  /** These subscriptions reached `unsubscribed`: stop the children and forget them. */
  | { type: 'subscription.remove'; ids: readonly string[] }
  | PolicyDecision;

/**
 * The reconnect policy's answer, raised by the `consultPolicy` action inside the step that ended a
 * session (so it is never observed half-way).
 *
 * @example
 * ```ts
 * import type { PolicyDecision } from 'wsmachine/machines';
 * const retryInHalfASecond: PolicyDecision = { type: 'policy.decided', reconnect: true, delayMs: 500 };
 * ```
 */
export interface PolicyDecision {
  type: 'policy.decided';
  reconnect: boolean;
  delayMs: number;
  /** User policy functions that threw or returned nonsense (their defaults were used). */
  errors?: unknown[];
}

/**
 * Commands the machine sends to the socket actor.
 * - `socket.dial`: the target is resolved: dial it.
 * - `socket.flush`: the session is open: send what was queued, then let writes through.
 * - `socket.seal`: the session is ending: new sends queue for the next session; `requested` says who
 *   ended it (received messages of a session ended by request are reported, not handled).
 * - `socket.ping`: send a heartbeat ping.
 * - `socket.judge`: the pong deadline passed: read what input is waiting, then answer `socket.heard`
 *   or `socket.silent`.
 * - `socket.close`: send this close frame.
 *
 * @example
 * ```ts
 * import type { SocketCommand } from 'wsmachine/machines';
 * const goodbye: SocketCommand = { type: 'socket.close', code: 1000, reason: 'bye' };
 * ```
 */
export type SocketCommand =
  | { type: 'socket.dial' }
  | { type: 'socket.flush' }
  | { type: 'socket.seal'; requested: EndRequest['kind'] | undefined }
  | { type: 'socket.ping' }
  | { type: 'socket.judge' }
  | { type: 'socket.close'; code: number; reason: string };

/**
 * Input of the invoked socket actor and of the target (url/headers) actor.
 *
 * @example
 * ```ts
 * import type { SocketActorInput } from 'wsmachine/machines';
 * const input: SocketActorInput = { sessionId: 4, attempt: 1, restarting: true, lastClose: undefined };
 * ```
 */
export interface SocketActorInput {
  sessionId: number;
  attempt: number;
  restarting: boolean;
  /** How the previous session ended (given to url/headers functions as `AttemptInfo.lastClose`). */
  lastClose: CloseInfo | undefined;
}

/**
 * What the target actor resolves to: only the redacted URL, for the `connecting` event. The URL and
 * headers themselves stay with the service that dials (they may carry secrets).
 *
 * @example
 * ```ts
 * import type { TargetOutput } from 'wsmachine/machines';
 * const out: TargetOutput = { url: 'wss://***@example.test/feed?token=***' };
 * ```
 */
export interface TargetOutput {
  url: string;
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
  sessionId: number;
  restarting: boolean;
  protocol: string;
  response: HandshakeResponse | undefined;
  /** For onClose: how the session is ending, as far as it is known when the hook runs. */
  closing: CloseInfo | undefined;
  endRequest: EndRequest | undefined;
}

/**
 * Output of the onClose hook actor: the close frame it picked, if any.
 *
 * @example
 * ```ts
 * import type { CloseHookOutput } from 'wsmachine/machines';
 * const bye: CloseHookOutput = { code: 4000, reason: 'bye' };
 * ```
 */
export type CloseHookOutput = { code: number; reason: string } | undefined;

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
  /** A start() was accepted (the client was idle or stopped). */
  | { type: 'start.accepted' }
  /** A start() arrived while the client was already started. */
  | { type: 'start.refused' }
  /** A stop() arrived while the client was idle or stopped: nothing to stop. */
  | { type: 'stop.acknowledged' }
  | { type: 'session.dialing'; sessionId: number; attempt: number; url: string }
  | { type: 'session.open'; sessionId: number; restarting: boolean; attempt: number }
  | { type: 'session.ending'; sessionId: number; requested: EndRequest | undefined; reached: SessionReach }
  | {
      type: 'session.closed';
      close: CloseInfo;
      closeClass: CloseClass;
      reached: SessionReach;
      restarting: boolean;
      attempt: number;
      requested: EndRequest['kind'] | undefined;
      /** A reconnect attempt (or, with retryOnStart, any attempt) failed before opening: onRestartError's cue. */
      attemptFailed: boolean;
    }
  | { type: 'connection.error'; error: unknown; sessionId: number; hook?: string }
  | { type: 'reconnect.scheduled'; attempt: number; delayMs: number; cause: unknown }
  | { type: 'heartbeat.sent'; sessionId: number }
  | { type: 'heartbeat.missed'; sessionId: number; missed: number }
  | {
      type: 'client.stopped';
      error: unknown;
      requested: 'stop' | 'exit' | undefined;
      hasOpened: boolean;
      /** Why no reconnect followed a session nobody asked to end. */
      because: 'requested' | 'firstStart' | 'policy';
    };
