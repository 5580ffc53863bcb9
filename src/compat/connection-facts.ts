/**
 * The facts about the current socket that the `WebSocket` interface exposes and the client's events
 * do not carry: the URL actually dialled (a `url` function's result, unredacted), its origin, the
 * negotiated subprotocol and extensions, and the socket's own `bufferedAmount`.
 *
 * They are read by wrapping the socket adapter through its public interface (`SocketAdapter`): each
 * `connect()` records the request and the connection it returns, and the listener's `onOpen` records
 * what was negotiated. Every other callback is passed through bound, so the receive path gains one
 * bound-function call and nothing else. Only the latest connection is referenced.
 */
import type { ConnectionListener, SocketAdapter, SocketConnection } from '../public.js';

/** The URL as the WHATWG `url` getter serializes it (`ws://host:1` -> `ws://host:1/`). */
function serialize(url: string): { href: string; origin: string } {
  try {
    const parsed = new URL(url);
    return { href: parsed.href, origin: parsed.origin === 'null' ? '' : parsed.origin };
  } catch {
    return { href: url, origin: '' };
  }
}

/**
 * Facts about the latest socket, and the adapter that records them.
 * @internal
 */
export class ConnectionFacts {
  /** `''` until the first dial. */
  url = '';
  origin = '';
  /** `''` until open, and while a new socket is connecting. */
  protocol = '';
  extensions = '';
  private connection: SocketConnection | undefined;
  readonly adapter: SocketAdapter;

  constructor(inner: SocketAdapter) {
    this.adapter = {
      name: inner.name,
      capabilities: inner.capabilities,
      connect: (request, listener) => {
        const { href, origin } = serialize(request.url);
        this.url = href;
        this.origin = origin;
        this.protocol = '';
        this.extensions = '';
        this.connection = undefined;
        const tapped: ConnectionListener = {
          onOpen: (info) => {
            this.protocol = info.protocol;
            this.extensions = info.extensions;
            listener.onOpen(info);
          },
          onMessage: listener.onMessage.bind(listener),
          onClose: listener.onClose.bind(listener),
          ...(listener.onPong === undefined ? {} : { onPong: listener.onPong.bind(listener) }),
          ...(listener.onPing === undefined ? {} : { onPing: listener.onPing.bind(listener) }),
        };
        const connection = inner.connect(request, tapped);
        this.connection = connection;
        return connection;
      },
    };
  }

  /** The latest socket's `bufferedAmount` (it keeps its last value after the socket closed). */
  get socketBufferedAmount(): number {
    return this.connection?.bufferedAmount ?? 0;
  }
}
