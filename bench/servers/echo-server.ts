/**
 * Echo server for the request/response bench, run in its own process.
 *
 *   node --import tsx bench/servers/echo-server.ts plain|batching
 *
 * - `plain`: every message is sent back at once with `ws.send` (one write per reply).
 * - `batching`: messages read in one event-loop turn are collected and sent back on `setImmediate`,
 *   still one frame per reply, but with the TCP socket corked so the replies leave in one write.
 *
 * A text message that starts with `{"jsonrpc"` (the rpc-websockets peer) is answered as JSON-RPC 2.0,
 * `{"jsonrpc":"2.0","id":ID,"result":PARAMS}`, since rpc-websockets rejects an echoed request; every
 * other message is echoed byte for byte.
 *
 * Listens on 127.0.0.1, port 0; reports `{ port }` to the parent over IPC and exits when the parent
 * disconnects.
 */
import type { AddressInfo } from 'node:net';
import { type RawData, type WebSocket, WebSocketServer } from 'ws';

const mode = process.argv[2] === 'batching' ? 'batching' : 'plain';
const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });

/** `{"jsonrpc"` as bytes, to recognise JSON-RPC requests without decoding every message. */
const JSONRPC = Buffer.from('{"jsonrpc"');

function reply(data: Buffer, isBinary: boolean): Buffer | string {
  if (
    isBinary ||
    data.length < JSONRPC.length ||
    data.compare(JSONRPC, 0, JSONRPC.length, 0, JSONRPC.length) !== 0
  )
    return data;
  const req = JSON.parse(data.toString()) as { id: unknown; params: unknown };
  return JSON.stringify({ jsonrpc: '2.0', id: req.id, result: req.params });
}

function plain(ws: WebSocket): void {
  ws.on('message', (data: RawData, isBinary: boolean) =>
    ws.send(reply(data as Buffer, isBinary), { binary: isBinary }),
  );
}

function batching(ws: WebSocket): void {
  const batch: Array<{ data: Buffer | string; binary: boolean }> = [];
  let scheduled = false;
  // ws's underlying net.Socket (not in its public types).
  const socket = (ws as unknown as { _socket: { cork(): void; uncork(): void } })._socket;
  const flush = () => {
    scheduled = false;
    if (ws.readyState !== ws.OPEN) {
      batch.length = 0;
      return;
    }
    socket.cork();
    for (const item of batch) ws.send(item.data, { binary: item.binary });
    batch.length = 0;
    socket.uncork();
  };
  ws.on('message', (data: RawData, isBinary: boolean) => {
    batch.push({ data: reply(data as Buffer, isBinary), binary: isBinary });
    if (!scheduled) {
      scheduled = true;
      setImmediate(flush);
    }
  });
}

wss.on('connection', (ws) => {
  ws.on('error', () => {});
  if (mode === 'batching') batching(ws);
  else plain(ws);
});

wss.on('listening', () => {
  const { port } = wss.address() as AddressInfo;
  if (process.send) process.send({ port, mode });
  else console.log(`echo server (${mode}) on ws://127.0.0.1:${port}`);
});

process.on('disconnect', () => process.exit(0));
