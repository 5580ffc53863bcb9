/**
 * A real `ws` server on 127.0.0.1 (port 0) that `replayPath` can drive (a `ReplayServer`): it holds
 * each HTTP upgrade until the path says accept, reject (401/503 from the upgrade handler) or refuse
 * (the TCP connection is destroyed), closes with a code or drops the connection (TCP terminate). It
 * answers the client's close frame by itself, as every `ws` server does. Pongs, floods and broken
 * adapters are the in-memory replay's job.
 */
import { EventEmitter } from 'node:events';
import http from 'node:http';
import type net from 'node:net';
import type { Duplex } from 'node:stream';
import { type WebSocket, WebSocketServer } from 'ws';
import type { ReplayServer, ServerStepType } from '../../src/testing.js';

const SUPPORTED = new Set<ServerStepType>([
  'server.accept',
  'server.reject',
  'server.refuse',
  'server.close',
  'server.drop',
  'server.answerClose',
]);

/** A guard against a hang (not a way of waiting): an upgrade request arrives within milliseconds. */
const UPGRADE_GUARD_MS = 3_000;

interface Upgrade {
  req: http.IncomingMessage;
  socket: Duplex;
  head: Buffer;
}

export class LoopbackServer implements ReplayServer {
  readonly answersCloseItself = true;
  url = '';
  private readonly bus = new EventEmitter();
  private readonly http = http.createServer((_req, res) => res.writeHead(426).end());
  private readonly wss = new WebSocketServer({ noServer: true });
  private pending: Upgrade[] = [];
  private current: WebSocket | undefined;

  async start(): Promise<void> {
    this.http.on('upgrade', (req, socket, head) => {
      socket.on('error', () => {});
      const upgrade = { req, socket, head };
      socket.on('close', () => {
        this.pending = this.pending.filter((p) => p !== upgrade);
      });
      this.pending.push(upgrade);
      this.bus.emit('upgrade');
    });
    await new Promise<void>((resolve) => this.http.listen(0, '127.0.0.1', resolve));
    this.url = `ws://127.0.0.1:${(this.http.address() as net.AddressInfo).port}/`;
  }

  supports(type: ServerStepType): boolean {
    return SUPPORTED.has(type);
  }

  /** The upgrade request of the client's pending dial (it may still be on its way). */
  private nextUpgrade(): Promise<Upgrade> {
    const ready = this.pending.shift();
    if (ready !== undefined) return Promise.resolve(ready);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.bus.off('upgrade', arrived);
        reject(new Error(`no upgrade request reached the server within ${UPGRADE_GUARD_MS} ms`));
      }, UPGRADE_GUARD_MS);
      const arrived = () => {
        const upgrade = this.pending.shift();
        if (upgrade === undefined) return;
        clearTimeout(timer);
        this.bus.off('upgrade', arrived);
        resolve(upgrade);
      };
      this.bus.on('upgrade', arrived);
    });
  }

  private live(): WebSocket {
    if (this.current === undefined) throw new Error('the path needs an open connection at the server');
    return this.current;
  }

  async accept(): Promise<void> {
    const { req, socket, head } = await this.nextUpgrade();
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      ws.on('error', () => {});
      this.current = ws;
    });
  }

  async reject(status: 401 | 503): Promise<void> {
    const { socket } = await this.nextUpgrade();
    socket.end(
      `HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`,
    );
  }

  async refuse(): Promise<void> {
    (await this.nextUpgrade()).socket.destroy();
  }

  close(code: number): void {
    this.live().close(code);
  }

  drop(): void {
    this.live().terminate();
  }

  /** ws answers the client's close frame by itself. */
  answerClose(): void {}

  pong(): void {
    throw new Error('ws answers pings by itself: server.pong is replayed in memory');
  }

  flood(): void {
    throw new Error('server.flood is replayed in memory');
  }

  breakNextConnect(): void {
    throw new Error('adapter.breaks is replayed in memory');
  }

  /** Closes every connection and the server. */
  async shutdown(): Promise<void> {
    for (const c of this.wss.clients) c.terminate();
    for (const p of this.pending) p.socket.destroy();
    this.wss.close();
    const closed = new Promise<void>((resolve) => this.http.close(() => resolve()));
    // A dial the client abandoned may still hold a connection whose request never completed.
    this.http.closeAllConnections();
    await closed;
  }
}
