/**
 * The demo server (Node): the Go seed's demo protocol (echo, subscribe/unsubscribe, heartbeat
 * publications) with the seed's bugs fixed, a raw echo path, and fault commands (close with a code,
 * drop TCP, stop answering pings, delay replies, close after N messages, reject handshakes with
 * Retry-After). Used by the tests, the `wsmachine` CLI, the demo and the benchmarks.
 *
 * One job per file: the protocol's shapes live in `protocol.ts`; this file is the server.
 */
import { EventEmitter } from 'node:events';
import {
  type IncomingHttpHeaders,
  type IncomingMessage,
  STATUS_CODES,
  type Server,
  createServer,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { type RawData, type WebSocket, WebSocketServer } from 'ws';
import { MAX_CLOSE_REASON_BYTES, isSendableCloseCode } from '../core/close-codes.js';
import {
  type DemoErrorCode,
  DemoErrorCodes,
  type DemoMessageType,
  DemoMessageTypes,
  type DemoResponse,
  type FaultCommand,
  HEARTBEAT_TOPIC,
  type HeartbeatMessage,
  type ReqId,
} from './protocol.js';

/**
 * Options of {@link startDemoServer}.
 *
 * @example
 * ```ts
 * const server = await startDemoServer({ port: 0, heartbeatIntervalMs: 250 });
 * ```
 */
export interface DemoServerOptions {
  /** Interface to listen on. @default '127.0.0.1' */
  host?: string;
  /** Port to listen on; 0 picks a free one (read it back from `server.port`). @default 0 */
  port?: number;
  /** Time between `heartbeat` publications to a subscribed connection. @default 1000 */
  heartbeatIntervalMs?: number;
  /** Path of the raw echo endpoint; every other path speaks the demo protocol. @default '/echo' */
  echoPath?: string;
  /**
   * How long `closeAll()`, `close()` and `restart()` wait for a client to answer the close frame
   * before destroying its socket. @default 1000
   */
  closeTimeoutMs?: number;
  /** Bigger incoming messages close the connection with 1009. @default 16_777_216 (16 MiB) */
  maxPayloadBytes?: number;
}

/**
 * Which endpoint a connection came in on: `'echo'` for `echoPath`, `'demo'` for every other path.
 *
 * @example
 * ```ts
 * import { type DemoEndpoint, startDemoServer } from 'wsmachine/server';
 * const server = await startDemoServer();
 * const perEndpoint: Record<DemoEndpoint, number> = { demo: 0, echo: 0 };
 * server.on('connection', ({ endpoint }) => perEndpoint[endpoint]++);
 * ```
 */
export type DemoEndpoint = 'demo' | 'echo';

/**
 * Events of {@link DemoServer.on}: what a test waits on instead of sleeping.
 *
 * @example
 * ```ts
 * const connected = new Promise((resolve) => server.on('connection', (e) => resolve(e.headers)));
 * ```
 */
export interface DemoServerEvents {
  /** The server listens (at start and after each `restart()`). */
  listening: { port: number };
  /** A WebSocket connection was accepted. */
  connection: {
    id: number;
    endpoint: DemoEndpoint;
    path: string;
    headers: IncomingHttpHeaders;
    protocol: string;
  };
  /** A message arrived (before it is handled). */
  message: { id: number; endpoint: DemoEndpoint; data: string | Uint8Array; binary: boolean };
  /** A connection ended; `code` is what the server saw (1006 when the TCP connection just went away). */
  disconnect: { id: number; code: number; reason: string };
  /** A handshake was answered with an HTTP error by a `reject_handshakes` fault. */
  rejected: { status: number; retryAfterSeconds: number | undefined };
  /** A fault command was applied; `id` is the connection that sent it (undefined: programmatic). */
  fault: { id: number | undefined; command: FaultCommand };
  /** The server stopped listening (`close()`, `kill()`, or the first half of `restart()`). */
  closed: { port: number };
}

/**
 * Counters of {@link DemoServer.stats}.
 *
 * @example
 * ```ts
 * expect(server.stats()).toMatchObject({ accepted: 1, rejected: 0 });
 * ```
 */
export interface DemoServerStats {
  /** WebSocket connections accepted since the server started (across restarts). */
  accepted: number;
  /** Connections open now. */
  open: number;
  /** Handshakes answered with an HTTP error by a `reject_handshakes` fault. */
  rejected: number;
  messagesIn: number;
  messagesOut: number;
}

/**
 * A running demo server. Created by {@link startDemoServer}.
 *
 * @example
 * ```ts
 * const server = await startDemoServer();
 * server.fault({ fault: 'delay', ms: 500 });          // every reply 500 ms late
 * server.rejectHandshakes(2, 503, 1);                  // the next two dials get 503, Retry-After: 1
 * await server.closeAll(4000, 'maintenance');          // a close frame with that code and reason
 * await server.close();                                // 1001 to whoever is left, then stop listening
 * ```
 */
export interface DemoServer {
  /** `ws://host:port`: the demo protocol. */
  readonly url: string;
  /** `ws://host:port/echo`: the raw echo endpoint (text and binary frames echoed unchanged). */
  readonly echoUrl: string;
  readonly host: string;
  /** The port, kept across `restart()`. */
  readonly port: number;
  /** False after `close()` or `kill()` until `restart()`. */
  readonly listening: boolean;
  /** Counters. */
  stats(): DemoServerStats;
  /** Adds a listener; returns a function that removes it. */
  on<K extends keyof DemoServerEvents>(
    event: K,
    listener: (payload: DemoServerEvents[K]) => void,
  ): () => void;
  /**
   * Sends a close frame with `code` and `reason` to every open connection and resolves once they have
   * all closed (a client that does not answer within `closeTimeoutMs` is destroyed).
   * @param code @default 1001 (Going Away)
   * @param reason @default 'server shutting down'
   * @returns how many connections were closed.
   * @throws {RangeError} for a code a server may not send (1004-1006, 1015, outside 1000-4999) or a
   *   reason over 123 UTF-8 bytes.
   */
  closeAll(code?: number, reason?: string): Promise<number>;
  /** Destroys every open connection's TCP socket without a close frame; returns how many. */
  dropAll(): number;
  /**
   * Applies a fault. `close`, `drop` and `close_after` act on every connection open now; `no_pong`
   * and `delay` set server-wide behaviour for every connection, now and later, until turned off
   * (`{ fault: 'no_pong', enabled: false }`, `{ fault: 'delay', ms: 0 }`); `reject_handshakes`
   * rejects the next handshakes. Settings survive `restart()`.
   * @throws {RangeError} when a parameter is out of range.
   */
  fault(command: FaultCommand): void;
  /**
   * Answers the next `count` handshakes with HTTP `status` (and `Retry-After: retryAfterSeconds`).
   * @param status @default 503
   */
  rejectHandshakes(count: number, status?: number, retryAfterSeconds?: number): void;
  /**
   * Stops listening and destroys every connection without a close frame: what a crash looks like to
   * clients (close 1006, then connection refused). Resolves once the port is free.
   */
  kill(): Promise<void>;
  /**
   * Shuts down: `closeAll(code, reason)` (1001 by default), then stops listening. Idempotent.
   */
  close(options?: { code?: number; reason?: string }): Promise<void>;
  /**
   * Listens again on the same port, so clients reconnect to the same URL. When still listening, it
   * first closes every connection with 1012 (Service Restart), or kills them with `{ kill: true }`.
   */
  restart(options?: { kill?: boolean; code?: number; reason?: string }): Promise<void>;
}

interface Connection {
  readonly id: number;
  readonly endpoint: DemoEndpoint;
  readonly socket: WebSocket;
  readonly openedAt: number;
  readonly closed: Promise<void>;
  ended: boolean;
  subscription: { timer: NodeJS.Timeout; seq: number } | undefined;
  /** Per-connection override of the server-wide setting. */
  noPong: boolean | undefined;
  /** Per-connection override of the server-wide setting. */
  delayMs: number | undefined;
  closeAfter: { remaining: number; code: number; reason: string } | undefined;
  readonly timers: Set<NodeJS.Timeout>;
}

const OPEN = 1;
const encoder = new TextEncoder();

function validateClose(code: number, reason: string): void {
  if (!isSendableCloseCode(code)) {
    throw new RangeError(
      `close code ${String(code)} cannot be sent: use 1000-1003, 1007-1014 or 3000-4999 (1004-1006 and 1015 are reserved)`,
    );
  }
  if (encoder.encode(reason).byteLength > MAX_CLOSE_REASON_BYTES) {
    throw new RangeError(`close reason is longer than ${MAX_CLOSE_REASON_BYTES} UTF-8 bytes`);
  }
}

function isInt(value: unknown, min: number, max: number): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max;
}

/**
 * Checks a fault command (from JSON or code) and fills in its defaults.
 * @returns the command, or a message saying what is wrong.
 */
function normalizeFault(input: Record<string, unknown>): FaultCommand | string {
  const code = input.code ?? 1001;
  const closeProblem = () => {
    if (!isInt(code, 1000, 4999)) return 'code must be an integer close code';
    if (input.reason !== undefined && typeof input.reason !== 'string') return 'reason must be a string';
    try {
      validateClose(code, (input.reason as string | undefined) ?? '');
    } catch (error) {
      return (error as Error).message;
    }
    return undefined;
  };
  switch (input.fault) {
    case 'close': {
      const problem = closeProblem();
      if (problem !== undefined) return problem;
      return { fault: 'close', code: code as number, reason: (input.reason as string) ?? 'fault: close' };
    }
    case 'drop':
      return { fault: 'drop' };
    case 'no_pong':
      if (input.enabled !== undefined && typeof input.enabled !== 'boolean')
        return 'enabled must be a boolean';
      return { fault: 'no_pong', enabled: input.enabled !== false };
    case 'delay':
      if (!isInt(input.ms, 0, 600_000)) return 'ms must be an integer from 0 to 600000';
      return { fault: 'delay', ms: input.ms };
    case 'close_after': {
      if (!isInt(input.messages, 1, 1_000_000)) return 'messages must be an integer >= 1';
      const problem = closeProblem();
      if (problem !== undefined) return problem;
      return {
        fault: 'close_after',
        messages: input.messages,
        code: code as number,
        reason: (input.reason as string) ?? 'fault: close_after',
      };
    }
    case 'reject_handshakes': {
      const count = input.count ?? 1;
      const status = input.status ?? 503;
      if (!isInt(count, 1, 1_000_000)) return 'count must be an integer >= 1';
      if (!isInt(status, 400, 599)) return 'status must be an HTTP error status (400-599)';
      if (input.retryAfterSeconds !== undefined && !isInt(input.retryAfterSeconds, 0, 86_400))
        return 'retryAfterSeconds must be an integer from 0 to 86400';
      return {
        fault: 'reject_handshakes',
        count,
        status,
        ...(input.retryAfterSeconds === undefined
          ? {}
          : { retryAfterSeconds: input.retryAfterSeconds as number }),
      };
    }
    default:
      return `unknown fault ${JSON.stringify(input.fault)}: use close, drop, no_pong, delay, close_after or reject_handshakes`;
  }
}

/** Maps a request type to its reply type. */
function replyTypeOf(type: string): DemoMessageType {
  switch (type) {
    case DemoMessageTypes.ECHO_REQUEST:
      return DemoMessageTypes.ECHO_RESPONSE;
    case DemoMessageTypes.SUBSCRIBE_REQUEST:
      return DemoMessageTypes.SUBSCRIBE_RESPONSE;
    case DemoMessageTypes.UNSUBSCRIBE_REQUEST:
      return DemoMessageTypes.UNSUBSCRIBE_RESPONSE;
    case DemoMessageTypes.FAULT_REQUEST:
      return DemoMessageTypes.FAULT_RESPONSE;
    default:
      return DemoMessageTypes.ERROR;
  }
}

class DemoServerImpl implements DemoServer {
  readonly host: string;
  private currentPort: number;
  private readonly heartbeatIntervalMs: number;
  private readonly echoPath: string;
  private readonly closeTimeoutMs: number;
  private readonly wss: WebSocketServer;
  private readonly events = new EventEmitter();
  private readonly connections = new Map<number, Connection>();
  private http: Server | undefined;
  private nextId = 1;
  private readonly counters = { accepted: 0, rejected: 0, messagesIn: 0, messagesOut: 0 };
  /** Server-wide fault settings (connections may override noPong and delayMs). */
  private noPong = false;
  private delayMs = 0;
  private reject: { remaining: number; status: number; retryAfterSeconds: number | undefined } | undefined;
  private stopping: Promise<void> | undefined;

  constructor(options: DemoServerOptions) {
    this.host = options.host ?? '127.0.0.1';
    this.currentPort = options.port ?? 0;
    this.heartbeatIntervalMs = options.heartbeatIntervalMs ?? 1000;
    this.echoPath = options.echoPath ?? '/echo';
    this.closeTimeoutMs = options.closeTimeoutMs ?? 1000;
    if (!isInt(this.currentPort, 0, 65_535)) throw new RangeError('port must be an integer from 0 to 65535');
    if (!isInt(this.heartbeatIntervalMs, 1, 86_400_000))
      throw new RangeError('heartbeatIntervalMs must be an integer >= 1');
    if (!isInt(this.closeTimeoutMs, 0, 600_000))
      throw new RangeError('closeTimeoutMs must be an integer >= 0');
    this.events.setMaxListeners(0);
    this.wss = new WebSocketServer({
      noServer: true,
      // Pings are answered by hand, so the no_pong fault can stop answering them.
      autoPong: false,
      maxPayload: options.maxPayloadBytes ?? 16 * 1024 * 1024,
      clientTracking: false,
    });
  }

  get port(): number {
    return this.currentPort;
  }

  get url(): string {
    return `ws://${this.hostForUrl()}:${this.currentPort}`;
  }

  get echoUrl(): string {
    return `${this.url}${this.echoPath}`;
  }

  get listening(): boolean {
    return this.http?.listening === true;
  }

  private hostForUrl(): string {
    return this.host.includes(':') ? `[${this.host}]` : this.host;
  }

  stats(): DemoServerStats {
    return { ...this.counters, open: this.connections.size };
  }

  on<K extends keyof DemoServerEvents>(
    event: K,
    listener: (payload: DemoServerEvents[K]) => void,
  ): () => void {
    this.events.on(event, listener);
    return () => this.events.off(event, listener);
  }

  private emit<K extends keyof DemoServerEvents>(event: K, payload: DemoServerEvents[K]): void {
    this.events.emit(event, payload);
  }

  // -----------------------------------------------------------------------------------------------
  // Listening

  /** @internal */
  async listen(): Promise<void> {
    const server = createServer((req, res) => {
      // Plain HTTP: say what this is instead of hanging.
      const body = `wsmachine demo server: connect with a WebSocket client to ${this.url} (demo protocol) or ${this.echoUrl} (raw echo)\n`;
      res.writeHead(426, { 'content-type': 'text/plain; charset=utf-8', upgrade: 'websocket' });
      res.end(body);
      void req;
    });
    server.on('upgrade', (req, socket, head) => this.onUpgrade(req, socket, head));
    server.on('clientError', (_error, socket) => socket.destroy());
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.currentPort, this.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', () => {});
    this.http = server;
    this.currentPort = (server.address() as AddressInfo).port;
    this.emit('listening', { port: this.currentPort });
  }

  private onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => {});
    const reject = this.reject;
    if (reject !== undefined && reject.remaining > 0) {
      reject.remaining--;
      if (reject.remaining === 0) this.reject = undefined;
      this.counters.rejected++;
      const body = `rejected by the reject_handshakes fault\n`;
      socket.end(
        `HTTP/1.1 ${reject.status} ${STATUS_CODES[reject.status] ?? 'Error'}\r\n` +
          (reject.retryAfterSeconds === undefined ? '' : `Retry-After: ${reject.retryAfterSeconds}\r\n`) +
          'Content-Type: text/plain\r\n' +
          `Content-Length: ${Buffer.byteLength(body)}\r\n` +
          'Connection: close\r\n\r\n' +
          body,
      );
      this.emit('rejected', { status: reject.status, retryAfterSeconds: reject.retryAfterSeconds });
      return;
    }
    let path = '/';
    try {
      path = new URL(req.url ?? '/', 'http://localhost').pathname;
    } catch {
      // A malformed request line: serve the demo protocol.
    }
    const endpoint: DemoEndpoint = path === this.echoPath ? 'echo' : 'demo';
    this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws, req, path, endpoint));
  }

  private accept(socket: WebSocket, req: IncomingMessage, path: string, endpoint: DemoEndpoint): void {
    let markClosed!: () => void;
    const closed = new Promise<void>((resolve) => {
      markClosed = resolve;
    });
    const conn: Connection = {
      id: this.nextId++,
      endpoint,
      socket,
      openedAt: Date.now(),
      closed,
      ended: false,
      subscription: undefined,
      noPong: undefined,
      delayMs: undefined,
      closeAfter: undefined,
      timers: new Set(),
    };
    this.connections.set(conn.id, conn);
    this.counters.accepted++;
    socket.on('error', () => {});
    socket.on('ping', (data: Buffer) => {
      if (!(conn.noPong ?? this.noPong) && socket.readyState === OPEN) socket.pong(data);
    });
    socket.on('message', (data: RawData, isBinary: boolean) =>
      this.onMessage(conn, data as Buffer, isBinary),
    );
    socket.on('close', (code: number, reason: Buffer) => {
      conn.ended = true;
      this.unsubscribe(conn);
      for (const t of conn.timers) clearTimeout(t);
      conn.timers.clear();
      this.connections.delete(conn.id);
      this.emit('disconnect', { id: conn.id, code, reason: reason.toString() });
      markClosed();
    });
    this.emit('connection', {
      id: conn.id,
      endpoint,
      path,
      headers: req.headers,
      protocol: socket.protocol,
    });
  }

  // -----------------------------------------------------------------------------------------------
  // Protocol

  private onMessage(conn: Connection, data: Buffer, binary: boolean): void {
    if (conn.ended) return;
    this.counters.messagesIn++;
    this.emit('message', {
      id: conn.id,
      endpoint: conn.endpoint,
      data: binary ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength) : data.toString(),
      binary,
    });
    if (conn.endpoint === 'echo') {
      this.send(conn, binary ? data : data.toString(), binary, true);
      return;
    }
    if (binary) {
      this.replyError(
        conn,
        DemoMessageTypes.ERROR,
        undefined,
        DemoErrorCodes.BAD_REQUEST,
        'binary frames are not part of the demo protocol (the raw echo endpoint echoes them)',
      );
      return;
    }
    let message: unknown;
    try {
      message = JSON.parse(data.toString());
    } catch (error) {
      this.replyError(
        conn,
        DemoMessageTypes.ERROR,
        undefined,
        DemoErrorCodes.BAD_REQUEST,
        `not JSON: ${(error as Error).message}`,
      );
      return;
    }
    if (typeof message !== 'object' || message === null || Array.isArray(message)) {
      this.replyError(
        conn,
        DemoMessageTypes.ERROR,
        undefined,
        DemoErrorCodes.BAD_REQUEST,
        'a message must be a JSON object with a "type"',
      );
      return;
    }
    const m = message as Record<string, unknown>;
    const rawReqId = m.reqId;
    const reqIdValid =
      rawReqId === undefined ||
      typeof rawReqId === 'string' ||
      (typeof rawReqId === 'number' && Number.isFinite(rawReqId));
    const reqId = reqIdValid ? (rawReqId as ReqId | undefined) : undefined;
    const type = m.type;
    if (typeof type !== 'string') {
      this.replyError(
        conn,
        DemoMessageTypes.ERROR,
        reqId,
        DemoErrorCodes.UNKNOWN_MESSAGE_TYPE,
        'the message has no "type" string',
      );
      return;
    }
    const replyType = replyTypeOf(type);
    if (replyType === DemoMessageTypes.ERROR) {
      this.replyError(
        conn,
        DemoMessageTypes.ERROR,
        reqId,
        DemoErrorCodes.UNKNOWN_MESSAGE_TYPE,
        `unknown message type ${JSON.stringify(type)}`,
      );
      return;
    }
    if (!reqIdValid) {
      this.replyError(
        conn,
        replyType,
        undefined,
        DemoErrorCodes.BAD_REQUEST,
        'reqId must be a string or a number',
      );
      return;
    }
    switch (type) {
      case DemoMessageTypes.ECHO_REQUEST:
        this.handleEcho(conn, reqId, m);
        return;
      case DemoMessageTypes.SUBSCRIBE_REQUEST:
      case DemoMessageTypes.UNSUBSCRIBE_REQUEST:
        this.handleSubscription(conn, replyType, reqId, m.topic, type === DemoMessageTypes.SUBSCRIBE_REQUEST);
        return;
      case DemoMessageTypes.FAULT_REQUEST:
        this.handleFault(conn, reqId, m);
        return;
    }
  }

  private handleEcho(conn: Connection, reqId: ReqId | undefined, m: Record<string, unknown>): void {
    const type = DemoMessageTypes.ECHO_RESPONSE;
    if (m.err !== undefined && typeof m.err !== 'boolean') {
      this.replyError(conn, type, reqId, DemoErrorCodes.BAD_REQUEST, 'err must be a boolean');
      return;
    }
    if (m.err === true) {
      this.replyError(conn, type, reqId, DemoErrorCodes.ASKED_BY_CLIENT, 'the client asked for an error');
      return;
    }
    this.reply(conn, { type, ...(reqId === undefined ? {} : { reqId }), status: 'OK', data: m.data ?? null });
  }

  private handleSubscription(
    conn: Connection,
    type: DemoMessageType,
    reqId: ReqId | undefined,
    topic: unknown,
    subscribe: boolean,
  ): void {
    if (typeof topic !== 'string') {
      this.replyError(conn, type, reqId, DemoErrorCodes.BAD_REQUEST, 'topic must be a string');
      return;
    }
    if (topic !== HEARTBEAT_TOPIC) {
      this.replyError(
        conn,
        type,
        reqId,
        DemoErrorCodes.TOPIC_NOT_FOUND,
        `unknown topic ${JSON.stringify(topic)}: the only topic is "heartbeat"`,
      );
      return;
    }
    if (subscribe) {
      // Checked and set in one synchronous step: a second subscribe can never start a second publisher.
      if (conn.subscription !== undefined) {
        this.replyError(
          conn,
          type,
          reqId,
          DemoErrorCodes.ALREADY_SUBSCRIBED,
          `already subscribed to "${topic}"`,
        );
        return;
      }
      const subscription: { timer: NodeJS.Timeout; seq: number } = {
        seq: 0,
        timer: setInterval(() => this.publishHeartbeat(conn, subscription), this.heartbeatIntervalMs),
      };
      conn.subscription = subscription;
      this.reply(conn, {
        type,
        ...(reqId === undefined ? {} : { reqId }),
        status: 'OK',
        data: { topic, intervalMs: this.heartbeatIntervalMs },
      });
      return;
    }
    if (conn.subscription === undefined) {
      this.replyError(conn, type, reqId, DemoErrorCodes.NOT_SUBSCRIBED, `not subscribed to "${topic}"`);
      return;
    }
    this.unsubscribe(conn);
    this.reply(conn, { type, ...(reqId === undefined ? {} : { reqId }), status: 'OK', data: { topic } });
  }

  private unsubscribe(conn: Connection): void {
    if (conn.subscription === undefined) return;
    clearInterval(conn.subscription.timer);
    conn.subscription = undefined;
  }

  private publishHeartbeat(conn: Connection, subscription: { seq: number }): void {
    // Only the live subscription publishes (a cleared one never does, even if its timer fired late).
    if (conn.subscription !== subscription || conn.ended) return;
    subscription.seq++;
    const now = Date.now();
    const heartbeat: HeartbeatMessage = {
      type: 'heartbeat',
      topic: 'heartbeat',
      seq: subscription.seq,
      timestamp: new Date(now).toISOString(),
      uptimeMs: now - conn.openedAt,
    };
    this.send(conn, JSON.stringify(heartbeat), false, false);
  }

  private handleFault(conn: Connection, reqId: ReqId | undefined, m: Record<string, unknown>): void {
    const type = DemoMessageTypes.FAULT_RESPONSE;
    const command = normalizeFault(m);
    if (typeof command === 'string') {
      this.replyError(conn, type, reqId, DemoErrorCodes.BAD_REQUEST, command);
      return;
    }
    const response = JSON.stringify({
      type,
      ...(reqId === undefined ? {} : { reqId }),
      status: 'OK',
      data: command,
    } satisfies DemoResponse);
    // The fault's own reply is never delayed and never counts towards close_after.
    if (conn.socket.readyState !== OPEN) return;
    this.counters.messagesOut++;
    if (command.fault === 'drop') {
      // Destroy the TCP connection once the reply is handed to the kernel: no close frame.
      conn.socket.send(response, () => conn.socket.terminate());
    } else {
      conn.socket.send(response);
      this.applyFault(command, conn);
    }
    this.emit('fault', { id: conn.id, command });
  }

  /** Applies a normalized fault to one connection (from its fault_request) or to the server. */
  private applyFault(command: FaultCommand, conn: Connection | undefined): void {
    const targets = conn === undefined ? [...this.connections.values()] : [conn];
    switch (command.fault) {
      case 'close':
        for (const c of targets)
          void this.closeConnection(c, command.code ?? 1001, command.reason ?? 'fault: close');
        return;
      case 'drop':
        for (const c of targets) c.socket.terminate();
        return;
      case 'no_pong':
        if (conn === undefined) {
          this.noPong = command.enabled !== false;
          for (const c of targets) c.noPong = undefined;
        } else conn.noPong = command.enabled !== false;
        return;
      case 'delay':
        if (conn === undefined) {
          this.delayMs = command.ms;
          for (const c of targets) c.delayMs = undefined;
        } else conn.delayMs = command.ms;
        return;
      case 'close_after':
        for (const c of targets)
          c.closeAfter = {
            remaining: command.messages,
            code: command.code ?? 1001,
            reason: command.reason ?? 'fault: close_after',
          };
        return;
      case 'reject_handshakes':
        this.reject = {
          remaining: command.count ?? 1,
          status: command.status ?? 503,
          retryAfterSeconds: command.retryAfterSeconds,
        };
        return;
    }
  }

  private reply(conn: Connection, response: DemoResponse): void {
    this.send(conn, JSON.stringify(response), false, true);
  }

  private replyError(
    conn: Connection,
    type: DemoMessageType,
    reqId: ReqId | undefined,
    code: DemoErrorCode,
    message: string,
  ): void {
    this.reply(conn, {
      type,
      ...(reqId === undefined ? {} : { reqId }),
      status: 'ERROR',
      error: { code, message },
    });
  }

  /** Sends on a connection: replies honour the delay fault; every message counts for close_after. */
  private send(conn: Connection, data: string | Buffer, binary: boolean, isReply: boolean): void {
    const delay = isReply ? (conn.delayMs ?? this.delayMs) : 0;
    if (delay > 0) {
      const timer = setTimeout(() => {
        conn.timers.delete(timer);
        this.sendNow(conn, data, binary);
      }, delay);
      conn.timers.add(timer);
      return;
    }
    this.sendNow(conn, data, binary);
  }

  private sendNow(conn: Connection, data: string | Buffer, binary: boolean): void {
    if (conn.ended || conn.socket.readyState !== OPEN) return;
    conn.socket.send(data, { binary });
    this.counters.messagesOut++;
    const closeAfter = conn.closeAfter;
    if (closeAfter !== undefined && --closeAfter.remaining <= 0) {
      conn.closeAfter = undefined;
      void this.closeConnection(conn, closeAfter.code, closeAfter.reason);
    }
  }

  /** Sends a close frame; destroys the socket when the client has not answered within closeTimeoutMs. */
  private closeConnection(conn: Connection, code: number, reason: string): Promise<void> {
    if (!conn.ended) {
      this.unsubscribe(conn);
      try {
        conn.socket.close(code, reason);
      } catch {
        conn.socket.terminate();
      }
      const timer = setTimeout(() => conn.socket.terminate(), this.closeTimeoutMs);
      void conn.closed.then(() => clearTimeout(timer));
    }
    return conn.closed;
  }

  // -----------------------------------------------------------------------------------------------
  // Programmatic control

  async closeAll(code = 1001, reason = 'server shutting down'): Promise<number> {
    validateClose(code, reason);
    const targets = [...this.connections.values()];
    await Promise.all(targets.map((c) => this.closeConnection(c, code, reason)));
    return targets.length;
  }

  dropAll(): number {
    const targets = [...this.connections.values()];
    for (const c of targets) c.socket.terminate();
    return targets.length;
  }

  fault(command: FaultCommand): void {
    const normalized = normalizeFault(command as unknown as Record<string, unknown>);
    if (typeof normalized === 'string') throw new RangeError(`fault: ${normalized}`);
    this.applyFault(normalized, undefined);
    this.emit('fault', { id: undefined, command: normalized });
  }

  rejectHandshakes(count: number, status = 503, retryAfterSeconds?: number): void {
    this.fault({
      fault: 'reject_handshakes',
      count,
      status,
      ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }),
    });
  }

  async kill(): Promise<void> {
    await this.stopListening(async () => {
      const targets = [...this.connections.values()];
      for (const c of targets) c.socket.terminate();
      await Promise.all(targets.map((c) => c.closed));
    });
  }

  async close(options: { code?: number; reason?: string } = {}): Promise<void> {
    const code = options.code ?? 1001;
    const reason = options.reason ?? 'server shutting down';
    validateClose(code, reason);
    await this.stopListening(async () => {
      await this.closeAll(code, reason);
    });
  }

  async restart(options: { kill?: boolean; code?: number; reason?: string } = {}): Promise<void> {
    if (this.stopping !== undefined) await this.stopping;
    if (this.listening) {
      if (options.kill === true) await this.kill();
      else await this.close({ code: options.code ?? 1012, reason: options.reason ?? 'server restarting' });
    }
    await this.listen();
  }

  /** Stops accepting, ends the connections with `endConnections`, and resolves once the port is free. */
  private stopListening(endConnections: () => Promise<void>): Promise<void> {
    if (this.stopping !== undefined) return this.stopping;
    const server = this.http;
    if (server === undefined || !server.listening) return Promise.resolve();
    this.stopping = (async () => {
      const released = new Promise<void>((resolve) => server.close(() => resolve()));
      await endConnections();
      server.closeAllConnections();
      await released;
      this.http = undefined;
      this.emit('closed', { port: this.currentPort });
    })().finally(() => {
      this.stopping = undefined;
    });
    return this.stopping;
  }
}

/**
 * Starts the demo server (Node only) and resolves once it listens.
 *
 * Endpoints: every path speaks the demo protocol (see `wsmachine/server`'s protocol types), except
 * `echoPath` (`/echo`), which echoes text and binary frames unchanged.
 *
 * Demo protocol (JSON objects with a `type`; `reqId` is repeated on every reply, errors included):
 * - `echo_request { reqId, data, err? }` -> `echo_response { reqId, status: 'OK', data }`, or
 *   `status: 'ERROR', error: { code: 'ASKED_BY_CLIENT', message }` when `err` is true.
 * - `subscribe_request { reqId, topic: 'heartbeat' }` -> `subscribe_response`, then
 *   `heartbeat { seq, timestamp, uptimeMs }` every `heartbeatIntervalMs`;
 *   `unsubscribe_request` -> `unsubscribe_response`, and the publications stop.
 *   Errors: `ALREADY_SUBSCRIBED`, `NOT_SUBSCRIBED`, `TOPIC_NOT_FOUND`.
 * - `fault_request { reqId, fault, ... }` -> `fault_response`, then the fault (see {@link FaultCommand}).
 * - Anything else: `error` with `UNKNOWN_MESSAGE_TYPE` (no or unknown `type`) or `BAD_REQUEST`
 *   (not JSON, not an object, binary, a field of the wrong type).
 *
 * @throws {RangeError} for an invalid option; rejects with the listen error (e.g. `EADDRINUSE`).
 *
 * @example
 * ```ts
 * import { startDemoServer } from 'wsmachine/server';
 * import { createClient } from 'wsmachine';
 *
 * const server = await startDemoServer({ port: 0, heartbeatIntervalMs: 500 });
 * const client = createClient({
 *   url: server.url,
 *   prepare: (m) => m.json(),
 *   requests: { key: { request: (_data, p) => p.reqId, response: (m) => (m.prepared as any).reqId } },
 * });
 * await client.start();
 * const reply = await client.request(JSON.stringify({ type: 'echo_request', reqId: 'a', data: 'hi' }), {
 *   params: { reqId: 'a' },
 * });
 * console.log(reply.json()); // { type: 'echo_response', reqId: 'a', status: 'OK', data: 'hi' }
 * await server.kill();      // the client reconnects with backoff ...
 * await server.restart();   // ... to the same URL
 * await client.stop();
 * await server.close();     // 1001 to whoever is still connected
 * ```
 */
export async function startDemoServer(options: DemoServerOptions = {}): Promise<DemoServer> {
  const server = new DemoServerImpl(options);
  await server.listen();
  return server;
}
