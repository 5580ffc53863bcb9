/**
 * `wsmachine/machines`: the pure statecharts and their types, for embedding, visualizing and
 * model-based testing.
 */
export { connectionMachine, policyFacts, type ConnectionMachine } from './connection.machine.js';
export type * from './connection.types.js';
export {
  subscriptionMachine,
  subscriptionRetryDelay,
  type SubscriptionMachine,
} from './subscription.machine.js';
export type * from './subscription.types.js';
