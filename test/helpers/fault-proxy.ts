/**
 * A TCP fault proxy on 127.0.0.1 (node:net), placed between a client and a real server to make the
 * network lie: pass-through, blackhole (both ways or one way), reset, latency, refuse, and slicing
 * into tiny segments. Everything stays on loopback and is stopped by `close()`.
 */
import { type AddressInfo, type Server, type Socket, createServer, connect } from 'node:net';

/** The proxy's modes. */
export type FaultMode =
  | { kind: 'pass' }
  /** Bytes in the given direction(s) are swallowed; the sockets stay open (a half-open peer). */
  | { kind: 'blackhole'; direction: 'both' | 'up' | 'down' }
  /** Every new connection is accepted then destroyed at once (connection refused-ish). */
  | { kind: 'refuse' }
  /** Each chunk is delayed by `ms` (order preserved). */
  | { kind: 'latency'; ms: number }
  /** Data is forwarded in `bytes`-sized segments. */
  | { kind: 'slice'; bytes: number };

interface Pair {
  client: Socket;
  upstream: Socket;
}

/** A running fault proxy. */
export interface FaultProxy {
  /** `ws://127.0.0.1:<port>` + path of the proxied server. */
  url: string;
  port: number;
  /** Connections accepted so far. */
  readonly accepted: number;
  /** Live pairs. */
  readonly open: number;
  /** Changes the mode for existing and future connections. */
  set(mode: FaultMode): void;
  /** Resets (RST) every live connection. */
  resetAll(): void;
  /** Closes the listener and every connection. */
  close(): Promise<void>;
}

/**
 * Starts a proxy in front of `target` (host 127.0.0.1).
 *
 * @param path appended to the proxy's URL (e.g. '/feed').
 */
export async function startFaultProxy(targetPort: number, path = ''): Promise<FaultProxy> {
  let mode: FaultMode = { kind: 'pass' };
  let accepted = 0;
  const pairs = new Set<Pair>();

  const forward = (from: Socket, to: Socket, direction: 'up' | 'down') => {
    from.on('data', (chunk: Buffer) => {
      const m = mode;
      if (m.kind === 'blackhole' && (m.direction === 'both' || m.direction === direction)) return;
      if (to.destroyed) return;
      if (m.kind === 'latency') {
        from.pause();
        setTimeout(() => {
          if (!to.destroyed) to.write(chunk);
          from.resume();
        }, m.ms);
        return;
      }
      if (m.kind === 'slice') {
        for (let i = 0; i < chunk.length; i += m.bytes) to.write(chunk.subarray(i, i + m.bytes));
        return;
      }
      to.write(chunk);
    });
  };

  const server: Server = createServer((client) => {
    accepted++;
    if (mode.kind === 'refuse') {
      client.resetAndDestroy();
      return;
    }
    const upstream = connect(targetPort, '127.0.0.1');
    const pair: Pair = { client, upstream };
    pairs.add(pair);
    const end = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end);
    upstream.on('error', end);
    client.on('close', end);
    upstream.on('close', end);
    forward(client, upstream, 'up');
    forward(upstream, client, 'down');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;

  return {
    url: `ws://127.0.0.1:${port}${path}`,
    port,
    get accepted() {
      return accepted;
    },
    get open() {
      return pairs.size;
    },
    set(next) {
      mode = next;
    },
    resetAll() {
      for (const p of pairs) {
        p.client.resetAndDestroy();
        p.upstream.destroy();
      }
      pairs.clear();
    },
    close() {
      for (const p of pairs) {
        p.client.destroy();
        p.upstream.destroy();
      }
      pairs.clear();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
