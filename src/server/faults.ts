/**
 * Fault injection: checks a fault command (from a `fault_request` or `server.fault()`), fills in its
 * defaults, and applies it to one connection or to the whole server.
 */
import {
  DemoErrorCodes,
  DemoMessageTypes,
  type DemoResponse,
  type FaultCommand,
  type ReqId,
} from './protocol.js';
import { closeConnection, replyError } from './outbound.js';
import { type Connection, OPEN, type ServerState, isInt, validateClose } from './server-state.js';

/**
 * Checks a fault command (from JSON or code) and fills in its defaults.
 * @returns the command, or a message saying what is wrong.
 */
export function normalizeFault(input: Record<string, unknown>): FaultCommand | string {
  const code = input.code ?? 1001;
  const closeProblem = () => {
    if (!isInt(code, 1000, 4999)) return 'code must be an integer close code';
    if (input.reason !== undefined && typeof input.reason !== 'string') return 'reason must be a string';
    try {
      validateClose(code, (input.reason as string | undefined) ?? '');
    } catch (error) {
      return (error as Error).message;
    }
    return undefined;
  };
  switch (input.fault) {
    case 'close': {
      const problem = closeProblem();
      if (problem !== undefined) return problem;
      return { fault: 'close', code: code as number, reason: (input.reason as string) ?? 'fault: close' };
    }
    case 'drop':
      return { fault: 'drop' };
    case 'no_pong':
      if (input.enabled !== undefined && typeof input.enabled !== 'boolean')
        return 'enabled must be a boolean';
      return { fault: 'no_pong', enabled: input.enabled !== false };
    case 'delay':
      if (!isInt(input.ms, 0, 600_000)) return 'ms must be an integer from 0 to 600000';
      return { fault: 'delay', ms: input.ms };
    case 'close_after': {
      if (!isInt(input.messages, 1, 1_000_000)) return 'messages must be an integer >= 1';
      const problem = closeProblem();
      if (problem !== undefined) return problem;
      return {
        fault: 'close_after',
        messages: input.messages,
        code: code as number,
        reason: (input.reason as string) ?? 'fault: close_after',
      };
    }
    case 'reject_handshakes': {
      const count = input.count ?? 1;
      const status = input.status ?? 503;
      if (!isInt(count, 1, 1_000_000)) return 'count must be an integer >= 1';
      if (!isInt(status, 400, 599)) return 'status must be an HTTP error status (400-599)';
      if (input.retryAfterSeconds !== undefined && !isInt(input.retryAfterSeconds, 0, 86_400))
        return 'retryAfterSeconds must be an integer from 0 to 86400';
      return {
        fault: 'reject_handshakes',
        count,
        status,
        ...(input.retryAfterSeconds === undefined
          ? {}
          : { retryAfterSeconds: input.retryAfterSeconds as number }),
      };
    }
    default:
      return `unknown fault ${JSON.stringify(input.fault)}: use close, drop, no_pong, delay, close_after or reject_handshakes`;
  }
}

/** Handles a `fault_request`: replies `fault_response`, then applies the fault to this connection. */
export function handleFault(
  state: ServerState,
  conn: Connection,
  reqId: ReqId | undefined,
  m: Record<string, unknown>,
): void {
  const type = DemoMessageTypes.FAULT_RESPONSE;
  const command = normalizeFault(m);
  if (typeof command === 'string') {
    replyError(state, conn, type, reqId, DemoErrorCodes.BAD_REQUEST, command);
    return;
  }
  const response = JSON.stringify({
    type,
    ...(reqId === undefined ? {} : { reqId }),
    status: 'OK',
    data: command,
  } satisfies DemoResponse);
  // The fault's own reply is never delayed and never counts towards close_after.
  if (conn.socket.readyState !== OPEN) return;
  state.counters.messagesOut++;
  if (command.fault === 'drop') {
    // Destroy the TCP connection once the reply is handed to the kernel: no close frame.
    conn.socket.send(response, () => conn.socket.terminate());
  } else {
    conn.socket.send(response);
    applyFault(state, command, conn);
  }
  state.emit('fault', { id: conn.id, command });
}

/** Applies a normalized fault to one connection (from its fault_request) or to the server. */
export function applyFault(state: ServerState, command: FaultCommand, conn: Connection | undefined): void {
  const targets = conn === undefined ? [...state.connections.values()] : [conn];
  switch (command.fault) {
    case 'close':
      for (const c of targets)
        void closeConnection(state, c, command.code ?? 1001, command.reason ?? 'fault: close');
      return;
    case 'drop':
      for (const c of targets) c.socket.terminate();
      return;
    case 'no_pong':
      if (conn === undefined) {
        state.noPong = command.enabled !== false;
        for (const c of targets) c.noPong = undefined;
      } else conn.noPong = command.enabled !== false;
      return;
    case 'delay':
      if (conn === undefined) {
        state.delayMs = command.ms;
        for (const c of targets) c.delayMs = undefined;
      } else conn.delayMs = command.ms;
      return;
    case 'close_after':
      for (const c of targets)
        c.closeAfter = {
          remaining: command.messages,
          code: command.code ?? 1001,
          reason: command.reason ?? 'fault: close_after',
        };
      return;
    case 'reject_handshakes':
      state.reject = {
        remaining: command.count ?? 1,
        status: command.status ?? 503,
        retryAfterSeconds: command.retryAfterSeconds,
      };
      return;
  }
}
