/**
 * The `Subscription` users get from `client.subscribe()`: its state (read from its actor), its
 * events, the messages routed to it (listeners and `messages()` iterators) and `unsubscribe()`. It
 * decides nothing about its lifecycle: that is its machine's (machines/subscription.machine.ts), a
 * child of the connection; this object follows the actor's snapshots and emitted events.
 */
import type { SnapshotFrom } from 'xstate';
import type { SubscriptionMachine } from '../../machines/subscription.machine.js';
import { HookError, type SubscriptionError, type WsmError } from '../core/errors.js';
import type { Message } from '../core/message.js';
import { Emitter } from '../events.js';
import { type IteratorLimits, MessageIterator } from './message-iterator.js';
import type {
  SubscriptionActor,
  SubscriptionEvents,
  SubscriptionOptions,
  SubscriptionState,
} from './subscription-types.js';

/** What a subscription reports to, and asks of, its client. */
export interface SubscriptionHost {
  /** An error for the client's `error` channel; `handled`: a subscription listener had it already. */
  reportError(error: WsmError, handled: boolean): void;
  /** Messages an iterator dropped (overflow). */
  reportUnhandled(messages: Message[], reason: WsmError): void;
  readonly iteratorLimits: IteratorLimits;
  /** The subscription reached `unsubscribed`: stop routing to it, free its name, stop its actor. */
  ended(subscription: Subscription): void;
  /** Tells the connection now of subscriptions made in this synchronous run (spawns this one's actor). */
  flush(): void;
}

/** The public state of a subscription machine snapshot: its top-level state. */
export function subscriptionStateOf(snapshot: SnapshotFrom<SubscriptionMachine>): SubscriptionState {
  const value = snapshot.value as unknown;
  return (typeof value === 'string' ? value : Object.keys(value as object)[0]) as SubscriptionState;
}

/**
 * A subscription made by `client.subscribe()`: described once, re-subscribed by the client after
 * every reopen, its lifecycle a child actor of the connection.
 *
 * @example
 * ```ts
 * import { createClient } from 'wsmachine';
 * const client = createClient({ url: 'wss://example.test/feed' });
 * const sub = client.subscribe({
 *   name: 'heartbeat',
 *   subscribe: (session) => session.request(JSON.stringify({ type: 'subscribe_request', topic: 'heartbeat' })),
 *   match: (m) => m.json<{ type?: string }>().type === 'heartbeat',
 * });
 * sub.on('state', ({ from, to }) => console.log(`heartbeat: ${from} -> ${to}`));
 * await client.start();
 * for await (const m of sub.messages()) console.log(m.data); // ends when unsubscribed or stopped
 * ```
 */
export class Subscription {
  /** The name it was created with (its child actor is `subscription:<name>`). */
  readonly name: string;
  /** @internal the user's functions and limits. */
  readonly options: SubscriptionOptions;
  private readonly host: SubscriptionHost;
  private readonly emitter: Emitter<SubscriptionEvents & Record<string, unknown>>;
  private readonly iterators = new Set<MessageIterator>();
  private ref: SubscriptionActor | undefined;
  private last: Message | undefined;
  private published: SubscriptionState = 'subscribing';
  private unsubscribeAsked = false;
  private done = false;
  private waiters: Array<() => void> = [];

  /** @internal made by `client.subscribe()`. */
  constructor(options: SubscriptionOptions, host: SubscriptionHost) {
    this.name = options.name;
    this.options = options;
    this.host = host;
    this.emitter = new Emitter((error, event) =>
      host.reportError(
        new HookError(`subscription ${JSON.stringify(this.name)} '${event}' listener`, error),
        false,
      ),
    );
  }

  /** The current state (read from its actor). */
  get state(): SubscriptionState {
    return this.ref === undefined ? this.published : subscriptionStateOf(this.ref.getSnapshot());
  }

  /** The last message routed to it, in any session (what to resume after); kept after a reopen. */
  get lastMessage(): Message | undefined {
    return this.last;
  }

  /**
   * Its running actor, a child of the client's connection actor (`client.actor.getSnapshot()
   * .children['subscription:<name>']`). Undefined only for a subscription created inside a client
   * listener, until the step that listener runs in is over (the connection spawns it next).
   */
  get actor(): SubscriptionActor | undefined {
    if (this.ref === undefined && !this.done) this.host.flush();
    return this.ref;
  }

  /** Adds a listener; returns a function that removes it. */
  on<K extends keyof SubscriptionEvents>(
    event: K,
    listener: (payload: SubscriptionEvents[K]) => void,
  ): () => void {
    return this.emitter.on(event, listener as never);
  }

  /** Removes a listener (also one added with `once`). */
  off<K extends keyof SubscriptionEvents>(
    event: K,
    listener?: (payload: SubscriptionEvents[K]) => void,
  ): void {
    this.emitter.off(event, listener as never);
  }

  /** Adds a listener that runs once; returns a function that removes it. */
  once<K extends keyof SubscriptionEvents>(
    event: K,
    listener: (payload: SubscriptionEvents[K]) => void,
  ): () => void {
    return this.emitter.once(event, listener as never);
  }

  /**
   * The messages routed to this subscription as an async iterator, from now on. It ends when the
   * subscription is unsubscribed or the client stops; one that falls `inbound.iteratorBufferSize`
   * messages (or `iteratorBufferBytes` bytes) behind ends with `QueueOverflowError`.
   */
  messages(): AsyncIterableIterator<Message> {
    const it = new MessageIterator(
      {
        detach: (i) => this.iterators.delete(i),
        dropped: (messages, reason) => this.host.reportUnhandled(messages, reason),
      },
      this.host.iteratorLimits,
    );
    if (this.done) it.finish();
    else this.iterators.add(it);
    return it;
  }

  /**
   * Unsubscribes: runs `unsubscribe` on the open session when the subscription may be live on the
   * server (not during a reconnect), and never subscribes again. Resolves once `unsubscribed` (a failed
   * `unsubscribe` is reported on `error`; it still resolves). Idempotent.
   */
  unsubscribe(): Promise<void> {
    if (this.done) return Promise.resolve();
    return new Promise<void>((resolve) => {
      this.waiters.push(resolve);
      if (this.unsubscribeAsked) return;
      this.unsubscribeAsked = true;
      this.ref?.send({ type: 'subscription.unsubscribe' });
    });
  }

  /** @internal a message it claimed (the receive path: no allocation, no machine event). */
  deliver(message: Message): void {
    this.last = message;
    this.emitter.emit('message', message);
    if (this.iterators.size > 0) for (const it of this.iterators) it.push(message);
  }

  /** @internal its actor started (the machine's `register` action): follow it. */
  attach(ref: SubscriptionActor): void {
    if (this.ref !== undefined) return;
    this.ref = ref;
    ref.subscribe({ next: () => this.sync(), error: () => this.sync() });
    ref.on('subscription.failed', ({ error }) => this.failed(error as SubscriptionError));
    if (this.unsubscribeAsked) ref.send({ type: 'subscription.unsubscribe' });
  }

  /** Publishes the state change its actor made, once (the end first: nothing is routed to it after). */
  private sync(): void {
    const ref = this.ref;
    if (ref === undefined) return;
    const to = subscriptionStateOf(ref.getSnapshot());
    if (to === this.published) return;
    const from = this.published;
    this.published = to;
    if (to === 'unsubscribed') this.end();
    this.emitter.emit('state', { from, to });
    if (to === 'unsubscribed') {
      const waiters = this.waiters;
      this.waiters = [];
      for (const resolve of waiters) resolve();
    }
  }

  private failed(error: SubscriptionError): void {
    // The state (`failed`) is published before the error, as the client does with its own events.
    this.sync();
    const handled = this.emitter.has('error');
    this.emitter.emit('error', error);
    this.host.reportError(error, handled);
  }

  private end(): void {
    if (this.done) return;
    this.done = true;
    this.host.ended(this);
    for (const it of [...this.iterators]) it.finish();
  }
}
