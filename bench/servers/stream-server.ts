/**
 * Streaming server for the receive-throughput bench, run in its own process.
 *
 *   node --import tsx bench/servers/stream-server.ts frames|send
 *
 * A client connects and sends one text command, `{"count":N,"size":S,"binary":false}`; the server
 * then streams N messages of S bytes and waits for the next command.
 *
 * - `frames`: the frames are encoded once (header + payload, many frames per chunk) and the same
 *   bytes are written straight to the TCP socket under `ws`, so the server spends almost nothing per
 *   message and the client is the bottleneck.
 * - `send`: a plain server, one `ws.send(payload)` per message (a string for text frames, a Buffer
 *   for binary), waiting for the socket to drain when it is full.
 *
 * Text payloads are ASCII JSON-like strings. Listens on 127.0.0.1 port 0, reports `{ port }` over IPC,
 * and exits when the parent disconnects.
 */
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { type WebSocket, WebSocketServer } from 'ws';

const mode = process.argv[2] === 'send' ? 'send' : 'frames';
const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });

interface Command {
  count: number;
  size: number;
  binary: boolean;
}

/** An ASCII JSON-ish text of exactly `size` bytes. */
function textPayload(size: number): string {
  const head = '{"type":"tick","seq":123456,"data":"';
  const tail = '"}';
  if (size <= head.length + tail.length) return 'x'.repeat(size);
  return (
    head + 'abcdefghijklmnopqrstuvwxyz'.repeat(Math.ceil(size / 26)).slice(0, size - head.length - 2) + tail
  );
}

function payloadOf(cmd: Command): Buffer {
  return cmd.binary ? Buffer.alloc(cmd.size, 0xab) : Buffer.from(textPayload(cmd.size), 'latin1');
}

/** One unmasked server frame (FIN set, opcode text or binary). */
function encodeFrame(payload: Buffer, binary: boolean): Buffer {
  const len = payload.length;
  const first = 0x80 | (binary ? 0x2 : 0x1);
  let header: Buffer;
  if (len < 126) header = Buffer.from([first, len]);
  else if (len < 65536) {
    header = Buffer.alloc(4);
    header[0] = first;
    header[1] = 126;
    header.writeUInt16BE(len, 2);
  } else {
    header = Buffer.alloc(10);
    header[0] = first;
    header[1] = 127;
    header.writeBigUInt64BE(BigInt(len), 2);
  }
  return Buffer.concat([header, payload]);
}

const chunks = new Map<string, { chunk: Buffer; perChunk: number; frame: Buffer }>();

function chunkOf(cmd: Command) {
  const id = `${cmd.size}:${cmd.binary}`;
  let c = chunks.get(id);
  if (c === undefined) {
    const frame = encodeFrame(payloadOf(cmd), cmd.binary);
    const perChunk = Math.max(1, Math.floor((256 * 1024) / frame.length));
    c = { frame, perChunk, chunk: Buffer.concat(Array.from({ length: perChunk }, () => frame)) };
    chunks.set(id, c);
  }
  return c;
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

async function streamFrames(ws: WebSocket, cmd: Command): Promise<void> {
  const socket = (ws as unknown as { _socket: Duplex })._socket;
  const { chunk, perChunk, frame } = chunkOf(cmd);
  let left = cmd.count;
  while (left > 0 && !socket.destroyed) {
    let ok: boolean;
    if (left >= perChunk) {
      ok = socket.write(chunk);
      left -= perChunk;
    } else {
      ok = socket.write(Buffer.concat(Array.from({ length: left }, () => frame)));
      left = 0;
    }
    if (!ok) await drained(socket);
  }
}

async function streamSend(ws: WebSocket, cmd: Command): Promise<void> {
  const socket = (ws as unknown as { _socket: Duplex & { writableNeedDrain: boolean } })._socket;
  const data: string | Buffer = cmd.binary ? payloadOf(cmd) : textPayload(cmd.size);
  let left = cmd.count;
  while (left > 0 && ws.readyState === ws.OPEN) {
    const batch = Math.min(left, 256);
    for (let i = 0; i < batch; i++) ws.send(data, { binary: cmd.binary });
    left -= batch;
    if (socket.writableNeedDrain) await drained(socket);
  }
}

wss.on('connection', (ws) => {
  ws.on('error', () => {});
  ws.on('message', (data) => {
    const cmd = JSON.parse(String(data)) as Command;
    void (mode === 'frames' ? streamFrames(ws, cmd) : streamSend(ws, cmd));
  });
});

wss.on('listening', () => {
  const { port } = wss.address() as AddressInfo;
  if (process.send) process.send({ port, mode });
  else console.log(`stream server (${mode}) on ws://127.0.0.1:${port}`);
});

process.on('disconnect', () => process.exit(0));
