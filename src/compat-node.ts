/**
 * `wsmachine/compat` in Node (the `node` export condition): the same `ReconnectingWebSocket` as the
 * browser entry, over the `ws` package by default, with `binaryType = 'nodebuffer'` on offer (as `ws`
 * has it), and lightweight event classes (see compat/events.ts for why).
 */
import { Buffer } from 'node:buffer';
import { liteEventKit } from './compat/events.js';
import { ReconnectingWebSocketBase } from './compat/reconnecting-websocket.js';
import type { CompatRuntime } from './compat/runtime.js';
import type { ReconnectingWebSocketOptions, UrlProvider } from './compat/types.js';
import { createClient, createWsAdapter } from './node.js';

export type * from './compat/types.js';

const runtime: CompatRuntime = {
  createClient,
  defaultAdapter: () => createWsAdapter(),
  events: () => liteEventKit,
  binaryTypes: ['blob', 'arraybuffer', 'nodebuffer'],
  toNodeBuffer: (bytes) =>
    Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength),
};

/**
 * A reconnecting `WebSocket` for Node: the browser `WebSocket` interface plus reconnecting-websocket's
 * `reconnect()`, `retryCount` and options, over a wsmachine client (`ws.client`) on the `ws` package
 * (or the `WebSocket` class given in `options.WebSocket`). Switch by changing the import.
 *
 * @throws {InvalidOptionsError} for a bad option, URL or `protocols` argument.
 * @throws {TypeError} when called without `new`.
 *
 * @example
 * ```ts
 * import ReconnectingWebSocket from 'wsmachine/compat'; // was: from 'reconnecting-websocket'
 * const ws = new ReconnectingWebSocket('ws://127.0.0.1:8080', [], { maxRetries: 10 });
 * ws.binaryType = 'nodebuffer';
 * ws.onmessage = (event) => console.log(event.data);
 * ws.onclose = (event) => console.log('closed', event.code, 'retry', ws.retryCount);
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
