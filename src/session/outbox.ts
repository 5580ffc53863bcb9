/**
 * The send path: direct writes while the machine lets writes through, the bounded send buffer
 * otherwise, and the ordered flush that the machine commands when a session opens.
 *
 * The write gate is the socket binding's `writable`: the machine opens it (`socket.flush`, after this
 * flush sent everything queued) and closes it (`socket.seal`). Nothing sent later overtakes what was
 * queued: the gate opens only after a flush that went through to the end. Every message is handed to
 * the socket, thrown back at the call, or reported `undelivered` (expired, refused by the adapter,
 * or still queued when the client stopped).
 */
import { dataProblem } from '../core/data.js';
import {
  NotOpenError,
  SessionEndedError,
  UndeliveredError,
  type WsmError,
  isWsmError,
  messageOf,
} from '../core/errors.js';
import type { ClientState, Clock, Data } from '../core/types.js';
import { byteLength } from '../core/utf8.js';
import type { PendingEntry } from '../rpc/correlator.js';
import type { SocketConnection } from '../transport/adapter.js';
import type { SendResult } from '../types.js';
import type { Counters } from './counters.js';
import type { SendQueue } from './send-queue.js';
import type { SessionHandle } from './session-handle.js';
import type { SessionRegistry } from './session-registry.js';

/** What the outbox needs from the client. */
export interface OutboxHost {
  /** The machine's state (a stopped client refuses to queue). */
  state(): ClientState;
  reportUndelivered(messages: Data[], reason: WsmError): void;
  rejectRequest(entry: PendingEntry, error: unknown): void;
}

/** The send path of one client. */
export class Outbox {
  private readonly queue: SendQueue | undefined;
  private readonly clock: Clock;
  private readonly counters: Counters;
  private readonly sessions: SessionRegistry;
  private readonly maxAgeMs: number | undefined;
  private readonly host: OutboxHost;
  private expiryTimer: unknown;

  constructor(
    queue: SendQueue | undefined,
    clock: Clock,
    counters: Counters,
    sessions: SessionRegistry,
    maxAgeMs: number | undefined,
    host: OutboxHost,
  ) {
    this.queue = queue;
    this.clock = clock;
    this.counters = counters;
    this.sessions = sessions;
    this.maxAgeMs = maxAgeMs;
    this.host = host;
  }

  /** Messages waiting in the send buffer. */
  get queued(): number {
    return this.queue?.size ?? 0;
  }

  /** Bytes waiting in the send buffer. */
  get queuedBytes(): number {
    return this.queue?.byteSize ?? 0;
  }

  /**
   * `client.send()`: written now while writes go through, queued otherwise.
   * @throws {InvalidOptionsError} for data that cannot be sent; {@link NotOpenError}; {@link SendBufferFullError}.
   */
  send(data: Data): SendResult {
    const problem = dataProblem(data);
    if (problem !== undefined) throw problem;
    const binding = this.sessions.current;
    if (binding?.writable) {
      const conn = binding.handle.conn;
      if (conn !== undefined && this.write(conn, data)) return 'sent';
    }
    return this.enqueue(data, undefined);
  }

  /**
   * Writes now through the gate, for a request: 'sent', or false when the gate is closed (the caller
   * queues it).
   */
  tryDirect(data: Data, entry: PendingEntry): boolean {
    const binding = this.sessions.current;
    if (binding === undefined || !binding.writable) return false;
    const conn = binding.handle.conn;
    if (conn === undefined || !this.write(conn, data)) return false;
    entry.writtenOn = binding.handle.id;
    return true;
  }

  /**
   * `session.send()` / `session.request()`: writes on that session's socket now, queue or not.
   * @throws {SessionEndedError} when its socket is gone.
   */
  writeOn(handle: SessionHandle, data: Data): void {
    const problem = dataProblem(data);
    if (problem !== undefined) throw problem;
    const conn = handle.conn;
    if (handle.ended || conn === undefined || !this.write(conn, data)) {
      throw new SessionEndedError(handle.id);
    }
  }

  /**
   * Queues a message (and the request it belongs to).
   * @throws {NotOpenError} without a send buffer or once stopped; {@link SendBufferFullError} when full.
   */
  enqueue(data: Data, request: PendingEntry | undefined): SendResult {
    const state = this.host.state();
    if (this.queue === undefined || state === 'stopped') throw new NotOpenError(state);
    this.queue.push(data, byteLength(data), this.clock.now(), request);
    this.armExpiry();
    return 'queued';
  }

  /**
   * Sends what was queued, in order, on a session that just opened. Returns true when everything went
   * out (the gate may open); false when the socket closed half way (the rest stays queued, in order,
   * for the next session, and the gate stays shut).
   */
  flush(handle: SessionHandle): boolean {
    const queue = this.queue;
    const conn = handle.conn;
    if (queue === undefined || queue.size === 0) return conn !== undefined;
    if (conn === undefined) return false;
    const now = this.clock.now();
    const expired: Data[] = [];
    let complete = true;
    for (let item = queue.peek(); item !== undefined; item = queue.peek()) {
      const request = item.tag as PendingEntry | undefined;
      if (request?.settled) {
        queue.shift();
        continue;
      }
      if (this.isExpired(item.queuedAt, now)) {
        queue.shift();
        if (request !== undefined) this.host.rejectRequest(request, this.expiredError());
        else expired.push(item.data);
        continue;
      }
      let sent: boolean;
      try {
        sent = this.write(conn, item.data);
      } catch (error) {
        // The adapter refused this one message (a buffer detached after it was queued...): report it
        // and go on; it must not block the messages behind it.
        queue.shift();
        const reason = new UndeliveredError(
          `The socket refused a queued message: ${messageOf(error)}`,
          error,
        );
        if (request !== undefined) this.host.rejectRequest(request, reason);
        else this.host.reportUndelivered([item.data], reason);
        continue;
      }
      if (!sent) {
        complete = false;
        break;
      }
      queue.shift();
      if (request !== undefined) request.writtenOn = handle.id;
    }
    if (expired.length > 0) this.host.reportUndelivered(expired, this.expiredError());
    if (queue.size === 0) this.disarmExpiry();
    return complete;
  }

  /** The client stopped: every queued plain send is reported (requests are rejected by their owner). */
  failAll(reason: WsmError): void {
    this.disarmExpiry();
    if (this.queue === undefined || this.queue.size === 0) return;
    const lost = this.queue
      .drain()
      .filter((i) => i.tag === undefined)
      .map((i) => i.data);
    if (lost.length > 0) this.host.reportUndelivered(lost, new UndeliveredError(reason.message, reason));
  }

  /**
   * One write on a connection. Returns false when the socket is not open (it closed underneath: the
   * message is still ours to queue); throws when the adapter refused this message for another reason.
   */
  private write(conn: SocketConnection, data: Data): boolean {
    try {
      conn.send(data);
    } catch (error) {
      if (isWsmError(error) && error.code === 'WSM_ERR_CONNECT') return false;
      throw error;
    }
    this.counters.messagesOut++;
    this.counters.bytesOut += byteLength(data);
    return true;
  }

  private isExpired(queuedAt: number, now: number): boolean {
    return this.maxAgeMs !== undefined && now - queuedAt >= this.maxAgeMs;
  }

  private expiredError(): UndeliveredError {
    return new UndeliveredError(`Queued longer than sendBuffer.maxAgeMs (${this.maxAgeMs} ms)`);
  }

  /** Messages expire while the client is away, not at the next open: their room is for live ones. */
  private armExpiry(): void {
    if (this.maxAgeMs === undefined || this.expiryTimer !== undefined) return;
    const head = this.queue?.peek();
    if (head === undefined) return;
    const wait = Math.max(0, head.queuedAt + this.maxAgeMs - this.clock.now());
    this.expiryTimer = this.clock.setTimeout(this.expire, wait);
  }

  private disarmExpiry(): void {
    if (this.expiryTimer === undefined) return;
    this.clock.clearTimeout(this.expiryTimer);
    this.expiryTimer = undefined;
  }

  private readonly expire = (): void => {
    this.expiryTimer = undefined;
    const queue = this.queue;
    if (queue === undefined) return;
    const now = this.clock.now();
    const expired: Data[] = [];
    for (
      let item = queue.peek();
      item !== undefined && this.isExpired(item.queuedAt, now);
      item = queue.peek()
    ) {
      queue.shift();
      const request = item.tag as PendingEntry | undefined;
      if (request === undefined) expired.push(item.data);
      else if (!request.settled) this.host.rejectRequest(request, this.expiredError());
    }
    if (expired.length > 0) this.host.reportUndelivered(expired, this.expiredError());
    this.armExpiry();
  };
}
