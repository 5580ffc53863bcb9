/**
 * The `session` object users get in hooks and handlers. It follows what the machine commands its
 * socket actor to do (opened, sealed, ended) and never decides anything itself: once the machine
 * left the session, the handle refuses to write (a handle of an old session never writes to a newer
 * one), and `restart()` / `exit()` carry the session id so the machine ignores those of a session
 * that is already over.
 */
import { assertValidClose } from '../core/close-codes.js';
import { ConnectionClosedError, SessionEndedError } from '../core/errors.js';
import type { Message } from '../core/message.js';
import type { Data } from '../core/types.js';
import type { SocketConnection } from '../transport/adapter.js';
import type { RequestOptions, SendResult, Session } from '../types.js';
import type { ConnectionEvent } from '../../machines/connection.types.js';
import type { DispatchSession } from './dispatch-types.js';

const endingError = () => new ConnectionClosedError('The session is ending');

/** What a handle calls. */
export interface HandleOwner {
  /** Writes on this handle's socket now; throws a typed error when it cannot. */
  write(handle: SessionHandle, data: Data): void;
  request(handle: SessionHandle, data: Data, options: RequestOptions): Promise<Message>;
  toMachine(event: ConnectionEvent): void;
  traceContextOf(sessionId: number): unknown;
}

/** The per-session handle given to hooks. */
export class SessionHandle implements Session, DispatchSession {
  readonly id: number;
  /**
   * Made on first use of `signal` (most sessions never ask for it; an AbortController with its
   * signal costs ~0.5 KiB), already aborted when the session is ending by then.
   */
  private abort: AbortController | undefined;
  private readonly owner: HandleOwner;
  /** The connection, once the handshake completed and until the session ended. */
  conn: SocketConnection | undefined;
  /** The subprotocol the server picked. */
  protocol = '';
  /** The extensions negotiated (e.g. `permessage-deflate`). */
  extensions = '';
  /** The machine began ending this session (`socket.seal`). */
  ending = false;
  /** Who ended it, when the user did. */
  endedBy: 'stop' | 'exit' | 'restart' | undefined;
  /** The machine left the session: the handle refuses to write. */
  ended = false;

  constructor(id: number, owner: HandleOwner) {
    this.id = id;
    this.owner = owner;
  }

  get signal(): AbortSignal {
    if (this.abort === undefined) {
      this.abort = new AbortController();
      if (this.ending) this.abort.abort(endingError());
    }
    return this.abort.signal;
  }

  /** The machine began closing the session (`requested`: the user's stop/exit/restart, if any). */
  seal(requested: 'stop' | 'exit' | 'restart' | undefined): void {
    if (requested !== undefined && this.endedBy !== 'stop') this.endedBy = requested;
    if (this.ending) return;
    this.ending = true;
    // The error (and its stack) is made only for a signal someone asked for: most sessions have none.
    this.abort?.abort(endingError());
  }

  /** The machine left the session. */
  end(): void {
    this.seal(undefined);
    this.ended = true;
    this.conn = undefined;
  }

  send(data: Data): SendResult {
    if (this.ended || this.conn === undefined) throw new SessionEndedError(this.id);
    this.owner.write(this, data);
    return 'sent';
  }

  request(data: Data, options?: RequestOptions): Promise<Message> {
    return this.owner.request(this, data, options ?? {});
  }

  get context(): unknown {
    return this.owner.traceContextOf(this.id);
  }

  restart(reason?: string): void {
    assertValidClose(undefined, reason);
    this.owner.toMachine({ type: 'client.restart', reason, sessionId: this.id });
  }

  exit(reason?: string): void {
    assertValidClose(undefined, reason);
    this.owner.toMachine({ type: 'client.exit', reason, sessionId: this.id });
  }
}
