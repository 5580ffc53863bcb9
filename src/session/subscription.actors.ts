/**
 * The subscription machine as clients run it: its `subscribe` and `unsubscribe` actors and its
 * `register` action, provided once per module (never per client or per subscription). Like the
 * connection's actors, they find their client's parts through the XState actor system.
 */
import { fromPromise } from 'xstate';
import { subscriptionMachine } from '../../machines/subscription.machine.js';
import type { SubscriptionRunInput } from '../../machines/subscription.types.js';
import { servicesOf } from './services.js';
import type { SubscriptionActor } from './subscription-types.js';

/** Runs the user's subscribe; `signal` aborts when the machine abandons the attempt. */
export const subscribeActor = fromPromise<void, SubscriptionRunInput>(({ input, system, signal }) =>
  servicesOf(system, 'subscribe').subscriptions.runSubscribe(input, signal),
);

/** Runs the user's unsubscribe. */
export const unsubscribeActor = fromPromise<void, SubscriptionRunInput>(({ input, system }) =>
  servicesOf(system, 'unsubscribe').subscriptions.runUnsubscribe(input),
);

/** The subscription machine with its actors provided: what the live connection spawns. */
export const liveSubscriptionMachine = subscriptionMachine.provide({
  actors: { subscribe: subscribeActor, unsubscribe: unsubscribeActor },
  actions: {
    register: ({ self, system }) =>
      servicesOf(system, 'subscription').subscriptions.attach(self as unknown as SubscriptionActor),
  },
});
