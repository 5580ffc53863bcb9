/**
 * The dispatcher: the hot path after pongs and request replies were taken out. It hands messages to
 * `onMessage` with at most `concurrency` handlers in flight, keeps a bounded inbound queue with
 * backpressure (pause reading at the high-water mark, resume at the low-water mark), feeds
 * `messages()` iterators and exclusive sections.
 *
 * Nothing received is lost silently: a message is handed to a handler, an iterator or a section, or it
 * is reported `unhandled` with the reason. Messages of a session the peer or the network ended are
 * still handled, in order, before anything of the next session; messages of a session the user ended
 * (stop(), exit(), restart()) are reported from the moment the machine began closing it.
 *
 * No machine event per message: the only ones from here are `inbound.paused` / `inbound.resumed`.
 */
import {
  ClientStoppedError,
  ConnectionClosedError,
  HookError,
  QueueOverflowError,
  type WsmError,
} from '../core/errors.js';
import type { Message } from '../core/message.js';
import type { Clock } from '../core/types.js';
import type { DispatchSession, ExclusiveSession } from './dispatch-types.js';
import { Exclusive, type Section } from './exclusive.js';
import { MessageIterator } from './message-iterator.js';

/** Bounds of the inbound queue and of each iterator. */
export interface InboundLimits {
  /** Pause reading when this many messages wait for a handler. */
  highWaterMark: number;
  /** ... or when their sizes add up to this many bytes. */
  highWaterBytes: number;
  /** Resume reading when the queue is back down to this many messages. */
  lowWaterMark: number;
  /** Hard bound in messages, reached only where reading cannot be paused (browsers). */
  maxQueued: number;
  /** Hard bound in bytes, likewise. */
  maxQueuedBytes: number;
  /** Buffer of each `messages()` iterator, in messages ... */
  iteratorBufferSize: number;
  /** ... and in bytes. */
  iteratorBufferBytes: number;
}

/** What the dispatcher needs from the client. */
export interface DispatcherHost {
  onMessage: ((message: Message, session: any) => unknown) | undefined;
  concurrency: number;
  limits: InboundLimits;
  clock: Clock;
  reportError(error: WsmError): void;
  /** Received messages that will not be handled, with why (the `unhandled` event). */
  reportUnhandled(messages: Message[], reason: WsmError): void;
  /** Resolves with the session once the client is open (now, or after the next open). */
  whenOpen(): Promise<DispatchSession>;
  /** Stop/resume reading from the socket; returns false when the adapter cannot. */
  pauseReading(session: DispatchSession): boolean;
  resumeReading(session: DispatchSession): void;
  /** Tells the machine reading paused or resumed (the heartbeat suspends meanwhile). */
  notify(event: 'inbound.paused' | 'inbound.resumed'): void;
  /** The inbound queue passed its hard bound on this session. */
  overflow(session: DispatchSession, error: QueueOverflowError): void;
}

/** The empty set every dispatcher starts with (never written). */
const NO_ITERATORS: Set<MessageIterator> = new Set();

/** Why messages of a session ended by the user are not handled. */
export function unhandledReason(endedBy: 'stop' | 'exit' | 'restart'): WsmError {
  if (endedBy === 'restart') {
    return new ConnectionClosedError(
      'The session was restarted (restart(), or an inbound overflow): its messages are not handled',
    );
  }
  return new ClientStoppedError(`${endedBy}() was called: messages received after it are not handled`);
}

/** The per-client dispatcher. */
export class Dispatcher {
  private readonly host: DispatcherHost;
  private inFlight = 0;
  private queue: Message[] = [];
  /** The session each queued message came from (parallel to `queue`: no object per message). */
  private owners: DispatchSession[] = [];
  private head = 0;
  private queuedBytes = 0;
  private paused: DispatchSession | undefined;
  // Shared until the first messages() call: most clients never make one.
  private iterators: Set<MessageIterator> = NO_ITERATORS;
  private readonly sections: Exclusive;
  /** Set once the client stopped: whatever is left is reported, not handled. */
  private stoppedWith: WsmError | undefined;
  /** The highest number of queued messages seen (for stats()). */
  peak = 0;

  constructor(host: DispatcherHost) {
    this.host = host;
    this.sections = new Exclusive({
      clock: host.clock,
      reportError: (e) => host.reportError(e),
      whenOpen: () => host.whenOpen(),
      heldChanged: (section) => this.heldChanged(section),
      dispatchLeftovers: (messages, session) => {
        for (const m of messages) this.dispatch(m, session);
      },
    });
  }

  get queued(): number {
    return this.queue.length - this.head;
  }

  /** A message that is not a pong or a reply: an exclusive section first, then iterators and handlers. */
  deliver(message: Message, session: DispatchSession): void {
    if (session.endedBy !== undefined) {
      this.host.reportUnhandled([message], unhandledReason(session.endedBy));
      return;
    }
    if (this.sections.offer(message)) return;
    this.dispatch(message, session);
  }

  private dispatch(message: Message, session: DispatchSession): void {
    if (this.stoppedWith !== undefined || session.endedBy !== undefined) {
      this.host.reportUnhandled([message], this.stoppedWith ?? unhandledReason(session.endedBy!));
      return;
    }
    if (this.iterators.size > 0) for (const it of this.iterators) it.push(message);
    if (this.host.onMessage === undefined) return;
    if (this.inFlight < this.host.concurrency && this.head === this.queue.length) {
      this.run(message, session);
      return;
    }
    this.queue.push(message);
    this.owners.push(session);
    this.queuedBytes += message.bytes;
    const queued = this.queue.length - this.head;
    if (queued > this.peak) this.peak = queued;
    this.checkBounds(session, queued + this.sections.held);
  }

  /** Backpressure: pause at the high-water mark; past the hard bound the session is restarted. */
  private checkBounds(session: DispatchSession, held: number): void {
    const limits = this.host.limits;
    // What an exclusive section holds counts in messages and in bytes, like what waits for a handler.
    const bytes = this.queuedBytes + this.sections.heldBytes;
    if (this.paused === undefined && (held >= limits.highWaterMark || bytes >= limits.highWaterBytes)) {
      if (this.host.pauseReading(session)) {
        this.paused = session;
        this.host.notify('inbound.paused');
      }
    }
    if (held > limits.maxQueued || bytes > limits.maxQueuedBytes) {
      const error = new QueueOverflowError(
        `The inbound queue passed inbound.maxQueued (${limits.maxQueued}) or inbound.maxQueuedBytes (${limits.maxQueuedBytes}) because handlers fell behind and this adapter cannot pause reading; the session is restarted and the queued messages are reported unhandled.`,
      );
      const dropped = this.takeQueued(() => true);
      const section = this.sections.current;
      if (section !== undefined) {
        dropped.push(...section.buffer.splice(0));
        this.sections.end(section, error);
      }
      this.host.reportError(error);
      this.host.reportUnhandled(dropped, error);
      this.host.overflow(session, error);
    }
  }

  private run(message: Message, session: DispatchSession): void {
    this.inFlight++;
    let result: unknown;
    try {
      result = this.host.onMessage!(message, session);
    } catch (error) {
      this.host.reportError(new HookError('onMessage', error, message.sessionId));
    }
    if (
      result === undefined ||
      result === null ||
      (typeof result !== 'object' && typeof result !== 'function')
    ) {
      this.inFlight--;
      return;
    }
    this.settleLater(result, message.sessionId);
  }

  /** An async handler: its slot frees when it settles (a hostile thenable cannot free it twice). */
  private settleLater(result: object, sessionId: number): void {
    try {
      if (result instanceof Promise) {
        // A real promise settles once: no guard object needed. (A Proxy posing as one throws here and
        // is treated as the thenable it is, below.)
        Promise.prototype.then.call(result, this.done, (error: unknown) => this.failed(error, sessionId));
        return;
      }
    } catch {
      // fall through
    }
    let then: unknown;
    try {
      then = (result as { then?: unknown }).then;
    } catch (error) {
      this.failed(error, sessionId);
      return;
    }
    if (typeof then !== 'function') {
      this.done();
      return;
    }
    let settled = false;
    const once = (error: unknown, failed: boolean) => {
      if (settled) return;
      settled = true;
      if (failed) this.failed(error, sessionId);
      else this.done();
    };
    try {
      (then as (a: () => void, b: (e: unknown) => void) => unknown).call(
        result,
        () => once(undefined, false),
        (e: unknown) => once(e, true),
      );
    } catch (error) {
      once(error, true);
    }
  }

  /** An async handler rejected: report it with its message's session id and free its slot. */
  private failed(error: unknown, sessionId: number): void {
    this.host.reportError(new HookError('onMessage', error, sessionId));
    this.done();
  }

  private readonly done = (): void => {
    this.inFlight--;
    this.pump();
  };

  /** Starts queued handlers while slots are free; resumes reading at the low-water mark. */
  private pump(): void {
    let reported: Message[] | undefined;
    let reason: WsmError | undefined;
    while (this.inFlight < this.host.concurrency && this.head < this.queue.length) {
      const next = this.queue[this.head]!;
      const session = this.owners[this.head]!;
      this.queue[this.head] = undefined as never;
      this.owners[this.head] = undefined as never;
      this.head++;
      this.queuedBytes -= next.bytes;
      if (this.head === this.queue.length) this.resetQueue();
      if (session.endedBy !== undefined) {
        reported ??= [];
        reported.push(next);
        reason ??= unhandledReason(session.endedBy);
        continue;
      }
      this.run(next, session);
    }
    if (reported !== undefined) this.host.reportUnhandled(reported, reason!);
    this.maybeResume();
  }

  private resetQueue(): void {
    this.queue = [];
    this.owners = [];
    this.head = 0;
    this.queuedBytes = 0;
  }

  /** Removes the queued messages `select` picks, in order, keeping the rest queued in order. */
  private takeQueued(select: (session: DispatchSession) => boolean): Message[] {
    const taken: Message[] = [];
    const keepM: Message[] = [];
    const keepS: DispatchSession[] = [];
    let bytes = 0;
    for (let i = this.head; i < this.queue.length; i++) {
      const m = this.queue[i]!;
      const s = this.owners[i]!;
      if (select(s)) taken.push(m);
      else {
        keepM.push(m);
        keepS.push(s);
        bytes += m.bytes;
      }
    }
    this.queue = keepM;
    this.owners = keepS;
    this.head = 0;
    this.queuedBytes = bytes;
    return taken;
  }

  /**
   * The machine began closing a session at the user's request (stop, exit, restart): what it still
   * has queued is reported now, not handled later.
   */
  sessionSealed(session: DispatchSession): void {
    if (session.endedBy === undefined) return;
    const reason = unhandledReason(session.endedBy);
    const taken = this.takeQueued((s) => s === session);
    const section = this.sections.current;
    if (section !== undefined && section.session === session) this.sections.end(section, reason);
    if (taken.length > 0) this.host.reportUnhandled(taken, reason);
    this.maybeResume();
  }

  /**
   * A session ended. Its queued messages stay queued and are handled in order (the handle refuses
   * writes); an exclusive section reading it ends; reading paused on its socket is over.
   */
  sessionEnded(session: DispatchSession, error: () => WsmError): void {
    if (this.paused === session) {
      this.paused = undefined;
      this.host.notify('inbound.resumed');
    }
    const section = this.sections.current;
    if (section !== undefined && section.session === session) this.sections.end(section, error());
  }

  /**
   * The client stopped: sections end, iterators end after their buffers, and queued messages are
   * reported, unless `keepReceived` (the client stopped on its own after the peer or the network
   * ended the session): then they are still handled, in order, like an iterator's buffer.
   */
  stopped(error: ClientStoppedError, keepReceived = false): void {
    this.stoppedWith = error;
    const section = this.sections.current;
    if (section !== undefined) this.sections.end(section, error);
    const taken = keepReceived ? [] : this.takeQueued(() => true);
    if (taken.length > 0) this.host.reportUnhandled(taken, error);
    this.paused = undefined;
    for (const it of [...this.iterators]) it.finish();
  }

  /** The client starts (again): dispatch resumes. */
  started(): void {
    this.stoppedWith = undefined;
  }

  // --- messages() ---------------------------------------------------------------------------------

  /** A new async iterator over unconsumed messages; ends when the client stops. */
  subscribe(): AsyncIterableIterator<Message> {
    const limits = this.host.limits;
    const it = new MessageIterator(
      {
        detach: (i) => {
          if (this.iterators !== NO_ITERATORS) this.iterators.delete(i);
        },
        dropped: (messages, reason) => this.host.reportUnhandled(messages, reason),
      },
      { messages: limits.iteratorBufferSize, bytes: limits.iteratorBufferBytes },
    );
    if (this.iterators === NO_ITERATORS) this.iterators = new Set();
    this.iterators.add(it);
    return it;
  }

  // --- exclusive ----------------------------------------------------------------------------------

  /** Runs `fn` with normal dispatch paused (FIFO; each waits for the client to be open). */
  exclusive<T>(fn: (session: ExclusiveSession) => Promise<T> | T): Promise<T> {
    return this.sections.run(fn);
  }

  private heldChanged(section: Section): void {
    const held = this.queued + section.buffer.length;
    if (held > this.queued) this.checkBounds(section.session, held);
    else this.maybeResume();
  }

  /** True while reading is paused for backpressure. */
  get readingPaused(): boolean {
    return this.paused !== undefined;
  }

  /** Resumes reading once the queue and any exclusive buffer are back at the low-water mark. */
  private maybeResume(): void {
    const paused = this.paused;
    if (paused === undefined) return;
    const held = this.queued + this.sections.held;
    if (held <= this.host.limits.lowWaterMark) {
      this.paused = undefined;
      this.host.resumeReading(paused);
      this.host.notify('inbound.resumed');
    }
  }
}
