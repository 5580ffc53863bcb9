/**
 * A raw WebSocket server on 127.0.0.1 written on node:net: it completes the upgrade by hand and then
 * lets the test write any server frame it likes (unmasked, any opcode, any fragmentation, invalid
 * UTF-8, illegal close codes) and hold or drop the TCP connection at will. What the client sends is
 * decoded frame by frame. No `ws` underneath, so nothing "fixes" what the test means to send.
 *
 * Call `closeRawPeers()` after each test (`afterEach`): it destroys every connection and server.
 */
import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import net from 'node:net';

const WS_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const GUARD_MS = 8_000;

/** Opcodes of RFC 6455 §5.2. */
export const Opcode = {
  CONTINUATION: 0x0,
  TEXT: 0x1,
  BINARY: 0x2,
  CLOSE: 0x8,
  PING: 0x9,
  PONG: 0xa,
} as const;

/** One frame the client sent (client frames are masked; this is the unmasked payload). */
export interface ClientFrame {
  fin: boolean;
  opcode: number;
  payload: Buffer;
  /** For a close frame with a body: its code and reason. */
  code?: number;
  reason?: string;
}

/** One accepted, upgraded connection. */
export interface RawConnection {
  readonly socket: net.Socket;
  /** Frames the client sent after the handshake, in order. */
  readonly received: ClientFrame[];
  /** True once the client's side of the TCP connection has ended (FIN or reset). */
  readonly clientGone: boolean;
  /** Writes one server frame (never masked). */
  frame(opcode: number, payload?: Buffer | string, fin?: boolean): void;
  /** Writes raw bytes after the handshake. */
  write(bytes: Buffer): void;
  /** Writes a close frame with `code` (a 2-byte body) and `reason`; `code` undefined: an empty body. */
  closeFrame(code?: number, reason?: string | Buffer): void;
  /** Resolves with the first client frame (from the start) that matches. */
  waitForFrame(match: (f: ClientFrame) => boolean, what: string): Promise<ClientFrame>;
  /** Resolves once the client has closed or reset its side of the TCP connection. */
  waitForClientGone(): Promise<void>;
}

/** The server. */
export interface RawPeer {
  readonly url: string;
  readonly connections: RawConnection[];
  /** Resolves with connection `index` (0-based) once it has been upgraded. */
  connection(index: number): Promise<RawConnection>;
  close(): Promise<void>;
}

/** Encodes one unmasked server frame. */
export function encodeFrame(opcode: number, payload: Buffer, fin = true): Buffer {
  const length = payload.length;
  const headerLength = length < 126 ? 2 : length < 65_536 ? 4 : 10;
  const frame = Buffer.alloc(headerLength + length);
  frame[0] = (fin ? 0x80 : 0) | opcode;
  if (length < 126) frame[1] = length;
  else if (length < 65_536) {
    frame[1] = 126;
    frame.writeUInt16BE(length, 2);
  } else {
    frame[1] = 127;
    frame.writeBigUInt64BE(BigInt(length), 2);
  }
  payload.copy(frame, headerLength);
  return frame;
}

/** A close frame's body: the code, then the reason (already bytes, or text as UTF-8). */
export function closeBody(code?: number, reason: string | Buffer = ''): Buffer {
  if (code === undefined) return Buffer.alloc(0);
  const text = typeof reason === 'string' ? Buffer.from(reason) : reason;
  const body = Buffer.alloc(2 + text.length);
  body.writeUInt16BE(code, 0);
  text.copy(body, 2);
  return body;
}

/** Parses as many whole masked client frames as `buffer` holds; returns them and the rest. */
function parseClientFrames(buffer: Buffer): { frames: ClientFrame[]; rest: Buffer } {
  const frames: ClientFrame[] = [];
  let offset = 0;
  while (buffer.length - offset >= 2) {
    const b0 = buffer[offset]!;
    const b1 = buffer[offset + 1]!;
    let length = b1 & 0x7f;
    let cursor = offset + 2;
    if (length === 126) {
      if (buffer.length - cursor < 2) break;
      length = buffer.readUInt16BE(cursor);
      cursor += 2;
    } else if (length === 127) {
      if (buffer.length - cursor < 8) break;
      length = Number(buffer.readBigUInt64BE(cursor));
      cursor += 8;
    }
    const masked = (b1 & 0x80) !== 0;
    if (buffer.length - cursor < (masked ? 4 : 0) + length) break;
    const mask = masked ? buffer.subarray(cursor, cursor + 4) : undefined;
    if (masked) cursor += 4;
    const payload = Buffer.from(buffer.subarray(cursor, cursor + length));
    if (mask) for (let i = 0; i < payload.length; i++) payload[i] = payload[i]! ^ mask[i % 4]!;
    const frame: ClientFrame = { fin: (b0 & 0x80) !== 0, opcode: b0 & 0x0f, payload };
    if (frame.opcode === Opcode.CLOSE && payload.length >= 2) {
      frame.code = payload.readUInt16BE(0);
      frame.reason = payload.subarray(2).toString();
    }
    frames.push(frame);
    offset = cursor + length;
  }
  return { frames, rest: buffer.subarray(offset) };
}

/** Rejects after `GUARD_MS` (a guard that turns a hang into a readable failure, not a way of waiting). */
function guarded<T>(bus: EventEmitter, check: () => T | undefined, what: string): Promise<T> {
  const now = check();
  if (now !== undefined) return Promise.resolve(now);
  return new Promise<T>((resolve, reject) => {
    const onChange = () => {
      const value = check();
      if (value === undefined) return;
      clearTimeout(timer);
      bus.off('change', onChange);
      resolve(value);
    };
    const timer = setTimeout(() => {
      bus.off('change', onChange);
      reject(new Error(`raw peer: timed out waiting for ${what}`));
    }, GUARD_MS);
    bus.on('change', onChange);
  });
}

const peers = new Set<RawPeer>();

/** Destroys every raw peer made by {@link startRawPeer} (call it in `afterEach`). */
export async function closeRawPeers(): Promise<void> {
  const all = [...peers];
  peers.clear();
  await Promise.all(all.map((p) => p.close()));
}

/**
 * Starts a raw WebSocket server. `onConnection` runs once each connection is upgraded (it may write
 * frames at once); everything else is up to the test.
 */
export async function startRawPeer(onConnection?: (conn: RawConnection) => void): Promise<RawPeer> {
  const bus = new EventEmitter();
  bus.setMaxListeners(0);
  const changed = () => bus.emit('change');
  const connections: RawConnection[] = [];
  const sockets = new Set<net.Socket>();
  // Half-open allowed: a peer that "holds the TCP" must not answer the client's FIN with its own.
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    let head: Buffer | undefined = Buffer.alloc(0);
    let pending: Buffer = Buffer.alloc(0);
    let gone = false;
    const received: ClientFrame[] = [];
    const conn: RawConnection = {
      socket,
      received,
      get clientGone() {
        return gone;
      },
      frame(opcode, payload = Buffer.alloc(0), fin = true) {
        socket.write(encodeFrame(opcode, typeof payload === 'string' ? Buffer.from(payload) : payload, fin));
      },
      write(bytes) {
        socket.write(bytes);
      },
      closeFrame(code, reason = '') {
        conn.frame(Opcode.CLOSE, closeBody(code, reason));
      },
      waitForFrame: (match, what) => guarded(bus, () => received.find(match), what),
      waitForClientGone: () =>
        guarded(bus, () => (gone ? true : undefined), 'the client to drop TCP').then(() => {}),
    };
    const markGone = () => {
      gone = true;
      changed();
    };
    socket.on('end', markGone);
    socket.on('close', () => {
      sockets.delete(socket);
      markGone();
    });
    socket.on('data', (chunk: Buffer) => {
      if (head !== undefined) {
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
          'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
            `Sec-WebSocket-Accept: ${accept}\r\n\r\n`,
        );
        chunk = head.subarray(end + 4);
        head = undefined;
        connections.push(conn);
        onConnection?.(conn);
        changed();
      }
      pending = Buffer.concat([pending, chunk]);
      const { frames, rest } = parseClientFrames(pending);
      pending = rest;
      if (frames.length > 0) {
        received.push(...frames);
        changed();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  let closing: Promise<void> | undefined;
  const peer: RawPeer = {
    url: `ws://127.0.0.1:${port}`,
    connections,
    connection: (index) => guarded(bus, () => connections[index], `connection ${index} to be upgraded`),
    close() {
      closing ??= new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      });
      return closing;
    },
  };
  peers.add(peer);
  return peer;
}
