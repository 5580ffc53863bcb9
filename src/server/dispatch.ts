/**
 * Protocol dispatch: every message a connection sends is counted, reported, and then echoed (the
 * raw echo endpoint) or parsed as a demo-protocol request and routed to its handler. Malformed input
 * gets an error reply that says what is wrong, never silence.
 */
import { DemoErrorCodes, type DemoMessageType, DemoMessageTypes, type ReqId } from './protocol.js';
import { handleFault } from './faults.js';
import { reply, replyError, send } from './outbound.js';
import type { Connection, ServerState } from './server-state.js';
import { handleSubscription } from './subscriptions.js';

export function onMessage(state: ServerState, conn: Connection, data: Buffer, binary: boolean): void {
  if (conn.ended) return;
  state.counters.messagesIn++;
  state.emit('message', {
    id: conn.id,
    endpoint: conn.endpoint,
    data: binary ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength) : data.toString(),
    binary,
  });
  if (conn.endpoint === 'echo') {
    send(state, conn, binary ? data : data.toString(), binary, true);
    return;
  }
  if (binary) {
    replyError(
      state,
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
    replyError(
      state,
      conn,
      DemoMessageTypes.ERROR,
      undefined,
      DemoErrorCodes.BAD_REQUEST,
      `not JSON: ${(error as Error).message}`,
    );
    return;
  }
  if (typeof message !== 'object' || message === null || Array.isArray(message)) {
    replyError(
      state,
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
    replyError(
      state,
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
    replyError(
      state,
      conn,
      DemoMessageTypes.ERROR,
      reqId,
      DemoErrorCodes.UNKNOWN_MESSAGE_TYPE,
      `unknown message type ${JSON.stringify(type)}`,
    );
    return;
  }
  if (!reqIdValid) {
    replyError(
      state,
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
      handleEcho(state, conn, reqId, m);
      return;
    case DemoMessageTypes.SUBSCRIBE_REQUEST:
    case DemoMessageTypes.UNSUBSCRIBE_REQUEST:
      handleSubscription(state, conn, replyType, reqId, m.topic, type === DemoMessageTypes.SUBSCRIBE_REQUEST);
      return;
    case DemoMessageTypes.FAULT_REQUEST:
      handleFault(state, conn, reqId, m);
      return;
  }
}

function handleEcho(
  state: ServerState,
  conn: Connection,
  reqId: ReqId | undefined,
  m: Record<string, unknown>,
): void {
  const type = DemoMessageTypes.ECHO_RESPONSE;
  if (m.err !== undefined && typeof m.err !== 'boolean') {
    replyError(state, conn, type, reqId, DemoErrorCodes.BAD_REQUEST, 'err must be a boolean');
    return;
  }
  if (m.err === true) {
    replyError(state, conn, type, reqId, DemoErrorCodes.ASKED_BY_CLIENT, 'the client asked for an error');
    return;
  }
  reply(state, conn, { type, ...(reqId === undefined ? {} : { reqId }), status: 'OK', data: m.data ?? null });
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
