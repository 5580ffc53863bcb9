/**
 * What differs between the facade's two entries (`wsmachine/compat` in Node and in browsers): the
 * client factory, the default socket, the event classes and the binary types on offer. Each entry
 * builds one of these; the facade itself is the same code everywhere.
 */
import type { ClientOptions, SocketAdapter, WsClient } from '../public.js';
import type {
  BinaryType,
  WebSocketCloseEvent,
  WebSocketErrorEvent,
  WebSocketEvent,
  WebSocketMessageEvent,
} from './types.js';

/**
 * Makes the four kinds of event the facade dispatches. `target` is the facade.
 * @internal
 */
export interface EventKit {
  open(target: object): WebSocketEvent;
  message(target: object, data: unknown, origin: string): WebSocketMessageEvent;
  close(target: object, code: number, reason: string, wasClean: boolean): WebSocketCloseEvent;
  error(target: object, message: string, error: unknown): WebSocketErrorEvent;
}

/**
 * One entry's choices.
 */
export interface CompatRuntime {
  /** The entry's `createClient`. */
  readonly createClient: (options: ClientOptions) => WsClient;
  /** The socket used when neither `WebSocket` nor `clientOptions.adapter` is given. */
  readonly defaultAdapter: () => SocketAdapter;
  /** The event classes (built once, on first use). */
  readonly events: () => EventKit;
  /** The `binaryType` values this runtime can deliver. */
  readonly binaryTypes: readonly BinaryType[];
  /** Node only: the bytes as a `Buffer` (for `binaryType = 'nodebuffer'`). */
  readonly toNodeBuffer?: (bytes: Uint8Array) => unknown;
}
