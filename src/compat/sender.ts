/**
 * The facade's `send()`: hands data to the client in call order, and accounts for the bytes not on
 * the wire yet (for `bufferedAmount`).
 *
 * - A `Blob` must be read before it can be sent, which is asynchronous; while one is being read,
 *   later sends wait behind it, so the server sees messages in the order `send()` was called (the
 *   browser does the same).
 * - A send the client refuses (the queue is full, or the facade was closed) is not dropped silently,
 *   as reconnecting-websocket and partysocket drop it: `send()` returns `false` and the refusal is
 *   reported as an `error` event.
 * - Bytes waiting in the client's send buffer: the public API gives their count
 *   (`stats().queuedSends`), not their size, so the sizes of this facade's queued sends are kept in
 *   order and trimmed to that count (the queue flushes and expires oldest first).
 */
import type { WsClient } from '../public.js';
import { isBlob, normalizeOutgoing, sizeOf } from './binary.js';

/**
 * Sends for one facade.
 * @internal
 */
export class Sender {
  private readonly client: WsClient;
  private readonly report: (error: unknown) => void;
  private readonly log: ((...args: unknown[]) => void) | undefined;
  /** Blob reads in progress, and the sends waiting behind them. */
  private chain: Promise<void> | undefined;
  private deferredBytes = 0;
  /** Sizes of this facade's sends in the client's queue, oldest first (from `head`). */
  private queued: number[] = [];
  private head = 0;
  private queuedBytes = 0;

  constructor(
    client: WsClient,
    report: (error: unknown) => void,
    log: ((...args: unknown[]) => void) | undefined,
  ) {
    this.client = client;
    this.report = report;
    this.log = log;
  }

  /** Sends `data` now, or after the Blobs before it; `true` when it went to the socket at once. */
  send(data: unknown): boolean {
    if (this.chain !== undefined || (typeof data !== 'string' && isBlob(data))) return this.defer(data);
    return this.write(data);
  }

  /** Bytes accepted by `send()` that have not reached the socket yet. */
  get pendingBytes(): number {
    if (this.queued.length > this.head) this.trim(this.client.stats().queuedSends);
    return this.queuedBytes + this.deferredBytes;
  }

  private write(data: unknown): boolean {
    // Text is immutable; bytes that will wait in the queue are copied (see normalizeOutgoing).
    const out = typeof data === 'string' ? data : normalizeOutgoing(data, !this.client.isOpen);
    let result: string;
    try {
      result = this.client.send(out);
    } catch (error) {
      this.log?.('send refused', error);
      this.report(error);
      return false;
    }
    if (result === 'sent') {
      this.log?.('send', data);
      return true;
    }
    this.log?.('enqueue', data);
    // Sizes of messages that left the queue since the last send go first, so this list stays as
    // short as the client's queue even when nobody reads bufferedAmount.
    this.trim(this.client.stats().queuedSends - 1);
    const size = sizeOf(out);
    this.queued.push(size);
    this.queuedBytes += size;
    return false;
  }

  private defer(data: unknown): false {
    const size = isBlob(data) ? data.size : sizeOf(normalizeOutgoing(data, false));
    this.deferredBytes += size;
    // A snapshot now: the caller may reuse its buffer once send() returned.
    const held = isBlob(data) ? data : normalizeOutgoing(data, true);
    const step = async () => {
      try {
        const ready = isBlob(held) ? new Uint8Array(await held.arrayBuffer()) : held;
        this.deferredBytes -= size;
        this.write(ready);
      } catch (error) {
        this.deferredBytes -= size;
        this.report(error);
      }
    };
    const chain = (this.chain ?? Promise.resolve()).then(step);
    this.chain = chain;
    void chain.then(() => {
      if (this.chain === chain) this.chain = undefined;
    });
    this.log?.('enqueue', data);
    return false;
  }

  /** Forgets the oldest sizes until as many remain as the client still holds. */
  private trim(stillQueued: number): void {
    while (this.queued.length - this.head > stillQueued) {
      this.queuedBytes -= this.queued[this.head]!;
      this.head++;
    }
    if (this.head === this.queued.length) {
      this.queued = [];
      this.head = 0;
      this.queuedBytes = 0;
    } else if (this.head > 1024 && this.head * 2 > this.queued.length) {
      this.queued = this.queued.slice(this.head);
      this.head = 0;
    }
  }
}
