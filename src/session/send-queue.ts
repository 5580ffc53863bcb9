/**
 * The bounded buffer of sends made while the client is not open. Bounded in count and bytes; an
 * overflow throws at the call (nothing is dropped silently); what is still queued when the client
 * stops or gives up, or what expires by `sendBuffer.maxAgeMs`, is handed back to be reported as
 * `undelivered`.
 */
import { SendBufferFullError } from '../core/errors.js';
import type { Data } from '../core/types.js';

/** One queued message. */
export interface QueuedSend {
  data: Data;
  bytes: number;
  queuedAt: number;
  /** What the owner attached (the client: the pending request the bytes belong to). */
  tag: unknown;
}

/** The send buffer: a FIFO, oldest first. */
export class SendQueue {
  private items: QueuedSend[] = [];
  private head = 0;
  private bytes = 0;
  readonly maxMessages: number;
  readonly maxBytes: number;

  constructor(maxMessages: number, maxBytes: number) {
    this.maxMessages = maxMessages;
    this.maxBytes = maxBytes;
  }

  get size(): number {
    return this.items.length - this.head;
  }

  /** Sum of the queued messages' sizes (UTF-8 for text). */
  get byteSize(): number {
    return this.bytes;
  }

  /**
   * Queues a message.
   * @throws {SendBufferFullError} when it would pass either bound (the message is not queued).
   */
  push(data: Data, bytes: number, now: number, tag?: unknown): void {
    const size = this.size;
    if (size + 1 > this.maxMessages || this.bytes + bytes > this.maxBytes) {
      throw new SendBufferFullError(this.maxMessages, this.maxBytes, size, this.bytes);
    }
    this.items.push({ data, bytes, queuedAt: now, tag });
    this.bytes += bytes;
  }

  /** The oldest item, if any. */
  peek(): QueuedSend | undefined {
    return this.head < this.items.length ? this.items[this.head] : undefined;
  }

  /** Removes and returns the oldest item. */
  shift(): QueuedSend | undefined {
    if (this.head >= this.items.length) return undefined;
    const item = this.items[this.head]!;
    this.items[this.head++] = undefined as never;
    this.bytes -= item.bytes;
    if (this.head === this.items.length) {
      this.items = [];
      this.head = 0;
      this.bytes = 0;
    }
    return item;
  }

  /** Removes and returns everything, oldest first. */
  drain(): QueuedSend[] {
    const items = this.head === 0 ? this.items : this.items.slice(this.head);
    this.items = [];
    this.head = 0;
    this.bytes = 0;
    return items;
  }
}
