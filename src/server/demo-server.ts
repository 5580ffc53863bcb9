/**
 * The demo server (Node): the Go seed's demo protocol (echo, subscribe/unsubscribe, heartbeat
 * publications) with the seed's bugs fixed, a raw echo path, and fault commands (close with a code,
 * drop TCP, stop answering pings, delay replies, close after N messages, reject handshakes with
 * Retry-After). Used by the tests, the `wsmachine` CLI, the demo and the benchmarks.
 *
 * One job per file. This one is the server's lifecycle (listen, close, kill, restart) and its
 * programmatic controls; the others: `demo-server-api.ts` (the public shapes), `upgrades.ts` (HTTP
 * upgrades), `dispatch.ts` (the protocol), `subscriptions.ts` (the heartbeat topic), `faults.ts`
 * (fault injection), `outbound.ts` (replies and close frames), `server-state.ts` (what they share),
 * `protocol.ts` (the wire shapes).
 */
import { EventEmitter } from 'node:events';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import type { DemoServer, DemoServerEvents, DemoServerOptions, DemoServerStats } from './demo-server-api.js';
import { applyFault, normalizeFault } from './faults.js';
import { closeConnection } from './outbound.js';
import type { FaultCommand } from './protocol.js';
import { type ServerState, isInt, validateClose } from './server-state.js';
import { handleUpgrade } from './upgrades.js';

export type {
  DemoEndpoint,
  DemoServer,
  DemoServerEvents,
  DemoServerOptions,
  DemoServerStats,
} from './demo-server-api.js';

class DemoServerImpl implements DemoServer {
  readonly host: string;
  private currentPort: number;
  private readonly events = new EventEmitter();
  private readonly state: ServerState;
  private http: Server | undefined;
  private stopping: Promise<void> | undefined;

  constructor(options: DemoServerOptions) {
    this.host = options.host ?? '127.0.0.1';
    this.currentPort = options.port ?? 0;
    const heartbeatIntervalMs = options.heartbeatIntervalMs ?? 1000;
    const closeTimeoutMs = options.closeTimeoutMs ?? 1000;
    if (!isInt(this.currentPort, 0, 65_535)) throw new RangeError('port must be an integer from 0 to 65535');
    if (!isInt(heartbeatIntervalMs, 1, 86_400_000))
      throw new RangeError('heartbeatIntervalMs must be an integer >= 1');
    if (!isInt(closeTimeoutMs, 0, 600_000)) throw new RangeError('closeTimeoutMs must be an integer >= 0');
    this.events.setMaxListeners(0);
    const events = this.events;
    this.state = {
      heartbeatIntervalMs,
      echoPath: options.echoPath ?? '/echo',
      closeTimeoutMs,
      wss: new WebSocketServer({
        noServer: true,
        // Pings are answered by hand, so the no_pong fault can stop answering them.
        autoPong: false,
        maxPayload: options.maxPayloadBytes ?? 16 * 1024 * 1024,
        clientTracking: false,
      }),
      connections: new Map(),
      counters: { accepted: 0, rejected: 0, messagesIn: 0, messagesOut: 0 },
      noPong: false,
      delayMs: 0,
      reject: undefined,
      nextId: 1,
      emit: (event, payload) => {
        events.emit(event, payload);
      },
    };
  }

  get port(): number {
    return this.currentPort;
  }

  get url(): string {
    return `ws://${this.hostForUrl()}:${this.currentPort}`;
  }

  get echoUrl(): string {
    return `${this.url}${this.state.echoPath}`;
  }

  get listening(): boolean {
    return this.http?.listening === true;
  }

  private hostForUrl(): string {
    return this.host.includes(':') ? `[${this.host}]` : this.host;
  }

  stats(): DemoServerStats {
    return { ...this.state.counters, open: this.state.connections.size };
  }

  on<K extends keyof DemoServerEvents>(
    event: K,
    listener: (payload: DemoServerEvents[K]) => void,
  ): () => void {
    this.events.on(event, listener);
    return () => this.events.off(event, listener);
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
    server.on('upgrade', (req, socket, head) => handleUpgrade(this.state, req, socket, head));
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
    this.state.emit('listening', { port: this.currentPort });
  }

  // -----------------------------------------------------------------------------------------------
  // Programmatic control

  async closeAll(code = 1001, reason = 'server shutting down'): Promise<number> {
    validateClose(code, reason);
    const targets = [...this.state.connections.values()];
    await Promise.all(targets.map((c) => closeConnection(this.state, c, code, reason)));
    return targets.length;
  }

  dropAll(): number {
    const targets = [...this.state.connections.values()];
    for (const c of targets) c.socket.terminate();
    return targets.length;
  }

  fault(command: FaultCommand): void {
    const normalized = normalizeFault(command as unknown as Record<string, unknown>);
    if (typeof normalized === 'string') throw new RangeError(`fault: ${normalized}`);
    applyFault(this.state, normalized, undefined);
    this.state.emit('fault', { id: undefined, command: normalized });
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
      const targets = [...this.state.connections.values()];
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
      this.state.emit('closed', { port: this.currentPort });
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
