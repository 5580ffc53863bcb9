/**
 * Everything both entries export, apart from `createClient` (each entry binds its own default
 * adapter). Browser-safe: nothing here reaches `ws` or `node:*`.
 */
export { WsClient, stateOf, type ClientActor, type CreateClient } from './client.js';
export * from './core/errors.js';
export { CloseCodes, classifyClose, isSendableCloseCode, type CloseClass } from './core/close-codes.js';
export { backoffDelay, type BackoffPolicy } from './core/backoff.js';
export { DEFAULTS } from './core/options.js';
export { Message } from './core/message.js';
export {
  ClientStates,
  type AttemptInfo,
  type ClientState,
  type Clock,
  type CloseInfo,
  type Data,
  type HandshakeResponse,
} from './core/types.js';
export { redactUrl } from './redact.js';
export type * from './transport/adapter.js';
export { createNativeAdapter } from './transport/native.js';
export type * from './types.js';
export type { ExclusiveSession } from './session/dispatch-types.js';
export { Subscription } from './session/subscription.js';
export {
  SubscriptionStates,
  type SubscribeContext,
  type SubscriptionActor,
  type SubscriptionEvents,
  type SubscriptionOptions,
  type SubscriptionRetryOptions,
  type SubscriptionState,
} from './session/subscription-types.js';
export { INSTRUMENT, type Instrumentation, type RequestOutcome } from './client.js';
export { clientOf } from './api/from-client.js';
export type * from './api/from-client.types.js';
