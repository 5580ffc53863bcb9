/**
 * The pending-request table: keyed O(1) lookup, the predicate fallback, one shared timer for every
 * deadline, abort, and settle-exactly-once. Time is a fake clock this test controls.
 */
import { describe, expect, it, vi } from 'vitest';
import { RequestAbortedError, RequestTimeoutError, isErrorCode } from '../../src/core/errors.js';
import { Message } from '../../src/core/message.js';
import type { Clock } from '../../src/core/types.js';
import { Correlator, type CorrelatorConfig, type PendingEntry } from '../../src/rpc/correlator.js';

/** A clock whose time only moves when the test says so; counts the timers it was asked for. */
class FakeClock implements Clock {
  time = 0;
  setTimeoutCalls = 0;
  clearTimeoutCalls = 0;
  private nextId = 1;
  private readonly timers = new Map<number, { at: number; fn: () => void }>();

  now(): number {
    return this.time;
  }

  setTimeout(fn: () => void, ms: number): unknown {
    this.setTimeoutCalls++;
    const id = this.nextId++;
    this.timers.set(id, { at: this.time + ms, fn });
    return id;
  }

  clearTimeout(id: unknown): void {
    this.clearTimeoutCalls++;
    this.timers.delete(id as number);
  }

  /** Timers armed and not fired or cleared. */
  get active(): number {
    return this.timers.size;
  }

  /** Moves time forward, firing due timers in order (including ones armed while firing). */
  advance(ms: number): void {
    const target = this.time + ms;
    for (;;) {
      let nextId: number | undefined;
      let nextAt = Number.POSITIVE_INFINITY;
      for (const [id, t] of this.timers) {
        if (t.at < nextAt) {
          nextAt = t.at;
          nextId = id;
        }
      }
      if (nextId === undefined || nextAt > target) break;
      const timer = this.timers.get(nextId)!;
      this.timers.delete(nextId);
      this.time = Math.max(this.time, nextAt);
      timer.fn();
    }
    this.time = target;
  }
}

interface Tracked {
  entry: PendingEntry;
  resolved: Message[];
  rejected: unknown[];
  /** Every settlement (resolve or reject), to prove exactly-once. */
  settlements: number;
}

function setup(config: Partial<CorrelatorConfig> = {}) {
  const clock = new FakeClock();
  const matcherErrors: Array<[unknown, string]> = [];
  const correlator = new Correlator(clock, {
    keyOfResponse: undefined,
    match: undefined,
    onMatcherError: (error, which) => matcherErrors.push([error, which]),
    ...config,
  });
  const register = (
    opts: { key?: unknown; timeoutMs?: number; signal?: AbortSignal; params?: unknown; data?: string } = {},
  ): Tracked => {
    const t: Tracked = { entry: undefined as never, resolved: [], rejected: [], settlements: 0 };
    t.entry = correlator.register({
      data: opts.data ?? 'req',
      params: opts.params,
      key: opts.key,
      timeoutMs: opts.timeoutMs ?? 0,
      boundSession: 0,
      signal: opts.signal,
      callback: undefined,
      resolve: (m) => {
        t.settlements++;
        t.resolved.push(m);
      },
      reject: (e) => {
        t.settlements++;
        t.rejected.push(e);
      },
    });
    return t;
  };
  /** What the client does with a take(): resolve the entry it returns. */
  const deliver = (data: string): PendingEntry | undefined => {
    const message = new Message(data, false, 1, clock.now());
    const entry = correlator.take(message);
    entry?.resolve(message);
    return entry;
  };
  return { clock, correlator, register, deliver, matcherErrors };
}

const idOf = (m: Message) => (JSON.parse(m.data as string) as { id?: unknown }).id;

describe('keyed path', () => {
  it('takes the entry with the response key and removes it atomically', () => {
    const { correlator, register, deliver } = setup({ keyOfResponse: idOf });
    const a = register({ key: 1 });
    const b = register({ key: 2 });
    const c = register({ key: 3 });
    expect(correlator.size).toBe(3);

    expect(deliver('{"id":2}')).toBe(b.entry);
    expect(b.resolved.map((m) => m.data)).toEqual(['{"id":2}']);
    expect(correlator.size).toBe(2);
    expect(correlator.hasKey(2)).toBe(false);
    expect(b.entry.settled).toBe(true);

    // A duplicate response finds nothing: it is an ordinary message.
    expect(deliver('{"id":2}')).toBeUndefined();
    expect(b.settlements).toBe(1);
    // Out of order is fine.
    expect(deliver('{"id":3}')).toBe(c.entry);
    expect(deliver('{"id":1}')).toBe(a.entry);
    expect(correlator.size).toBe(0);
  });

  it('a response without a key, or with an unknown key, settles nothing', () => {
    const { correlator, register, deliver } = setup({ keyOfResponse: idOf });
    const a = register({ key: 1 });
    expect(deliver('{}')).toBeUndefined();
    expect(deliver('{"id":99}')).toBeUndefined();
    expect(correlator.size).toBe(1);
    expect(a.settlements).toBe(0);
  });

  it('is O(1): one key extraction per message and no predicate scan, whatever the number pending', () => {
    const keyOf = vi.fn(idOf);
    const match = vi.fn(() => false);
    const { correlator, register, deliver } = setup({ keyOfResponse: keyOf, match });
    for (let i = 0; i < 10_000; i++) register({ key: i });
    expect(correlator.size).toBe(10_000);
    const last = deliver('{"id":9999}');
    expect(last?.key).toBe(9_999);
    const first = deliver('{"id":0}');
    expect(first?.key).toBe(0);
    expect(keyOf).toHaveBeenCalledTimes(2);
    expect(match).not.toHaveBeenCalled();
    expect(correlator.size).toBe(9_998);
  });

  it('byKeyLookup finds a pending entry by key', () => {
    const { correlator, register } = setup({ keyOfResponse: idOf });
    const a = register({ key: 'k' });
    expect(correlator.byKeyLookup('k')).toBe(a.entry);
    expect(correlator.byKeyLookup('nope')).toBeUndefined();
  });

  it('a throwing key function is reported and the message falls through', () => {
    const boom = new Error('bad key fn');
    const { correlator, register, deliver, matcherErrors } = setup({
      keyOfResponse: () => {
        throw boom;
      },
    });
    const a = register({ key: 1 });
    expect(deliver('{"id":1}')).toBeUndefined();
    expect(matcherErrors).toEqual([[boom, 'requests.key.response']]);
    expect(correlator.size).toBe(1);
    expect(a.settlements).toBe(0);
  });
});

describe('predicate path', () => {
  it('scans in registration order and stops at the first match', () => {
    const visited: number[] = [];
    const { correlator, register, deliver } = setup({
      match: (req, res) => {
        visited.push(req.params as number);
        return res.data === 'even' && (req.params as number) % 2 === 0;
      },
    });
    const entries = [1, 2, 3, 4, 5].map((n) => register({ params: n }));
    expect(deliver('even')).toBe(entries[1]!.entry);
    expect(visited).toEqual([1, 2]);
    visited.length = 0;
    expect(deliver('even')).toBe(entries[3]!.entry);
    expect(visited).toEqual([1, 3, 4]);
    visited.length = 0;
    expect(deliver('even')).toBeUndefined();
    expect(visited).toEqual([1, 3, 5]);
    expect(correlator.size).toBe(3);
  });

  it('the predicate sees { id, data, params, key, sentAt }', () => {
    const seen: unknown[] = [];
    const { clock, register, deliver } = setup({
      match: (req) => {
        seen.push({ id: req.id, data: req.data, params: req.params, key: req.key, sentAt: req.sentAt });
        return true;
      },
    });
    clock.advance(42);
    register({ data: 'ping', params: { op: 'get' }, key: 'k1' });
    deliver('pong');
    expect(seen).toEqual([{ id: 1, data: 'ping', params: { op: 'get' }, key: 'k1', sentAt: 42 }]);
  });

  it('a throwing predicate is reported via onMatcherError and nothing settles', () => {
    const boom = new Error('bad match');
    const { correlator, register, deliver, matcherErrors } = setup({
      match: () => {
        throw boom;
      },
    });
    const a = register();
    expect(deliver('x')).toBeUndefined();
    expect(matcherErrors).toEqual([[boom, 'requests.match']]);
    expect(a.settlements).toBe(0);
    expect(correlator.size).toBe(1);
  });

  it('without a key function or a predicate, nothing is ever matched', () => {
    const { register, deliver } = setup();
    const a = register({ key: 1 });
    expect(deliver('{"id":1}')).toBeUndefined();
    expect(a.settlements).toBe(0);
  });
});

describe('timeouts', () => {
  it('10,000 requests with the same timeout share one timer', () => {
    const { clock, correlator, register } = setup({ keyOfResponse: idOf });
    const all = Array.from({ length: 10_000 }, (_, i) => register({ key: i, timeoutMs: 1_000 }));
    expect(clock.setTimeoutCalls).toBeLessThanOrEqual(2);
    expect(clock.active).toBe(1);
    clock.advance(999);
    expect(correlator.size).toBe(10_000);
    clock.advance(1);
    expect(correlator.size).toBe(0);
    for (const t of all) {
      expect(t.settlements).toBe(1);
      expect(t.rejected[0]).toBeInstanceOf(RequestTimeoutError);
    }
    expect(clock.setTimeoutCalls).toBeLessThanOrEqual(2);
    expect(clock.active).toBe(0);
  });

  it('staggered registrations (time moving) still use far fewer timers than requests', () => {
    const { clock, correlator, register } = setup({ keyOfResponse: idOf });
    for (let i = 0; i < 10_000; i++) {
      register({ key: i, timeoutMs: 5_000 });
      if (i % 10 === 0) clock.advance(1);
    }
    expect(clock.setTimeoutCalls).toBeLessThan(10);
    expect(clock.active).toBe(1);
    clock.advance(10_000);
    expect(correlator.size).toBe(0);
    // One re-arm per expiry wave at most, never one timer per request.
    expect(clock.setTimeoutCalls).toBeLessThan(10_000 / 5);
    expect(clock.active).toBe(0);
  });

  it('expired entries reject RequestTimeoutError and are removed; the others keep waiting', () => {
    const { clock, correlator, register } = setup({ keyOfResponse: idOf });
    const slow = register({ key: 'slow', timeoutMs: 300 });
    const fast = register({ key: 'fast', timeoutMs: 100 });
    const never = register({ key: 'never', timeoutMs: 0 });
    clock.advance(99);
    expect(fast.settlements).toBe(0);
    clock.advance(1);
    expect(fast.rejected).toHaveLength(1);
    expect(isErrorCode(fast.rejected[0], 'WSM_ERR_REQUEST_TIMEOUT')).toBe(true);
    expect((fast.rejected[0] as RequestTimeoutError).timeoutMs).toBe(100);
    expect(correlator.hasKey('fast')).toBe(false);
    expect(correlator.size).toBe(2);
    expect(slow.settlements).toBe(0);
    clock.advance(199);
    expect(slow.settlements).toBe(0);
    clock.advance(1);
    expect(slow.rejected[0]).toBeInstanceOf(RequestTimeoutError);
    // timeoutMs 0: no deadline, no timer left.
    clock.advance(1_000_000);
    expect(never.settlements).toBe(0);
    expect(correlator.size).toBe(1);
    expect(clock.active).toBe(0);
  });

  it('a shorter timeout registered later re-arms the shared timer earlier', () => {
    const { clock, register } = setup();
    const long = register({ timeoutMs: 10_000 });
    const short = register({ timeoutMs: 50 });
    expect(clock.active).toBe(1);
    clock.advance(50);
    expect(short.rejected[0]).toBeInstanceOf(RequestTimeoutError);
    expect(long.settlements).toBe(0);
    expect(clock.active).toBe(1);
  });

  it('a late response after the timeout settles nothing and is an ordinary message', () => {
    const { clock, register, deliver } = setup({ keyOfResponse: idOf });
    const a = register({ key: 7, timeoutMs: 100 });
    clock.advance(100);
    expect(deliver('{"id":7}')).toBeUndefined();
    expect(a.resolved).toEqual([]);
    expect(a.settlements).toBe(1);
  });

  it('answering every request clears the timer', () => {
    const { clock, register, deliver, correlator } = setup({ keyOfResponse: idOf });
    register({ key: 1, timeoutMs: 100 });
    register({ key: 2, timeoutMs: 200 });
    expect(clock.active).toBe(1);
    deliver('{"id":1}');
    deliver('{"id":2}');
    expect(correlator.size).toBe(0);
    expect(clock.active).toBe(0);
  });

  it('dispose clears the timer', () => {
    const { clock, correlator, register } = setup();
    register({ timeoutMs: 100 });
    correlator.dispose();
    expect(clock.active).toBe(0);
  });
});

describe('abort and settle-once', () => {
  it('an AbortSignal rejects RequestAbortedError with the reason and removes the entry', () => {
    const { correlator, register, deliver } = setup({ keyOfResponse: idOf });
    const ac = new AbortController();
    const a = register({ key: 1, signal: ac.signal, timeoutMs: 100 });
    ac.abort('user gave up');
    expect(a.rejected).toHaveLength(1);
    expect(a.rejected[0]).toBeInstanceOf(RequestAbortedError);
    expect((a.rejected[0] as RequestAbortedError).cause).toBe('user gave up');
    expect(correlator.size).toBe(0);
    expect(deliver('{"id":1}')).toBeUndefined();
    expect(a.settlements).toBe(1);
  });

  it('after settling, the abort listener is removed: a later abort does nothing', () => {
    const { register, deliver } = setup({ keyOfResponse: idOf });
    const ac = new AbortController();
    const remove = vi.spyOn(ac.signal, 'removeEventListener');
    const a = register({ key: 1, signal: ac.signal });
    deliver('{"id":1}');
    expect(remove).toHaveBeenCalledTimes(1);
    ac.abort();
    expect(a.settlements).toBe(1);
    expect(a.rejected).toEqual([]);
  });

  it('each entry settles exactly once, whatever races', () => {
    const { clock, correlator, register, deliver } = setup({ keyOfResponse: idOf });
    const ac = new AbortController();
    const a = register({ key: 1, timeoutMs: 10, signal: ac.signal });
    deliver('{"id":1}');
    ac.abort();
    clock.advance(100);
    expect(correlator.reject(a.entry, new Error('late'))).toBe(false);
    expect(a.settlements).toBe(1);
    expect(a.resolved).toHaveLength(1);

    const b = register({ key: 2, timeoutMs: 10 });
    expect(correlator.reject(b.entry, new Error('cancel'))).toBe(true);
    expect(correlator.reject(b.entry, new Error('again'))).toBe(false);
    clock.advance(100);
    expect(deliver('{"id":2}')).toBeUndefined();
    expect(b.settlements).toBe(1);
  });

  it('rejectWhere rejects the selected entries in registration order, once', () => {
    const { correlator, register } = setup();
    const order: number[] = [];
    const ts = [1, 2, 3, 4].map((n) => register({ params: n }));
    const count = correlator.rejectWhere(
      (e) => (e.params as number) % 2 === 1,
      (e) => {
        order.push(e.params as number);
        return new Error(`closed ${String(e.params)}`);
      },
    );
    expect(count).toBe(2);
    expect(order).toEqual([1, 3]);
    expect(correlator.entries().map((e) => e.params)).toEqual([2, 4]);
    expect(
      correlator.rejectWhere(
        () => true,
        () => new Error('stop'),
      ),
    ).toBe(2);
    expect(ts.map((t) => t.settlements)).toEqual([1, 1, 1, 1]);
  });

  it('ids are unique and increasing', () => {
    const { register } = setup();
    const ids = Array.from({ length: 5 }, () => register().entry.id);
    expect(ids).toEqual([1, 2, 3, 4, 5]);
  });
});
