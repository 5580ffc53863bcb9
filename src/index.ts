/**
 * `wsmachine`: the browser-safe entry (also used by Deno, Bun and Node >= 22 when they resolve the
 * default condition). The default adapter is the native `WebSocket`. This module graph never reaches
 * `ws`, `node:*` or OpenTelemetry (a test bundles it and checks).
 */
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
export const createClient = makeCreateClient(defaultNativeAdapter);
