/**
 * Server for the reconnect and memory benches, run in its own process, driven over IPC.
 *
 *   node --import tsx bench/servers/lifecycle-server.ts
 *
 * - A text message `drop` from a client: the server terminates that connection (TCP reset; the
 *   client sees 1006), as a crashed peer or a load balancer would.
 * - IPC `{ op: 'restart', downMs }`: terminates every connection, closes the listener, and listens
 *   again on the same port after `downMs` (a fast restart); answers `{ op: 'restarted' }`.
 * - IPC `{ op: 'storm', windowMs }`: terminates every connection at once, records the time of every
 *   upgrade request (reconnect attempt) for `windowMs`, then answers `{ op: 'storm', dropped, attempts }`
 *   with the attempt times in ms after the drop.
 * - IPC `{ op: 'count' }`: answers `{ op: 'count', clients }`.
 *
 * Listens on 127.0.0.1 port 0; reports `{ port }`; exits when the parent disconnects.
 */
import { type Server, createServer } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { WebSocketServer } from 'ws';

const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, clientTracking: true });
const sockets = new Set<Socket>();
let port = 0;
let attempts: number[] | undefined;
let stormAt = 0;

function makeServer(): Server {
  const http = createServer((_req, res) => {
    res.writeHead(426).end();
  });
  http.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  http.on('upgrade', (req, socket, head) => {
    if (attempts !== undefined) attempts.push(performance.now() - stormAt);
    wss.handleUpgrade(req, socket, head, (ws) => {
      ws.on('error', () => {});
      ws.on('message', (data, isBinary) => {
        if (!isBinary && data.toString() === 'drop') ws.terminate();
      });
    });
  });
  return http;
}

let http = makeServer();

function dropAll(): number {
  const n = wss.clients.size;
  for (const ws of wss.clients) ws.terminate();
  for (const s of sockets) s.destroy();
  return n;
}

process.on('message', (m: { op: string; downMs?: number; windowMs?: number }) => {
  if (m.op === 'count') {
    process.send?.({ op: 'count', clients: wss.clients.size });
  } else if (m.op === 'restart') {
    const old = http;
    old.close();
    dropAll();
    http = makeServer();
    setTimeout(() => {
      http.listen(port, '127.0.0.1', () => process.send?.({ op: 'restarted' }));
    }, m.downMs ?? 0);
  } else if (m.op === 'storm') {
    attempts = [];
    stormAt = performance.now();
    const dropped = dropAll();
    setTimeout(() => {
      process.send?.({ op: 'storm', dropped, attempts });
      attempts = undefined;
    }, m.windowMs ?? 5_000);
  }
});

http.listen(0, '127.0.0.1', () => {
  port = (http.address() as AddressInfo).port;
  if (process.send) process.send({ port });
  else console.log(`lifecycle server on ws://127.0.0.1:${port}`);
});

process.on('disconnect', () => process.exit(0));
