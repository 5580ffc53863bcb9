/**
 * The connection lifecycle as one XState v5 statechart: the truth about what the client is doing.
 *
 * Every way a session can end (server close, read error, missed pongs, onOpen failure or timeout,
 * `restart()`, `exit()`, `stop()`) is a transition into the one `closing` state. Every lifecycle fact
 * lives in the context, and every lifecycle decision is a guard or a delay here: the service around
 * the machine only carries them out. The machine never touches sockets, timers or randomness itself:
 * - the socket, the per-attempt target (url/headers) and the onOpen/onClose hooks are invoked actors,
 *   provided once per module by the client (placeholders here fail loudly);
 * - delays are `after` transitions and delayed raises, driven by the actor system's clock;
 * - the reconnect decision (the user's override, jitter) is the `consultPolicy` action, which the
 *   client provides; the default below is the pure class table with fixed half jitter;
 * - each subscription is a child (machines/subscription.machine.ts, `subscription.add/remove`),
 *   told of every open in creation order, of every session end, and of the stop.
 *
 * Data messages do not go through the machine (ARCHITECTURE.md §1): only lifecycle facts do.
 */
import {
  and,
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
  stateIn,
  stopChild,
} from 'xstate';
import { HeartbeatTimeoutError, MachineNotBoundError, OpenTimeoutError } from '../src/core/errors.js';
import { decideReconnect } from '../src/core/reconnect-policy.js';
import { chooseCloseFrame, closeClassOf, closeInfoOf, endErrorOf } from '../src/core/session-end.js';
import type {
  CloseHookOutput,
  ConnectionContext,
  ConnectionEmitted,
  ConnectionEvent,
  ConnectionInput,
  HookActorInput,
  PolicyDecision,
  SocketActorInput,
  SocketCommand,
  TargetOutput,
} from './connection.types.js';
import { subscriptionMachine } from './subscription.machine.js';

const unbound = (name: string) => () => {
  throw new MachineNotBoundError(name);
};

type Ctx = ConnectionContext;

/**
 * The facts the reconnect policy decides on, read from the context of a session that just ended.
 *
 * @example
 * ```ts
 * import { policyFacts } from 'wsmachine/machines';
 * client.actor.subscribe((s) => s.matches('reconnecting') && console.log(policyFacts(s.context)));
 * ```
 */
export function policyFacts(context: Ctx) {
  const kind = context.endRequest?.kind;
  return {
    close: context.lastClose,
    closeClass: closeClassOf(context.lastClose, kind, context.config.reconnect),
    attempt: context.attempt,
    restartRequested: kind === 'restart',
  };
}

/** A close frame is sent, and its answer awaited, only to a socket that is open and not dead. */
function canCloseGracefully(context: Ctx): boolean {
  const cause = context.endCause?.kind;
  return (
    context.reached !== 'dial' &&
    context.socketClose === undefined &&
    cause !== 'heartbeat' &&
    cause !== 'socketFailed'
  );
}

/** The machine's context as `closeInfoOf` reads it. */
const closing = (context: Ctx) => closeInfoOf(context);

/**
 * The connection machine. The client provides the `socket`, `target`, `openHook`, `closeHook` and
 * `environment` actors and the `consultPolicy` action once per module; tests may provide stubs.
 * Run alone, it fails loudly with {@link MachineNotBoundError}: use `createClient()` (or `fromClient()`).
 *
 * @example
 * ```ts
 * import { createClient } from 'wsmachine';
 * const client = createClient({ url: 'wss://example.test/feed' });
 * client.actor.subscribe((snapshot) => console.log(snapshot.value)); // the machine, running
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
    socket: fromCallback<SocketCommand, SocketActorInput>(unbound('socket')),
    target: fromPromise<TargetOutput, SocketActorInput>(unbound('target') as () => Promise<TargetOutput>),
    openHook: fromPromise<void, HookActorInput>(unbound('openHook') as () => Promise<void>),
    closeHook: fromPromise<CloseHookOutput, HookActorInput>(
      unbound('closeHook') as () => Promise<CloseHookOutput>,
    ),
    environment: fromCallback<{ type: 'env.sync' }>(() => {}),
    subscription: subscriptionMachine,
  },
  delays: {
    openTimeout: ({ context }) => context.config.openTimeoutMs,
    closeTimeout: ({ context }) => context.config.closeTimeoutMs,
    reconnectDelay: ({ context }) => context.retryDelayMs,
    stableAfter: ({ context }) => context.config.reconnect.resetAfterMs,
    // After a missed pong the next ping keeps the original period (it goes out intervalMs - timeoutMs
    // after the deadline, at once when the timeout is the longer), so pings stay one interval apart.
    pingInterval: ({ context }) => {
      const hb = context.config.heartbeat;
      return context.missedPongs > 0 ? Math.max(0, hb.intervalMs - hb.timeoutMs) : hb.intervalMs;
    },
    pongTimeout: ({ context }) => context.config.heartbeat.timeoutMs,
  },
  guards: {
    isCurrentSession: ({ context, event }) => 'sessionId' in event && event.sessionId === context.sessionId,
    // restart()/exit() from the client, or from the handle of the current session (not of an old one).
    isForThisSession: ({ context, event }) => {
      const id = (event as { sessionId?: number }).sessionId;
      return id === undefined || id === context.sessionId;
    },
    isFromClient: ({ event }) => (event as { sessionId?: number }).sessionId === undefined,
    hasOpenTimeout: ({ context }) => context.config.openTimeoutMs > 0,
    hasStaticTarget: ({ context }) => context.config.staticUrl !== undefined,
    isStopRequested: ({ context }) => context.endRequest?.kind === 'stop',
    isExitRequested: ({ context }) => context.endRequest?.kind === 'exit',
    isRestartRequested: ({ context }) => context.endRequest?.kind === 'restart',
    isFirstStart: ({ context }) => !context.hasOpened && !context.config.reconnect.retryOnStart,
    canReconnect: ({ event }) => (event as PolicyDecision).reconnect === true,
    reachedSocket: ({ context }) => context.reached !== 'dial',
    canCloseGracefully: ({ context }) => canCloseGracefully(context),
    isOffline: ({ context }) => context.offline,
    isHeartbeatEnabled: ({ context }) => context.config.heartbeat.enabled,
    isReadingPaused: ({ context }) => context.readingPaused,
    hasMissedTooManyPongs: ({ context }) => context.missedPongs + 1 >= context.config.heartbeat.maxMissed,
    isOpen: stateIn({ session: 'open' }),
    isNotBound: ({ event }) => (event as { error?: { code?: unknown } }).error?.code === 'WSM_ERR_NOT_BOUND',
  },
  actions: {
    // Run alone, the machine must not stop quietly: rethrowing makes the actor fail, loudly.
    failUnbound: ({ event }) => {
      throw (event as { error?: unknown }).error;
    },
    beginStart: assign({ attempt: 0, restarting: false, hasOpened: false, endRequest: undefined }),
    announceStartAccepted: emit({ type: 'start.accepted' as const }),
    // The environment signals (online/offline, visibility) are listened to while started, not longer:
    // a stopped client holds no listener on window or document.
    startEnvironment: enqueueActions(({ context, enqueue }) => {
      // Nothing to listen to (Node): no actor at all, not an idle one.
      if (context.config.watchEnvironment) enqueue.spawnChild('environment', { id: 'environment' });
    }),
    stopEnvironment: stopChild('environment'),
    refuseStart: emit({ type: 'start.refused' as const }),
    acknowledgeStop: emit({ type: 'stop.acknowledged' as const }),
    beginSession: assign({
      sessionId: ({ context }) => context.sessionId + 1,
      // A new socket is read from the start (pausing was about the previous one).
      readingPaused: false,
      reached: 'dial' as const,
      endRequest: undefined,
      endCause: undefined,
      socketClose: undefined,
      closeFrame: undefined,
      missedPongs: 0,
    }),
    announceDialing: emit(({ context, event }) => ({
      type: 'session.dialing' as const,
      sessionId: context.sessionId,
      attempt: context.attempt,
      url: (event as { output?: TargetOutput }).output?.url ?? context.config.staticUrl ?? '',
    })),
    dial: sendTo('socket', { type: 'socket.dial' as const }),
    recordTargetFailure: assign(({ event }) => {
      const error = (event as { error?: unknown }).error;
      return {
        endCause: { kind: 'closed' as const },
        socketClose: { code: 1006, reason: '', wasClean: false, error },
      };
    }),
    recordSocketOpened: assign({ reached: 'socket' as const }),
    recordSocketClosed: assign(({ context, event }) => {
      if (event.type !== 'socket.closed') return {};
      const { type: _type, sessionId: _sessionId, ...close } = event;
      return { socketClose: close, endCause: context.endCause ?? { kind: 'closed' as const } };
    }),
    recordSocketFailure: assign(({ context, event }) => ({
      endCause: context.endCause ?? {
        kind: 'socketFailed' as const,
        error: (event as { error?: unknown }).error,
      },
    })),
    recordOpenTimeout: assign(({ context }) => ({
      endCause: context.endCause ?? {
        kind: 'openTimeout' as const,
        error: new OpenTimeoutError(
          context.config.openTimeoutMs,
          context.reached === 'dial' ? 'connecting' : 'opening',
        ),
      },
    })),
    recordOpenHookFailure: assign(({ context, event }) => ({
      endCause: context.endCause ?? {
        kind: 'openHook' as const,
        error: (event as { error?: unknown }).error,
      },
    })),
    // The error that began the end of this session, reported once (the `close` event follows).
    reportEndError: enqueueActions(({ context, enqueue }) => {
      const error = endErrorOf(context);
      // A clean close is no error: only a session that ended with one reports it.
      if (error !== undefined)
        enqueue.emit({ type: 'connection.error', error, sessionId: context.sessionId });
    }),
    reportCloseHookError: emit(({ context, event }) => ({
      type: 'connection.error' as const,
      error: (event as { error?: unknown }).error,
      sessionId: context.sessionId,
      hook: 'onClose',
    })),
    reportOpenHookError: emit(({ context }) => ({
      type: 'connection.error' as const,
      error: endErrorOf(context),
      sessionId: context.sessionId,
      hook: 'onOpen',
    })),
    markOpened: assign({ hasOpened: true, reached: 'open' as const }),
    flushWrites: sendTo('socket', { type: 'socket.flush' as const }),
    announceOpen: emit(({ context }) => ({
      type: 'session.open' as const,
      sessionId: context.sessionId,
      restarting: context.restarting,
      attempt: context.attempt,
    })),
    resetAttempts: assign({ attempt: 0 }),
    requestStop: assign(({ event }) => {
      const e = event as Extract<ConnectionEvent, { type: 'client.stop' }>;
      return {
        endRequest: { kind: 'stop' as const, code: e.code, reason: e.reason, timeoutMs: e.timeoutMs },
        endCause: { kind: 'requested' as const },
      };
    }),
    requestRestart: assign(({ event }) => ({
      endRequest: {
        kind: 'restart' as const,
        code: undefined,
        reason: (event as { reason?: string | undefined }).reason,
      },
      endCause: { kind: 'requested' as const },
    })),
    requestExit: assign(({ event }) => ({
      endRequest: {
        kind: 'exit' as const,
        code: undefined,
        reason: (event as { reason?: string | undefined }).reason,
      },
      endCause: { kind: 'requested' as const },
    })),
    // The one stop deadline: armed by every stop() that reaches a session, counted from that call.
    armStopDeadline: enqueueActions(({ context, event, enqueue }) => {
      enqueue(cancel('stopDeadline'));
      const requested = event.type === 'client.stop' ? event.timeoutMs : undefined;
      enqueue(
        raise(
          { type: 'stop.timedOut' as const },
          { id: 'stopDeadline', delay: requested ?? context.config.stopTimeoutMs },
        ),
      );
    }),
    // A stop that arrives while a restart or failure is already closing keeps the close going, but
    // makes the outcome `stopped`; the first cause of the end stays as it was.
    upgradeToStop: assign(({ context, event }) => {
      const e = event as Extract<ConnectionEvent, { type: 'client.stop' }>;
      return {
        endRequest: {
          kind: 'stop' as const,
          code: e.code ?? context.endRequest?.code,
          reason: e.reason ?? context.endRequest?.reason,
          timeoutMs: e.timeoutMs,
        },
      };
    }),
    upgradeToExit: assign(({ context }) => ({
      endRequest: {
        kind: 'exit' as const,
        code: context.endRequest?.code,
        reason: context.endRequest?.reason,
      },
    })),
    // A socket actor that failed is gone (it released its session itself): nothing to seal.
    sealWrites: enqueueActions(({ context, enqueue }) => {
      if (context.endCause?.kind === 'socketFailed') return;
      enqueue.sendTo('socket', { type: 'socket.seal' as const, requested: context.endRequest?.kind });
    }),
    announceEnding: emit(({ context }) => ({
      type: 'session.ending' as const,
      sessionId: context.sessionId,
      requested: context.endRequest,
      reached: context.reached,
    })),
    // Only a frame that will be sent is recorded: a session that ends without one reports why it ended.
    pickCloseFrame: assign({
      closeFrame: ({ context, event }) =>
        canCloseGracefully(context)
          ? chooseCloseFrame(context.endRequest, (event as { output?: CloseHookOutput }).output ?? undefined)
          : undefined,
    }),
    sendCloseFrame: enqueueActions(({ context, enqueue }) => {
      if (!canCloseGracefully(context)) return;
      const frame = context.closeFrame ?? chooseCloseFrame(context.endRequest, undefined);
      enqueue.sendTo('socket', { type: 'socket.close' as const, code: frame.code, reason: frame.reason });
    }),
    finalizeSession: assign({ lastClose: ({ context }) => closeInfoOf(context) }),
    announceClosed: emit(({ context }) => {
      const requested = context.endRequest?.kind;
      const close = context.lastClose ?? closeInfoOf(context);
      return {
        type: 'session.closed' as const,
        close,
        closeClass: closeClassOf(close, requested, context.config.reconnect),
        reached: context.reached,
        restarting: context.restarting,
        attempt: context.attempt,
        requested,
        attemptFailed:
          context.reached !== 'open' &&
          requested === undefined &&
          (context.restarting || context.config.reconnect.retryOnStart),
      };
    }),
    consultPolicy: raise(({ context }) => ({
      type: 'policy.decided' as const,
      ...decideReconnect(context.config.reconnect, policyFacts(context), () => 0.5, undefined),
    })),
    reportPolicyError: enqueueActions(({ context, event, enqueue }) => {
      for (const error of (event as PolicyDecision).errors ?? []) {
        enqueue.emit({ type: 'connection.error', error, sessionId: context.sessionId });
      }
    }),
    scheduleReconnect: assign(({ context, event }) => ({
      attempt: context.attempt + 1,
      retryDelayMs: (event as PolicyDecision).delayMs,
    })),
    announceReconnect: emit(({ context }) => ({
      type: 'reconnect.scheduled' as const,
      attempt: context.attempt,
      delayMs: context.retryDelayMs,
      cause: context.lastClose?.error ?? context.lastClose,
    })),
    markRestarting: assign({ restarting: true }),
    announceStopped: emit(({ context }, params: { because: 'requested' | 'firstStart' | 'policy' }) => {
      const kind = context.endRequest?.kind;
      return {
        type: 'client.stopped' as const,
        error: context.lastClose?.error,
        requested: kind === 'stop' || kind === 'exit' ? kind : undefined,
        hasOpened: context.hasOpened,
        because: params.because,
      };
    }),
    sendPing: sendTo('socket', { type: 'socket.ping' as const }),
    announcePing: emit(({ context }) => ({ type: 'heartbeat.sent' as const, sessionId: context.sessionId })),
    askVerdict: sendTo('socket', { type: 'socket.judge' as const }),
    resetMissedPongs: assign({ missedPongs: 0 }),
    countMissedPong: assign({ missedPongs: ({ context }) => context.missedPongs + 1 }),
    declareHeartbeatDead: assign(({ context }) => {
      const missed = context.missedPongs + 1;
      return {
        missedPongs: missed,
        endCause: context.endCause ?? {
          kind: 'heartbeat' as const,
          error: new HeartbeatTimeoutError(missed),
        },
      };
    }),
    // Subscriptions are children of this actor (visible in inspection and in snapshot.children); the
    // ordered id list in context is the order they are told of each open. One assign spawns them all:
    // XState copies the children map once per assign, not once per child.
    addSubscriptions: assign(({ context, event, spawn }) => {
      if (event.type !== 'subscription.add') return {};
      const known = new Set(context.subscriptions);
      const added: string[] = [];
      for (const { id, input } of event.subscriptions) {
        if (known.has(id)) continue;
        known.add(id);
        spawn('subscription', { id, systemId: id, input });
        added.push(id);
      }
      return added.length === 0 ? {} : { subscriptions: [...context.subscriptions, ...added] };
    }),
    openNewSubscriptions: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'subscription.add') return;
      const known = new Set(context.subscriptions);
      for (const { id } of event.subscriptions) {
        if (known.has(id)) enqueue.sendTo(id, { type: 'connection.opened', sessionId: context.sessionId });
      }
    }),
    // Newest first: removing the most recently added key keeps XState's copied children map cheap.
    removeSubscriptions: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'subscription.remove') return;
      const gone = new Set(event.ids);
      for (let i = context.subscriptions.length - 1; i >= 0; i--) {
        const id = context.subscriptions[i]!;
        if (gone.has(id)) enqueue.stopChild(id);
      }
      enqueue.assign({ subscriptions: context.subscriptions.filter((id) => !gone.has(id)) });
    }),
    // Sent in creation order; each subscribe starts synchronously, so its requests go out in that order.
    openSubscriptions: enqueueActions(({ context, enqueue }) => {
      for (const id of context.subscriptions) {
        enqueue.sendTo(id, { type: 'connection.opened', sessionId: context.sessionId });
      }
    }),
    // A session the user ends with stop() or exit() leads to `stopped`, whose entry ends the
    // subscriptions: telling them the session ended first would show a `resubscribing` that never comes.
    endSubscriptions: enqueueActions(({ context, enqueue }) => {
      const kind = context.endRequest?.kind;
      if (kind === 'stop' || kind === 'exit') return;
      for (const id of context.subscriptions) enqueue.sendTo(id, { type: 'connection.ended' });
    }),
    stopSubscriptions: enqueueActions(({ context, enqueue }) => {
      for (const id of context.subscriptions) enqueue.sendTo(id, { type: 'connection.stopped' });
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
  context: ({ input }) => {
    if (input?.config === undefined) throw new MachineNotBoundError('input');
    return {
      config: input.config,
      sessionId: 0,
      attempt: 0,
      restarting: false,
      hasOpened: false,
      reached: 'dial',
      endRequest: undefined,
      endCause: undefined,
      socketClose: undefined,
      closeFrame: undefined,
      lastClose: undefined,
      retryDelayMs: 0,
      missedPongs: 0,
      offline: false,
      readingPaused: false,
      subscriptions: [],
    };
  },
  on: {
    'subscription.add': [
      {
        guard: 'isOpen',
        actions: ['addSubscriptions', 'openNewSubscriptions'],
        description: 'client.subscribe() while open: the new subscriptions subscribe at once, in order.',
      },
      {
        actions: 'addSubscriptions',
        description: 'client.subscribe() while not open: the subscriptions wait for the next open.',
      },
    ],
    'subscription.remove': {
      actions: 'removeSubscriptions',
      description: 'Subscriptions reached `unsubscribed`: their child actors are stopped and forgotten.',
    },
    'env.offline': { actions: assign({ offline: true }) },
    'env.online': { actions: assign({ offline: false }) },
    'env.visible': { actions: raise({ type: 'heartbeat.probe' }) },
    'inbound.paused': { actions: assign({ readingPaused: true }) },
    'inbound.resumed': { actions: assign({ readingPaused: false }) },
  },
  initial: 'idle',
  states: {
    idle: {
      description: 'Created; nothing is open and no timer runs. start() begins the first session.',
      on: {
        'client.start': {
          target: 'session',
          actions: ['beginStart', 'announceStartAccepted', 'startEnvironment'],
        },
        // Subscriptions made while not started end too: stop() ends every subscription.
        'client.stop': { actions: ['stopSubscriptions', 'acknowledgeStop'] },
      },
    },
    session: {
      description:
        'One connection attempt and, if it opens, its life. Owns the one socket actor: leaving this state by any path terminates the socket.',
      entry: 'beginSession',
      exit: ['finalizeSession', 'endSubscriptions', 'announceClosed', cancel('stopDeadline')],
      invoke: {
        id: 'socket',
        src: 'socket',
        input: ({ context }) => ({
          sessionId: context.sessionId,
          attempt: context.attempt,
          restarting: context.restarting,
          lastClose: context.lastClose,
        }),
        onError: [
          { guard: 'isNotBound', actions: 'failUnbound' },
          { target: '.closing', actions: ['recordSocketFailure', 'reportEndError'] },
        ],
      },
      on: {
        'client.start': { actions: 'refuseStart' },
        'client.stop': { target: '.closing', actions: ['requestStop', 'armStopDeadline'] },
        'client.restart': { guard: 'isForThisSession', target: '.closing', actions: 'requestRestart' },
        'client.exit': { guard: 'isForThisSession', target: '.closing', actions: 'requestExit' },
        'socket.closed': {
          guard: 'isCurrentSession',
          target: '.closing',
          actions: ['recordSocketClosed', 'reportEndError'],
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
              actions: ['recordOpenTimeout', 'reportEndError'],
            },
          },
          initial: 'connecting',
          states: {
            connecting: {
              description:
                'Resolving the URL and headers for this attempt, then dialing and the HTTP upgrade.',
              initial: 'choosing',
              states: {
                choosing: {
                  always: [{ guard: 'hasStaticTarget', target: 'dialing' }, { target: 'resolving' }],
                },
                resolving: {
                  description:
                    'The url and headers functions run for this attempt (they may be async; aborted with the attempt).',
                  invoke: {
                    id: 'target',
                    src: 'target',
                    input: ({ context }) => ({
                      sessionId: context.sessionId,
                      attempt: context.attempt,
                      restarting: context.restarting,
                      lastClose: context.lastClose,
                    }),
                    onDone: { target: 'dialing' },
                    onError: [
                      { guard: 'isNotBound', actions: 'failUnbound' },
                      {
                        target: '#connection.session.closing',
                        actions: ['recordTargetFailure', 'reportEndError'],
                      },
                    ],
                  },
                },
                dialing: {
                  description: 'The socket dials the resolved target: TCP, TLS and the HTTP upgrade.',
                  entry: ['announceDialing', 'dial'],
                  on: {
                    'socket.opened': {
                      guard: 'isCurrentSession',
                      target: '#connection.session.establishing.opening',
                      actions: 'recordSocketOpened',
                    },
                  },
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
                  sessionId: context.sessionId,
                  restarting: context.restarting,
                  protocol: event.type === 'socket.opened' ? event.protocol : '',
                  response: event.type === 'socket.opened' ? event.response : undefined,
                  closing: undefined,
                  endRequest: undefined,
                }),
                onDone: { target: '#connection.session.open' },
                onError: {
                  target: '#connection.session.closing',
                  actions: ['recordOpenHookFailure', 'reportOpenHookError'],
                },
              },
            },
          },
        },
        open: {
          description:
            'Dispatching messages. On entry the subscriptions subscribe (in creation order), then the socket sends what was queued and lets writes through.',
          type: 'parallel',
          entry: ['markOpened', 'openSubscriptions', 'flushWrites', 'announceOpen'],
          after: {
            stableAfter: {
              actions: 'resetAttempts',
              description: 'Stable long enough: attempts reset to 0.',
            },
          },
          states: {
            heartbeat: {
              description:
                'Ping every intervalMs; anything heard from the peer within timeoutMs (a pong, a frame, bytes of a frame) keeps the session.',
              initial: 'choosing',
              states: {
                choosing: {
                  always: [
                    { guard: not('isHeartbeatEnabled'), target: 'disabled' },
                    { guard: 'isReadingPaused', target: 'suspended' },
                    { target: 'waiting' },
                  ],
                },
                disabled: { description: 'No heartbeat (disabled, or the adapter cannot ping).' },
                suspended: {
                  description:
                    'Reading is paused for backpressure: pongs cannot be read, so deadlines are suspended (the peer is not at fault).',
                  always: { guard: not('isReadingPaused'), target: 'waiting', actions: 'resetMissedPongs' },
                },
                waiting: {
                  description: 'Waiting for the next ping time.',
                  always: { guard: 'isReadingPaused', target: 'suspended' },
                  after: { pingInterval: { target: 'awaitingPong' } },
                  on: {
                    'heartbeat.probe': {
                      target: 'awaitingPong',
                      description:
                        'Probe now (a tab became visible): learn within timeoutMs if the socket is dead.',
                    },
                  },
                },
                awaitingPong: {
                  description:
                    'A ping is out; anything heard from the peer answers it. (Reading pauses only when something arrives, and that answers the ping first.)',
                  entry: ['sendPing', 'announcePing'],
                  on: {
                    'socket.heard': {
                      guard: 'isCurrentSession',
                      target: 'waiting',
                      actions: 'resetMissedPongs',
                    },
                  },
                  after: { pongTimeout: { target: 'judging' } },
                },
                judging: {
                  description:
                    'The deadline passed: the socket reads the input already waiting (a stalled event loop is not a dead peer), then says whether anything arrived since the ping.',
                  entry: 'askVerdict',
                  on: {
                    'socket.heard': {
                      guard: 'isCurrentSession',
                      target: 'waiting',
                      actions: 'resetMissedPongs',
                    },
                    'socket.silent': [
                      {
                        guard: and(['isCurrentSession', 'hasMissedTooManyPongs']),
                        target: '#connection.session.closing',
                        actions: ['declareHeartbeatDead', 'announceHeartbeatDead', 'reportEndError'],
                        description: 'maxMissed consecutive pings unanswered: the peer is dead; terminate.',
                      },
                      { guard: 'isCurrentSession', target: 'waiting', actions: 'countMissedPong' },
                    ],
                  },
                },
              },
            },
          },
        },
        closing: {
          description:
            'Every way a session ends passes here: new sends queue for the next session, onClose runs once, the chosen close frame is sent, then the close handshake is awaited at most closeTimeoutMs before the socket is terminated.',
          entry: ['sealWrites', 'announceEnding'],
          on: {
            // Handled here so that a late close does not re-enter `closing` (onClose runs once).
            'socket.closed': { guard: 'isCurrentSession', actions: 'recordSocketClosed' },
            'client.stop': { actions: ['upgradeToStop', 'armStopDeadline', 'sealWrites'] },
            'stop.timedOut': {
              guard: 'isStopRequested',
              target: '#connection.ended',
              description: 'stop() is bounded by its deadline whatever the hooks and the peer do.',
            },
            'client.exit': { guard: 'isForThisSession', actions: ['upgradeToExit', 'sealWrites'] },
            'client.restart': {},
          },
          initial: 'choosing',
          states: {
            choosing: {
              description: 'onClose runs only for sessions whose socket opened; a failed dial skips it.',
              always: [{ guard: 'reachedSocket', target: 'hook' }, { target: 'handshake' }],
            },
            hook: {
              description:
                'The onClose hook runs once; it may pick the close frame. Bounded by closeTimeoutMs.',
              invoke: {
                id: 'closeHook',
                src: 'closeHook',
                input: ({ context }) => ({
                  sessionId: context.sessionId,
                  restarting: context.restarting,
                  protocol: '',
                  response: undefined,
                  closing: closing(context),
                  endRequest: context.endRequest,
                }),
                onDone: { target: 'handshake' },
                onError: {
                  target: 'handshake',
                  actions: 'reportCloseHookError',
                  description:
                    'onClose threw or picked an unsendable frame: reported; the default frame goes out.',
                },
              },
              after: { closeTimeout: { target: 'handshake' } },
            },
            handshake: {
              description:
                "The close frame (stop()'s code, else onClose's, else 1000 to stop and 1001 to reconnect) is out; waiting for the peer to close, at most closeTimeoutMs. A dead or closed socket is not waited for.",
              entry: ['pickCloseFrame', 'sendCloseFrame'],
              always: { guard: not('canCloseGracefully'), target: 'done' },
              on: {
                'socket.closed': { guard: 'isCurrentSession', target: 'done', actions: 'recordSocketClosed' },
              },
              after: { closeTimeout: { target: 'done' } },
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
        {
          guard: 'isStopRequested',
          target: 'stopped',
          actions: { type: 'announceStopped', params: { because: 'requested' } },
        },
        {
          guard: 'isExitRequested',
          target: 'stopped',
          actions: { type: 'announceStopped', params: { because: 'requested' } },
        },
        { guard: 'isRestartRequested', target: 'deciding' },
        {
          guard: 'isFirstStart',
          target: 'stopped',
          actions: { type: 'announceStopped', params: { because: 'firstStart' } },
        },
        { target: 'deciding' },
      ],
    },
    deciding: {
      description:
        "The reconnect policy (close class, attempts left, the user's shouldReconnect, backoff with jitter) answers within the same step (transient).",
      entry: 'consultPolicy',
      on: {
        'policy.decided': [
          {
            guard: 'canReconnect',
            target: 'reconnecting',
            actions: ['reportPolicyError', 'scheduleReconnect'],
          },
          {
            target: 'stopped',
            actions: ['reportPolicyError', { type: 'announceStopped', params: { because: 'policy' } }],
          },
        ],
      },
    },
    reconnecting: {
      description: 'Waiting the backoff delay (full jitter, Retry-After aware) before the next attempt.',
      entry: 'announceReconnect',
      on: {
        'client.start': { actions: 'refuseStart' },
        'client.stop': {
          target: 'stopped',
          actions: ['requestStop', { type: 'announceStopped', params: { because: 'requested' } }],
        },
        'client.exit': {
          guard: 'isFromClient',
          target: 'stopped',
          actions: ['requestExit', { type: 'announceStopped', params: { because: 'requested' } }],
        },
        'client.restart': { guard: 'isFromClient', target: 'session', actions: 'markRestarting' },
      },
      initial: 'choosing',
      states: {
        choosing: {
          always: [{ guard: 'isOffline', target: 'offline' }, { target: 'backoff' }],
        },
        backoff: {
          description: 'The delay runs; going offline pauses attempts.',
          always: { guard: 'isOffline', target: 'offline' },
          after: { reconnectDelay: { target: '#connection.session', actions: 'markRestarting' } },
          on: {
            'env.visible': {
              target: '#connection.session',
              actions: 'markRestarting',
              description:
                'The tab became visible: attempt at once (someone is looking; the policy already allowed this attempt).',
            },
          },
        },
        offline: {
          description: 'The device is offline: no attempts (they would fail) until it is back online.',
          always: {
            guard: not('isOffline'),
            target: '#connection.session',
            actions: 'markRestarting',
            description: 'Back online: attempt at once.',
          },
        },
      },
    },
    stopped: {
      description:
        'Nothing open, no timers, no subscription (they end with the client). start() may start again.',
      entry: ['stopEnvironment', 'stopSubscriptions'],
      on: {
        'client.start': {
          target: 'session',
          actions: ['beginStart', 'announceStartAccepted', 'startEnvironment'],
        },
        // Subscriptions made while not started end too: stop() ends every subscription.
        'client.stop': { actions: ['stopSubscriptions', 'acknowledgeStop'] },
      },
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
 * const whenOpen = (actor: Actor<ConnectionMachine>) => waitFor(actor, (s) => s.matches({ session: 'open' }));
 * ```
 */
export type ConnectionMachine = typeof connectionMachine;
