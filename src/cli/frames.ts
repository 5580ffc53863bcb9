/**
 * Control frames for the CLI (`/ping`, `/pong`, `-P`), through the public adapter contract only: the
 * `ws` adapter is wrapped so the CLI knows the open connection (to send a ping or pong on it) and sees
 * the ping and pong frames that arrive, before the client does. The client's own heartbeat is not
 * touched: an answer to a `/ping` is one more sign of life, as any inbound frame is.
 */
import type { ConnectionListener, SocketAdapter, SocketConnection } from '../node.js';

/** A control frame kind. */
export type ControlFrame = 'ping' | 'pong';

/** What sending a control frame did. */
export type FrameResult = 'sent' | 'not-open' | 'unsupported';

/** The wrapped adapter and the controls on its open connection. */
export interface FrameTap {
  readonly adapter: SocketAdapter;
  /** Sends a protocol ping or pong on the open connection. Throws the adapter's error (e.g. > 125 bytes). */
  send(kind: ControlFrame, data: Uint8Array): FrameResult;
}

/**
 * Wraps `inner`, calling `onFrame` for every ping and pong frame received.
 *
 * @example
 * ```ts
 * const tap = tapFrames(createWsAdapter(), (kind, data) => console.log('received', kind, data));
 * const client = createClient({ url, adapter: tap.adapter });
 * tap.send('ping', new TextEncoder().encode('hi'));
 * ```
 */
export function tapFrames(
  inner: SocketAdapter,
  onFrame: (kind: ControlFrame, data: Uint8Array) => void,
): FrameTap {
  let open: SocketConnection | undefined;
  const adapter: SocketAdapter = {
    name: inner.name,
    capabilities: inner.capabilities,
    connect(request, listener) {
      let conn: SocketConnection | undefined;
      const tapped: ConnectionListener = {
        onOpen: (info) => {
          open = conn;
          listener.onOpen(info);
        },
        onMessage: (data, binary) => listener.onMessage(data, binary),
        onClose: (info) => {
          if (open === conn) open = undefined;
          listener.onClose(info);
        },
        onPing: (data) => {
          onFrame('ping', data);
          listener.onPing?.(data);
        },
        onPong: (data) => {
          onFrame('pong', data);
          listener.onPong?.(data);
        },
      };
      conn = inner.connect(request, tapped);
      return conn;
    },
  };
  return {
    adapter,
    send(kind, data) {
      if (open === undefined) return 'not-open';
      const method = kind === 'ping' ? open.ping : open.pong;
      if (method === undefined) return 'unsupported';
      method.call(open, data);
      return 'sent';
    },
  };
}
