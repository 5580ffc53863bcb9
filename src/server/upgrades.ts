/**
 * HTTP upgrades: answers a handshake with an HTTP error while the `reject_handshakes` fault lasts,
 * otherwise completes it on the endpoint its path names and registers the connection (ping answers,
 * messages to dispatch, teardown on close).
 */
import { type IncomingMessage, STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import type { RawData, WebSocket } from 'ws';
import type { DemoEndpoint } from './demo-server-api.js';
import { onMessage } from './dispatch.js';
import { type Connection, OPEN, type ServerState, stopPublishing } from './server-state.js';

/** The `upgrade` listener of the HTTP server. */
export function handleUpgrade(state: ServerState, req: IncomingMessage, socket: Duplex, head: Buffer): void {
  socket.on('error', () => {});
  const reject = state.reject;
  if (reject !== undefined && reject.remaining > 0) {
    reject.remaining--;
    if (reject.remaining === 0) state.reject = undefined;
    state.counters.rejected++;
    const body = `rejected by the reject_handshakes fault\n`;
    socket.end(
      `HTTP/1.1 ${reject.status} ${STATUS_CODES[reject.status] ?? 'Error'}\r\n` +
        (reject.retryAfterSeconds === undefined ? '' : `Retry-After: ${reject.retryAfterSeconds}\r\n`) +
        'Content-Type: text/plain\r\n' +
        `Content-Length: ${Buffer.byteLength(body)}\r\n` +
        'Connection: close\r\n\r\n' +
        body,
    );
    state.emit('rejected', { status: reject.status, retryAfterSeconds: reject.retryAfterSeconds });
    return;
  }
  let path = '/';
  try {
    path = new URL(req.url ?? '/', 'http://localhost').pathname;
  } catch {
    // A malformed request line: serve the demo protocol.
  }
  const endpoint: DemoEndpoint = path === state.echoPath ? 'echo' : 'demo';
  state.wss.handleUpgrade(req, socket, head, (ws) => accept(state, ws, req, path, endpoint));
}

function accept(
  state: ServerState,
  socket: WebSocket,
  req: IncomingMessage,
  path: string,
  endpoint: DemoEndpoint,
): void {
  let markClosed!: () => void;
  const closed = new Promise<void>((resolve) => {
    markClosed = resolve;
  });
  const conn: Connection = {
    id: state.nextId++,
    endpoint,
    socket,
    openedAt: performance.now(),
    closed,
    ended: false,
    subscription: undefined,
    noPong: undefined,
    delayMs: undefined,
    closeAfter: undefined,
    timers: new Set(),
  };
  state.connections.set(conn.id, conn);
  state.counters.accepted++;
  socket.on('error', () => {});
  socket.on('ping', (data: Buffer) => {
    if (!(conn.noPong ?? state.noPong) && socket.readyState === OPEN) socket.pong(data);
  });
  socket.on('message', (data: RawData, isBinary: boolean) =>
    onMessage(state, conn, data as Buffer, isBinary),
  );
  socket.on('close', (code: number, reason: Buffer) => {
    conn.ended = true;
    stopPublishing(conn);
    for (const t of conn.timers) clearTimeout(t);
    conn.timers.clear();
    state.connections.delete(conn.id);
    state.emit('disconnect', { id: conn.id, code, reason: reason.toString() });
    markClosed();
  });
  state.emit('connection', {
    id: conn.id,
    endpoint,
    path,
    headers: req.headers,
    protocol: socket.protocol,
  });
}
