/**
 * `wsmachine`: the browser-safe entry (also used by Deno, Bun and Node >= 22 when they resolve the
 * default condition). The default adapter is the native `WebSocket`. This module graph never reaches
 * `ws`, `node:*` or OpenTelemetry (a test bundles it and checks).
 */
import { makeFromClient } from './api/from-client.js';
import { makeCreateClient } from './client.js';
import { defaultNativeAdapter } from './transport/native.js';

export * from './public.js';

/**
 * Creates a client over the native `WebSocket`. See {@link ClientOptions} for every option.
 *
 * @throws {InvalidOptionsError} naming each bad option, its value and the allowed range.
 *
 * @example
 * ```ts
 * import { createClient } from 'wsmachine';
 * const client = createClient({ url: 'wss://example.test/feed', hooks: { onMessage: (m) => console.log(m.data) } });
 * await client.start();
 * ```
 */
export const createClient = /* @__PURE__ */ makeCreateClient(defaultNativeAdapter);

/**
 * XState actor logic that owns a client (over the native `WebSocket`) for the life of the invoking state:
 * the client is created and started when the actor starts, and stopped (bounded by `stopTimeoutMs`)
 * when the parent leaves the state. `input` is every `createClient` option, merged over `defaults`,
 * plus `forwardMessages`. The parent receives {@link FromClientEvent}s and may send
 * {@link FromClientCommand}s. The parent's `onError` hears only of a client that gave up (a failed
 * first start, the reconnect policy stopping, bad options); errors it recovers from arrive as
 * `wsmachine.error` events.
 *
 * @example
 * ```ts
 * import { assign, createActor, sendTo, setup } from 'xstate';
 * import { fromClient, type FromClientEvent } from 'wsmachine';
 *
 * const app = setup({
 *   types: { context: {} as { connected: boolean }, events: {} as FromClientEvent | { type: 'ping' } },
 *   actors: { ws: fromClient({ reconnect: { maxDelayMs: 10_000 } }) },
 * }).createMachine({
 *   context: { connected: false },
 *   invoke: { id: 'ws', src: 'ws', input: { url: 'wss://example.test/feed' }, onError: '.failed' },
 *   on: {
 *     'wsmachine.open': { actions: assign({ connected: true }) },
 *     'wsmachine.close': { actions: assign({ connected: false }) },
 *     ping: { actions: sendTo('ws', { type: 'wsmachine.send', data: 'ping' }) },
 *   },
 *   states: { failed: {} },
 * });
 * createActor(app).start();
 * ```
 */
export const fromClient = /* @__PURE__ */ makeFromClient(createClient);
