/**
 * The dispatcher: the hot path after pongs and request replies were taken out. It hands messages to
 * `onMessage` with at most `concurrency` handlers in flight, keeps a bounded inbound queue with
 * backpressure (pause reading at the high-water mark, resume at the low-water mark), runs exclusive
 * sections (the seeds' "read mutex", without its deadlocks) and feeds `messages()` iterators.
 *
 * No machine events per message: the only machine events from here are `flow.*` (an exclusive
 * section starts or ends) and `inbound.*` (reading paused or resumed), a handful per burst.
 */
import {
  type ClientStoppedError,
  HookError,
  InvalidStateError,
  QueueOverflowError,
  RequestTimeoutError,
  type WsmError,
} from '../core/errors.js';
import type { Message } from '../core/message.js';
import type { Clock, Data } from '../core/types.js';
import type { RequestOptions, SendResult } from '../types.js';

/** Bounds of the inbound queue. */
export interface InboundLimits {
  /** Pause reading when this many messages wait for a handler. */
  highWaterMark: number;
  /** ... or when their sizes add up to this many bytes. */
  highWaterBytes: number;
  /** Resume reading when the queue is back down to this many messages. */
  lowWaterMark: number;
  /**
   * Hard bound. Adapters that cannot pause (browsers) reach it when handlers fall far behind: the
   * session then ends with {@link QueueOverflowError} (reported) and the client reconnects, rather
   * than growing memory without bound.
   */
  maxQueued: number;
  /** Buffer of each `messages()` iterator; an iterator nobody reads ends with QueueOverflowError. */
  iteratorBufferSize: number;
}

/** The view of a session the dispatcher needs. */
export interface DispatchSession {
  readonly id: number;
  readonly ending: boolean;
  readonly signal: AbortSignal;
  send(data: Data): SendResult;
  request(data: Data, options?: RequestOptions): Promise<Message>;
}

/** What the dispatcher needs from the client. */
export interface DispatcherHost {
  onMessage: ((message: Message, session: any) => unknown) | undefined;
  concurrency: number;
  limits: InboundLimits;
  clock: Clock;
  reportError(error: WsmError): void;
  /** The live session, if any. */
  current(): DispatchSession | undefined;
  /** Resolves with the session once the client is open (now, or after the next open). */
  whenOpen(): Promise<DispatchSession>;
  /** Stop/resume reading from the socket; returns false when the adapter cannot. */
  pauseReading(session: DispatchSession): boolean;
  resumeReading(session: DispatchSession): void;
  /** Tells the machine about flow changes (drawn in the diagram). */
  notify(event: 'flow.pause' | 'flow.resume' | 'inbound.paused' | 'inbound.resumed'): void;
  /** The inbound queue passed its hard bound on this session. */
  overflow(session: DispatchSession, error: QueueOverflowError): void;
}

/**
 * The session handle inside `client.exclusive(fn)`: send and read the stream directly.
 *
 * @example
 * ```ts
 * const price = await client.exclusive(async (s) => {
 *   s.send('GET price');
 *   return (await s.next((m) => String(m.data).startsWith('price'), { timeoutMs: 1000 })).data;
 * });
 * ```
 */
export interface ExclusiveSession extends DispatchSession {
  /**
   * The next message (matching `predicate`, if given) in arrival order. Messages it skips stay
   * buffered and are dispatched normally after the section ends.
   * @throws {RequestTimeoutError} after `timeoutMs`.
   * @throws {ConnectionClosedError} when the session ends; {@link ClientStoppedError} on stop.
   */
  next(predicate?: (message: Message) => boolean, options?: { timeoutMs?: number }): Promise<Message>;
}

interface Waiter {
  predicate: ((m: Message) => boolean) | undefined;
  resolve: (m: Message) => void;
  reject: (e: unknown) => void;
  timer: unknown;
}

interface Section {
  sessionId: number;
  buffer: Message[];
  waiters: Waiter[];
  ended: WsmError | undefined;
  /** The FIFO lock was handed to the next section (at most once per section). */
  released: boolean;
  /** The session it reads from, to pause and resume reading. */
  session: DispatchSession;
}

/** One `messages()` iterator's state. */
class Subscription implements AsyncIterableIterator<Message> {
  private readonly buffer: Message[] = [];
  private head = 0;
  private waiting:
    | { resolve: (r: IteratorResult<Message>) => void; reject: (e: unknown) => void }
    | undefined;
  private done = false;
  private failure: unknown;
  private readonly owner: Dispatcher;
  private readonly limit: number;

  constructor(owner: Dispatcher, limit: number) {
    this.owner = owner;
    this.limit = limit;
  }

  push(message: Message): void {
    if (this.done) return;
    const w = this.waiting;
    if (w !== undefined) {
      this.waiting = undefined;
      w.resolve({ value: message, done: false });
      return;
    }
    if (this.buffer.length - this.head >= this.limit) {
      this.fail(
        new QueueOverflowError(
          `A messages() iterator fell ${this.limit} messages behind and was ended so it cannot hold memory for everyone; read it faster or raise inbound.iteratorBufferSize.`,
        ),
      );
      return;
    }
    this.buffer.push(message);
  }

  /** Ends after the buffered messages are read. */
  finish(): void {
    if (this.done) return;
    this.done = true;
    this.owner.unsubscribe(this);
    const w = this.waiting;
    this.waiting = undefined;
    if (w !== undefined && this.head >= this.buffer.length) w.resolve({ value: undefined, done: true });
  }

  private fail(error: unknown): void {
    this.failure = error;
    this.buffer.length = 0;
    this.head = 0;
    this.finish();
  }

  next(): Promise<IteratorResult<Message>> {
    if (this.head < this.buffer.length) {
      const value = this.buffer[this.head]!;
      this.buffer[this.head++] = undefined as never;
      if (this.head === this.buffer.length) {
        this.buffer.length = 0;
        this.head = 0;
      }
      return Promise.resolve({ value, done: false });
    }
    if (this.failure !== undefined) {
      const f = this.failure;
      this.failure = undefined;
      return Promise.reject(f);
    }
    if (this.done) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => {
      this.waiting = { resolve, reject };
    });
  }

  return(): Promise<IteratorResult<Message>> {
    this.buffer.length = 0;
    this.head = 0;
    this.failure = undefined;
    this.finish();
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<Message> {
    return this;
  }
}

/** The per-client dispatcher. */
export class Dispatcher {
  private readonly host: DispatcherHost;
  private inFlight = 0;
  private readonly queue: Message[] = [];
  private head = 0;
  private queuedBytes = 0;
  private paused: DispatchSession | undefined;
  private readonly subscriptions = new Set<Subscription>();
  private section: Section | undefined;
  private readonly sectionQueue: Array<() => void> = [];
  private sectionBusy = false;
  /** Gauges for stats(). */
  peak = 0;
  discarded = 0;

  constructor(host: DispatcherHost) {
    this.host = host;
  }

  get queued(): number {
    return this.queue.length - this.head;
  }

  /** True while reading is paused for backpressure. */
  get readingPaused(): boolean {
    return this.paused !== undefined;
  }

  /** A message that is not a pong or a reply: exclusive section first, then iterators and handlers. */
  deliver(message: Message, session: DispatchSession): void {
    const section = this.section;
    if (section !== undefined && section.sessionId === message.sessionId && section.ended === undefined) {
      this.offerToSection(section, message);
      return;
    }
    this.dispatch(message, session);
  }

  private dispatch(message: Message, session: DispatchSession): void {
    if (this.subscriptions.size > 0) for (const s of this.subscriptions) s.push(message);
    if (this.host.onMessage === undefined) return;
    if (session.ending) {
      // restart()/exit()/stop() took effect: no new handler starts for this session.
      this.discarded++;
      return;
    }
    if (this.inFlight < this.host.concurrency && this.head === this.queue.length) {
      this.run(message, session);
      return;
    }
    this.queue.push(message);
    this.queuedBytes += sizeOf(message);
    const queued = this.queue.length - this.head;
    if (queued > this.peak) this.peak = queued;
    const limits = this.host.limits;
    if (
      this.paused === undefined &&
      (queued >= limits.highWaterMark || this.queuedBytes >= limits.highWaterBytes)
    ) {
      if (this.host.pauseReading(session)) {
        this.paused = session;
        this.host.notify('inbound.paused');
      }
    }
    if (queued > limits.maxQueued) {
      const error = new QueueOverflowError(
        `The inbound queue passed inbound.maxQueued (${limits.maxQueued}) because handlers fell behind and this adapter cannot pause reading; the session is restarted.`,
      );
      this.dropQueued();
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
    if (result !== undefined && result !== null && typeof (result as Promise<void>).then === 'function') {
      // Only an async handler gets a closure (its promise is an allocation already): a rejection is
      // reported with the session the message came from, even if a newer session is live by then.
      const sessionId = message.sessionId;
      (result as Promise<void>).then(this.done, (error: unknown) => this.failed(error, sessionId));
      return;
    }
    this.inFlight--;
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
    while (this.inFlight < this.host.concurrency && this.head < this.queue.length) {
      const next = this.queue[this.head]!;
      this.queue[this.head++] = undefined as never;
      this.queuedBytes -= sizeOf(next);
      if (this.head === this.queue.length) {
        this.queue.length = 0;
        this.head = 0;
        this.queuedBytes = 0;
      }
      const cur = this.host.current();
      if (cur === undefined || cur.id !== next.sessionId || cur.ending) {
        this.discarded++;
        continue;
      }
      this.run(next, cur);
    }
    this.maybeResume();
  }

  private dropQueued(): void {
    const left = this.queue.length - this.head;
    if (left > 0) this.discarded += left;
    this.queue.length = 0;
    this.head = 0;
    this.queuedBytes = 0;
  }

  /** A session ended: its queued messages will not be handled; its exclusive reads fail. */
  sessionEnded(sessionId: number, error: WsmError): void {
    this.dropQueued();
    if (this.paused !== undefined && this.paused.id === sessionId) this.paused = undefined;
    const section = this.section;
    if (section !== undefined && section.sessionId === sessionId) this.endSection(section, error);
  }

  /** The client stopped: iterators end, exclusive reads fail with ClientStoppedError. */
  stopped(error: ClientStoppedError): void {
    this.dropQueued();
    this.paused = undefined;
    const section = this.section;
    if (section !== undefined) this.endSection(section, error);
    for (const s of [...this.subscriptions]) s.finish();
  }

  // --- messages() ---------------------------------------------------------------------------------

  /** A new async iterator over unconsumed messages; ends when the client stops. */
  subscribe(): AsyncIterableIterator<Message> {
    const s = new Subscription(this, this.host.limits.iteratorBufferSize);
    this.subscriptions.add(s);
    return s;
  }

  /** @internal */
  unsubscribe(s: Subscription): void {
    this.subscriptions.delete(s);
  }

  // --- exclusive ----------------------------------------------------------------------------------

  /**
   * Runs `fn` with normal dispatch paused. Calls queue in FIFO order; each waits for the client to be
   * open.
   */
  exclusive<T>(fn: (session: ExclusiveSession) => Promise<T> | T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const start = () => {
        this.host.whenOpen().then(
          (session) => this.runSection(session, fn).then(resolve, reject),
          (error) => {
            reject(error);
            this.nextSection();
          },
        );
      };
      if (this.sectionBusy) this.sectionQueue.push(start);
      else {
        this.sectionBusy = true;
        start();
      }
    });
  }

  private async runSection<T>(
    session: DispatchSession,
    fn: (s: ExclusiveSession) => Promise<T> | T,
  ): Promise<T> {
    const section: Section = {
      sessionId: session.id,
      buffer: [],
      waiters: [],
      ended: undefined,
      released: false,
      session,
    };
    this.section = section;
    this.host.notify('flow.pause');
    const handle: ExclusiveSession = {
      id: session.id,
      get ending() {
        return session.ending;
      },
      signal: session.signal,
      send: (data) => session.send(data),
      request: (data, options) => session.request(data, options),
      next: (predicate, options) => this.next(section, predicate, options?.timeoutMs),
    };
    try {
      return await fn(handle);
    } finally {
      this.finishSection(section);
    }
  }

  private next(
    section: Section,
    predicate: ((m: Message) => boolean) | undefined,
    timeoutMs?: number,
  ): Promise<Message> {
    if (this.section !== section) {
      return Promise.reject(
        new InvalidStateError('next() was called after its exclusive section ended', 'open'),
      );
    }
    const buffer = section.buffer;
    for (let i = 0; i < buffer.length; i++) {
      const m = buffer[i]!;
      if (predicate === undefined || safeTest(predicate, m, this.host)) {
        buffer.splice(i, 1);
        this.maybeResume();
        return Promise.resolve(m);
      }
    }
    if (section.ended !== undefined) return Promise.reject(section.ended);
    return new Promise<Message>((resolve, reject) => {
      const waiter: Waiter = { predicate, resolve, reject, timer: undefined };
      if (timeoutMs !== undefined && timeoutMs > 0) {
        waiter.timer = this.host.clock.setTimeout(() => {
          const i = section.waiters.indexOf(waiter);
          if (i >= 0) section.waiters.splice(i, 1);
          reject(new RequestTimeoutError(timeoutMs));
        }, timeoutMs);
      }
      section.waiters.push(waiter);
    });
  }

  private offerToSection(section: Section, message: Message): void {
    for (let i = 0; i < section.waiters.length; i++) {
      const w = section.waiters[i]!;
      if (w.predicate === undefined || safeTest(w.predicate, message, this.host)) {
        section.waiters.splice(i, 1);
        if (w.timer !== undefined) this.host.clock.clearTimeout(w.timer);
        w.resolve(message);
        return;
      }
    }
    section.buffer.push(message);
    // Messages held for the section count toward backpressure like queued ones: a flood during a
    // long section pauses reading, and past the hard bound the session is restarted.
    const held = section.buffer.length + this.queued;
    const limits = this.host.limits;
    if (
      this.paused === undefined &&
      held >= limits.highWaterMark &&
      this.host.pauseReading(section.session)
    ) {
      this.paused = section.session;
      this.host.notify('inbound.paused');
    }
    if (held > limits.maxQueued) {
      const error = new QueueOverflowError(
        `Messages held for an exclusive section passed inbound.maxQueued (${limits.maxQueued}); the session is restarted.`,
      );
      this.endSection(section, error);
      this.host.overflow(section.session, error);
    }
  }

  /** Resumes reading once the queue and any exclusive buffer are back at the low-water mark. */
  private maybeResume(): void {
    const paused = this.paused;
    if (paused === undefined) return;
    const held = this.queued + (this.section?.buffer.length ?? 0);
    if (held <= this.host.limits.lowWaterMark) {
      this.paused = undefined;
      this.host.resumeReading(paused);
      this.host.notify('inbound.resumed');
    }
  }

  private endSection(section: Section, error: WsmError): void {
    section.ended = error;
    const waiters = section.waiters.splice(0);
    for (const w of waiters) {
      if (w.timer !== undefined) this.host.clock.clearTimeout(w.timer);
      w.reject(error);
    }
    if (section.buffer.length > 0) this.discarded += section.buffer.length;
    section.buffer.length = 0;
    // A fn that never settles must not block later sections once its session is gone.
    if (this.section === section) this.section = undefined;
    this.release(section);
  }

  private release(section: Section): void {
    if (section.released) return;
    section.released = true;
    this.nextSection();
  }

  /** fn settled: messages it did not read are dispatched in order, then the next section runs. */
  private finishSection(section: Section): void {
    if (this.section === section) this.section = undefined;
    const leftover = section.buffer.splice(0);
    const waiters = section.waiters.splice(0);
    for (const w of waiters) {
      if (w.timer !== undefined) this.host.clock.clearTimeout(w.timer);
      w.reject(new InvalidStateError('The exclusive section ended while next() was waiting', 'open'));
    }
    if (section.ended === undefined) this.host.notify('flow.resume');
    const cur = this.host.current();
    for (const m of leftover) {
      if (cur !== undefined && cur.id === m.sessionId) this.dispatch(m, cur);
      else this.discarded++;
    }
    this.maybeResume();
    this.release(section);
  }

  private nextSection(): void {
    const next = this.sectionQueue.shift();
    if (next === undefined) this.sectionBusy = false;
    else next();
  }
}

function sizeOf(message: Message): number {
  const d = message.data;
  return typeof d === 'string' ? d.length : d.byteLength;
}

function safeTest(predicate: (m: Message) => boolean, m: Message, host: DispatcherHost): boolean {
  try {
    return predicate(m);
  } catch (error) {
    host.reportError(new HookError('exclusive next() predicate', error, m.sessionId));
    return false;
  }
}
