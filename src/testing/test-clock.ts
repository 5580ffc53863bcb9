/**
 * A simulated clock for tests: XState's `SimulatedClock` plus stepping from one due timer to the
 * next. A plain `increment(ms)` fires what is due at the end of the jump with the clock already
 * there, so a timer armed by another timer during the jump starts late and is missed; `advance(ms)`
 * stops at each due time on the way, so every timer due by the end fires, in due order, each seeing
 * the time it was due at.
 */
import { SimulatedClock } from 'xstate';

/**
 * XState's `SimulatedClock` with `advance(ms)` and `pending`. Pass it straight as the client's
 * `clock` (it has `now()`, `setTimeout` and `clearTimeout`). Create one with {@link createTestClock}.
 *
 * @example
 * ```ts
 * import { createClient } from 'wsmachine';
 * import { TestClock, createMemoryAdapter } from 'wsmachine/testing';
 * const clock = new TestClock();
 * const client = createClient({ url: 'ws://test.invalid', adapter: createMemoryAdapter(), clock });
 * void client.start();
 * clock.advance(30_000); // every timer due within 30 s fires, in order
 * ```
 */
export class TestClock extends SimulatedClock {
  private readonly dueAt = new Map<number, number>();

  /** Arms a timer `ms` from now; it fires when the clock is moved past its due time. */
  override setTimeout(fn: (...args: any[]) => void, ms: number): number {
    const id: number = super.setTimeout(() => {
      this.dueAt.delete(id);
      fn();
    }, ms);
    this.dueAt.set(id, this.now() + ms);
    return id;
  }

  /** Clears a timer that has not fired. */
  override clearTimeout(id: number): void {
    this.dueAt.delete(id);
    super.clearTimeout(id);
  }

  /** Number of timers armed and not yet fired or cleared. */
  get pending(): number {
    return this.dueAt.size;
  }

  /** Milliseconds until the earliest pending timer is due (0 if overdue), or undefined when none is. */
  nextDueInMs(): number | undefined {
    let next = Number.POSITIVE_INFINITY;
    for (const at of this.dueAt.values()) if (at < next) next = at;
    return Number.isFinite(next) ? Math.max(0, next - this.now()) : undefined;
  }

  /**
   * Moves time forward by `ms`, firing every timer due by then in due order, including the ones armed
   * on the way (`advance(0)` fires what is due now).
   */
  advance(ms: number): void {
    const target = this.now() + ms;
    for (let guard = 0; guard < 100_000; guard++) {
      let next = Number.POSITIVE_INFINITY;
      for (const at of this.dueAt.values()) if (at < next) next = at;
      if (next > target) break;
      this.set(Math.max(next, this.now()));
    }
    if (this.now() < target) this.set(target);
  }
}

/**
 * Creates a {@link TestClock} at time 0: pass it as the client's `clock` (and to `replayPath`), then
 * move time with `advance(ms)`.
 *
 * @example
 * ```ts
 * import { createClient } from 'wsmachine';
 * import { createMemoryAdapter, createTestClock } from 'wsmachine/testing';
 * const clock = createTestClock();
 * const server = createMemoryAdapter();
 * const client = createClient({ url: 'ws://test.invalid', adapter: server, clock, reconnect: { jitter: 'none' } });
 * await client.start();
 * server.last!.drop();
 * clock.advance(1_000);            // the 1 s backoff elapses: the client dials again
 * console.log(server.connections.length, clock.pending);
 * ```
 */
export function createTestClock(): TestClock {
  return new TestClock();
}
