/**
 * The subscriptions of one client: `client.subscribe()` (checked, registered for routing, then the
 * connection is asked to spawn its machine), and what the subscription machines' actors do (run the
 * user's subscribe and unsubscribe on the live session). The lifecycle (when to subscribe, retry,
 * end) is the machines'; routing is {@link SubscriptionRouter}'s.
 *
 * The connection is told of new and ended subscriptions in batches: XState copies the connection's
 * children map for every event that spawns or stops one, so one event per subscription would make
 * 10,000 `subscribe()` calls cost 10,000 copies of a growing map (~30 s). The batch goes out at the
 * end of the current synchronous run (a microtask), and earlier when anything could observe the
 * order: before the client writes, starts, stops or restarts, and when `sub.actor` is read.
 */
import type { ConnectionEvent } from '../../machines/connection.types.js';
import type { SubscriptionInput, SubscriptionRunInput } from '../../machines/subscription.types.js';
import { ConnectionClosedError, InvalidOptionsError, type WsmError } from '../core/errors.js';
import type { Message } from '../core/message.js';
import type { IteratorLimits } from './message-iterator.js';
import type { SessionHandle } from './session-handle.js';
import type { SessionRegistry } from './session-registry.js';
import { Subscription } from './subscription.js';
import { resolveSubscription } from './subscription-options.js';
import { SubscriptionRouter } from './subscription-router.js';
import type { SubscriptionActor, SubscriptionOptions } from './subscription-types.js';

/** The child id (and system id) of a subscription's actor. */
export const subscriptionId = (name: string): string => `subscription:${name}`;

/** What the subscriptions of a client are wired to. */
export interface SubscriptionsHost {
  toMachine(event: ConnectionEvent): void;
  sessions: SessionRegistry;
  /** Reports on the client's error channel; `handled`: a subscription's own listener had it. */
  reportError(error: WsmError, handled: boolean): void;
  reportUnhandled(messages: Message[], reason: WsmError): void;
  iteratorLimits: IteratorLimits;
}

/** The subscriptions of one client. */
export class Subscriptions {
  /** Routing on the receive path. */
  readonly router: SubscriptionRouter;
  private readonly host: SubscriptionsHost;
  /** The live subscriptions by name (until `unsubscribed`). */
  private readonly byName = new Map<string, Subscription>();
  /** Not yet told to the connection (see the file's comment): ended ones, then new ones. */
  private removes: string[] = [];
  private adds: Array<{ id: string; input: SubscriptionInput }> = [];
  private scheduled = false;
  private readonly flushLater = (): void => {
    this.scheduled = false;
    this.flush();
  };

  constructor(host: SubscriptionsHost) {
    this.host = host;
    this.router = new SubscriptionRouter((error) => host.reportError(error, false));
  }

  /**
   * `client.subscribe()`.
   *
   * @throws {InvalidOptionsError} for bad options, or a name a live subscription has.
   */
  create(value: SubscriptionOptions): Subscription {
    const { options, input } = resolveSubscription(value);
    const existing = this.byName.get(options.name);
    if (existing !== undefined) {
      throw new InvalidOptionsError([
        {
          option: 'subscribe.name',
          value: options.name,
          expected: `a name no live subscription of this client has (this one is "${existing.state}": keep using it, or await its unsubscribe() first)`,
        },
      ]);
    }
    const host = this.host;
    const sub = new Subscription(options, {
      reportError: host.reportError,
      reportUnhandled: host.reportUnhandled,
      iteratorLimits: host.iteratorLimits,
      ended: (s) => this.ended(s),
      flush: () => this.flush(),
    });
    this.byName.set(options.name, sub);
    this.router.add(sub);
    this.adds.push({ id: subscriptionId(options.name), input });
    this.schedule();
    return sub;
  }

  /**
   * Tells the connection of the subscriptions made or ended since the last batch: the ended ones
   * first (a name ended and made again must not have its new child stopped), then the new ones in
   * creation order. Cheap when there is nothing to tell.
   */
  flush(): void {
    if (this.removes.length > 0) {
      const ids = this.removes;
      this.removes = [];
      this.host.toMachine({ type: 'subscription.remove', ids });
    }
    if (this.adds.length > 0) {
      const subscriptions = this.adds;
      this.adds = [];
      this.host.toMachine({ type: 'subscription.add', subscriptions });
    }
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    queueMicrotask(this.flushLater);
  }

  /** The live subscriptions, in creation order. */
  list(): Subscription[] {
    return [...this.byName.values()];
  }

  /** A subscription's actor started (its machine's `register` action). */
  attach(ref: SubscriptionActor): void {
    const name = ref.getSnapshot().context.name;
    this.byName.get(name)?.attach(ref);
  }

  /**
   * The `subscribe` actor: the user's subscribe on the session the machine says is open. Called
   * synchronously when the actor starts, so the user's code runs up to its first `await` at once.
   */
  async runSubscribe(input: SubscriptionRunInput, signal: AbortSignal): Promise<void> {
    const sub = this.byName.get(input.name);
    const handle = this.live(input.sessionId);
    if (sub === undefined) return;
    if (handle === undefined) throw new ConnectionClosedError('The session ended before the subscribe ran');
    await sub.options.subscribe(handle, {
      resubscribing: input.resubscribing,
      lastMessage: sub.lastMessage,
      attempt: input.attempt,
      signal,
    });
  }

  /** The `unsubscribe` actor: the user's unsubscribe, when the session is still live. */
  async runUnsubscribe(input: SubscriptionRunInput): Promise<void> {
    const sub = this.byName.get(input.name);
    const handle = this.live(input.sessionId);
    // A session that ended took the subscription with it on the server: nothing to undo.
    if (sub?.options.unsubscribe === undefined || handle === undefined) return;
    await sub.options.unsubscribe(handle);
  }

  private live(sessionId: number): SessionHandle | undefined {
    const handle = this.host.sessions.current?.handle;
    return handle !== undefined && handle.id === sessionId && !handle.ending ? handle : undefined;
  }

  /** Reached `unsubscribed`: no more routing; the name is free; the connection forgets its child. */
  private ended(sub: Subscription): void {
    if (this.byName.get(sub.name) !== sub) return;
    this.byName.delete(sub.name);
    this.router.remove(sub);
    this.removes.push(subscriptionId(sub.name));
    this.schedule();
  }
}
