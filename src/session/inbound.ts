/**
 * The receive path (hot): adapter -> message -> prepare -> `message` event -> pong check -> request
 * correlator -> subscriptions -> dispatcher. No machine event, no closure and no allocation beyond the Message per
 * message (ARCHITECTURE.md §4).
 */
import { HookError, type WsmError } from '../core/errors.js';
import { Message } from '../core/message.js';
import { observeIfThenable, returnedPromise, thenOf } from '../core/safe.js';
import type { Clock } from '../core/types.js';
import { utf8Length } from '../core/utf8.js';
import type { Requests } from '../rpc/requests.js';
import type { Counters } from './counters.js';
import type { Dispatcher } from './dispatcher.js';
import type { SessionHandle } from './session-handle.js';
import type { SubscriptionRouter } from './subscription-router.js';

/** Where a message came from: the session's handle, and its heartbeat bookkeeping. */
export interface InboundSource {
  readonly handle: SessionHandle;
  /** An application pong arrived (`heartbeat.isPong` recognised it). */
  pong(): void;
}

/** What the receive path is wired to. */
export interface InboundParts {
  counters: Counters;
  clock: Clock;
  /** True with the default clock: one reading per socket read is enough (see readTime). */
  coarseTime: boolean;
  prepare: ((m: Message) => unknown) | undefined;
  isPong: ((m: Message) => boolean) | undefined;
  /** The `message` event (every message, consumed or not). */
  emitMessage(message: Message): void;
  requests: Requests;
  /** Subscriptions claim their messages after the correlator, before the dispatcher. */
  subscriptions: SubscriptionRouter;
  dispatcher: Dispatcher;
  reportError(error: WsmError): void;
}

/** The receive path of one client. */
export class Inbound {
  private readonly p: InboundParts;
  private readAt = -1;
  private readonly endRead = (): void => {
    this.readAt = -1;
  };

  constructor(parts: InboundParts) {
    this.p = parts;
  }

  /**
   * With the default clock, the time is read once per socket read, not once per message: every
   * message of one read (`ws` hands over a whole TCP read synchronously, up to ~2,000 small frames)
   * arrived at the same moment, and a clock read costs a fair part of the per-message budget. The
   * value is dropped at the next microtask, i.e. before the next read. An injected clock (tests) is
   * read per message.
   */
  private readTime(): number {
    if (!this.p.coarseTime) return this.p.clock.now();
    let now = this.readAt;
    if (now < 0) {
      now = this.readAt = this.p.clock.now();
      queueMicrotask(this.endRead);
    }
    return now;
  }

  receive(source: InboundSource, data: string | Uint8Array, binary: boolean, bytes?: number): void {
    const p = this.p;
    const c = p.counters;
    const size = bytes ?? (binary ? (data as Uint8Array).byteLength : utf8Length(data as string));
    c.messagesIn++;
    c.bytesIn += size;
    const handle = source.handle;
    const message = new Message(data, binary, handle.id, this.readTime(), size);
    if (p.prepare !== undefined) {
      try {
        const prepared = p.prepare(message);
        message.prepared = prepared;
        // An async prepare: its value stays as it is (a handler may await it), its rejection is reported.
        if (thenOf(prepared) !== undefined) this.observe(prepared, 'prepare', message);
      } catch (error) {
        p.reportError(new HookError('prepare', error, handle.id, message));
      }
    }
    p.emitMessage(message);
    if (p.isPong !== undefined) {
      let answer: unknown = false;
      try {
        answer = p.isPong(message);
      } catch (error) {
        p.reportError(new HookError('heartbeat.isPong', error, handle.id));
      }
      if (answer === true) {
        source.pong();
        return;
      }
      if (answer !== false && thenOf(answer) !== undefined) {
        p.reportError(returnedPromise('heartbeat.isPong', handle.id));
        this.observe(answer, 'heartbeat.isPong', undefined);
      }
    }
    const entry = p.requests.correlator.take(message);
    if (entry !== undefined) {
      p.requests.deliver(entry, message);
      return;
    }
    // (A session the user ended hands nothing to anyone: the dispatcher reports its messages.)
    const subs = p.subscriptions;
    if (subs.size > 0 && handle.endedBy === undefined && subs.route(message)) return;
    p.dispatcher.deliver(message, handle);
  }

  /** Reports the eventual rejection of a promise user code returned (never an unhandled rejection). */
  private observe(value: unknown, hook: string, message: Message | undefined): void {
    const sessionId = message?.sessionId;
    observeIfThenable(value, (error) => this.p.reportError(new HookError(hook, error, sessionId, message)));
  }
}
