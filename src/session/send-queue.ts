/**
 * The bounded buffer of sends made while the client is not open. Bounded in count and bytes; an
 * overflow throws at the call (nothing is dropped silently); what is still queued when the client
 * stops or gives up is handed back to be reported as `undelivered`.
 */
import { SendBufferFullError } from '../core/errors.js';
import type { Data } from '../core/types.js';

const encoder = new TextEncoder();

/** Size of a message in bytes (UTF-8 for text). */
export function byteLength(data: Data): number {
  if (typeof data === 'string') {
    // Fast path: ASCII-only strings are as long as their UTF-8 encoding.
    // biome-ignore lint/suspicious/noControlCharactersInRegex: checking for ASCII
    return /^[\x00-\x7f]*$/.test(data) ? data.length : encoder.encode(data).length;
  }
  return data.byteLength;
}

/** One queued message. */
export interface QueuedSend {
  data: Data;
  bytes: number;
  queuedAt: number;
  /** What the owner attached (the client: the pending request the bytes belong to). */
  tag: unknown;
}

/** The send buffer. */
export class SendQueue {
  private items: QueuedSend[] = [];
  private bytes = 0;
  readonly maxMessages: number;
  readonly maxBytes: number;

  constructor(maxMessages: number, maxBytes: number) {
    this.maxMessages = maxMessages;
    this.maxBytes = maxBytes;
  }

  get size(): number {
    return this.items.length;
  }

  get byteSize(): number {
    return this.bytes;
  }

  /**
   * Queues a message.
   * @throws {SendBufferFullError} when it would pass either bound (the message is not queued).
   */
  push(data: Data, bytes: number, now: number, tag?: unknown): void {
    if (this.items.length + 1 > this.maxMessages || this.bytes + bytes > this.maxBytes) {
      throw new SendBufferFullError(this.maxMessages, this.maxBytes, this.items.length, this.bytes);
    }
    this.items.push({ data, bytes, queuedAt: now, tag });
    this.bytes += bytes;
  }

  /** Removes and returns everything, oldest first. */
  drain(): QueuedSend[] {
    const items = this.items;
    this.items = [];
    this.bytes = 0;
    return items;
  }

  /** Puts messages back at the front (a flush that stopped half way). */
  unshift(items: QueuedSend[]): void {
    if (items.length === 0) return;
    this.items = items.concat(this.items);
    for (const item of items) this.bytes += item.bytes;
  }
}
