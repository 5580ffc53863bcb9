/**
 * The connection lifecycle as one XState v5 statechart: the truth about what the client is doing.
 *
 * Every way a session can end (server close, read error, missed pongs, onOpen failure or timeout,
 * `restart()`, `exit()`, `stop()`) is a transition into the one `closing` state. The machine never
 * touches sockets, timers or randomness itself: the socket and hook actors are placeholders here and
 * are provided once per module by the client; delays are XState `after` transitions driven by the
 * actor system's clock; the random source for jitter arrives through `input`.
 *
 * Data messages do not go through the machine (see ARCHITECTURE.md §1): only lifecycle facts do.
 */
import {
  assign,
  cancel,
  emit,
  enqueueActions,
  fromCallback,
  fromPromise,
  not,
  raise,
  sendTo,
  setup,
} from 'xstate';
import { backoffDelay } from '../src/core/backoff.js';
import { type CloseClass, classifyClose } from '../src/core/close-codes.js';
import { HeartbeatTimeoutError, OpenTimeoutError, isWsmError } from '../src/core/errors.js';
import { MAX_TIMER_MS } from '../src/core/options.js';
import type { CloseInfo } from '../src/core/types.js';
import type {
  ConnectionContext,
  ConnectionEmitted,
  ConnectionEvent,
  ConnectionInput,
  HookActorInput,
  SocketActorInput,
  SocketCommand,
} from './connection.types.js';

/**
 * Output of the onClose hook actor: the close frame it picked, if any.
 *
 * @example
 * ```ts
 * import { fromPromise } from 'xstate';
 * import type { CloseHookOutput, HookActorInput } from 'wsmachine/machines';
 * // Always close with 4000 'bye' (undefined would let the machine pick 1000 or 1001).
 * const closeHook = fromPromise<CloseHookOutput, HookActorInput>(async () => ({
 *   code: 4000,
 *   reason: 'bye',
 * }));
 * ```
 */
export type CloseHookOutput = { code: number; reason: string } | undefined;

const notProvided = (name: string) => () => {
  throw new Error(`The "${name}" actor is not provided: use machine.provide({ actors: { ${name} } })`);
};

/** The class of the end of a session, from the facts in context. */
function closeClassOf(context: ConnectionContext): CloseClass {
  const close = context.lastClose;
  const requested = context.endRequest !== undefined && context.endRequest.kind !== 'restart';
  if (close === undefined) return requested ? 'normal' : 'transient';
  return classifyClose({
    code: close.code,
    status: close.status,
    requested,
    tls: isWsmError(close.error) && close.error.code === 'WSM_ERR_TLS',
    authCodes: context.config.reconnect.authCloseCodes,
    fatalCodes: context.config.reconnect.fatalCloseCodes,
  });
}

/** The reconnect decision for a session that ended without being asked to. */
function reconnectAllowed(context: ConnectionContext): boolean {
  const policy = context.config.reconnect;
  if (!policy.enabled) return false;
  if (context.attempt >= policy.maxAttempts) return false;
  const cls = closeClassOf(context);
  const defaultDecision = cls === 'transient' || (cls === 'auth' && policy.credentialsRefreshable);
  if (policy.shouldReconnect === undefined) return defaultDecision;
  const close = context.lastClose;
  return policy.shouldReconnect({
    class: cls,
    code: close?.code ?? 1006,
    reason: close?.reason ?? '',
    status: close?.status,
    error: context.lastError ?? close?.error,
    attempt: context.attempt + 1,
    defaultDecision,
  });
}

/** Close code to send when nobody picked one: 1000 when we stop, 1001 (going away) otherwise. */
function defaultCloseCode(context: ConnectionContext): number {
  const kind = context.endRequest?.kind;
  return kind === 'stop' || kind === 'exit' ? 1000 : 1001;
}

const hookInput = ({ context }: { context: ConnectionContext }): HookActorInput => ({
  runtime: context.runtime,
  sessionId: context.sessionId,
  restarting: context.restarting,
  protocol: '',
  response: undefined,
  lastClose: context.lastClose,
  endRequest: context.endRequest,
});

/**
 * The connection machine. Provide the `socket`, `openHook` and `closeHook` actors once per module
 * (the client does); tests may provide stubs.
 *
 * @example
 * ```ts
 * import { connectionMachine } from 'wsmachine/machines';
 * import { createActor } from 'xstate';
 * const live = connectionMachine.provide({ actors: { socket, openHook, closeHook } });
 * ```
 */
export const connectionMachine = setup({
  types: {
    context: {} as ConnectionContext,
    input: {} as ConnectionInput,
    events: {} as ConnectionEvent,
    emitted: {} as ConnectionEmitted,
  },
  actors: {
    socket: fromCallback<SocketCommand, SocketActorInput>(notProvided('socket')),
    openHook: fromPromise<void, HookActorInput>(notProvided('openHook') as () => Promise<void>),
    closeHook: fromPromise<CloseHookOutput, HookActorInput>(
      notProvided('closeHook') as () => Promise<CloseHookOutput>,
    ),
  },
  delays: {
    openTimeout: ({ context }) => context.config.openTimeoutMs,
    closeTimeout: ({ context }) => context.config.closeTimeoutMs,
    stopTimeout: ({ context }) => context.endRequest?.timeoutMs ?? context.config.stopTimeoutMs,
    reconnectDelay: ({ context }) => context.retryDelayMs,
    stableAfter: ({ context }) => context.config.reconnect.resetAfterMs,
    // After a missed pong the next ping keeps the original period, so that maxMissed consecutive
    // misses are detected within maxMissed x intervalMs + timeoutMs.
    pingInterval: ({ context }) => {
      const hb = context.config.heartbeat;
      return context.missedPongs > 0 ? Math.max(0, hb.intervalMs - hb.timeoutMs) : hb.intervalMs;
    },
    pongTimeout: ({ context }) => context.config.heartbeat.timeoutMs,
  },
  guards: {
    isCurrentSession: ({ context, event }) => 'sessionId' in event && event.sessionId === context.sessionId,
    hasOpenTimeout: ({ context }) => context.config.openTimeoutMs > 0,
    isStopRequested: ({ context }) => context.endRequest?.kind === 'stop',
    isExitRequested: ({ context }) => context.endRequest?.kind === 'exit',
    isRestartRequested: ({ context }) => context.endRequest?.kind === 'restart',
    isFirstStart: ({ context }) => !context.hasOpened && !context.config.reconnect.retryOnStart,
    canReconnect: ({ context }) => reconnectAllowed(context),
    isSocketOpen: ({ context }) => context.socketOpen,
    socketWasOpen: ({ context }) => context.socketWasOpen,
    isOffline: ({ context }) => context.offline,
    isHeartbeatEnabled: ({ context }) => context.config.heartbeat.enabled,
    hasMissedTooManyPongs: ({ context }) => context.missedPongs + 1 >= context.config.heartbeat.maxMissed,
  },
  actions: {
    beginStart: assign({
      attempt: 0,
      restarting: false,
      hasOpened: false,
      endRequest: undefined,
      lastClose: undefined,
      lastError: undefined,
    }),
    beginSession: assign({
      sessionId: ({ context }) => context.sessionId + 1,
      sessionOpened: false,
      socketOpen: false,
      socketWasOpen: false,
      endRequest: undefined,
      closeFrame: undefined,
      lastClose: undefined,
      lastError: undefined,
      missedPongs: 0,
    }),
    recordSocketOpened: assign({ socketOpen: true, socketWasOpen: true }),
    recordSocketClosed: assign(({ context, event }) => {
      if (event.type !== 'socket.closed') return {};
      const close: CloseInfo = {
        code: event.code,
        reason: event.reason,
        wasClean: event.wasClean,
        sessionId: context.sessionId,
      };
      if (event.error !== undefined) close.error = event.error;
      if (event.status !== undefined) close.status = event.status;
      if (event.retryAfterMs !== undefined) close.retryAfterMs = event.retryAfterMs;
      if (context.endRequest !== undefined) close.requested = true;
      return {
        socketOpen: false,
        lastClose: context.lastClose ?? close,
        lastError: context.lastError ?? event.error,
      };
    }),
    reportSocketError: emit(({ context, event }) => ({
      type: 'connection.error' as const,
      error: event.type === 'socket.closed' ? event.error : undefined,
      sessionId: context.sessionId,
    })),
    recordOpenTimeout: assign(({ context }) => {
      const error = new OpenTimeoutError(
        context.config.openTimeoutMs,
        context.socketOpen ? 'opening' : 'connecting',
      );
      return {
        lastError: error,
        lastClose: {
          code: 1006,
          reason: 'open timeout',
          wasClean: false,
          sessionId: context.sessionId,
          error,
        },
      };
    }),
    reportLastError: emit(({ context }) => ({
      type: 'connection.error' as const,
      error: context.lastError,
      sessionId: context.sessionId,
    })),
    recordHookFailure: assign({ lastError: ({ event }) => (event as { error?: unknown }).error }),
    reportOpenHookError: emit(({ context }) => ({
      type: 'connection.error' as const,
      error: context.lastError,
      sessionId: context.sessionId,
      hook: 'onOpen',
    })),
    markOpened: assign({ hasOpened: true, sessionOpened: true }),
    announceOpen: emit(({ context }) => ({
      type: 'session.open' as const,
      sessionId: context.sessionId,
      restarting: context.restarting,
      attempt: context.attempt,
    })),
    resetAttempts: assign({ attempt: 0 }),
    requestStop: assign({
      endRequest: ({ event }) =>
        event.type === 'client.stop'
          ? { kind: 'stop' as const, code: event.code, reason: event.reason, timeoutMs: event.timeoutMs }
          : undefined,
    }),
    requestRestart: assign({
      endRequest: ({ event }) => ({
        kind: 'restart' as const,
        code: undefined,
        reason: event.type === 'client.restart' ? event.reason : undefined,
      }),
    }),
    requestExit: assign({
      endRequest: ({ event }) => ({
        kind: 'exit' as const,
        code: undefined,
        reason: event.type === 'client.exit' ? event.reason : undefined,
      }),
    }),
    // A stop that arrives while a restart or failure is already closing: keep the close going, but
    // make the outcome `stopped`.
    upgradeToStop: assign({
      endRequest: ({ context, event }) => ({
        kind: 'stop' as const,
        code: event.type === 'client.stop' ? event.code : context.endRequest?.code,
        reason: event.type === 'client.stop' ? event.reason : context.endRequest?.reason,
        timeoutMs: event.type === 'client.stop' ? event.timeoutMs : undefined,
      }),
    }),
    // The `after: stopTimeout` of `closing` was armed when closing began; a stop that arrives later
    // gets its own deadline (its timeoutMs, else stopTimeoutMs), counted from the stop() call.
    armStopDeadline: enqueueActions(({ context, event, enqueue }) => {
      enqueue(cancel('stopDeadline'));
      const ms = (event.type === 'client.stop' ? event.timeoutMs : undefined) ?? context.config.stopTimeoutMs;
      enqueue(raise({ type: 'stop.timedOut' as const }, { id: 'stopDeadline', delay: ms }));
    }),
    upgradeToExit: assign({
      endRequest: ({ context }) => ({
        kind: 'exit' as const,
        code: context.endRequest?.code,
        reason: context.endRequest?.reason,
      }),
    }),
    announceEnding: emit(({ context }) => ({
      type: 'session.ending' as const,
      sessionId: context.sessionId,
      requested: context.endRequest,
      reachedOpen: context.sessionOpened,
    })),
    pickCloseFrame: assign({
      closeFrame: ({ context, event }) => {
        const picked = (event as { output?: CloseHookOutput }).output;
        const req = context.endRequest;
        if (req?.kind === 'stop' && req.code !== undefined)
          return { code: req.code, reason: req.reason ?? '' };
        if (picked !== undefined) return picked;
        return { code: defaultCloseCode(context), reason: req?.reason ?? '' };
      },
    }),
    // No close frame to a socket that is not open: a session declared dead by the heartbeat must be
    // terminated (leaving `session` does it), not sent a close frame it will never answer.
    sendCloseFrame: enqueueActions(({ context, enqueue }) => {
      if (!context.socketOpen) return;
      const frame = context.closeFrame ?? { code: defaultCloseCode(context), reason: '' };
      enqueue.sendTo('socket', { type: 'socket.close' as const, code: frame.code, reason: frame.reason });
    }),
    recordCloseTimeout: assign(({ context }) => {
      const frame = context.closeFrame ?? { code: defaultCloseCode(context), reason: '' };
      return {
        socketOpen: false,
        lastClose: context.lastClose ?? {
          code: frame.code,
          reason: frame.reason,
          wasClean: false,
          sessionId: context.sessionId,
          requested: context.endRequest !== undefined,
        },
      };
    }),
    finalizeClose: assign({
      lastClose: ({ context }) =>
        context.lastClose ?? {
          code: context.closeFrame?.code ?? 1006,
          reason: context.closeFrame?.reason ?? '',
          wasClean: false,
          sessionId: context.sessionId,
          ...(context.endRequest !== undefined ? { requested: true } : {}),
        },
    }),
    announceClosed: emit(({ context }) => ({
      type: 'session.closed' as const,
      close: context.lastClose ?? {
        code: 1006,
        reason: '',
        wasClean: false,
        sessionId: context.sessionId,
      },
      closeClass: closeClassOf(context),
      reachedOpen: context.sessionOpened,
      restarting: context.restarting,
      attempt: context.attempt,
      requested: context.endRequest?.kind,
    })),
    scheduleReconnect: assign(({ context }) => {
      const policy = context.config.reconnect;
      const wasStable = context.attempt === 0;
      const attempt = context.attempt + 1;
      const close = context.lastClose;
      // A restart the user asked for after a stable session goes at once; anything else backs off.
      if (context.endRequest?.kind === 'restart' && wasStable) return { attempt, retryDelayMs: 0 };
      // Retry-After is honoured, but capped: a far-future date must not park the client forever.
      let floor = Math.min(close?.retryAfterMs ?? 0, Math.max(policy.maxDelayMs * 10, 300_000));
      // 1013 Try Again Later: the server asked for a longer pause than a network blip needs.
      if (close?.code === 1013 && floor === 0) floor = Math.min(policy.maxDelayMs, policy.baseDelayMs * 5);
      // Never above what a timer can wait: a longer setTimeout fires after 1 ms.
      return {
        attempt,
        retryDelayMs: Math.min(MAX_TIMER_MS, backoffDelay(policy, attempt, policy.random, floor)),
      };
    }),
    announceReconnect: emit(({ context }) => ({
      type: 'reconnect.scheduled' as const,
      attempt: context.attempt,
      delayMs: context.retryDelayMs,
      cause: context.lastError ?? context.lastClose,
    })),
    markRestarting: assign({ restarting: true }),
    announceStopped: emit(({ context }) => ({
      type: 'client.stopped' as const,
      error: context.lastError ?? context.lastClose?.error,
      requested: context.endRequest?.kind === 'restart' ? undefined : context.endRequest?.kind,
      hasOpened: context.hasOpened,
    })),
    sendPing: sendTo('socket', { type: 'socket.ping' as const }),
    announcePing: emit(({ context }) => ({ type: 'heartbeat.sent' as const, sessionId: context.sessionId })),
    resetMissedPongs: assign({ missedPongs: 0 }),
    countMissedPong: assign({ missedPongs: ({ context }) => context.missedPongs + 1 }),
    declareHeartbeatDead: assign(({ context }) => {
      const missed = context.missedPongs + 1;
      const error = new HeartbeatTimeoutError(missed);
      return {
        missedPongs: missed,
        socketOpen: false,
        lastError: error,
        lastClose: {
          code: 1006,
          reason: 'heartbeat timeout',
          wasClean: false,
          sessionId: context.sessionId,
          error,
        },
      };
    }),
    announceHeartbeatDead: emit(({ context }) => ({
      type: 'heartbeat.missed' as const,
      sessionId: context.sessionId,
      missed: context.missedPongs,
    })),
  },
}).createMachine({
  id: 'connection',
  description: 'The lifecycle of one wsmachine client.',
  context: ({ input }) => ({
    config: input.config,
    runtime: input.runtime,
    sessionId: 0,
    attempt: 0,
    restarting: false,
    hasOpened: false,
    sessionOpened: false,
    socketOpen: false,
    socketWasOpen: false,
    endRequest: undefined,
    closeFrame: undefined,
    lastClose: undefined,
    lastError: undefined,
    retryDelayMs: 0,
    missedPongs: 0,
    offline: false,
  }),
  on: {
    'env.offline': { actions: assign({ offline: true }) },
    'env.online': { actions: assign({ offline: false }) },
    'env.visible': { actions: raise({ type: 'heartbeat.probe' }) },
  },
  initial: 'idle',
  states: {
    idle: {
      description: 'Created; nothing is open and no timer runs. start() begins the first session.',
      on: { 'client.start': { target: 'session', actions: 'beginStart' } },
    },
    session: {
      description:
        'One connection attempt and, if it opens, its life. Owns the one socket actor: leaving this state by any path terminates the socket.',
      entry: 'beginSession',
      exit: ['finalizeClose', 'announceClosed'],
      invoke: {
        id: 'socket',
        src: 'socket',
        input: ({ context }) => ({
          runtime: context.runtime,
          sessionId: context.sessionId,
          attempt: context.attempt,
          restarting: context.restarting,
          lastClose: context.lastClose,
        }),
        onError: {
          target: '.closing',
          actions: [assign({ lastError: ({ event }) => event.error, socketOpen: false }), 'reportLastError'],
        },
      },
      on: {
        'client.stop': { target: '.closing', actions: 'requestStop' },
        'client.restart': { target: '.closing', actions: 'requestRestart' },
        'client.exit': { target: '.closing', actions: 'requestExit' },
        'socket.closed': {
          guard: 'isCurrentSession',
          target: '.closing',
          actions: ['recordSocketClosed', 'reportSocketError'],
        },
      },
      initial: 'establishing',
      states: {
        establishing: {
          description: 'Dial, handshake and onOpen, bounded together by openTimeoutMs.',
          after: {
            openTimeout: {
              guard: 'hasOpenTimeout',
              target: 'closing',
              actions: ['recordOpenTimeout', 'reportLastError'],
            },
          },
          initial: 'connecting',
          states: {
            connecting: {
              description: 'Resolving the URL and headers for this attempt, dialing, and the HTTP upgrade.',
              on: {
                'socket.opened': {
                  guard: 'isCurrentSession',
                  target: 'opening',
                  actions: 'recordSocketOpened',
                },
              },
            },
            opening: {
              description:
                'The socket is open; the onOpen hook runs (it may send, await replies, or fail the session).',
              invoke: {
                id: 'openHook',
                src: 'openHook',
                input: ({ context, event }) => ({
                  ...hookInput({ context }),
                  protocol: event.type === 'socket.opened' ? event.protocol : '',
                  response: event.type === 'socket.opened' ? event.response : undefined,
                }),
                onDone: { target: '#connection.session.open' },
                onError: {
                  target: '#connection.session.closing',
                  actions: ['recordHookFailure', 'reportOpenHookError'],
                },
              },
            },
          },
        },
        open: {
          description: 'Dispatching messages. Queued sends were flushed on entry.',
          type: 'parallel',
          entry: ['markOpened', 'announceOpen'],
          after: {
            stableAfter: {
              actions: 'resetAttempts',
              description: 'Stable long enough: attempts reset to 0.',
            },
          },
          states: {
            heartbeat: {
              description:
                'Ping every intervalMs; a pong (or any inbound frame) within timeoutMs keeps the session.',
              initial: 'choosing',
              states: {
                choosing: {
                  always: [{ guard: 'isHeartbeatEnabled', target: 'waiting' }, { target: 'disabled' }],
                },
                disabled: { description: 'No heartbeat (disabled, or the adapter cannot ping).' },
                suspended: {
                  description:
                    'Reading is paused for backpressure: pongs cannot be read, so deadlines are suspended (the peer is not at fault).',
                  on: { 'inbound.resumed': { target: 'waiting', actions: 'resetMissedPongs' } },
                },
                waiting: {
                  description: 'Waiting for the next ping time.',
                  after: { pingInterval: { target: 'awaitingPong' } },
                  on: {
                    'inbound.paused': { target: 'suspended' },
                    'heartbeat.probe': {
                      target: 'awaitingPong',
                      description:
                        'Probe now (e.g. a tab became visible): learn within timeoutMs if the socket is dead.',
                    },
                  },
                },
                awaitingPong: {
                  description: 'A ping is out; any inbound frame or pong answers it.',
                  entry: ['sendPing', 'announcePing'],
                  on: {
                    'inbound.paused': { target: 'suspended' },
                    'heartbeat.pong': {
                      guard: 'isCurrentSession',
                      target: 'waiting',
                      actions: 'resetMissedPongs',
                    },
                    'heartbeat.missed': {
                      guard: 'isCurrentSession',
                      target: '#connection.session.closing',
                      actions: ['declareHeartbeatDead', 'announceHeartbeatDead', 'reportLastError'],
                    },
                  },
                  after: {
                    pongTimeout: [
                      {
                        guard: 'hasMissedTooManyPongs',
                        target: '#connection.session.closing',
                        actions: ['declareHeartbeatDead', 'announceHeartbeatDead', 'reportLastError'],
                        description: 'maxMissed consecutive pings unanswered: the peer is dead; terminate.',
                      },
                      { target: 'waiting', actions: 'countMissedPong' },
                    ],
                  },
                },
              },
            },
            flow: {
              description:
                'Normal dispatch, or paused while an exclusive(fn) section reads the stream directly.',
              initial: 'flowing',
              states: {
                flowing: {
                  description: 'Messages go to onMessage handlers and messages() iterators.',
                  on: { 'flow.pause': { target: 'paused' } },
                },
                paused: {
                  description:
                    'An exclusive section owns the stream (replies and pongs are still matched first); unread messages are dispatched in order when it ends.',
                  on: { 'flow.resume': { target: 'flowing' } },
                },
              },
            },
          },
        },
        closing: {
          description:
            'Every way a session ends passes here: onClose runs once, the chosen close frame is sent, then the close handshake is awaited at most closeTimeoutMs before the socket is terminated.',
          entry: 'announceEnding',
          exit: cancel('stopDeadline'),
          on: {
            // Handled here so that a late close does not re-enter `closing` (onClose runs once).
            'socket.closed': { guard: 'isCurrentSession', actions: 'recordSocketClosed' },
            'client.stop': { actions: ['upgradeToStop', 'armStopDeadline'] },
            'stop.timedOut': {
              guard: 'isStopRequested',
              target: '#connection.ended',
              description: 'A stop() that arrived during closing is bounded by its own deadline.',
            },
            'client.exit': { actions: 'upgradeToExit' },
            'client.restart': {},
          },
          after: {
            stopTimeout: {
              guard: 'isStopRequested',
              target: '#connection.ended',
              description: 'stop() is bounded by stopTimeoutMs whatever the hooks and the peer do.',
            },
          },
          initial: 'choosing',
          states: {
            choosing: {
              description: 'onClose runs only for sessions whose socket opened; a failed dial skips it.',
              always: [
                { guard: 'socketWasOpen', target: 'hook' },
                { target: 'handshake', actions: 'pickCloseFrame' },
              ],
            },
            hook: {
              description:
                'The onClose hook runs once; it may pick the close frame. Bounded by closeTimeoutMs.',
              invoke: {
                id: 'closeHook',
                src: 'closeHook',
                input: hookInput,
                onDone: { target: 'handshake', actions: 'pickCloseFrame' },
                onError: { target: 'handshake', actions: 'pickCloseFrame' },
              },
              after: { closeTimeout: { target: 'handshake', actions: 'pickCloseFrame' } },
            },
            handshake: {
              description: 'The close frame is out; waiting for the peer to close, at most closeTimeoutMs.',
              always: { guard: not('isSocketOpen'), target: 'done' },
              entry: 'sendCloseFrame',
              on: {
                'socket.closed': { guard: 'isCurrentSession', target: 'done', actions: 'recordSocketClosed' },
              },
              after: { closeTimeout: { target: 'done', actions: 'recordCloseTimeout' } },
            },
            done: { type: 'final' },
          },
          onDone: { target: '#connection.ended' },
        },
      },
    },
    ended: {
      description: 'Decides what follows a session (transient: never observed as a client state).',
      always: [
        { guard: 'isStopRequested', target: 'stopped' },
        { guard: 'isExitRequested', target: 'stopped' },
        { guard: 'isRestartRequested', target: 'reconnecting' },
        { guard: 'isFirstStart', target: 'stopped' },
        { guard: 'canReconnect', target: 'reconnecting' },
        { target: 'stopped' },
      ],
    },
    reconnecting: {
      description: 'Waiting the backoff delay (full jitter, Retry-After aware) before the next attempt.',
      entry: ['scheduleReconnect', 'announceReconnect'],
      on: {
        'client.stop': { target: 'stopped', actions: 'requestStop' },
        'client.exit': { target: 'stopped', actions: 'requestExit' },
        'client.restart': { target: 'session', actions: 'markRestarting' },
      },
      initial: 'choosing',
      states: {
        choosing: {
          always: [{ guard: 'isOffline', target: 'offline' }, { target: 'backoff' }],
        },
        backoff: {
          description: 'The delay runs; going offline pauses attempts.',
          after: { reconnectDelay: { target: '#connection.session', actions: 'markRestarting' } },
          // The root handler does not run when this one is taken: record the fact here too.
          on: { 'env.offline': { target: 'offline', actions: assign({ offline: true }) } },
        },
        offline: {
          description: 'The device is offline: no attempts (they would fail) until it is back online.',
          on: {
            'env.online': {
              target: '#connection.session',
              actions: ['markRestarting', assign({ offline: false })],
              description: 'Back online: attempt at once.',
            },
          },
        },
      },
    },
    stopped: {
      description: 'Nothing open, no timers. start() may start again.',
      entry: 'announceStopped',
      on: { 'client.start': { target: 'session', actions: 'beginStart' } },
    },
  },
});

/**
 * The machine's type, for embedding (`useSelector`, `waitFor`).
 *
 * @example
 * ```ts
 * import { type Actor, waitFor } from 'xstate';
 * import type { ConnectionMachine } from 'wsmachine/machines';
 * // Resolves once the machine's session is open.
 * const whenOpen = (actor: Actor<ConnectionMachine>) =>
 *   waitFor(actor, (s) => s.matches({ session: 'open' }));
 * ```
 */
export type ConnectionMachine = typeof connectionMachine;
