/**
 * The `WebSocket`-shaped facade over a wsmachine client: reconnecting-websocket's and partysocket's
 * public interface (the WHATWG `WebSocket` plus `reconnect()`, `retryCount` and their options), with
 * the statechart underneath (`ws.client`).
 *
 * The facade holds no lifecycle of its own: `readyState`, `retryCount` and `shouldReconnect` are read
 * from the client each time. What it keeps is what the user set (`binaryType`, the handlers and
 * listeners) and the order of their commands: the close code a pending `reconnect()` asked for, and a
 * `close()` still running, after which a later `reconnect()` starts again.
 */
import { InvalidOptionsError, type Message, type WsClient, createNativeAdapter } from '../public.js';
import { convertIncoming } from './binary.js';
import { checkCloseArguments } from './close-arguments.js';
import { ConnectionFacts } from './connection-facts.js';
import { attachDebug } from './debug.js';
import { type EventType, Listeners } from './listeners.js';
import { checkUrlArgument, mapOptions, normalizeProtocols } from './options.js';
import type { CompatRuntime, EventKit } from './runtime.js';
import { Sender } from './sender.js';
import type {
  BinaryType,
  ListenerOptions,
  ReconnectingWebSocketOptions,
  SendData,
  UrlProvider,
  WebSocketCloseEvent,
  WebSocketErrorEvent,
  WebSocketEvent,
  WebSocketEventMap,
  WebSocketListener,
  WebSocketMessageEvent,
} from './types.js';

type Handler<E> = ((this: ReconnectingWebSocketBase, event: E) => unknown) | null;

/** The `message` of the error event for an error (reconnecting-websocket's `'TIMEOUT'` kept). */
function errorMessage(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  if (code === 'WSM_ERR_OPEN_TIMEOUT') return 'TIMEOUT';
  return error instanceof Error ? error.message : String(error);
}

/**
 * The facade, shared by both entries; each entry's `ReconnectingWebSocket` subclass binds its runtime.
 * The shared implementation; use the entry's `ReconnectingWebSocket`.
 */
export class ReconnectingWebSocketBase {
  /** The connection is being made (also while a new one is dialled after a drop). */
  static readonly CONNECTING = 0;
  /** Open: `send()` writes to the socket. */
  static readonly OPEN = 1;
  /** Closing (after `close()`, `reconnect()`, or a drop being handled). */
  static readonly CLOSING = 2;
  /** Closed: before the first dial with `startClosed`, between attempts, and after `close()`. */
  static readonly CLOSED = 3;

  /** Called with the `open` event. Kept across reconnects. */
  onopen: Handler<WebSocketEvent> = null;
  /** Called with each `message` event. Kept across reconnects. */
  onmessage: Handler<WebSocketMessageEvent> = null;
  /** Called with the `close` event of each connection (or failed attempt). Kept across reconnects. */
  onclose: Handler<WebSocketCloseEvent> = null;
  /** Called with each `error` event. Kept across reconnects. */
  onerror: Handler<WebSocketErrorEvent> = null;

  readonly #wsClient: WsClient;
  readonly #runtime: CompatRuntime;
  readonly #kit: EventKit;
  readonly #listeners = new Listeners();
  readonly #facts: ConnectionFacts;
  readonly #sender: Sender;
  readonly #log: ((...args: unknown[]) => void) | undefined;
  #type: BinaryType = 'blob';
  /** The close frame a `reconnect(code, reason)` asked for, used by the session it ends. */
  #closeRequest: { code: number; reason: string } | undefined;
  /** A `close()` still in progress (a `reconnect()` after it waits for it). */
  #stopping: Promise<void> | undefined;
  /** The `reconnect()` waiting for `stopping`; a later `close()` cancels it. */
  #startAfterStop: object | undefined;

  /**
   * @param url where to connect (a function is called before every attempt).
   * @param protocols subprotocols to offer.
   * @param options reconnecting-websocket's options, and `clientOptions` for the client underneath.
   * @param runtime the entry's choices.
   * @throws {InvalidOptionsError} for a bad option, URL or `protocols` argument.
   */
  constructor(
    url: UrlProvider,
    protocols: string | string[] | null | undefined,
    options: ReconnectingWebSocketOptions | undefined,
    runtime: CompatRuntime,
  ) {
    this.#runtime = runtime;
    this.#kit = runtime.events();
    checkUrlArgument(url);
    const offered = normalizeProtocols(protocols);
    const settings = mapOptions(options, (code, reason, wasClean) =>
      this.#kit.close(this, code, reason, wasClean),
    );
    this.#log = settings.log;
    const inner =
      settings.client.adapter ??
      (settings.WebSocket === undefined ? runtime.defaultAdapter() : createNativeAdapter(settings.WebSocket));
    this.#facts = new ConnectionFacts(inner);
    const hooks = settings.client.hooks ?? {};
    const userOnMessage = hooks.onMessage;
    const userOnClose = hooks.onClose;
    this.#wsClient = runtime.createClient({
      ...settings.client,
      url: url as never,
      ...(offered === undefined ? {} : { protocols: offered }),
      adapter: this.#facts.adapter,
      hooks: {
        ...hooks,
        onMessage:
          userOnMessage === undefined
            ? (message) => this.#receive(message)
            : (message, session) => {
                this.#receive(message);
                return userOnMessage(message, session);
              },
        onClose: (info, session) => {
          const requested = this.#closeRequest;
          this.#closeRequest = undefined;
          if (userOnClose === undefined) return requested;
          const chosen = userOnClose(info, session);
          if (requested === undefined) return chosen;
          // Their hook still runs to the end (and a failure is reported); reconnect()'s frame wins.
          return Promise.resolve(chosen).then(() => requested);
        },
      },
    });
    this.#sender = new Sender(this.#wsClient, (error) => this.#fail(error), this.#log);
    // The debug lines first, so each one comes before what the handlers print for the same event.
    if (this.#log !== undefined) attachDebug(this.#wsClient, this.#log, offered, settings.maxRetries);
    this.#subscribe();
    if (settings.startClosed) this.#log?.('start closed');
    else this.#start();
  }

  /** The wsmachine client underneath: `state`, `actor`, `stats()`, `request()`, `on()` ... */
  get client(): WsClient {
    return this.#wsClient;
  }

  /** {@link ReconnectingWebSocketBase.CONNECTING} on the instance. */
  get CONNECTING(): 0 {
    return 0;
  }
  /** {@link ReconnectingWebSocketBase.OPEN} on the instance. */
  get OPEN(): 1 {
    return 1;
  }
  /** {@link ReconnectingWebSocketBase.CLOSING} on the instance. */
  get CLOSING(): 2 {
    return 2;
  }
  /** {@link ReconnectingWebSocketBase.CLOSED} on the instance. */
  get CLOSED(): 3 {
    return 3;
  }

  /** The client's state as a WebSocket `readyState` (see the README's migration table). */
  get readyState(): number {
    switch (this.#wsClient.state) {
      case 'connecting':
      case 'opening':
        return 0;
      case 'open':
        return 1;
      case 'closing':
        return 2;
      default:
        return 3;
    }
  }

  /** The URL of the current (or last) socket, serialized; `''` before the first dial. */
  get url(): string {
    return this.#facts.url;
  }

  /** The subprotocol the server picked; `''` before open and while a new socket connects. */
  get protocol(): string {
    return this.#facts.protocol;
  }

  /** The extensions the server accepted (e.g. `permessage-deflate`); `''` before open. */
  get extensions(): string {
    return this.#facts.extensions;
  }

  /**
   * Bytes accepted by `send()` and not on the wire yet: the socket's own buffer plus what waits to be
   * sent (queued while not open, or behind a `Blob` being read). Text counts in UTF-16 code units.
   */
  get bufferedAmount(): number {
    return this.#facts.socketBufferedAmount + this.#sender.pendingBytes;
  }

  /** How binary messages are delivered: `'blob'` (default), `'arraybuffer'`, or in Node `'nodebuffer'`. */
  get binaryType(): BinaryType {
    return this.#type;
  }

  /**
   * @throws {InvalidOptionsError} for a value this runtime cannot deliver (a browser ignores it
   *   silently, which hides typos).
   */
  set binaryType(value: BinaryType) {
    if (!this.#runtime.binaryTypes.includes(value)) {
      throw new InvalidOptionsError([
        {
          option: 'binaryType',
          value,
          expected: this.#runtime.binaryTypes.map((t) => `'${t}'`).join(' or '),
        },
      ]);
    }
    this.#type = value;
  }

  /** Reconnect attempts since the last connection that stayed open `minUptime` (or the last start). */
  get retryCount(): number {
    return this.#wsClient.attempt;
  }

  /** partysocket's: `false` once `close()` was called or the client gave up, until `reconnect()`. */
  get shouldReconnect(): boolean {
    const state = this.#wsClient.state;
    return this.#stopping === undefined && state !== 'stopped' && state !== 'idle';
  }

  /**
   * Sends `data` (see {@link SendData}): written to the socket when open, else queued and sent in order
   * once open. Returns `true` when it went to the socket at once (partysocket's contract). A message
   * the queue cannot take (`maxEnqueuedMessages`, or after `close()`) is reported as an `error` event.
   */
  send(data: SendData): boolean {
    return this.#sender.send(data);
  }

  /**
   * Closes for good (no reconnect until `reconnect()`). Idempotent. Messages still queued are reported
   * as undelivered (an `error` event).
   *
   * @throws {DOMException} `InvalidAccessError` for a code other than 1000 or 3000-4999;
   *   `SyntaxError` for a reason over 123 UTF-8 bytes.
   */
  close(code?: number, reason?: string): void {
    const args = checkCloseArguments('close()', code, reason);
    this.#startAfterStop = undefined;
    const state = this.#wsClient.state;
    if (this.#stopping !== undefined || state === 'idle' || state === 'stopped') {
      this.#log?.('close: already closed');
      return;
    }
    this.#log?.('close', args.code ?? 1000, args.reason ?? '');
    const stopping = this.#wsClient
      .stop({
        ...(args.code === undefined ? {} : { code: args.code }),
        ...(args.reason === undefined ? {} : { reason: args.reason }),
      })
      .finally(() => {
        if (this.#stopping === stopping) this.#stopping = undefined;
      });
    this.#stopping = stopping;
  }

  /**
   * Closes the current connection (with `code`, default 1000, and `reason`) and connects again; after
   * `close()`, after giving up, or with `startClosed`, connects. Reconnects at once unless it follows
   * another reconnect within `minUptime`, which backs off (a reconnect loop cannot hammer the server).
   *
   * @throws {DOMException} as {@link ReconnectingWebSocketBase.close} does.
   */
  reconnect(code?: number, reason?: string): void {
    const args = checkCloseArguments('reconnect()', code, reason);
    this.#log?.('reconnect', args.code ?? 1000, args.reason ?? '');
    if (this.#stopping !== undefined) {
      const token = {};
      this.#startAfterStop = token;
      void this.#stopping.then(() => {
        if (this.#startAfterStop === token) {
          this.#startAfterStop = undefined;
          this.#start();
        }
      });
      return;
    }
    const state = this.#wsClient.state;
    if (state === 'idle' || state === 'stopped') {
      this.#start();
      return;
    }
    if (state === 'opening' || state === 'open') {
      this.#closeRequest = { code: args.code ?? 1000, reason: args.reason ?? '' };
    }
    this.#wsClient.restart(args.reason);
  }

  /** Adds a listener (a function or a `handleEvent` object); other event types are ignored. */
  addEventListener<K extends keyof WebSocketEventMap>(
    type: K,
    listener: WebSocketListener<WebSocketEventMap[K]> | null,
    options?: boolean | ListenerOptions,
  ): void;
  /** Adds a listener for any type: only the four WebSocket event types are ever dispatched. */
  addEventListener(
    type: string,
    listener: WebSocketListener<never> | null,
    options?: boolean | ListenerOptions,
  ): void;
  addEventListener(type: string, listener: unknown, options?: boolean | ListenerOptions): void {
    this.#listeners.add(type, listener, options);
  }

  /** Removes a listener added with the same function (or object) and `capture`. */
  removeEventListener<K extends keyof WebSocketEventMap>(
    type: K,
    listener: WebSocketListener<WebSocketEventMap[K]> | null,
    options?: boolean | ListenerOptions,
  ): void;
  /** Removes a listener of any type. */
  removeEventListener(
    type: string,
    listener: WebSocketListener<never> | null,
    options?: boolean | ListenerOptions,
  ): void;
  removeEventListener(type: string, listener: unknown, options?: boolean | ListenerOptions): void {
    this.#listeners.remove(type, listener, options);
  }

  /**
   * Dispatches `event` to the `onX` handler and listeners of its type, as reconnecting-websocket's
   * `dispatchEvent` does. Returns `false` when a listener cancelled it.
   */
  dispatchEvent(event: { type: string }): boolean {
    const type = event.type;
    if (!Listeners.knows(type)) return true;
    this.#listeners.dispatch(this, type, this.#handler(type), event);
    return (event as { defaultPrevented?: boolean }).defaultPrevented !== true;
  }

  #handler(type: EventType): unknown {
    if (type === 'message') return this.onmessage;
    if (type === 'open') return this.onopen;
    if (type === 'close') return this.onclose;
    return this.onerror;
  }

  #start(): void {
    // Every failure also arrives as an `error` and a `close` event; the promise adds nothing.
    this.#wsClient.start().catch(() => {});
  }

  /** The receive path: one event per message, skipped when nobody listens. */
  #receive(message: Message): void {
    const handler = this.onmessage;
    if (handler === null && !this.#listeners.has('message')) return;
    const raw = message.data;
    const data = typeof raw === 'string' ? raw : convertIncoming(raw, this.#type, this.#runtime.toNodeBuffer);
    this.#log?.('message event');
    this.#listeners.dispatch(this, 'message', handler, this.#kit.message(this, data, this.#facts.origin));
  }

  /** An error event (or, with no listener, a console report: nothing is swallowed). */
  #fail(error: unknown, message = errorMessage(error)): void {
    if (this.onerror === null && !this.#listeners.has('error')) {
      console.error('wsmachine/compat: an error with no error listener (set onerror to handle it):', error);
      return;
    }
    this.#listeners.dispatch(this, 'error', this.onerror, this.#kit.error(this, message, error));
  }

  #subscribe(): void {
    const client = this.#wsClient;
    client.on('open', () => this.#listeners.dispatch(this, 'open', this.onopen, this.#kit.open(this)));
    client.on('close', ({ code, reason, wasClean }) => {
      this.#closeRequest = undefined;
      this.#listeners.dispatch(this, 'close', this.onclose, this.#kit.close(this, code, reason, wasClean));
    });
    client.on('error', (error) => this.#fail(error));
    // What the client will not deliver (close() or giving up with messages still queued): the error
    // is the client's UndeliveredError; `ws.client.on('undelivered')` also has the messages.
    client.on('undelivered', ({ messages, reason }) =>
      this.#fail(reason, `${messages.length} queued message(s) will not be delivered: ${reason.message}`),
    );
  }
}
