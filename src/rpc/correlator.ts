/**
 * Pending requests and their matching responses.
 *
 * - Keyed path: a `Map` from key to entry, O(1) per incoming message.
 * - Predicate path (the seeds' MatchMsg): a scan in registration order, stopping at the first match;
 *   O(pending) per message, used only when no key function is configured.
 * - Timeouts: one shared timer armed at the earliest deadline over a binary heap of deadlines, not
 *   one `setTimeout` per request (at 100k pending that is 100k timer objects).
 * - Every entry settles exactly once: resolved by its response, or rejected by timeout, abort,
 *   cancel, disconnect or stop. Settling removes it from every structure first, so a late response
 *   can never settle anything and falls through as an ordinary message.
 */
import { RequestAbortedError, RequestTimeoutError } from '../core/errors.js';
import type { Message } from '../core/message.js';
import { observeIfThenable, returnedPromise, thenOf } from '../core/safe.js';
import type { Clock, Data } from '../core/types.js';
import { DeadlineHeap } from './deadline-heap.js';

/** One pending request. */
export interface PendingEntry {
  readonly id: number;
  readonly data: Data;
  readonly params: unknown;
  readonly key: unknown;
  /** `clock.now()` at registration. */
  readonly sentAt: number;
  /** Absolute deadline on the clock, or Infinity. */
  readonly deadline: number;
  readonly timeoutMs: number;
  /** Session the request is bound to (session.request), or 0 for client requests. */
  readonly boundSession: number;
  /** Session it was last written on, 0 while queued. */
  writtenOn: number;
  /** Re-sent once already after a disconnect. */
  resent: boolean;
  settled: boolean;
  readonly resolve: (message: Message) => void;
  readonly reject: (error: unknown) => void;
  readonly callback: ((message: Message) => void) | undefined;
  cleanupAbort: (() => void) | undefined;
  /** The read-only view `requests.match` sees (made on first use). */
  view: PendingView | undefined;
}

/** What `requests.match` sees: a frozen copy, so user code cannot touch the settle machinery. */
export interface PendingView {
  readonly id: number;
  readonly data: Data;
  readonly params: unknown;
  readonly key: unknown;
  readonly sentAt: number;
}

/** What registering needs. */
export interface RegisterInput {
  data: Data;
  params: unknown;
  key: unknown;
  timeoutMs: number;
  boundSession: number;
  signal: AbortSignal | undefined;
  callback: ((message: Message) => void) | undefined;
  resolve: (message: Message) => void;
  reject: (error: unknown) => void;
}

/** The empty table every correlator starts with (never written). */
const NO_PENDING: Map<unknown, PendingEntry> = new Map();

/** Matching configuration. */
export interface CorrelatorConfig {
  keyOfResponse: ((message: Message) => unknown) | undefined;
  match: ((request: PendingView, message: Message) => boolean) | undefined;
  /** Reports a throwing key/match function; the message then falls through unmatched. */
  onMatcherError: (error: unknown, which: 'requests.key.response' | 'requests.match') => void;
}

/** The pending-request table of one client. */
export class Correlator {
  /**
   * Every pending entry in registration order (a Map keeps insertion order; delete is O(1)), stored
   * under its key when it has one (the O(1) lookup of the keyed path) and under itself otherwise.
   * One Map, not a by-key Map beside a by-id Map: one Map write per request and one delete per
   * response instead of two of each (measured: the second Map was a third of the keyed path's cost at
   * 100k pending), and one Map less per client. Keys are unique among pending requests (the caller
   * checks `hasKey` first), and no user key can be an entry object, so the two kinds never collide.
   */
  // Shared until the first request: thousands of idle clients that never request hold no table.
  private pending: Map<unknown, PendingEntry> = NO_PENDING;
  private readonly heap = new DeadlineHeap<PendingEntry>();
  private nextId = 1;
  private timer: unknown;
  private timerAt = Number.POSITIVE_INFINITY;
  private readonly clock: Clock;
  private readonly config: CorrelatorConfig;

  constructor(clock: Clock, config: CorrelatorConfig) {
    this.clock = clock;
    this.config = config;
  }

  get size(): number {
    return this.pending.size;
  }

  /** True when a request with this key is pending. */
  hasKey(key: unknown): boolean {
    return key !== undefined && this.pending.has(key);
  }

  /**
   * Registers a request (before its bytes are written, so a reply in the same tick is matched).
   * The caller checks the key for duplicates first.
   */
  register(input: RegisterInput): PendingEntry {
    const now = this.clock.now();
    const entry: PendingEntry = {
      id: this.nextId++,
      data: input.data,
      params: input.params,
      key: input.key,
      sentAt: now,
      deadline: input.timeoutMs > 0 ? now + input.timeoutMs : Number.POSITIVE_INFINITY,
      timeoutMs: input.timeoutMs,
      boundSession: input.boundSession,
      writtenOn: 0,
      resent: false,
      settled: false,
      resolve: input.resolve,
      reject: input.reject,
      callback: input.callback,
      cleanupAbort: undefined,
      view: undefined,
    };
    if (this.pending === NO_PENDING) this.pending = new Map();
    this.pending.set(input.key !== undefined ? input.key : entry, entry);
    if (entry.deadline !== Number.POSITIVE_INFINITY) {
      // Settled entries leave the heap lazily; without this, a busy client would keep every answered
      // request (and its data) until its deadline passed. Amortized O(1) per push.
      if (this.heap.size > 2 * this.pending.size + 32) this.heap.compact();
      this.heap.push(entry);
      if (entry.deadline < this.timerAt) this.arm(entry.deadline, now);
    }
    const signal = input.signal;
    if (signal !== undefined) {
      const onAbort = () => this.reject(entry, new RequestAbortedError(signal.reason));
      signal.addEventListener('abort', onAbort, { once: true });
      entry.cleanupAbort = () => signal.removeEventListener('abort', onAbort);
    }
    return entry;
  }

  /**
   * Finds and removes the request this message answers. Returns it, or undefined when the message is
   * not a response to anything pending (then it is an ordinary message).
   */
  take(message: Message): PendingEntry | undefined {
    if (this.pending.size === 0) return undefined;
    const keyOf = this.config.keyOfResponse;
    if (keyOf !== undefined) {
      let key: unknown;
      try {
        key = keyOf(message);
      } catch (error) {
        this.config.onMatcherError(error, 'requests.key.response');
        return undefined;
      }
      if (key === undefined) return undefined;
      if (thenOf(key) !== undefined) {
        this.misuse(key, 'requests.key.response');
        return undefined;
      }
      const entry = this.pending.get(key);
      if (entry === undefined || entry.key === undefined) return undefined;
      this.remove(entry);
      return entry;
    }
    const match = this.config.match;
    if (match === undefined) return undefined;
    for (const entry of this.pending.values()) {
      let hit: boolean;
      try {
        entry.view ??= Object.freeze({
          id: entry.id,
          data: entry.data,
          params: entry.params,
          key: entry.key,
          sentAt: entry.sentAt,
        });
        hit = match(entry.view, message);
      } catch (error) {
        this.config.onMatcherError(error, 'requests.match');
        return undefined;
      }
      // An async match would be a promise: truthy, so it would "match" every message.
      if (hit !== true && hit !== false && thenOf(hit) !== undefined) {
        this.misuse(hit, 'requests.match');
        return undefined;
      }
      if (hit) {
        this.remove(entry);
        return entry;
      }
    }
    return undefined;
  }

  /** A matcher returned a promise: no match; the misuse and its eventual rejection are reported. */
  private misuse(value: unknown, which: 'requests.key.response' | 'requests.match'): void {
    this.config.onMatcherError(returnedPromise(which).cause, which);
    observeIfThenable(value, (error) => this.config.onMatcherError(error, which));
  }

  /** Rejects one entry (timeout, abort, cancel). Returns false when it had already settled. */
  reject(entry: PendingEntry, error: unknown): boolean {
    if (entry.settled) return false;
    this.remove(entry);
    entry.reject(error);
    return true;
  }

  /** Rejects every entry for which `select` is true, in registration order. */
  rejectWhere(select: (entry: PendingEntry) => boolean, error: (entry: PendingEntry) => unknown): number {
    let count = 0;
    for (const entry of [...this.pending.values()]) {
      if (select(entry) && this.reject(entry, error(entry))) count++;
    }
    return count;
  }

  /** Pending entries in registration order (a copy). */
  entries(): PendingEntry[] {
    return [...this.pending.values()];
  }

  /** Finds a pending entry by key. */
  byKeyLookup(key: unknown): PendingEntry | undefined {
    if (key === undefined) return undefined;
    const entry = this.pending.get(key);
    return entry?.key === undefined ? undefined : entry;
  }

  /** Removes an entry from every structure and marks it settled (the heap is cleaned lazily). */
  private remove(entry: PendingEntry): void {
    entry.settled = true;
    const slot = entry.key !== undefined ? entry.key : entry;
    if (this.pending.get(slot) === entry) this.pending.delete(slot);
    entry.cleanupAbort?.();
    entry.cleanupAbort = undefined;
    if (this.pending.size === 0) this.disarm();
  }

  private arm(at: number, now: number): void {
    this.disarm();
    this.timerAt = at;
    this.timer = this.clock.setTimeout(() => this.expire(), Math.max(0, at - now));
  }

  private disarm(): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = Number.POSITIVE_INFINITY;
    if (this.pending.size === 0) this.heap.clear();
  }

  /** Rejects every request whose deadline passed, then re-arms for the next one. */
  private expire(): void {
    this.timer = undefined;
    this.timerAt = Number.POSITIVE_INFINITY;
    const now = this.clock.now();
    for (;;) {
      const top = this.heap.peek();
      if (top === undefined) return;
      if (top.settled) {
        this.heap.pop();
        continue;
      }
      if (top.deadline > now) {
        this.arm(top.deadline, now);
        return;
      }
      this.heap.pop();
      this.reject(top, new RequestTimeoutError(top.timeoutMs));
    }
  }

  /** Clears the timer (used when the client is disposed). */
  dispose(): void {
    this.disarm();
    this.heap.clear();
  }
}
