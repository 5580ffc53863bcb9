/**
 * Requests: registered before their bytes are written (a reply in the same tick is matched), written
 * through the gate or queued with the send buffer, re-sent or rejected when their session ends, and
 * settled exactly once. Matching and deadlines live in the correlator.
 */
import { dataProblem } from '../core/data.js';
import {
  ClientStoppedError,
  ConnectionClosedError,
  DuplicateKeyError,
  HookError,
  InvalidOptionsError,
  InvalidStateError,
  RequestAbortedError,
  SessionEndedError,
  type WsmError,
} from '../core/errors.js';
import type { Message } from '../core/message.js';
import { observeIfThenable, returnedPromise, thenOf } from '../core/safe.js';
import { MAX_TIMER_MS, type ResolvedRequests } from '../core/options.js';
import type { ClientState, CloseInfo, Data } from '../core/types.js';
import type { Outbox } from '../session/outbox.js';
import type { SessionHandle } from '../session/session-handle.js';
import type { RequestOptions, Session } from '../types.js';
import type { Correlator, PendingEntry } from './correlator.js';

/** The pending entry of a request promise (for cancel(promise)). */
const PENDING_ENTRY: unique symbol = Symbol('wsmachine.pendingEntry');
type RequestPromise = Promise<Message> & { [PENDING_ENTRY]?: PendingEntry };

/** What requests need from the client. */
export interface RequestsHost {
  state(): ClientState;
  reportError(error: WsmError): void;
  /** The live session handle (for callbacks of client requests). */
  current(): SessionHandle | undefined;
  /** Instrumentation, when attached (wsmachine/otel): called for every registered request. */
  traced?:
    | ((entry: PendingEntry, promise: Promise<Message>, sessionId: number | undefined) => void)
    | undefined;
}

/** The requests of one client. */
export class Requests {
  readonly correlator: Correlator;
  private readonly config: ResolvedRequests;
  private readonly outbox: Outbox;
  private readonly host: RequestsHost;

  constructor(correlator: Correlator, config: ResolvedRequests, outbox: Outbox, host: RequestsHost) {
    this.correlator = correlator;
    this.config = config;
    this.outbox = outbox;
    this.host = host;
  }

  /** `client.request` (handle undefined) and `session.request`. Never throws: errors reject. */
  request(handle: SessionHandle | undefined, data: Data, options: RequestOptions): Promise<Message> {
    const rq = this.config;
    let entry: PendingEntry | undefined;
    let resolveFn!: (m: Message) => void;
    let rejectFn!: (e: unknown) => void;
    const promise = new Promise<Message>((resolve, reject) => {
      resolveFn = resolve;
      rejectFn = reject;
    });
    try {
      const problem = dataProblem(data);
      if (problem !== undefined) throw problem;
      if (rq.key === undefined && rq.match === undefined) {
        throw new InvalidStateError(
          'request() needs a way to match responses: set requests.key (O(1)) or requests.match in createClient.',
          this.host.state(),
        );
      }
      if (handle !== undefined && (handle.ended || handle.conn === undefined))
        throw new SessionEndedError(handle.id);
      if (options.signal?.aborted) throw new RequestAbortedError(options.signal.reason);
      const timeoutMs = options.timeoutMs ?? rq.timeoutMs;
      if (!Number.isInteger(timeoutMs) || timeoutMs < 0 || timeoutMs > MAX_TIMER_MS) {
        throw new InvalidOptionsError([
          { option: 'request.timeoutMs', value: timeoutMs, expected: `an integer from 0 to ${MAX_TIMER_MS}` },
        ]);
      }
      let key = options.key;
      if (key === undefined && rq.key !== undefined) {
        try {
          key = rq.key.request(data, options.params);
        } catch (error) {
          // User code: a typed error naming it, like every other hook (the request was not sent).
          throw new HookError('requests.key.request', error);
        }
        if (thenOf(key) !== undefined) {
          // A promise is no key (no response could ever carry it): the request fails now.
          observeIfThenable(key, (error) =>
            this.host.reportError(new HookError('requests.key.request', error)),
          );
          throw returnedPromise('requests.key.request');
        }
      }
      if (key !== undefined && this.correlator.hasKey(key)) throw new DuplicateKeyError(key);
      const callback = options.callback;
      entry = this.correlator.register({
        data,
        params: options.params,
        key,
        timeoutMs,
        boundSession: handle?.id ?? 0,
        signal: options.signal,
        callback:
          callback === undefined
            ? undefined
            : (m: Message) =>
                callback(m, (handle ?? this.host.current() ?? endedSession(m.sessionId)) as Session),
        resolve: resolveFn,
        reject: rejectFn,
      });
      // The entry rides on the promise under a module-private symbol, for cancel(promise). A WeakMap
      // keyed by the promise costs 1-2 µs per request here; the property costs a few ns.
      (promise as RequestPromise)[PENDING_ENTRY] = entry;
      this.host.traced?.(entry, promise, handle?.id);
      // Registered first, then written: a reply in the same tick finds its entry.
      if (handle !== undefined) {
        this.outbox.writeOn(handle, data);
        entry.writtenOn = handle.id;
      } else if (!this.outbox.tryDirect(data, entry)) {
        this.outbox.enqueue(data, entry);
      }
    } catch (error) {
      if (entry !== undefined) this.correlator.reject(entry, error);
      else rejectFn(error);
    }
    return promise;
  }

  /** `client.cancel(promiseOrKey)`: rejects that request with RequestAbortedError. */
  cancel(requestOrKey: unknown): boolean {
    const entry = isPromise(requestOrKey)
      ? (requestOrKey as RequestPromise)[PENDING_ENTRY]
      : this.correlator.byKeyLookup(requestOrKey);
    if (entry === undefined) return false;
    return this.correlator.reject(entry, new RequestAbortedError('cancelled'));
  }

  /** A response arrived for `entry`: its callback, then its promise. */
  deliver(entry: PendingEntry, message: Message): void {
    if (entry.callback !== undefined) {
      try {
        const result: unknown = entry.callback(message);
        if (thenOf(result) !== undefined) {
          observeIfThenable(result, (error) =>
            this.host.reportError(new HookError('request callback', error, message.sessionId)),
          );
        }
      } catch (error) {
        this.host.reportError(new HookError('request callback', error, message.sessionId));
      }
    }
    entry.resolve(message);
  }

  /**
   * Before queued sends are flushed on a new session: requests kept for `resend` are written first
   * (they were issued before anything queued now). Returns false when the socket closed half way.
   */
  resend(handle: SessionHandle): boolean {
    if (this.correlator.size === 0) return true;
    for (const entry of this.correlator.entries()) {
      if (
        entry.boundSession === 0 &&
        entry.writtenOn !== 0 &&
        entry.writtenOn !== handle.id &&
        !entry.settled
      ) {
        try {
          this.outbox.writeOn(handle, entry.data);
        } catch (error) {
          if (error instanceof SessionEndedError) return false;
          // This one request cannot be written (its buffer was detached meanwhile): it fails alone.
          this.correlator.reject(entry, error);
          continue;
        }
        entry.writtenOn = handle.id;
        entry.resent = true;
      }
    }
    return true;
  }

  /** A session ended: the requests whose outcome is now unknown are rejected (or kept to resend once). */
  sessionClosed(close: CloseInfo, requested: 'stop' | 'restart' | 'exit' | undefined): void {
    if (this.correlator.size === 0) return;
    const sid = close.sessionId;
    const stopping = requested === 'stop' || requested === 'exit';
    const resend = this.config.onDisconnect === 'resend' && !stopping;
    this.correlator.rejectWhere(
      (e) => e.boundSession === sid || (e.writtenOn === sid && (!resend || e.resent)),
      () =>
        // stop()/exit() is the cause, not a lost connection: the API promises ClientStoppedError.
        stopping
          ? new ClientStoppedError(requested === 'exit' ? 'exit() was called' : 'stop() was called')
          : new ConnectionClosedError(
              `The connection closed (${close.code}${close.reason ? ` ${close.reason}` : ''}) before a response arrived; the outcome is unknown`,
              close.code,
            ),
    );
  }

  /** The client stopped: every pending request rejects. */
  failAll(reason: WsmError): void {
    const error = reason.code === 'WSM_ERR_CLIENT_STOPPED' ? reason : new ClientStoppedError(reason.message);
    this.correlator.rejectWhere(
      () => true,
      () => error,
    );
  }
}

/** `instanceof Promise` that cannot throw (a key may be a revoked Proxy: that is a key, not a promise). */
function isPromise(value: unknown): boolean {
  try {
    return value instanceof Promise;
  } catch {
    return false;
  }
}

/** The session a callback gets when its request's session is gone. */
function endedSession(id: number): Session {
  const ended = (): never => {
    throw new SessionEndedError(id);
  };
  return {
    id,
    send: ended,
    request: () => Promise.reject(new SessionEndedError(id)),
    restart: () => {},
    exit: () => {},
    signal: AbortSignal.abort(),
  };
}
