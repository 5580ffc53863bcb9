/**
 * One subscription's lifecycle as a small statechart of its own, spawned by the connection machine as
 * its child (`subscription.add`) and driven by the connection's own transitions: `connection.opened`
 * on every open (after onOpen, before queued sends), `connection.ended` when a session ends,
 * `connection.stopped` when the client stops.
 *
 * The machine never touches a socket or a user function: the user's subscribe and unsubscribe are
 * invoked actors (`subscribe`, `unsubscribe`) and the service is told of the actor by the `register`
 * action, all provided once per module by the client (placeholders here). Delays are `after`
 * transitions on the actor system's clock. Messages never pass through it: routing is the service's
 * hot path.
 */
import { and, assign, cancel, enqueueActions, fromPromise, setup } from 'xstate';
import {
  MachineNotBoundError,
  RequestTimeoutError,
  SubscriptionError,
  isWsmError,
} from '../src/core/errors.js';
import type {
  SubscriptionContext,
  SubscriptionEmitted,
  SubscriptionEvent,
  SubscriptionFailure,
  SubscriptionInput,
  SubscriptionRunInput,
} from './subscription.types.js';

type Ctx = SubscriptionContext;

/** The user's function failed: always a {@link SubscriptionError}, its cause kept. */
function subscriptionErrorOf(
  context: Ctx,
  phase: 'subscribe' | 'unsubscribe',
  error: unknown,
): SubscriptionError {
  if (error instanceof SubscriptionError) return error;
  return new SubscriptionError(context.name, phase, error, phase === 'subscribe' ? context.attempt : 0);
}

/** A failure as data for the context (the error object itself is emitted, not kept). */
function failureOf(context: Ctx, error: SubscriptionError): SubscriptionFailure {
  const cause = error.cause;
  return {
    phase: error.phase,
    attempt: error.attempt,
    sessionId: context.sessionId,
    code: error.code,
    message: error.message,
    causeCode: isWsmError(cause) ? cause.code : undefined,
  };
}

/**
 * The delay before the next subscribe after `attempt` failed attempts (the `retryDelay` delay):
 * `min(maxDelayMs, baseDelayMs * factor^(attempt-1))`; 0 without `retry`.
 *
 * @example
 * ```ts
 * import { subscriptionRetryDelay } from 'wsmachine/machines';
 * const retry = { baseDelayMs: 500, factor: 2, maxDelayMs: 4_000, maxAttempts: null };
 * subscriptionRetryDelay({ retry, attempt: 3 }); // 2_000
 * ```
 */
export function subscriptionRetryDelay(context: Pick<Ctx, 'retry' | 'attempt'>): number {
  const r = context.retry;
  if (r === null) return 0;
  const exponent = Math.max(0, context.attempt - 1);
  return Math.min(r.maxDelayMs, r.baseDelayMs * r.factor ** exponent);
}

/** The one timer of an attempt (or of the unsubscribe), armed only when `timeoutMs` is set. */
const TIMEOUT_ID = 'attemptTimeout';

const unbound = (name: string) => () => Promise.reject(new MachineNotBoundError(name));

/** The running attempt of `subscribing` and `resubscribing` (the same, but for what it is called). */
function attemptState(description: string) {
  return {
    description,
    invoke: {
      id: 'subscribe',
      src: 'subscribe',
      input: ({ context }: { context: Ctx }): SubscriptionRunInput => ({
        name: context.name,
        sessionId: context.sessionId ?? 0,
        resubscribing: context.hasSubscribed,
        attempt: context.attempt,
      }),
      onDone: { target: '#subscription.subscribed', actions: 'recordSubscribed' },
      onError: {
        target: '#subscription.failed',
        actions: 'recordFailure',
        description: 'The subscribe rejected or threw: failed, with the typed error (cause kept).',
      },
    },
    entry: ['beginAttempt', 'armTimeout'],
    exit: 'cancelTimeout',
    on: {
      'subscription.timedOut': {
        target: '#subscription.failed',
        actions: 'recordTimeout',
        description: 'The subscribe did not settle within timeoutMs: failed (it is abandoned).',
      },
      'connection.ended': {
        target: 'waiting',
        actions: 'recordEnded',
        description: 'The session ended mid-subscribe: the attempt is abandoned; run again at the next open.',
      },
      'subscription.unsubscribe': {
        target: '#subscription.unsubscribing',
        description:
          'The subscribe request may be out: the unsubscribe follows it on the same socket, in order.',
      },
    },
  } as const;
}

/**
 * The subscription machine. The client provides the `subscribe` and `unsubscribe` actors and the
 * `register` action once per module; run alone, its subscribe fails with {@link MachineNotBoundError}
 * (recorded as the subscription's `lastError`).
 *
 * @example
 * ```ts
 * import { createClient } from 'wsmachine';
 * const client = createClient({ url: 'wss://example.test/feed' });
 * const sub = client.subscribe({ name: 'prices', subscribe: (s) => void s.send('{"sub":"prices"}') });
 * sub.actor?.subscribe((snapshot) => console.log(snapshot.value)); // this machine, running
 * ```
 */
export const subscriptionMachine = setup({
  types: {
    context: {} as SubscriptionContext,
    input: {} as SubscriptionInput,
    events: {} as SubscriptionEvent,
    emitted: {} as SubscriptionEmitted,
  },
  actors: {
    subscribe: fromPromise<void, SubscriptionRunInput>(unbound('subscribe')),
    unsubscribe: fromPromise<void, SubscriptionRunInput>(unbound('unsubscribe')),
  },
  delays: {
    retryDelay: ({ context }) => subscriptionRetryDelay(context),
  },
  guards: {
    hasSubscribed: ({ context }) => context.hasSubscribed,
    canRetry: ({ context }) => {
      const r = context.retry;
      return (
        r !== null &&
        context.sessionId !== undefined &&
        (r.maxAttempts === null || context.attempt < r.maxAttempts)
      );
    },
  },
  actions: {
    // Provided by the client: tells its service that this actor exists (it then follows its state).
    register: () => {},
    recordOpened: assign(({ event }) => ({
      sessionId: event.type === 'connection.opened' ? event.sessionId : undefined,
      attempt: 0,
    })),
    recordEnded: assign({ sessionId: undefined }),
    beginAttempt: assign({ attempt: ({ context }) => context.attempt + 1 }),
    // A delayed raise rather than `after`: no timer at all without timeoutMs (XState scans every
    // pending timer of the system whenever an actor stops, so 10,000 idle timers would cost).
    cancelTimeout: cancel(TIMEOUT_ID),
    armTimeout: enqueueActions(({ context, enqueue }) => {
      if (context.timeoutMs > 0) {
        enqueue.raise({ type: 'subscription.timedOut' }, { id: TIMEOUT_ID, delay: context.timeoutMs });
      }
    }),
    recordSubscribed: assign({ hasSubscribed: true }),
    recordFailure: enqueueActions(({ context, event, enqueue }) => {
      const error = subscriptionErrorOf(context, 'subscribe', (event as { error?: unknown }).error);
      enqueue.assign({ lastError: failureOf(context, error) });
      enqueue.emit({ type: 'subscription.failed', error });
    }),
    recordTimeout: enqueueActions(({ context, enqueue }) => {
      const error = subscriptionErrorOf(context, 'subscribe', new RequestTimeoutError(context.timeoutMs));
      enqueue.assign({ lastError: failureOf(context, error) });
      enqueue.emit({ type: 'subscription.failed', error });
    }),
    recordUnsubscribeFailure: enqueueActions(({ context, event, enqueue }) => {
      const cause = (event as { error?: unknown }).error ?? new RequestTimeoutError(context.timeoutMs);
      const error = subscriptionErrorOf(context, 'unsubscribe', cause);
      enqueue.assign({ lastError: failureOf(context, error) });
      enqueue.emit({ type: 'subscription.failed', error });
    }),
  },
}).createMachine({
  id: 'subscription',
  description:
    'One subscription of a client, a child of its connection: subscribed at every open, after onOpen and before queued sends, in the order subscriptions were created; re-subscribed after every reopen until unsubscribed or the client stops.',
  context: ({ input }) => ({
    name: input.name,
    timeoutMs: input.timeoutMs,
    retry: input.retry,
    sessionId: undefined,
    attempt: 0,
    hasSubscribed: false,
    lastError: undefined,
  }),
  entry: 'register',
  on: {
    'connection.stopped': {
      target: '.unsubscribed',
      description:
        'The client stopped: the subscription ends with it, nothing is sent (subscribe again after start()).',
    },
  },
  initial: 'subscribing',
  states: {
    subscribing: {
      description:
        "Not subscribed yet: waits for the connection to be open, then runs the user's subscribe (its promise is the acknowledgement).",
      initial: 'waiting',
      states: {
        waiting: {
          description: 'The connection is not open (idle, connecting, onOpen running, reconnecting).',
          on: {
            'connection.opened': { target: 'running', actions: 'recordOpened' },
            'subscription.unsubscribe': {
              target: '#subscription.unsubscribed',
              description: 'Nothing was sent: nothing to undo.',
            },
          },
        },
        running: attemptState(
          "The user's subscribe runs (started synchronously at the open, so requests go out in creation order).",
        ),
      },
    },
    subscribed: {
      description:
        'The subscribe resolved in the current session: the server is sending what was subscribed.',
      on: {
        'connection.ended': {
          target: 'resubscribing',
          actions: 'recordEnded',
          description:
            'The session ended: the server forgot the subscription; subscribe again at the next open.',
        },
        'subscription.unsubscribe': { target: 'unsubscribing' },
      },
    },
    resubscribing: {
      description:
        'Was subscribed, and the session ended: waits for the next open, then subscribes again with `resubscribing: true` (and the last message, for resuming).',
      initial: 'waiting',
      states: {
        waiting: {
          description: 'The connection is reconnecting.',
          on: {
            'connection.opened': { target: 'running', actions: 'recordOpened' },
            'subscription.unsubscribe': {
              target: '#subscription.unsubscribed',
              description: 'Unsubscribed during a reconnect: the server forgot it already; no resubscribe.',
            },
          },
        },
        running: attemptState("The user's subscribe runs again, with `resubscribing: true`."),
      },
    },
    failed: {
      description:
        'The last subscribe rejected, threw or timed out (lastError; the typed error was emitted). Retried at the next open, or after its own backoff while open when `retry` is set.',
      on: {
        'connection.ended': { actions: 'recordEnded' },
        'connection.opened': [
          {
            guard: 'hasSubscribed',
            target: 'resubscribing.running',
            actions: 'recordOpened',
            description: 'Retried at the reopen.',
          },
          { target: 'subscribing.running', actions: 'recordOpened', description: 'Retried at the reopen.' },
        ],
        'subscription.unsubscribe': {
          target: 'unsubscribed',
          description: 'The server refused (or never answered) the subscribe: nothing to undo.',
        },
      },
      after: {
        retryDelay: [
          {
            guard: and(['canRetry', 'hasSubscribed']),
            target: 'resubscribing.running',
            description: 'retry: the backoff passed, the connection is open and attempts are left.',
          },
          {
            guard: 'canRetry',
            target: 'subscribing.running',
            description: 'retry: the backoff passed, the connection is open and attempts are left.',
          },
        ],
      },
    },
    unsubscribing: {
      description:
        "unsubscribe() while the subscription may be live on the server: the user's unsubscribe runs on the open session, bounded by timeoutMs.",
      invoke: {
        id: 'unsubscribe',
        src: 'unsubscribe',
        input: ({ context }) => ({
          name: context.name,
          sessionId: context.sessionId ?? 0,
          resubscribing: context.hasSubscribed,
          attempt: 0,
        }),
        onDone: { target: 'unsubscribed' },
        onError: {
          target: 'unsubscribed',
          actions: 'recordUnsubscribeFailure',
          description: 'Reported; unsubscribed on this side anyway.',
        },
      },
      entry: 'armTimeout',
      exit: 'cancelTimeout',
      on: {
        'subscription.timedOut': {
          target: 'unsubscribed',
          actions: 'recordUnsubscribeFailure',
          description: 'The unsubscribe did not settle within timeoutMs: reported, unsubscribed anyway.',
        },
        'connection.ended': {
          target: 'unsubscribed',
          actions: 'recordEnded',
          description: 'The session ended: the server forgot the subscription with it.',
        },
      },
    },
    unsubscribed: {
      type: 'final',
      description:
        'Done: never subscribed again. Messages it would have claimed take the ordinary path (onMessage, messages(), or reported unhandled).',
    },
  },
});

/**
 * The subscription machine's type, for embedding (`waitFor`, `useSelector`).
 *
 * @example
 * ```ts
 * import { type Actor, waitFor } from 'xstate';
 * import type { SubscriptionMachine } from 'wsmachine/machines';
 * const whenSubscribed = (actor: Actor<SubscriptionMachine>) => waitFor(actor, (s) => s.matches('subscribed'));
 * ```
 */
export type SubscriptionMachine = typeof subscriptionMachine;
