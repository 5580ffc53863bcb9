/**
 * `wsmachine/compat`, browser-safe: a drop-in `ReconnectingWebSocket` (reconnecting-websocket's and
 * partysocket's interface) over a wsmachine client on the native `WebSocket`, dispatching the runtime's
 * own event classes. Node resolves `wsmachine/compat` to `compat-node.ts` (the `node` export condition).
 * This module graph never reaches `ws`, `node:*` or OpenTelemetry (a test bundles it and checks).
 */
import { ReconnectingWebSocketBase } from './compat/reconnecting-websocket.js';
import type { CompatRuntime, EventKit } from './compat/runtime.js';
import { platformEventKit } from './compat/platform-events.js';
import type { ReconnectingWebSocketOptions, UrlProvider } from './compat/types.js';
import { createClient, createNativeAdapter } from './index.js';

export type * from './compat/types.js';

let kit: EventKit | undefined;

const runtime: CompatRuntime = {
  createClient,
  defaultAdapter: () => createNativeAdapter(),
  events: () => {
    kit ??= platformEventKit();
    return kit;
  },
  binaryTypes: ['blob', 'arraybuffer'],
};

/**
 * A reconnecting `WebSocket`: the browser `WebSocket` interface (readyState constants, `binaryType`,
 * `bufferedAmount`, `onX` handlers and listeners kept across reconnects, `close()` with the WHATWG
 * checks) plus reconnecting-websocket's `reconnect()`, `retryCount` and options, over a wsmachine
 * client (`ws.client`): jittered backoff, a bounded send queue that reports overflow, and an
 * inspectable statechart. Switch by changing the import.
 *
 * @throws {InvalidOptionsError} for a bad option, URL or `protocols` argument.
 * @throws {ConnectError} when the runtime has no `WebSocket` and none is given in `options.WebSocket`.
 * @throws {TypeError} when called without `new`.
 *
 * @example
 * ```ts
 * import ReconnectingWebSocket from 'wsmachine/compat'; // was: from 'reconnecting-websocket'
 * const ws = new ReconnectingWebSocket('wss://example.test/feed', [], { maxRetries: 10 });
 * ws.addEventListener('message', (event) => console.log(event.data));
 * ws.send('hello');            // queued until open, then sent in order
 * ws.client.state;             // the wsmachine client underneath: 'connecting', 'open', ...
 * ```
 */
export class ReconnectingWebSocket extends ReconnectingWebSocketBase {
  constructor(
    url: UrlProvider,
    protocols?: string | string[] | null,
    options?: ReconnectingWebSocketOptions,
  ) {
    super(url, protocols, options, runtime);
  }
}

export default ReconnectingWebSocket;
