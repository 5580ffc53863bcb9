/**
 * Exclusive sections (`client.exclusive(fn)`, the seeds' read mutex without its deadlocks): while one
 * runs, normal dispatch pauses and `fn` reads the stream directly with `next(predicate?)`. Sections
 * run one at a time in FIFO order, each on an open session. Messages `fn` does not read are handed
 * back to normal dispatch, in order, when it ends.
 */
import { HookError, InvalidStateError, RequestTimeoutError, type WsmError } from '../core/errors.js';
import type { Message } from '../core/message.js';
import type { Clock } from '../core/types.js';
import type { DispatchSession, ExclusiveSession } from './dispatch-types.js';

/** What sections need from the dispatcher. */
export interface SectionHost {
  readonly clock: Clock;
  reportError(error: WsmError): void;
  /** Resolves with the session once the client is open (now or after the next open). */
  whenOpen(): Promise<DispatchSession>;
  /** A section took or gave back messages: re-check backpressure. */
  heldChanged(section: Section): void;
  /** Messages a finished section did not read, in arrival order, for normal dispatch. */
  dispatchLeftovers(messages: Message[], session: DispatchSession): void;
}

interface Waiter {
  predicate: ((m: Message) => boolean) | undefined;
  resolve: (m: Message) => void;
  reject: (e: unknown) => void;
  timer: unknown;
}

/** One running section. */
export class Section {
  readonly session: DispatchSession;
  readonly buffer: Message[] = [];
  readonly waiters: Waiter[] = [];
  /** Why next() can no longer wait: its session ended, or the client stopped. */
  ended: WsmError | undefined;
  /** The FIFO lock was handed on (at most once per section). */
  released = false;

  constructor(session: DispatchSession) {
    this.session = session;
  }
}

/** The FIFO of exclusive sections of one client. */
export class Exclusive {
  private readonly host: SectionHost;
  /** The section reading the stream now, if any. */
  current: Section | undefined;
  private readonly queue: Array<() => void> = [];
  private busy = false;

  constructor(host: SectionHost) {
    this.host = host;
  }

  /** Messages held by the running section (they count toward backpressure). */
  get held(): number {
    return this.current?.buffer.length ?? 0;
  }

  /** Their bytes (they count toward the byte bounds too). */
  get heldBytes(): number {
    const buffer = this.current?.buffer;
    if (buffer === undefined) return 0;
    let bytes = 0;
    for (const m of buffer) bytes += m.bytes;
    return bytes;
  }

  run<T>(fn: (session: ExclusiveSession) => Promise<T> | T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const start = () => {
        this.host.whenOpen().then(
          (session) => this.runSection(session, fn).then(resolve, reject),
          (error) => {
            reject(error);
            this.next();
          },
        );
      };
      if (this.busy) this.queue.push(start);
      else {
        this.busy = true;
        start();
      }
    });
  }

  /** Offers a message of `sessionId`; true when the running section took it. */
  offer(message: Message): boolean {
    const section = this.current;
    if (section === undefined || section.session.id !== message.sessionId || section.ended !== undefined)
      return false;
    for (let i = 0; i < section.waiters.length; i++) {
      const w = section.waiters[i]!;
      if (w.predicate === undefined || this.test(w.predicate, message)) {
        section.waiters.splice(i, 1);
        if (w.timer !== undefined) this.host.clock.clearTimeout(w.timer);
        w.resolve(message);
        return true;
      }
    }
    section.buffer.push(message);
    this.host.heldChanged(section);
    return true;
  }

  /**
   * The section's session ended (or the client stopped): waiting next() calls reject with `error`,
   * and what the section held goes back to normal dispatch now, ahead of anything of a later session
   * (the dispatcher reports it instead when the client stopped). The lock passes on even if `fn`
   * never settles.
   */
  end(section: Section, error: WsmError): void {
    if (section.ended === undefined) section.ended = error;
    for (const w of section.waiters.splice(0)) {
      if (w.timer !== undefined) this.host.clock.clearTimeout(w.timer);
      w.reject(error);
    }
    if (this.current === section) this.current = undefined;
    const leftovers = section.buffer.splice(0);
    if (leftovers.length > 0) {
      this.host.heldChanged(section);
      this.host.dispatchLeftovers(leftovers, section.session);
    }
    this.release(section);
  }

  private async runSection<T>(
    session: DispatchSession,
    fn: (s: ExclusiveSession) => Promise<T> | T,
  ): Promise<T> {
    const section = new Section(session);
    this.current = section;
    const handle: ExclusiveSession = {
      id: session.id,
      get ending() {
        return session.ending;
      },
      signal: session.signal,
      endedBy: undefined,
      send: (data) => session.send(data),
      request: (data, options) => session.request(data, options),
      next: (predicate, options) => this.read(section, predicate, options?.timeoutMs),
    };
    try {
      return await fn(handle);
    } finally {
      this.finish(section);
    }
  }

  private read(
    section: Section,
    predicate: ((m: Message) => boolean) | undefined,
    timeoutMs?: number,
  ): Promise<Message> {
    if (this.current !== section && section.ended === undefined) {
      return Promise.reject(
        new InvalidStateError('next() was called after its exclusive section ended', 'open'),
      );
    }
    const buffer = section.buffer;
    for (let i = 0; i < buffer.length; i++) {
      const m = buffer[i]!;
      if (predicate === undefined || this.test(predicate, m)) {
        buffer.splice(i, 1);
        this.host.heldChanged(section);
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

  /** fn settled: unread messages go back to normal dispatch, in order; the next section runs. */
  private finish(section: Section): void {
    if (this.current === section) this.current = undefined;
    for (const w of section.waiters.splice(0)) {
      if (w.timer !== undefined) this.host.clock.clearTimeout(w.timer);
      w.reject(new InvalidStateError('The exclusive section ended while next() was waiting', 'open'));
    }
    const leftovers = section.buffer.splice(0);
    this.host.heldChanged(section);
    if (leftovers.length > 0) this.host.dispatchLeftovers(leftovers, section.session);
    this.release(section);
  }

  private release(section: Section): void {
    if (section.released) return;
    section.released = true;
    this.next();
  }

  private next(): void {
    const start = this.queue.shift();
    if (start === undefined) this.busy = false;
    else start();
  }

  private test(predicate: (m: Message) => boolean, m: Message): boolean {
    try {
      return predicate(m) === true;
    } catch (error) {
      this.host.reportError(new HookError('exclusive next() predicate', error, m.sessionId));
      return false;
    }
  }
}
