/**
 * How a session ended, computed in one place from the facts the machine recorded: the first cause,
 * the socket's own close, the close frame we chose, and the user's request. Pure: the machine and the
 * hook runner both read it, so onClose is told the same code the machine sends.
 */
import { type CloseClass, classifyClose } from './close-codes.js';
import { isWsmError } from './errors.js';
import type { CloseInfo } from './types.js';

/** The facts {@link closeInfoOf} reads (a subset of the machine's context). */
export interface SessionEndFacts {
  sessionId: number;
  endRequest:
    | { kind: 'stop' | 'restart' | 'exit'; code: number | undefined; reason: string | undefined }
    | undefined;
  endCause: { kind: string; error?: unknown } | undefined;
  socketClose:
    | {
        code: number;
        reason: string;
        wasClean: boolean;
        error?: unknown;
        status?: number | undefined;
        retryAfterMs?: number | undefined;
      }
    | undefined;
  closeFrame: { code: number; reason: string } | undefined;
}

/**
 * The close code sent when neither stop(), nor onClose picked one: 1000 when we stop or exit for good,
 * 1001 (going away) for everything that reconnects.
 */
export function defaultCloseCode(endRequest: SessionEndFacts['endRequest']): number {
  const kind = endRequest?.kind;
  return kind === 'stop' || kind === 'exit' ? 1000 : 1001;
}

/**
 * The close frame to send: stop()'s own code wins, then onClose's pick, then the default.
 */
export function chooseCloseFrame(
  endRequest: SessionEndFacts['endRequest'],
  picked: { code: number; reason: string } | undefined,
): { code: number; reason: string } {
  if (endRequest?.kind === 'stop' && endRequest.code !== undefined) {
    return { code: endRequest.code, reason: endRequest.reason ?? '' };
  }
  if (picked !== undefined) return picked;
  return { code: defaultCloseCode(endRequest), reason: endRequest?.reason ?? '' };
}

/** The error that ended the session, when one did: the first cause's, else the socket's. */
export function endErrorOf(facts: SessionEndFacts): unknown {
  const cause = facts.endCause;
  if (cause !== undefined && 'error' in cause && cause.error !== undefined) return cause.error;
  return facts.socketClose?.error;
}

/**
 * The `CloseInfo` of a session: what the `close` event, `onClose`, `AttemptInfo.lastClose` and the
 * reconnect policy see. While the session is still closing (onClose runs then), it describes the end
 * as far as it is known: the socket's close if it came, else the frame about to be sent.
 */
export function closeInfoOf(facts: SessionEndFacts): CloseInfo {
  const cause = facts.endCause;
  const requested = facts.endRequest !== undefined;
  const error = endErrorOf(facts);
  let info: CloseInfo;
  if (cause?.kind === 'heartbeat' || cause?.kind === 'openTimeout') {
    // The socket was (or will be) terminated: whatever it says afterwards is not why it ended.
    const reason = cause.kind === 'heartbeat' ? 'heartbeat timeout' : 'open timeout';
    info = { code: 1006, reason, wasClean: false, sessionId: facts.sessionId };
  } else if (facts.socketClose !== undefined) {
    const sc = facts.socketClose;
    info = { code: sc.code, reason: sc.reason, wasClean: sc.wasClean, sessionId: facts.sessionId };
    if (sc.status !== undefined) info.status = sc.status;
    if (sc.retryAfterMs !== undefined) info.retryAfterMs = sc.retryAfterMs;
  } else {
    // No close from the socket (yet): the frame we send, or the one we would send.
    const frame = facts.closeFrame ?? chooseCloseFrame(facts.endRequest, undefined);
    const failed = cause !== undefined && cause.kind !== 'requested';
    info = {
      code: failed && facts.closeFrame === undefined ? 1006 : frame.code,
      reason: frame.reason,
      wasClean: false,
      sessionId: facts.sessionId,
    };
  }
  if (error !== undefined) info.error = error;
  if (requested) info.requested = true;
  return info;
}

/**
 * The class of the end of a session, for the reconnect decision and the `close` event. A restart is
 * not "normal": it is meant to reconnect.
 */
export function closeClassOf(
  close: CloseInfo | undefined,
  requestedKind: 'stop' | 'restart' | 'exit' | undefined,
  codes: { authCloseCodes: readonly number[]; fatalCloseCodes: readonly number[] },
): CloseClass {
  const requested = requestedKind !== undefined && requestedKind !== 'restart';
  if (close === undefined) return requested ? 'normal' : 'transient';
  return classifyClose({
    code: close.code,
    status: close.status,
    requested,
    tls: isWsmError(close.error) && close.error.code === 'WSM_ERR_TLS',
    authCodes: codes.authCloseCodes,
    fatalCodes: codes.fatalCloseCodes,
  });
}
