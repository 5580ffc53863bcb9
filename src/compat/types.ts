/**
 * Public types of `wsmachine/compat`: the constructor's options (reconnecting-websocket's and
 * partysocket's names) and the shapes of the events it dispatches. The event shapes are declared here
 * rather than taken from the DOM lib, so the published types work in Node projects without `"DOM"`.
 */
import type { AttemptInfo, ClientOptions } from '../public.js';

/**
 * Where to connect: a URL, or a function called before every attempt that returns one (or a promise
 * of one), e.g. to fetch a fresh ticket. It receives wsmachine's `AttemptInfo` (`attempt`, `signal`,
 * `lastClose`), which reconnecting-websocket's providers simply ignore.
 *
 * @example
 * ```ts
 * import ReconnectingWebSocket, { type UrlProvider } from 'wsmachine/compat';
 * const url: UrlProvider = async () => `wss://api.example.test/feed?ticket=${await getTicket()}`;
 * const ws = new ReconnectingWebSocket(url);
 * ```
 */
export type UrlProvider = string | URL | ((attempt: AttemptInfo) => string | URL | Promise<string | URL>);

/**
 * What `send()` accepts, as the browser `WebSocket` does: text, an `ArrayBuffer`, any
 * `ArrayBufferView` (a `Uint8Array`, a `DataView`, a Node `Buffer`), or a `Blob`. Anything else is sent
 * as `String(data)`, as the WHATWG `send()` does.
 *
 * @example
 * ```ts
 * import ReconnectingWebSocket, { type SendData } from 'wsmachine/compat';
 * const ws = new ReconnectingWebSocket('wss://example.test/feed');
 * const frames: SendData[] = ['hello', new Uint8Array([1, 2, 3]), new Blob(['file'])];
 * for (const frame of frames) ws.send(frame); // queued until open, then sent in this order
 * ```
 */
export type SendData = string | ArrayBuffer | ArrayBufferView | Blob;

/**
 * How binary messages are delivered in `MessageEvent.data`: `'blob'` (the default, as in browsers),
 * `'arraybuffer'`, or, in Node only, `'nodebuffer'` (a `Buffer`, as `ws` offers).
 *
 * @example
 * ```ts
 * import ReconnectingWebSocket, { type BinaryType } from 'wsmachine/compat';
 * const ws = new ReconnectingWebSocket('wss://example.test/feed');
 * const type: BinaryType = 'arraybuffer';
 * ws.binaryType = type; // kept across reconnects
 * ```
 */
export type BinaryType = 'blob' | 'arraybuffer' | 'nodebuffer';

/**
 * Options of `new ReconnectingWebSocket(url, protocols, options)`: reconnecting-websocket's and
 * partysocket's names and meanings, mapped onto a wsmachine client (the README's migration section
 * has the table). Durations are in milliseconds, as theirs are. Anything else the client can do goes
 * in `clientOptions`.
 *
 * @example
 * ```ts
 * import ReconnectingWebSocket from 'wsmachine/compat';
 * const ws = new ReconnectingWebSocket('wss://example.test/feed', [], {
 *   maxRetries: 10,
 *   minReconnectionDelay: 500,
 *   maxReconnectionDelay: 10_000,
 *   connectionTimeout: 4_000,
 *   maxEnqueuedMessages: 100,
 * });
 * ```
 */
export interface ReconnectingWebSocketOptions {
  /**
   * A WebSocket constructor to use instead of the default (`ws` in Node, the global `WebSocket` in
   * browsers), e.g. `ws`'s class or a polyfill. It must look like a WebSocket class (`CLOSING === 2`).
   * @default undefined: `ws` in Node, `globalThis.WebSocket` elsewhere
   */
  WebSocket?: unknown;
  /**
   * Cap of the reconnect delay (wsmachine `reconnect.maxDelayMs`).
   * @default 10_000
   */
  maxReconnectionDelay?: number;
  /**
   * Cap of the first reconnect delay (wsmachine `reconnect.baseDelayMs`); each delay is drawn
   * uniformly below its cap (full jitter). Values above `maxReconnectionDelay` are capped by it.
   * @default 1_000
   */
  minReconnectionDelay?: number;
  /**
   * Growth of the delay cap per attempt (wsmachine `reconnect.factor`), at least 1.
   * @default 1.3
   */
  reconnectionDelayGrowFactor?: number;
  /**
   * A connection must stay open this long before the retry count goes back to 0 (wsmachine
   * `reconnect.resetAfterMs`).
   * @default 5_000
   */
  minUptime?: number;
  /**
   * Bound on dial + handshake (wsmachine `openTimeoutMs`); on expiry an `error` event with
   * `message: 'TIMEOUT'` and a retry. `0` or `Infinity` disables it.
   * @default 4_000
   */
  connectionTimeout?: number;
  /**
   * Reconnect attempts before giving up (wsmachine `reconnect.maxAttempts`); `retryCount` never
   * exceeds it.
   * @default Infinity
   */
  maxRetries?: number;
  /**
   * Messages queued while not open (wsmachine `sendBuffer.maxMessages`). Past it a `send()` is not
   * queued and an `error` event reports it (reconnecting-websocket and partysocket dropped it
   * silently). `0` queues nothing; `Infinity` lifts the count bound (the byte bound stays).
   * @default 1_000
   */
  maxEnqueuedMessages?: number;
  /**
   * Do not connect in the constructor; `reconnect()` connects.
   * @default false
   */
  startClosed?: boolean;
  /**
   * partysocket's policy hook: called with the close event of every ended connection; returning
   * `false` stops reconnecting (wsmachine `reconnect.shouldReconnect`, which it replaces).
   * @default undefined: wsmachine's close-code policy (see the README)
   */
  shouldReconnectOnClose?: (event: WebSocketCloseEvent) => boolean;
  /**
   * Logs the lifecycle as `RWS>` lines (through `debugLogger`).
   * @default false
   */
  debug?: boolean;
  /**
   * Where `debug` lines go; called as `debugLogger('RWS>', ...args)`.
   * @default console.log
   */
  debugLogger?: (...args: unknown[]) => void;
  /**
   * Any other `createClient` option for the client underneath (`heartbeat`, `requests`, `hooks`,
   * `headers` in Node, `adapter`, `clock`, ...). The options above win over the fields they map to.
   * @default {}
   */
  clientOptions?: Omit<ClientOptions, 'url' | 'protocols'>;
}

/**
 * reconnecting-websocket's name for {@link ReconnectingWebSocketOptions}.
 *
 * @example
 * ```ts
 * import ReconnectingWebSocket, { type Options } from 'wsmachine/compat';
 * const options: Options = { maxRetries: 5, debug: true };
 * const ws = new ReconnectingWebSocket('wss://example.test/feed', [], options);
 * ```
 */
export type Options = ReconnectingWebSocketOptions;

/**
 * The fields every event dispatched by the facade has (a subset of the DOM `Event`).
 *
 * @example
 * ```ts
 * import ReconnectingWebSocket, { type WebSocketEvent } from 'wsmachine/compat';
 * const ws = new ReconnectingWebSocket('wss://example.test/feed');
 * ws.addEventListener('open', (event: WebSocketEvent) => console.log(event.type, event.target === ws));
 * ```
 */
export interface WebSocketEvent {
  readonly type: string;
  /** The `ReconnectingWebSocket` that dispatched it. */
  readonly target: unknown;
  readonly currentTarget: unknown;
  readonly timeStamp: number;
  /** Stops the remaining listeners of this dispatch. */
  stopImmediatePropagation(): void;
  stopPropagation(): void;
  preventDefault(): void;
}

/**
 * A `message` event: `data` is a string for text, and per `binaryType` for binary messages.
 *
 * @example
 * ```ts
 * import ReconnectingWebSocket, { type WebSocketMessageEvent } from 'wsmachine/compat';
 * const ws = new ReconnectingWebSocket('wss://example.test/feed');
 * ws.onmessage = (event: WebSocketMessageEvent) => console.log(event.data);
 * ```
 */
export interface WebSocketMessageEvent extends WebSocketEvent {
  readonly data: any;
  /** The origin of the server's URL, e.g. `wss://example.test`. */
  readonly origin: string;
  readonly lastEventId: string;
}

/**
 * A `close` event.
 *
 * @example
 * ```ts
 * import ReconnectingWebSocket, { type WebSocketCloseEvent } from 'wsmachine/compat';
 * const ws = new ReconnectingWebSocket('wss://example.test/feed');
 * ws.onclose = (event: WebSocketCloseEvent) => console.log(event.code, event.reason, event.wasClean);
 * ```
 */
export interface WebSocketCloseEvent extends WebSocketEvent {
  readonly code: number;
  readonly reason: string;
  readonly wasClean: boolean;
}

/**
 * An `error` event: `message` says what happened (`'TIMEOUT'` when `connectionTimeout` expired, as in
 * reconnecting-websocket), `error` is the wsmachine error (`error.code` is a stable `WSM_ERR_*`).
 *
 * @example
 * ```ts
 * import ReconnectingWebSocket, { type WebSocketErrorEvent } from 'wsmachine/compat';
 * const ws = new ReconnectingWebSocket('wss://example.test/feed');
 * ws.onerror = (event: WebSocketErrorEvent) => console.warn(event.message, event.error);
 * ```
 */
export interface WebSocketErrorEvent extends WebSocketEvent {
  readonly message: string;
  readonly error: unknown;
}

/**
 * The events by type, for typed listeners.
 *
 * @example
 * ```ts
 * import ReconnectingWebSocket, { type WebSocketEventMap } from 'wsmachine/compat';
 * const ws = new ReconnectingWebSocket('wss://example.test/feed');
 * const on = <K extends keyof WebSocketEventMap>(type: K, fn: (e: WebSocketEventMap[K]) => void) =>
 *   ws.addEventListener(type, fn);
 * on('close', (e) => console.log(e.code));
 * ```
 */
export interface WebSocketEventMap {
  open: WebSocketEvent;
  message: WebSocketMessageEvent;
  close: WebSocketCloseEvent;
  error: WebSocketErrorEvent;
}

/**
 * A listener: a function, or an object with `handleEvent` (the DOM's `EventListenerObject`).
 *
 * @example
 * ```ts
 * import ReconnectingWebSocket, { type WebSocketListener, type WebSocketMessageEvent } from 'wsmachine/compat';
 * const ws = new ReconnectingWebSocket('wss://example.test/feed');
 * const counter: WebSocketListener<WebSocketMessageEvent> = { count: 0, handleEvent() { this.count++; } } as never;
 * ws.addEventListener('message', counter);
 * ```
 */
export type WebSocketListener<E> = ((event: E) => unknown) | { handleEvent(event: E): unknown };

/**
 * The third argument of `addEventListener`: `once` removes the listener after its first call, `signal`
 * removes it when aborted; `capture` and `passive` are accepted and have no effect (nothing bubbles).
 *
 * @example
 * ```ts
 * import ReconnectingWebSocket, { type ListenerOptions } from 'wsmachine/compat';
 * const ws = new ReconnectingWebSocket('wss://example.test/feed');
 * const stop = new AbortController();
 * const options: ListenerOptions = { once: true, signal: stop.signal };
 * ws.addEventListener('open', () => console.log('first open'), options);
 * ```
 */
export interface ListenerOptions {
  /** Remove the listener after its first call. @default false */
  once?: boolean;
  /** Remove the listener when this signal aborts. @default undefined */
  signal?: AbortSignal;
  /** Part of the listener's identity for `removeEventListener`, as in the DOM; no other effect. @default false */
  capture?: boolean;
  /** Accepted for compatibility; no effect (no WebSocket event is cancelable). @default false */
  passive?: boolean;
}
