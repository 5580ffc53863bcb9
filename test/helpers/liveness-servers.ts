/**
 * Small real peers for the liveness and connection-policy tests: a `ws` server on 127.0.0.1 port 0
 * whose upgrade decisions are scriptable (accept, or answer with an HTTP status and headers), a TCP
 * port that accepts and never answers, and event helpers that wait for facts instead of sleeping.
 */
import { type IncomingMessage, type Server, createServer } from 'node:http';
import { type AddressInfo, type Socket, createServer as createNetServer } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import type { ClientEvents } from '../../src/types.js';

/** What the server does with one upgrade request. */
export type UpgradeDecision = 'accept' | { status: number; headers?: Record<string, string> };

/** One upgrade request the server saw. */
export interface UpgradeRecord {
  /** 1-based. */
  n: number;
  at: number;
  url: string;
  headers: IncomingMessage['headers'];
  decision: UpgradeDecision;
}

/** One accepted WebSocket connection, with what the server observed on it. */
export interface ServerConnection {
  n: number;
  ws: WebSocket;
  request: IncomingMessage;
  /** Text messages received. */
  received: string[];
  /** performance.now() of every protocol ping received from the client. */
  pings: number[];
  /** Pongs received from the client (answers to server pings). */
  pongs: number;
  /** Resolves with the close code and reason the server observed. */
  closed: Promise<{ code: number; reason: string }>;
}

export interface LiveServerOptions {
  /** Decides each upgrade; default: accept all. */
  onUpgrade?: (n: number, request: IncomingMessage) => UpgradeDecision;
  /** Called for every accepted connection. */
  onConnection?: (conn: ServerConnection) => void;
  /** Answer client pings (ws's default). */
  autoPong?: boolean;
}

export interface LiveServer {
  port: number;
  url: string;
  upgrades: UpgradeRecord[];
  connections: ServerConnection[];
  /** Resolves with the n-th accepted connection (1-based). */
  connection(n: number): Promise<ServerConnection>;
  /** Resolves with the n-th upgrade request (1-based). */
  upgrade(n: number): Promise<UpgradeRecord>;
  close(): Promise<void>;
}

/** A `ws` server on 127.0.0.1 port 0 behind a plain HTTP server, so upgrades can be refused. */
export async function startLiveServer(options: LiveServerOptions = {}): Promise<LiveServer> {
  const http: Server = createServer((_req, res) => {
    res.writeHead(426).end();
  });
  const wss = new WebSocketServer({ noServer: true, autoPong: options.autoPong ?? true });
  const upgrades: UpgradeRecord[] = [];
  const connections: ServerConnection[] = [];
  const connWaiters = new Map<number, (c: ServerConnection) => void>();
  const upgradeWaiters = new Map<number, (u: UpgradeRecord) => void>();
  const rawSockets = new Set<Socket>();
  http.on('connection', (s: Socket) => {
    rawSockets.add(s);
    s.on('close', () => rawSockets.delete(s));
  });

  http.on('upgrade', (request: IncomingMessage, socket: Socket, head: Buffer) => {
    const n = upgrades.length + 1;
    const decision = options.onUpgrade?.(n, request) ?? 'accept';
    const record: UpgradeRecord = {
      n,
      at: performance.now(),
      url: request.url ?? '',
      headers: request.headers,
      decision,
    };
    upgrades.push(record);
    upgradeWaiters.get(n)?.(record);
    if (decision !== 'accept') {
      const lines = [`HTTP/1.1 ${decision.status} Refused`, 'Connection: close', 'Content-Length: 0'];
      for (const [k, v] of Object.entries(decision.headers ?? {})) lines.push(`${k}: ${v}`);
      socket.end(`${lines.join('\r\n')}\r\n\r\n`);
      return;
    }
    wss.handleUpgrade(request, socket, head, (ws) => {
      let onClosed!: (v: { code: number; reason: string }) => void;
      const conn: ServerConnection = {
        n: connections.length + 1,
        ws,
        request,
        received: [],
        pings: [],
        pongs: 0,
        closed: new Promise((resolve) => {
          onClosed = resolve;
        }),
      };
      connections.push(conn);
      ws.on('message', (data, isBinary) => {
        if (!isBinary) conn.received.push(data.toString());
      });
      ws.on('ping', () => conn.pings.push(performance.now()));
      ws.on('pong', () => {
        conn.pongs++;
      });
      ws.on('error', () => {});
      ws.on('close', (code, reason) => onClosed({ code, reason: reason.toString() }));
      options.onConnection?.(conn);
      connWaiters.get(conn.n)?.(conn);
    });
  });

  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const port = (http.address() as AddressInfo).port;
  return {
    port,
    url: `ws://127.0.0.1:${port}/`,
    upgrades,
    connections,
    connection(n) {
      const have = connections[n - 1];
      if (have) return Promise.resolve(have);
      return new Promise((resolve) => connWaiters.set(n, resolve));
    },
    upgrade(n) {
      const have = upgrades[n - 1];
      if (have) return Promise.resolve(have);
      return new Promise((resolve) => upgradeWaiters.set(n, resolve));
    },
    async close() {
      for (const c of wss.clients) c.terminate();
      for (const s of rawSockets) s.destroy();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}

/** A TCP port that accepts connections and never sends a byte (a stalled server or load balancer). */
export interface HangServer {
  port: number;
  url: string;
  readonly accepted: number;
  /** Resolves once `n` connections were accepted. */
  acceptedAtLeast(n: number): Promise<void>;
  close(): Promise<void>;
}

export async function startHangServer(): Promise<HangServer> {
  const sockets = new Set<Socket>();
  let accepted = 0;
  const waiters: Array<{ n: number; resolve: () => void }> = [];
  const server = createNetServer((s) => {
    accepted++;
    sockets.add(s);
    s.on('error', () => {});
    s.on('close', () => sockets.delete(s));
    for (const w of waiters.filter((w) => accepted >= w.n)) w.resolve();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    url: `ws://127.0.0.1:${port}/`,
    get accepted() {
      return accepted;
    },
    acceptedAtLeast(n) {
      if (accepted >= n) return Promise.resolve();
      return new Promise((resolve) => waiters.push({ n, resolve }));
    },
    close() {
      for (const s of sockets) s.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

type E = ClientEvents;

/** Anything with the client's typed `on()` (returns an unsubscribe). */
interface Observable {
  on<K extends keyof E>(event: K, listener: (payload: E[K]) => void): () => void;
}

/**
 * Resolves with the next `event` whose payload passes `predicate`. The guard timer only turns a hang
 * into a readable failure; nothing waits on it in a passing test.
 */
export function nextEvent<K extends keyof E>(
  client: Observable,
  event: K,
  predicate: (payload: E[K]) => boolean = () => true,
  guardMs = 8_000,
): Promise<E[K]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`timed out waiting for the '${String(event)}' event`));
    }, guardMs);
    const off = client.on(event, (payload) => {
      if (!predicate(payload)) return;
      clearTimeout(timer);
      off();
      resolve(payload);
    });
  });
}

/** Resolves once `event` has fired `count` times (counting from now), with every payload. */
export function eventCount<K extends keyof E>(
  client: Observable,
  event: K,
  count: number,
  guardMs = 8_000,
): Promise<Array<E[K]>> {
  const seen: Array<E[K]> = [];
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`timed out waiting for ${count} '${String(event)}' events (saw ${seen.length})`));
    }, guardMs);
    const off = client.on(event, (payload) => {
      seen.push(payload);
      if (seen.length < count) return;
      clearTimeout(timer);
      off();
      resolve(seen);
    });
  });
}

/** Rejects with a readable message if `promise` does not settle within `guardMs`. */
export function within<T>(promise: Promise<T>, what: string, guardMs = 8_000): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const guard = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out: ${what}`)), guardMs);
  });
  return Promise.race([promise, guard]).finally(() => clearTimeout(timer));
}

/** A tiny seeded PRNG (mulberry32): deterministic numbers in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export { WebSocket };
