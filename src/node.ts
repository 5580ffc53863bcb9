/**
 * `wsmachine` in Node (the `node` export condition) and `wsmachine/node`: the same API as the
 * browser entry, with the `ws` adapter as the default.
 */
import { makeFromClient } from './api/from-client.js';
import { makeCreateClient } from './client.js';
import { createWsAdapter } from './transport/ws.js';

export * from './public.js';
export { createWsAdapter, type WsClientOptions } from './transport/ws.js';

/**
 * Creates a client over the `ws` package. See {@link ClientOptions} for every option.
 *
 * @throws {InvalidOptionsError} naming each bad option, its value and the allowed range.
 *
 * @example
 * ```ts
 * import { createClient } from 'wsmachine';
 * const client = createClient({ url: 'ws://127.0.0.1:8080', hooks: { onMessage: (m) => console.log(m.data) } });
 * client.on('state', ({ from, to }) => console.log(from, '->', to));
 * await client.start();          // resolves once open
 * client.send('hello');          // 'sent'
 * await client.stop();           // always settles
 * ```
 */
export const createClient = /* @__PURE__ */ makeCreateClient(() => createWsAdapter());

/**
 * XState actor logic that owns a client (over the `ws` package) for the life of the invoking state:
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
