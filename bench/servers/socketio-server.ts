/**
 * socket.io server for the bench (socket.io speaks its own protocol over WebSocket, so it is measured
 * against its own server and reported separately). Run in its own process; websocket transport only.
 *
 *   node --import tsx bench/servers/socketio-server.ts
 *
 * - `echo` event with an ack: the ack returns the payload (request/response).
 * - `stream` event `{ count, size, binary, frames }`: emits `count` `m` events. With `frames: true`
 *   (text only) the encoded socket.io packets (`42["m","..."]`) are written as pre-encoded WebSocket
 *   frames straight to the TCP socket, as the raw-ws stream server does; otherwise one `emit` each.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { Server } from 'socket.io';

const http = createServer();
const io = new Server(http, { transports: ['websocket'], perMessageDeflate: false, serveClient: false });

function textPayload(size: number): string {
  return 'abcdefghijklmnopqrstuvwxyz'.repeat(Math.ceil(size / 26)).slice(0, size);
}

function encodeTextFrame(payload: Buffer): Buffer {
  const len = payload.length;
  let header: Buffer;
  if (len < 126) header = Buffer.from([0x81, len]);
  else {
    header = Buffer.alloc(4);
    header[0] = 0x81;
    header[1] = 126;
    header.writeUInt16BE(len, 2);
  }
  return Buffer.concat([header, payload]);
}

function drained(socket: Duplex): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      socket.off('drain', done);
      socket.off('close', done);
      resolve();
    };
    socket.once('drain', done);
    socket.once('close', done);
  });
}

io.on('connection', (socket) => {
  socket.on('echo', (payload: unknown, ack: (p: unknown) => void) => ack(payload));
  socket.on('stream', async (cmd: { count: number; size: number; binary: boolean; frames: boolean }) => {
    // engine.io's websocket transport keeps the `ws` socket as `socket`; ws keeps the TCP socket as `_socket`.
    const raw = (
      socket.conn as unknown as {
        transport: { socket: { _socket: Duplex & { writableNeedDrain: boolean } } };
      }
    ).transport.socket._socket;
    const payload = cmd.binary ? Buffer.alloc(cmd.size, 0xab) : textPayload(cmd.size);
    let left = cmd.count;
    if (cmd.frames && !cmd.binary) {
      const frame = encodeTextFrame(Buffer.from(`42${JSON.stringify(['m', payload])}`));
      const perChunk = Math.max(1, Math.floor((256 * 1024) / frame.length));
      const chunk = Buffer.concat(Array.from({ length: perChunk }, () => frame));
      while (left > 0 && !raw.destroyed) {
        const n = Math.min(left, perChunk);
        const ok = raw.write(n === perChunk ? chunk : Buffer.concat(Array.from({ length: n }, () => frame)));
        left -= n;
        if (!ok) await drained(raw);
      }
      return;
    }
    while (left > 0 && socket.connected) {
      const batch = Math.min(left, 256);
      for (let i = 0; i < batch; i++) socket.emit('m', payload);
      left -= batch;
      if (raw.writableNeedDrain) await drained(raw);
      else await new Promise((r) => setImmediate(r));
    }
  });
});

http.listen(0, '127.0.0.1', () => {
  const { port } = http.address() as AddressInfo;
  if (process.send) process.send({ port });
  else console.log(`socket.io server on http://127.0.0.1:${port}`);
});

process.on('disconnect', () => process.exit(0));
