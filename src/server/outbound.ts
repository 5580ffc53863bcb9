/**
 * Everything the demo server writes to a connection: replies (which honour the `delay` fault),
 * publications, the `close_after` count, and close frames bounded by `closeTimeoutMs`.
 */
import type { DemoErrorCode, DemoMessageType, DemoResponse, ReqId } from './protocol.js';
import { type Connection, OPEN, type ServerState, stopPublishing } from './server-state.js';

/** Sends a JSON reply (delayed when the `delay` fault is on). */
export function reply(state: ServerState, conn: Connection, response: DemoResponse): void {
  send(state, conn, JSON.stringify(response), false, true);
}

/** Sends an error reply that repeats the request's `reqId` (when it had a valid one). */
export function replyError(
  state: ServerState,
  conn: Connection,
  type: DemoMessageType,
  reqId: ReqId | undefined,
  code: DemoErrorCode,
  message: string,
): void {
  reply(state, conn, {
    type,
    ...(reqId === undefined ? {} : { reqId }),
    status: 'ERROR',
    error: { code, message },
  });
}

/** Sends on a connection: replies honour the delay fault; every message counts for close_after. */
export function send(
  state: ServerState,
  conn: Connection,
  data: string | Buffer,
  binary: boolean,
  isReply: boolean,
): void {
  const delay = isReply ? (conn.delayMs ?? state.delayMs) : 0;
  if (delay > 0) {
    const timer = setTimeout(() => {
      conn.timers.delete(timer);
      sendNow(state, conn, data, binary);
    }, delay);
    conn.timers.add(timer);
    return;
  }
  sendNow(state, conn, data, binary);
}

function sendNow(state: ServerState, conn: Connection, data: string | Buffer, binary: boolean): void {
  if (conn.ended || conn.socket.readyState !== OPEN) return;
  conn.socket.send(data, { binary });
  state.counters.messagesOut++;
  const closeAfter = conn.closeAfter;
  if (closeAfter !== undefined && --closeAfter.remaining <= 0) {
    conn.closeAfter = undefined;
    void closeConnection(state, conn, closeAfter.code, closeAfter.reason);
  }
}

/** Sends a close frame; destroys the socket when the client has not answered within closeTimeoutMs. */
export function closeConnection(
  state: ServerState,
  conn: Connection,
  code: number,
  reason: string,
): Promise<void> {
  if (!conn.ended) {
    stopPublishing(conn);
    try {
      conn.socket.close(code, reason);
    } catch {
      conn.socket.terminate();
    }
    const timer = setTimeout(() => conn.socket.terminate(), state.closeTimeoutMs);
    void conn.closed.then(() => clearTimeout(timer));
  }
  return conn.closed;
}
