/**
 * Input, context, events and emitted events of the subscription machine. Pure types: the machine
 * imports only `xstate` and `src/core`. Like the connection's, the context holds serializable facts
 * only: the user's functions (subscribe, unsubscribe, match, key) stay with the service that runs
 * them, found through the actor system.
 */

/**
 * The subscription's own retry backoff after a failed subscribe, while the connection stays open:
 * attempt n waits `min(maxDelayMs, baseDelayMs * factor^(n-1))` (no jitter: one client's
 * subscriptions do not stampede a server the way many clients' reconnects do). Data only.
 *
 * @example
 * ```ts
 * import type { SubscriptionRetryConfig } from 'wsmachine/machines';
 * // 0.5 s, 1 s, 2 s, 4 s, then give up until the next reopen.
 * const retry: SubscriptionRetryConfig = { baseDelayMs: 500, factor: 2, maxDelayMs: 4_000, maxAttempts: 5 };
 * ```
 */
export interface SubscriptionRetryConfig {
  /** Delay before the second attempt. */
  baseDelayMs: number;
  /** Growth of the delay per attempt. */
  factor: number;
  /** Upper bound of every delay. */
  maxDelayMs: number;
  /** Attempts per session before the subscription waits for the next reopen; `null` for no limit. */
  maxAttempts: number | null;
}

/**
 * Input of the subscription machine (given by the connection's `subscription.add`).
 *
 * @example
 * ```ts
 * import type { SubscriptionInput } from 'wsmachine/machines';
 * const input: SubscriptionInput = { name: 'heartbeat', timeoutMs: 30_000, retry: null };
 * ```
 */
export interface SubscriptionInput {
  /** The subscription's name, unique among the live subscriptions of a client. */
  name: string;
  /** Bound on one subscribe attempt; 0: none. */
  timeoutMs: number;
  /** Retry after a failure while open; `null`: retried at the next reopen only. */
  retry: SubscriptionRetryConfig | null;
}

/**
 * A failed subscribe or unsubscribe, as data (the error object itself goes out in the
 * `subscription.failed` emitted event).
 *
 * @example
 * ```ts
 * import type { SubscriptionFailure } from 'wsmachine/machines';
 * const refused: SubscriptionFailure = {
 *   phase: 'subscribe', attempt: 1, sessionId: 3, code: 'WSM_ERR_SUBSCRIPTION',
 *   message: 'The subscribe of subscription "heartbeat" failed: refused', causeCode: undefined,
 * };
 * ```
 */
export interface SubscriptionFailure {
  phase: 'subscribe' | 'unsubscribe';
  /** The attempt that failed (1 for the first of a session), 0 for an unsubscribe. */
  attempt: number;
  /** The session it failed in. */
  sessionId: number | undefined;
  /** The error's code (`WSM_ERR_SUBSCRIPTION`). */
  code: string | undefined;
  message: string;
  /** The code of its cause, when the cause is a wsmachine error (`WSM_ERR_REQUEST_TIMEOUT`...). */
  causeCode: string | undefined;
}

/**
 * The subscription machine's context: serializable facts only.
 *
 * @example
 * ```ts
 * import { createClient } from 'wsmachine';
 * const client = createClient({ url: 'wss://example.test/feed' });
 * const sub = client.subscribe({ name: 'prices', subscribe: (s) => void s.send('{"sub":"prices"}') });
 * sub.actor?.subscribe(({ context }) => console.log(context.attempt, context.lastError?.message));
 * ```
 */
export interface SubscriptionContext extends SubscriptionInput {
  /** The open session the subscription runs in; undefined while the connection is not open. */
  sessionId: number | undefined;
  /** Subscribe attempts since the last success or reopen (the one running included). */
  attempt: number;
  /** A subscribe succeeded once: the next ones are re-subscribes (`resubscribing: true`). */
  hasSubscribed: boolean;
  /** The last failure, as data. */
  lastError: SubscriptionFailure | undefined;
}

/**
 * Every event the subscription machine accepts: from its connection (`connection.*`, sent by the
 * connection machine in its own transitions) and from the user (`subscription.unsubscribe`).
 *
 * @example
 * ```ts
 * import type { SubscriptionEvent } from 'wsmachine/machines';
 * const opened: SubscriptionEvent = { type: 'connection.opened', sessionId: 2 };
 * ```
 */
export type SubscriptionEvent =
  | { type: 'connection.opened'; sessionId: number }
  | { type: 'connection.ended' }
  | { type: 'connection.stopped' }
  | { type: 'subscription.unsubscribe' }
  /** Raised by the machine itself when an attempt (or the unsubscribe) outlived `timeoutMs`. */
  | { type: 'subscription.timedOut' };

/**
 * Input of the invoked subscribe and unsubscribe actors.
 *
 * @example
 * ```ts
 * import type { SubscriptionRunInput } from 'wsmachine/machines';
 * const input: SubscriptionRunInput = { name: 'heartbeat', sessionId: 4, resubscribing: true, attempt: 1 };
 * ```
 */
export interface SubscriptionRunInput {
  name: string;
  sessionId: number;
  /** The subscription was subscribed in an earlier session. */
  resubscribing: boolean;
  attempt: number;
}

/**
 * Events the subscription machine emits (`actor.on(type, ...)`): a failed subscribe or unsubscribe,
 * with the typed error (a `SubscriptionError`, `cause` kept).
 *
 * @example
 * ```ts
 * import type { SubscriptionEmitted } from 'wsmachine/machines';
 * const log = (e: SubscriptionEmitted) => console.warn(e.error);
 * ```
 */
export type SubscriptionEmitted = { type: 'subscription.failed'; error: unknown };
