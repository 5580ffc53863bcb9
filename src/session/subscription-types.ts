/**
 * Public types of `client.subscribe()`: its options, what `subscribe` is called with, the states and
 * the events of a {@link Subscription}.
 */
import type { ActorRefFrom } from 'xstate';
import type { SubscriptionMachine } from '../../machines/subscription.machine.js';
import type { SubscriptionError } from '../core/errors.js';
import type { Message } from '../core/message.js';
import type { Session } from '../types.js';

/**
 * The states of a subscription, as `sub.state` reports them.
 *
 * @example
 * ```ts
 * import { SubscriptionStates, createClient } from 'wsmachine';
 * const client = createClient({ url: 'wss://example.test/feed' });
 * const sub = client.subscribe({ name: 'prices', subscribe: (s) => void s.send('{"sub":"prices"}') });
 * sub.on('state', ({ to }) => to === SubscriptionStates.FAILED && console.warn('prices: subscribe failed'));
 * ```
 */
export const SubscriptionStates = {
  /** Created: waits for the connection to be open, then runs `subscribe`. */
  SUBSCRIBING: 'subscribing',
  /** `subscribe` resolved in the current session. */
  SUBSCRIBED: 'subscribed',
  /** The session it was subscribed in ended: subscribes again at the next open. */
  RESUBSCRIBING: 'resubscribing',
  /** `unsubscribe()` was called: the user's `unsubscribe` runs on the open session. */
  UNSUBSCRIBING: 'unsubscribing',
  /** Final: unsubscribed, or the client stopped. */
  UNSUBSCRIBED: 'unsubscribed',
  /** `subscribe` rejected, threw or timed out; retried at the next reopen (or after `retry`'s backoff). */
  FAILED: 'failed',
} as const;

/**
 * One of {@link SubscriptionStates}.
 *
 * @example
 * ```ts
 * import type { SubscriptionState } from 'wsmachine';
 * const live = (state: SubscriptionState) => state === 'subscribed';
 * ```
 */
export type SubscriptionState = (typeof SubscriptionStates)[keyof typeof SubscriptionStates];

/**
 * The second argument of a subscription's `subscribe`.
 *
 * @example
 * ```ts
 * import type { Message, Session, SubscribeContext } from 'wsmachine';
 * // Resume after the last sequence number seen, on every re-subscribe.
 * const subscribe = (session: Session, { resubscribing, lastMessage, signal }: SubscribeContext) => {
 *   const after = resubscribing ? lastMessage?.json<{ seq: number }>().seq : undefined;
 *   return session.request(JSON.stringify({ op: 'subscribe', topic: 'trades', after }), { signal });
 * };
 * ```
 */
export interface SubscribeContext {
  /** True when the subscription was subscribed in an earlier session (a re-subscribe after a reopen). */
  resubscribing: boolean;
  /** The last message routed to this subscription, in any session: what to resume after. */
  lastMessage: Message | undefined;
  /** The attempt in this session: 1, then 2, 3... with `retry`. */
  attempt: number;
  /**
   * Aborted when this attempt is abandoned (the session ended, it timed out, `unsubscribe()`, the
   * client stopped): pass it to `session.request(data, { signal })`.
   */
  signal: AbortSignal;
}

/**
 * Retry after a failed subscribe while the connection stays open (without it, a failed subscription
 * is retried at the next reopen only). Attempt n+1 waits `min(maxDelayMs, baseDelayMs * factor^(n-1))`.
 *
 * @example
 * ```ts
 * import type { SubscriptionRetryOptions } from 'wsmachine';
 * const retry: SubscriptionRetryOptions = { baseDelayMs: 500, maxAttempts: 5 };
 * ```
 */
export interface SubscriptionRetryOptions {
  /** Delay before the second attempt. @default 1_000 */
  baseDelayMs?: number;
  /** Growth of the delay per attempt. @default 2 */
  factor?: number;
  /** Upper bound of every delay. @default 30_000 */
  maxDelayMs?: number;
  /** Attempts per session; then it waits for the next reopen. @default Infinity */
  maxAttempts?: number;
}

/**
 * What `client.subscribe()` takes: the subscription, described once; the client re-subscribes it
 * after every reopen.
 *
 * @example
 * ```ts
 * import { type SubscriptionOptions, createClient } from 'wsmachine';
 * const client = createClient({ url: 'wss://example.test/feed' });
 * const topicOf = (m: import('wsmachine').Message) => m.json<{ topic?: string }>().topic;
 * const options: SubscriptionOptions = {
 *   name: 'trades',
 *   subscribe: (session) => session.request(JSON.stringify({ op: 'sub', topic: 'trades' })),
 *   unsubscribe: (session) => session.request(JSON.stringify({ op: 'unsub', topic: 'trades' })),
 *   key: topicOf, // shared by every subscription: one call and one lookup per message
 * };
 * const trades = client.subscribe(options);
 * ```
 */
export interface SubscriptionOptions {
  /**
   * Unique among the client's live subscriptions (an unsubscribed one frees its name); with `key`,
   * also the key its messages carry.
   * @default (required)
   */
  name: string;
  /**
   * Subscribes on an open session: at the first open after `subscribe()` and again after every
   * reopen, after `onOpen` and before queued sends, in the order subscriptions were created. It runs
   * synchronously up to its first `await`, so requests it sends at once are pipelined. The promise it
   * returns is the acknowledgement: a rejection (or a throw) fails the subscription.
   * @default (required)
   */
  subscribe(session: Session, context: SubscribeContext): unknown;
  /**
   * Undoes the subscription on the server: run by `unsubscribe()` when the connection is open and the
   * subscription may be live there (not during a reconnect: the server forgot it with the session).
   * @default undefined (nothing is sent; the subscription just stops claiming messages)
   */
  unsubscribe?(session: Session): unknown;
  /**
   * Which messages belong to this subscription (scanned for each message: O(number of such
   * subscriptions)). With `key`, an extra condition. Must answer synchronously.
   * @default undefined (with neither `match` nor `key`, the subscription claims no messages)
   */
  match?(message: Message): boolean;
  /**
   * The key of a message: the subscription claims messages whose key equals its `name`, found in a
   * map. Subscriptions sharing one key function (the same function object, defined once) cost one
   * call and one lookup per message, however many they are; each distinct function is asked on its
   * own. Must answer synchronously.
   * @default undefined
   */
  key?(message: Message): string | undefined;
  /**
   * Retry a failed subscribe after a backoff of its own while open.
   * @default undefined (retried at the next reopen only)
   */
  retry?: SubscriptionRetryOptions;
  /**
   * Bound on one subscribe (and on the unsubscribe); past it the attempt is abandoned (its `signal`
   * aborts) and the subscription `failed` (cause: a `RequestTimeoutError`). A subscribe made of
   * requests is already bounded by their timeout (`requests.timeoutMs`): set this for one that
   * awaits something else.
   * @default 0 (no bound of its own)
   */
  timeoutMs?: number;
}

/**
 * The events of a {@link Subscription} (`sub.on(event, listener)`).
 *
 * @example
 * ```ts
 * import type { SubscriptionEvents } from 'wsmachine';
 * const onState = ({ from, to }: SubscriptionEvents['state']) => console.log(`${from} -> ${to}`);
 * ```
 */
export interface SubscriptionEvents {
  /** The state changed (`client.state`-style: published after the change, once per change). */
  state: { from: SubscriptionState; to: SubscriptionState };
  /** A message the subscription claimed (it does not go to `onMessage` or `client.messages()`). */
  message: Message;
  /** A subscribe or unsubscribe failed (also reported on the client's `error` channel). */
  error: SubscriptionError;
}

/**
 * The running actor of a subscription: a child of the client's connection actor, with id and
 * system id `subscription:<name>`.
 *
 * @example
 * ```ts
 * import { waitFor } from 'xstate';
 * import type { SubscriptionActor } from 'wsmachine';
 * const whenSubscribed = (actor: SubscriptionActor) => waitFor(actor, (s) => s.matches('subscribed'));
 * ```
 */
export type SubscriptionActor = ActorRefFrom<SubscriptionMachine>;
