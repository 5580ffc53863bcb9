/**
 * The types of `fromClient`: its input, the events it sends to its parent, the commands it accepts,
 * its snapshot and its logic. Kept apart from the logic so an app can import them without code.
 */
import type { ActorLogic, ActorSystem, Snapshot } from 'xstate';
import type { CloseClass } from '../core/close-codes.js';
import type { WsmError } from '../core/errors.js';
import type { Message } from '../core/message.js';
import type { ClientState, Data } from '../core/types.js';
import type { SubscriptionOptions, SubscriptionState } from '../session/subscription-types.js';
import type { ClientOptions, RequestOptions } from '../types.js';

/**
 * The `input` of a `fromClient` actor: every `createClient` option (merged over the `defaults` given
 * to `fromClient`), plus `forwardMessages` and `subscriptions`.
 *
 * @example
 * ```ts
 * import { type FromClientInput } from 'wsmachine';
 * const input: FromClientInput = {
 *   url: 'wss://example.test/feed',
 *   reconnect: { maxDelayMs: 10_000 },
 *   forwardMessages: true, // every message the app would handle becomes a `wsmachine.message` event
 * };
 * ```
 */
export interface FromClientInput extends ClientOptions {
  /**
   * Send each incoming message that is not a reply to a `wsmachine.request` to the parent as
   * `wsmachine.message`. Off by default: a machine event costs ~1-2.5 µs per message, so feeds with many
   * messages are better read with `hooks.onMessage`. `hooks.onMessage`, when given, still runs.
   * @default false
   */
  forwardMessages?: boolean;
  /**
   * Subscriptions the client makes when the actor starts, in this order (`client.subscribe(options)`
   * each, so they subscribe at the first open and again after every reopen). Every change of their
   * state reaches the parent as `wsmachine.subscription`; with `forwardMessages: true`, the messages
   * they claim come as `wsmachine.subscription.message`. Their errors come as `wsmachine.error` (the
   * client's error channel). Options a subscription refuses fail the actor (`onError`) with the
   * `InvalidOptionsError`. Replaces, not merges with, the `defaults`' list.
   * @default undefined (none)
   *
   * @example
   * ```ts
   * import { type FromClientInput, type Message } from 'wsmachine';
   * const topicOf = (m: Message) => m.json<{ topic: string }>().topic; // one function, shared
   * const input: FromClientInput = {
   *   url: 'wss://example.test/feed',
   *   subscriptions: ['BTC-EUR', 'ETH-EUR'].map((name) => ({
   *     name,
   *     subscribe: (s) => void s.send(JSON.stringify({ sub: name })),
   *     key: topicOf,
   *   })),
   * };
   * ```
   */
  subscriptions?: SubscriptionOptions[];
}

/**
 * The id a parent gives a `wsmachine.request`; the reply carries it back.
 *
 * @example
 * ```ts
 * import { type RequestId } from 'wsmachine';
 * const id: RequestId = 'quote-1';
 * ```
 */
export type RequestId = string | number;

/**
 * Every event a `fromClient` actor sends to its parent (and emits, for `actor.on(...)` when it runs as
 * a root actor). Declare it in the parent's `types.events` to handle them with typed payloads.
 *
 * - `wsmachine.open`: a session opened (after `onOpen`); `restarting` is true for a reconnect.
 * - `wsmachine.close`: a session (or a dial) ended; `class` is how the reconnect policy classified it.
 * - `wsmachine.reconnecting`: the next dial goes out in `delayMs`.
 * - `wsmachine.error`: a connection-scoped error the client reports (it goes on by itself), or a command
 *   this actor could not carry out (e.g. `wsmachine.send` of an object: `InvalidOptionsError`).
 * - `wsmachine.stopped`: the client stopped by itself (never after the parent stopped the actor);
 *   `error` is why, `undefined` after `session.exit()`. The actor then ends: `onError` with an error,
 *   `onDone` without.
 * - `wsmachine.message`: with `forwardMessages: true`, a message that is not a request's reply (nor
 *   claimed by a subscription).
 * - `wsmachine.subscription`: a subscription of `input.subscriptions` changed state (`from` -> `to`).
 * - `wsmachine.subscription.message`: with `forwardMessages: true`, a message such a subscription claimed.
 * - `wsmachine.response` / `wsmachine.requestFailed`: the outcome of a `wsmachine.request`, with its `id`.
 *
 * @example
 * ```ts
 * import { setup } from 'xstate';
 * import { fromClient, type FromClientEvent } from 'wsmachine';
 *
 * const app = setup({
 *   types: { events: {} as FromClientEvent },
 *   actors: { ws: fromClient() },
 * }).createMachine({
 *   invoke: { src: 'ws', input: { url: 'wss://example.test/feed' } },
 *   on: { 'wsmachine.close': { actions: ({ event }) => console.log('closed', event.code, event.class) } },
 * });
 * ```
 */
export type FromClientEvent =
  | { type: 'wsmachine.open'; sessionId: number; restarting: boolean }
  | {
      type: 'wsmachine.close';
      code: number;
      reason: string;
      wasClean: boolean;
      class: CloseClass;
      sessionId: number;
    }
  | { type: 'wsmachine.reconnecting'; attempt: number; delayMs: number }
  | { type: 'wsmachine.error'; error: WsmError }
  | { type: 'wsmachine.stopped'; error: unknown }
  | { type: 'wsmachine.message'; message: Message }
  | { type: 'wsmachine.subscription'; name: string; from: SubscriptionState; to: SubscriptionState }
  | { type: 'wsmachine.subscription.message'; name: string; message: Message }
  | { type: 'wsmachine.response'; id: RequestId | undefined; message: Message }
  | { type: 'wsmachine.requestFailed'; id: RequestId | undefined; error: WsmError };

/**
 * The commands a `fromClient` actor accepts (`sendTo` it from the parent):
 *
 * - `wsmachine.send`: `client.send(data)`. A refusal (`NotOpenError` with `sendBuffer: false`,
 *   `SendBufferFullError`, or data that is not a string, `Uint8Array` or `ArrayBuffer`) comes back as
 *   `wsmachine.error`; the parent never breaks.
 * - `wsmachine.request`: `client.request(data, options)`; the outcome comes back as
 *   `wsmachine.response` or `wsmachine.requestFailed` carrying `id` (give one whenever more than one
 *   request can be in flight).
 * - `wsmachine.restart`: `client.restart(reason)`: ends the session through `closing` and reconnects.
 *
 * @example
 * ```ts
 * import { sendTo } from 'xstate';
 * import type { FromClientCommand } from 'wsmachine';
 * const quote: FromClientCommand = { type: 'wsmachine.request', data: '{"op":"quote"}', id: 'q1' };
 * const askForQuote = sendTo('ws', quote);
 * ```
 */
export type FromClientCommand =
  | { type: 'wsmachine.send'; data: Data }
  | {
      type: 'wsmachine.request';
      data: Data;
      options?: RequestOptions | undefined;
      id?: RequestId | undefined;
    }
  | { type: 'wsmachine.restart'; reason?: string | undefined };

/**
 * The snapshot of a `fromClient` actor: XState's `status` (`active` while the client runs; `error` or
 * `done` once it stopped by itself; `stopped` once the parent stopped it) and the client's lifecycle
 * facts. Serializable: neither the client nor the input (which may hold tokens) is in it.
 *
 * @example
 * ```ts
 * import { useSelector } from '@xstate/react';
 * import type { FromClientSnapshot } from 'wsmachine';
 * // In a component, with `ws` the invoked child's ref (`snapshot.children.ws`):
 * const connection = useSelector(ws, (s: FromClientSnapshot) => s.state); // 'open', 'reconnecting', …
 * ```
 */
export type FromClientSnapshot = Snapshot<undefined> & {
  /** The client's state (`client.state`). */
  state: ClientState;
  /** The current or last session id (`client.sessionId`). */
  sessionId: number;
  /** The reconnect attempt (`client.attempt`). */
  attempt: number;
};

/**
 * The actor logic `fromClient` returns. `TInput` is {@link FromClientInput}, or a partial one when
 * the defaults already hold a `url`.
 *
 * @example
 * ```ts
 * import { createActor } from 'xstate';
 * import { fromClient, type FromClientLogic, type FromClientInput } from 'wsmachine';
 * const logic: FromClientLogic<FromClientInput> = fromClient();
 * const ws = createActor(logic, { input: { url: 'wss://example.test/feed' } });
 * ws.on('wsmachine.open', ({ sessionId }) => console.log('open', sessionId));
 * ws.start();
 * ```
 */
export type FromClientLogic<TInput = FromClientInput> = ActorLogic<
  FromClientSnapshot,
  FromClientCommand,
  TInput,
  ActorSystem<any>,
  FromClientEvent
>;

/**
 * The input type of `fromClient(defaults)`: the url may be left out when the defaults have one.
 *
 * @example
 * ```ts
 * import type { FromClientInputOver } from 'wsmachine';
 * type Input = FromClientInputOver<{ url: string }>; // Partial<FromClientInput> | undefined
 * ```
 */
export type FromClientInputOver<D> = D extends { url: unknown }
  ? Partial<FromClientInput> | undefined
  : FromClientInput;

/**
 * The `fromClient` function each entry point exports (`wsmachine` with the native `WebSocket`,
 * `wsmachine/node` with `ws` as the default adapter).
 *
 * @example
 * ```ts
 * import { fromClient, type FromClient } from 'wsmachine';
 * const make: FromClient = fromClient;
 * const feedLogic = make({ url: 'wss://example.test/feed', reconnect: { maxDelayMs: 5_000 } });
 * ```
 */
export interface FromClient {
  /** Actor logic whose `input` is every client option (`url` required). */
  (): FromClientLogic<FromClientInput>;
  /** Actor logic whose `input` is merged over `defaults` (`url` optional when the defaults have one). */
  <D extends Partial<FromClientInput>>(defaults: D): FromClientLogic<FromClientInputOver<D>>;
}
