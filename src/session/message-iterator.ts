/**
 * One `messages()` iterator: an async iterator over the messages normal dispatch sees, with its own
 * buffer bounded in count and bytes. A reader that falls behind either bound is ended with
 * {@link QueueOverflowError} (its buffered messages are reported `unhandled`), so one slow reader
 * cannot hold memory, or pause the socket, for everyone.
 */
import { QueueOverflowError } from '../core/errors.js';
import type { Message } from '../core/message.js';

/** Bounds of one iterator's buffer. */
export interface IteratorLimits {
  /** Messages buffered before the iterator overflows. */
  messages: number;
  /** Bytes buffered before it overflows (one message of any size is always accepted). */
  bytes: number;
}

/** What an iterator tells its owner. */
export interface IteratorOwner {
  /** The iterator ended (read to the end, returned, or overflowed): stop feeding it. */
  detach(iterator: MessageIterator): void;
  /** Messages it dropped, with why. */
  dropped(messages: Message[], reason: QueueOverflowError): void;
}

/** One iterator's state. */
export class MessageIterator implements AsyncIterableIterator<Message> {
  private buffer: Message[] = [];
  private head = 0;
  private bytes = 0;
  private waiting: ((r: IteratorResult<Message>) => void) | undefined;
  private done = false;
  private failure: unknown;
  private readonly owner: IteratorOwner;
  private readonly limits: IteratorLimits;

  constructor(owner: IteratorOwner, limits: IteratorLimits) {
    this.owner = owner;
    this.limits = limits;
  }

  /** Offers a message; buffered when nobody is waiting. */
  push(message: Message): void {
    if (this.done) return;
    const w = this.waiting;
    if (w !== undefined) {
      this.waiting = undefined;
      w({ value: message, done: false });
      return;
    }
    const held = this.buffer.length - this.head;
    const limits = this.limits;
    if (held >= limits.messages || (held > 0 && this.bytes + message.bytes > limits.bytes)) {
      this.overflow(
        message,
        held >= limits.messages ? `${limits.messages} messages` : `${limits.bytes} bytes`,
      );
      return;
    }
    this.buffer.push(message);
    this.bytes += message.bytes;
  }

  /** Ends after the buffered messages are read (the client stopped). */
  finish(): void {
    if (this.done) return;
    this.done = true;
    this.owner.detach(this);
    const w = this.waiting;
    this.waiting = undefined;
    if (w !== undefined && this.head >= this.buffer.length) w({ value: undefined, done: true });
  }

  private overflow(message: Message, bound: string): void {
    const error = new QueueOverflowError(
      `A messages() iterator fell ${bound} behind and was ended so it cannot hold memory for everyone; read it faster or raise inbound.iteratorBufferSize / inbound.iteratorBufferBytes.`,
    );
    const dropped = this.buffer.slice(this.head);
    dropped.push(message);
    this.failure = error;
    this.clear();
    this.finish();
    this.owner.dropped(dropped, error);
  }

  private clear(): void {
    this.buffer = [];
    this.head = 0;
    this.bytes = 0;
  }

  next(): Promise<IteratorResult<Message>> {
    if (this.head < this.buffer.length) {
      const value = this.buffer[this.head]!;
      this.buffer[this.head++] = undefined as never;
      this.bytes -= value.bytes;
      if (this.head === this.buffer.length) this.clear();
      return Promise.resolve({ value, done: false });
    }
    if (this.failure !== undefined) {
      const f = this.failure;
      this.failure = undefined;
      return Promise.reject(f);
    }
    if (this.done) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => {
      this.waiting = resolve;
    });
  }

  return(): Promise<IteratorResult<Message>> {
    this.clear();
    this.failure = undefined;
    this.finish();
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<Message> {
    return this;
  }
}
