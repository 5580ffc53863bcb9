/**
 * `wsmachine` in Node (the `node` export condition) and `wsmachine/node`: the same API as the
 * browser entry, with the `ws` adapter as the default.
 */
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
export const createClient = makeCreateClient(() => createWsAdapter());
