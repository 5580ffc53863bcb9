/**
 * Real servers on 127.0.0.1 for integration tests, and event-driven waiting helpers for clients.
 *
 * Every server and client made here is registered and torn down by {@link cleanup}: call
 * `afterEach(cleanup)` in each test file. Nothing here sleeps: waits resolve on events and carry a
 * timeout only as a guard that turns a hang into a readable failure.
 */
import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import http from 'node:http';
import net from 'node:net';
import { type WebSocket, WebSocketServer } from 'ws';
import type { ClientState } from '../../src/core/types.js';
import type { WsClient } from '../../src/node.js';
import type { ClientEvents } from '../../src/types.js';

const HOST = '127.0.0.1';
const DEFAULT_WAIT_MS = 5_000;

// -------------------------------------------------------------------------------------------------
// Teardown registry

const clientTeardowns: Array<() => Promise<void>> = [];
const serverTeardowns: Array<() => Promise<void>> = [];

/** Stops every tracked client, then closes every server made by these helpers. */
export async function cleanup(): Promise<void> {
  const clients = clientTeardowns.splice(0);
  await Promise.allSettled(clients.map((t) => t()));
  const servers = serverTeardowns.splice(0);
  await Promise.allSettled(servers.map((t) => t()));
}

/** Registers a client to be stopped after the test. */
export function track<T extends { stop(): Promise<void> }>(client: T): T {
  clientTeardowns.push(async () => {
    await client.stop().catch(() => {});
  });
  return client;
}

// -------------------------------------------------------------------------------------------------
// Generic event-driven wait

/**
 * Resolves when `predicate()` is true, re-checking it every time `emitter` emits `change`.
 * Rejects after `timeoutMs` (a guard, not a way of waiting) with `label` in the message.
 */
function until(
  emitter: EventEmitter,
  predicate: () => boolean,
  label: string,
  timeoutMs = DEFAULT_WAIT_MS,
): Promise<void> {
  if (predicate()) return Promise.resolve();
  return new Promise<void>((resolve, reject) => {
    const onChange = () => {
      if (!predicate()) return;
      clearTimeout(timer);
      emitter.off('change', onChange);
      resolve();
    };
    const timer = setTimeout(() => {
      emitter.off('change', onChange);
      reject(new Error(`Timed out after ${timeoutMs} ms waiting for ${label}`));
    }, timeoutMs);
    emitter.on('change', onChange);
  });
}

async function listenTcp(server: net.Server | http.Server, port = 0): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, HOST, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return (server.address() as net.AddressInfo).port;
}

function closeServer(server: net.Server | http.Server): Promise<void> {
  return new Promise<void>((resolve) => {
    if (!server.listening) return resolve();
    server.close(() => resolve());
  });
}

// -------------------------------------------------------------------------------------------------
// ws server

/** One connection accepted by a {@link TestWsServer}, seen from the server. */
export interface ServerConnection {
  /** 0-based, in accept order across restarts. */
  index: number;
  socket: WebSocket;
  /** Text messages received on this connection, in order (binary ones as `binary:<n bytes>`). */
  received: string[];
  /** Set once the connection closed: the close code and reason the server saw. */
  closed: { code: number; reason: string } | undefined;
}

/** Options of {@link startWsServer}. */
export interface WsServerOptions {
  /** Send every message back on the connection it came from. @default false */
  echo?: boolean;
  /** Port to listen on. @default 0 (an ephemeral port) */
  port?: number;
  /** Offer permessage-deflate. @default false */
  perMessageDeflate?: boolean;
  /** Called for each new connection (after the helper's own listeners are attached). */
  onConnection?(connection: ServerConnection): void;
}

/** A real `ws` server on 127.0.0.1. */
export interface TestWsServer {
  readonly url: string;
  readonly port: number;
  /** The current `WebSocketServer` (a new one after {@link TestWsServer.restart}). */
  readonly wss: WebSocketServer;
  /** Every connection ever accepted, in order. */
  readonly connections: ServerConnection[];
  /** Connections not closed yet. */
  readonly openConnections: ServerConnection[];
  /** Resolves once `count` connections have been accepted in total; returns the last one. */
  waitForConnections(count: number): Promise<ServerConnection>;
  /** Resolves once connection `index` has received at least `count` messages; returns them. */
  waitForMessages(index: number, count: number): Promise<string[]>;
  /** Resolves once connection `index` has closed; returns what the server saw. */
  waitForClosed(index: number): Promise<{ code: number; reason: string }>;
  /** Kills every open connection without a close frame (TCP teardown): what a crash looks like. */
  terminateAll(): void;
  /** Stops listening and kills every connection (the server process "died"). */
  close(): Promise<void>;
  /** Listens again on the same port (after {@link TestWsServer.close}). */
  restart(): Promise<void>;
}

/**
 * Starts a `ws` server on 127.0.0.1 and an ephemeral port; closed by {@link cleanup}.
 *
 * @example
 * ```ts
 * const server = await startWsServer({ echo: true });
 * ```
 */
export async function startWsServer(options: WsServerOptions = {}): Promise<TestWsServer> {
  const bus = new EventEmitter();
  bus.setMaxListeners(0);
  const connections: ServerConnection[] = [];
  let wss!: WebSocketServer;
  let port = 0;

  const attach = (server: WebSocketServer) => {
    server.on('connection', (socket) => {
      const connection: ServerConnection = {
        index: connections.length,
        socket,
        received: [],
        closed: undefined,
      };
      connections.push(connection);
      socket.on('error', () => {});
      socket.on('message', (data, isBinary) => {
        const buf = data as Buffer;
        connection.received.push(isBinary ? `binary:${buf.byteLength}` : buf.toString());
        if (options.echo) socket.send(buf, { binary: isBinary });
        bus.emit('change');
      });
      socket.on('close', (code, reason) => {
        connection.closed = { code, reason: reason.toString() };
        bus.emit('change');
      });
      options.onConnection?.(connection);
      bus.emit('change');
    });
  };

  const listen = async (onPort: number) => {
    const server = new WebSocketServer({
      host: HOST,
      port: onPort,
      perMessageDeflate: options.perMessageDeflate === true,
    });
    server.on('error', () => {});
    await new Promise<void>((resolve, reject) => {
      server.once('listening', resolve);
      server.once('error', reject);
    });
    attach(server);
    wss = server;
    port = (server.address() as net.AddressInfo).port;
  };

  await listen(options.port ?? 0);

  const terminateAll = () => {
    for (const c of connections) if (c.closed === undefined) c.socket.terminate();
  };
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    terminateAll();
    await new Promise<void>((resolve) => wss.close(() => resolve()));
  };

  const handle: TestWsServer = {
    get url() {
      return `ws://${HOST}:${port}`;
    },
    get port() {
      return port;
    },
    get wss() {
      return wss;
    },
    connections,
    get openConnections() {
      return connections.filter((c) => c.closed === undefined);
    },
    async waitForConnections(count) {
      await until(bus, () => connections.length >= count, `${count} server connection(s)`);
      return connections[count - 1]!;
    },
    async waitForMessages(index, count) {
      await until(
        bus,
        () => (connections[index]?.received.length ?? 0) >= count,
        `${count} message(s) on server connection ${index}`,
      );
      return connections[index]!.received;
    },
    async waitForClosed(index) {
      await until(bus, () => connections[index]?.closed !== undefined, `server connection ${index} to close`);
      return connections[index]!.closed!;
    },
    terminateAll,
    close,
    async restart() {
      if (!closed) await close();
      await listen(port);
      closed = false;
    },
  };
  serverTeardowns.push(close);
  return handle;
}

// -------------------------------------------------------------------------------------------------
// Raw TCP servers

/** A raw TCP server that tracks the sockets it accepted. */
export interface TestTcpServer {
  readonly url: string;
  readonly port: number;
  /** Connections accepted so far. */
  readonly accepted: number;
  /** Accepted connections still open on the server side. */
  readonly open: number;
  /** Bytes received on each accepted connection after the handshake (raw frames). */
  readonly framesReceived: Buffer[];
  /** Resolves once `count` connections have been accepted. */
  waitForAccepted(count: number): Promise<void>;
  /** Resolves once at least one connection was accepted and every accepted one has closed. */
  waitForAllClosed(): Promise<void>;
  /** Resolves once connection `index` has received at least `bytes` bytes after the handshake. */
  waitForFrameBytes(index: number, bytes: number): Promise<Buffer>;
  close(): Promise<void>;
}

function tcpServer(
  onSocket: (socket: net.Socket, index: number, framesReceived: Buffer[], changed: () => void) => void,
) {
  const bus = new EventEmitter();
  bus.setMaxListeners(0);
  const sockets = new Set<net.Socket>();
  const framesReceived: Buffer[] = [];
  let accepted = 0;
  const changed = () => bus.emit('change');
  const server = net.createServer((socket) => {
    const index = accepted++;
    framesReceived[index] = Buffer.alloc(0);
    sockets.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => {
      sockets.delete(socket);
      changed();
    });
    onSocket(socket, index, framesReceived, changed);
    changed();
  });
  return { bus, sockets, framesReceived, server, getAccepted: () => accepted };
}

async function finishTcpServer(t: ReturnType<typeof tcpServer>): Promise<TestTcpServer> {
  const port = await listenTcp(t.server);
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    for (const s of t.sockets) s.destroy();
    await closeServer(t.server);
  };
  serverTeardowns.push(close);
  return {
    url: `ws://${HOST}:${port}`,
    port,
    get accepted() {
      return t.getAccepted();
    },
    get open() {
      return t.sockets.size;
    },
    framesReceived: t.framesReceived,
    waitForAccepted: (count) => until(t.bus, () => t.getAccepted() >= count, `${count} TCP connection(s)`),
    waitForAllClosed: () =>
      until(
        t.bus,
        () => t.getAccepted() > 0 && t.sockets.size === 0,
        'every accepted TCP connection to close',
      ),
    async waitForFrameBytes(index, bytes) {
      await until(
        t.bus,
        () => (t.framesReceived[index]?.length ?? 0) >= bytes,
        `${bytes} byte(s) of frames on connection ${index}`,
      );
      return t.framesReceived[index]!;
    },
    close,
  };
}

/**
 * A raw TCP server that accepts connections and never answers the HTTP upgrade (a stalled server).
 * It reads and discards what it gets, so it notices when the client hangs up.
 */
export async function startSilentTcpServer(): Promise<TestTcpServer> {
  return finishTcpServer(
    tcpServer((socket) => {
      socket.resume();
    }),
  );
}

const WS_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/**
 * A raw TCP server that completes the WebSocket upgrade by hand (a correct `Sec-WebSocket-Accept`)
 * and then never writes another byte: a close frame is never answered. What the client sends after
 * the handshake is recorded in `framesReceived`.
 */
export async function startUpgradeThenSilentServer(): Promise<TestTcpServer> {
  return finishTcpServer(
    tcpServer((socket, index, framesReceived, changed) => {
      let head = Buffer.alloc(0);
      let upgraded = false;
      socket.on('data', (chunk: Buffer) => {
        if (upgraded) {
          framesReceived[index] = Buffer.concat([framesReceived[index]!, chunk]);
          changed();
          return;
        }
        head = Buffer.concat([head, chunk]);
        const end = head.indexOf('\r\n\r\n');
        if (end < 0) return;
        const text = head.subarray(0, end).toString('latin1');
        const key = /^sec-websocket-key:\s*(\S+)\s*$/im.exec(text)?.[1];
        if (key === undefined) {
          socket.destroy();
          return;
        }
        const accept = createHash('sha1')
          .update(key + WS_GUID)
          .digest('base64');
        socket.write(
          'HTTP/1.1 101 Switching Protocols\r\n' +
            'Upgrade: websocket\r\n' +
            'Connection: Upgrade\r\n' +
            `Sec-WebSocket-Accept: ${accept}\r\n\r\n`,
        );
        upgraded = true;
        const rest = head.subarray(end + 4);
        if (rest.length > 0) {
          framesReceived[index] = Buffer.concat([framesReceived[index]!, rest]);
          changed();
        }
      });
    }),
  );
}

/**
 * Decodes the first client frame in `bytes` (client frames are masked).
 * @returns the opcode and, for a close frame, its code and reason.
 */
export function decodeClientFrame(bytes: Buffer): { opcode: number; code?: number; reason?: string } {
  const opcode = bytes[0]! & 0x0f;
  let length = bytes[1]! & 0x7f;
  let offset = 2;
  if (length === 126) {
    length = bytes.readUInt16BE(2);
    offset = 4;
  }
  const mask = bytes.subarray(offset, offset + 4);
  offset += 4;
  const payload = Buffer.alloc(length);
  for (let i = 0; i < length; i++) payload[i] = bytes[offset + i]! ^ mask[i % 4]!;
  if (opcode !== 0x8 || length < 2) return { opcode };
  return { opcode, code: payload.readUInt16BE(0), reason: payload.subarray(2).toString() };
}

/** An HTTP server that rejects every WebSocket upgrade with `status` and `headers`. */
export interface TestRejectingServer {
  readonly url: string;
  /** Upgrade requests received so far. */
  readonly upgrades: number;
  close(): Promise<void>;
}

/**
 * A `node:http` server whose `upgrade` handler writes `HTTP/1.1 <status>` with `headers` and then
 * destroys the socket.
 */
export async function startRejectingServer(
  status: number,
  headers: Record<string, string> = {},
): Promise<TestRejectingServer> {
  const sockets = new Set<net.Socket>();
  let upgrades = 0;
  const server = http.createServer((_req, res) => {
    res.writeHead(status).end();
  });
  server.on('upgrade', (_req, socket: net.Socket) => {
    upgrades++;
    sockets.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
    const lines = [
      `HTTP/1.1 ${status} ${http.STATUS_CODES[status] ?? 'Status'}`,
      ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
      'Content-Length: 0',
      'Connection: close',
      '',
      '',
    ];
    socket.write(lines.join('\r\n'), () => socket.destroy());
  });
  const port = await listenTcp(server);
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    for (const s of sockets) s.destroy();
    server.closeAllConnections();
    await closeServer(server);
  };
  serverTeardowns.push(close);
  return {
    url: `ws://${HOST}:${port}`,
    get upgrades() {
      return upgrades;
    },
    close,
  };
}

/** A port on 127.0.0.1 with nothing listening (bound once, then released). */
export async function freePortClosed(): Promise<number> {
  const server = net.createServer();
  const port = await listenTcp(server);
  await closeServer(server);
  return port;
}

// -------------------------------------------------------------------------------------------------
// Client event recording and waiting

/** Every client event name. */
export const CLIENT_EVENTS = [
  'state',
  'connecting',
  'open',
  'message',
  'close',
  'reconnecting',
  'error',
  'ping',
  'pong',
  'heartbeat-missed',
  'undelivered',
  'stopped',
] as const satisfies ReadonlyArray<keyof ClientEvents>;

type EventName = (typeof CLIENT_EVENTS)[number];

/** What {@link events} records. */
export interface Recorder {
  /** Every `state` event as `'from->to'`, in order. */
  readonly transitions: string[];
  /** Every `state` event's `to`, in order. */
  readonly states: ClientState[];
  /** Every event, in order. */
  readonly log: Array<{ type: EventName; payload: unknown }>;
  /** The payloads of one event type, in order. */
  of<K extends EventName>(type: K): Array<ClientEvents[K]>;
  /** Forgets everything recorded so far. */
  clear(): void;
  /** Stops recording. */
  dispose(): void;
}

/**
 * Records every event of a client (including `error`, so nothing reaches `console.error`).
 *
 * @example
 * ```ts
 * const rec = events(client);
 * await client.start();
 * expect(rec.transitions).toEqual(['idle->connecting', 'connecting->opening', 'opening->open']);
 * ```
 */
export function events(client: WsClient): Recorder {
  const transitions: string[] = [];
  const states: ClientState[] = [];
  const log: Array<{ type: EventName; payload: unknown }> = [];
  const offs = CLIENT_EVENTS.map((type) =>
    client.on(type, (payload: unknown) => {
      log.push({ type, payload });
      if (type === 'state') {
        const { from, to } = payload as ClientEvents['state'];
        transitions.push(`${from}->${to}`);
        states.push(to);
      }
    }),
  );
  return {
    transitions,
    states,
    log,
    of: <K extends EventName>(type: K) =>
      log.filter((e) => e.type === type).map((e) => e.payload as ClientEvents[K]),
    clear() {
      transitions.length = 0;
      states.length = 0;
      log.length = 0;
    },
    dispose() {
      for (const off of offs) off();
    },
  };
}

/**
 * Resolves with the next `event` whose payload satisfies `predicate`.
 * Rejects after `timeoutMs` (a guard against hangs, not a way of waiting).
 */
export function waitForEvent<K extends EventName>(
  client: WsClient,
  event: K,
  predicate: (payload: ClientEvents[K]) => boolean = () => true,
  timeoutMs = DEFAULT_WAIT_MS,
): Promise<ClientEvents[K]> {
  return new Promise((resolve, reject) => {
    const off = client.on(event, (payload) => {
      if (!predicate(payload)) return;
      off();
      clearTimeout(timer);
      resolve(payload);
    });
    const timer = setTimeout(() => {
      off();
      reject(
        new Error(`Timed out after ${timeoutMs} ms waiting for a '${event}' event (state ${client.state})`),
      );
    }, timeoutMs);
  });
}

/**
 * Resolves once `predicate()` holds, re-checking it after every client event.
 *
 * @example
 * ```ts
 * await waitFor(client, () => client.attempt >= 2);
 * ```
 */
export function waitFor(
  client: WsClient,
  predicate: () => boolean,
  label = 'a condition',
  timeoutMs = DEFAULT_WAIT_MS,
): Promise<void> {
  if (predicate()) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const check = () => {
      if (!predicate()) return;
      for (const off of offs) off();
      clearTimeout(timer);
      resolve();
    };
    const offs = CLIENT_EVENTS.map((type) => client.on(type, check));
    const timer = setTimeout(() => {
      for (const off of offs) off();
      reject(new Error(`Timed out after ${timeoutMs} ms waiting for ${label} (state ${client.state})`));
    }, timeoutMs);
  });
}

/** Resolves once `client.state` is `state` (at once if it already is). */
export function waitForState(
  client: WsClient,
  state: ClientState,
  timeoutMs = DEFAULT_WAIT_MS,
): Promise<void> {
  return waitFor(client, () => client.state === state, `state '${state}'`, timeoutMs);
}

/** Number of active `Timeout` resources in this process (Node's view of pending timers). */
export function activeTimers(): number {
  return process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
}

/** A real-time clock for `createClient({ clock })` that knows how many of its timers are pending. */
export interface CountingClock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(id: unknown): void;
  /** Timers set through this clock that have neither fired nor been cleared. */
  pending(): number;
}

/**
 * Real time, with a count of pending timers: the exact view of "no timers left" for one client,
 * unaffected by timers elsewhere in the process.
 */
export function countingClock(): CountingClock {
  const live = new Set<ReturnType<typeof setTimeout>>();
  return {
    now: () => Date.now(),
    setTimeout(fn, ms) {
      const id = setTimeout(() => {
        live.delete(id);
        fn();
      }, ms);
      live.add(id);
      return id;
    },
    clearTimeout(id) {
      live.delete(id as ReturnType<typeof setTimeout>);
      clearTimeout(id as ReturnType<typeof setTimeout>);
    },
    pending: () => live.size,
  };
}
