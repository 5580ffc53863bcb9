/**
 * What a runtime's native `WebSocket` hides from script, and how the native adapter learns it anyway.
 * Browser-safe: no imports of `node:*`, no `process` import (only a guarded global read).
 *
 * Node's built-in client (undici; read in undici v6.24.1, the line Node 20 bundles, and on main):
 * - A server close frame sets `readyState` to CLOSING and echoes the close, but fires no event: `close`
 *   fires only when the server closes the TCP connection, which a faulty server may never do. `send()`
 *   is then silently ignored. Chromium, by contrast, closes the TCP itself 2 s after the closing
 *   handshake and fires `close` with the server's code.
 * - `close()` and the adapter's abandon path cannot end the TCP connection once CLOSING: a peer that
 *   never closes keeps the socket (and the Node process) alive.
 * - A protocol violation fires an `error` whose message names it (undici's `failWebsocketConnection`),
 *   then `close` with 1006: the code undici meant (1002, 1007) is not reported.
 * undici v6 keeps its state on the instance under symbol keys, so the TCP socket is reachable there
 * (`Symbol(response).socket`); undici v7+ keeps it in private fields, out of reach.
 */
import { MessageTooBigError, ProtocolError } from '../core/errors.js';

/**
 * True in Node (and runtimes that present themselves as Node): the runtime whose built-in client
 * never ends a session the server closed without closing TCP, so the adapter must bound it itself.
 */
export function isNodeRuntime(): boolean {
  const versions = (globalThis as { process?: { versions?: { node?: unknown } } }).process?.versions;
  return typeof versions?.node === 'string';
}

/** The TCP socket under a native WebSocket, where the runtime leaves it reachable (undici v6). */
function transportOf(socket: object): { destroy(): void; destroyed?: boolean } | undefined {
  for (const key of Object.getOwnPropertySymbols(socket)) {
    if (key.description !== 'response') continue;
    const response = (socket as Record<symbol, unknown>)[key] as { socket?: unknown } | null | undefined;
    const transport = response?.socket as { destroy?: unknown } | null | undefined;
    if (typeof transport?.destroy === 'function') return transport as { destroy(): void };
  }
  return undefined;
}

/**
 * Destroys the TCP connection under a native WebSocket, when the runtime lets script reach it.
 * @returns true when it did (the runtime then fires `close` itself), false when out of reach.
 */
export function destroyTransport(socket: object): boolean {
  const transport = transportOf(socket);
  if (transport === undefined) return false;
  if (transport.destroyed !== true) transport.destroy();
  return true;
}

/**
 * undici's texts for the violations whose RFC code is not 1002 (`failWebsocketConnection` reasons;
 * undici v6 puts them in `message`, v7+ in `error.message`). Everything else it fails a connection
 * for is a framing error: 1002.
 */
const FAILURE_CODES: ReadonlyArray<readonly [RegExp, number]> = [
  [/invalid utf-?8/i, 1007],
  [/payload length > 2\^31/i, 1009],
];

/**
 * Classifies an `error` event that a runtime fired on an open connection, like the `ws` adapter
 * classifies ws's errors: a protocol violation as {@link ProtocolError} (1002, or 1007 for invalid
 * UTF-8), an oversize frame as {@link MessageTooBigError}.
 *
 * Only Node's client is trusted to fire `error` after open for violations alone (a lost TCP
 * connection fires only `close` there). Browsers hide the reason: their `error` carries no message,
 * so it is left unclassified (the close reports 1006 and the client reconnects), never guessed.
 *
 * @returns the typed error, or undefined when the event does not say what happened.
 */
export function classifyRuntimeFailure(event: unknown, maxPayloadBytes: number): Error | undefined {
  if (!isNodeRuntime()) return undefined;
  const e = event as { message?: unknown; error?: { message?: unknown } } | null | undefined;
  const text =
    typeof e?.message === 'string' && e.message !== ''
      ? e.message
      : typeof e?.error?.message === 'string'
        ? e.error.message
        : '';
  if (text === '') return undefined;
  const code = FAILURE_CODES.find(([pattern]) => pattern.test(text))?.[1] ?? 1002;
  if (code === 1009) return new MessageTooBigError(maxPayloadBytes);
  const cause = e?.error ?? event;
  return code === 1007
    ? new ProtocolError(`Invalid UTF-8 from the server (${text})`, 1007, cause)
    : new ProtocolError(`The server broke the WebSocket protocol: ${text}`, 1002, cause);
}
