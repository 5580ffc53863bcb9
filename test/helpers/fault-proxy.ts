/**
 * A TCP fault proxy on 127.0.0.1 (node:net), placed between a client and a real server to make the
 * network lie: pass-through, blackhole (both ways or one way), reset, latency, refuse, slicing into
 * tiny segments, and a slow link (bandwidth). Everything stays on loopback and is stopped by `close()`.
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
  | { kind: 'slice'; bytes: number }
  /**
   * A slow link: bytes in `direction` go out at most `bytesPerSecond` (in order, in small slices every
   * few ms); the other direction passes. Bytes already queued drain at that rate even after a mode change.
   */
  | { kind: 'bandwidth'; bytesPerSecond: number; direction: 'both' | 'up' | 'down' };

interface Pair {
  client: Socket;
  upstream: Socket;
}

/** How often a slow link releases its next slice. */
const LINK_TICK_MS = 10;

/** One direction of a slow link: a FIFO drained at a byte rate. */
class SlowLink {
  private readonly chunks: Buffer[] = [];
  private timer: ReturnType<typeof setInterval> | undefined;
  private credit = 0;

  constructor(
    private readonly to: Socket,
    private readonly rate: () => number,
  ) {}

  /** Bytes waiting to go out. */
  get queued(): number {
    let n = 0;
    for (const c of this.chunks) n += c.length;
    return n;
  }

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.timer ??= setInterval(() => this.tick(), LINK_TICK_MS);
  }

  private tick(): void {
    if (this.to.destroyed) {
      this.stop();
      return;
    }
    this.credit += (this.rate() * LINK_TICK_MS) / 1000;
    while (this.credit >= 1 && this.chunks.length > 0) {
      const head = this.chunks[0]!;
      const n = Math.min(head.length, Math.floor(this.credit));
      this.to.write(head.subarray(0, n));
      this.credit -= n;
      if (n === head.length) this.chunks.shift();
      else this.chunks[0] = head.subarray(n);
    }
    if (this.chunks.length === 0) {
      this.credit = 0;
      this.stop();
    }
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }
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

  const links = new Set<SlowLink>();
  const forward = (from: Socket, to: Socket, direction: 'up' | 'down') => {
    let rate = 0;
    const link = new SlowLink(to, () => rate);
    links.add(link);
    to.on('close', () => {
      link.stop();
      links.delete(link);
    });
    from.on('data', (chunk: Buffer) => {
      const m = mode;
      if (m.kind === 'blackhole' && (m.direction === 'both' || m.direction === direction)) return;
      if (to.destroyed) return;
      if (m.kind === 'bandwidth' && (m.direction === 'both' || m.direction === direction)) {
        rate = m.bytesPerSecond;
        link.push(chunk);
        return;
      }
      if (link.queued > 0) {
        // Bytes of an earlier slow period are still in the link: nothing overtakes them.
        link.push(chunk);
        return;
      }
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
      for (const l of links) l.stop();
      links.clear();
      for (const p of pairs) {
        p.client.destroy();
        p.upstream.destroy();
      }
      pairs.clear();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
