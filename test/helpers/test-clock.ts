/**
 * XState's SimulatedClock, plus what the client and machine tests need: stepping from one due timer to
 * the next (a plain `increment(ms)` would not fire a timer that another timer armed during the same
 * jump) and counting the timers still pending.
 * Pass it straight as the client's `clock` (it has `now()`, `setTimeout` and `clearTimeout`).
 */
import { SimulatedClock } from 'xstate';

export class TestClock extends SimulatedClock {
  private readonly dueAt = new Map<number, number>();

  override setTimeout(fn: (...args: any[]) => void, ms: number): number {
    const id: number = super.setTimeout(() => {
      this.dueAt.delete(id);
      fn();
    }, ms);
    this.dueAt.set(id, this.now() + ms);
    return id;
  }

  override clearTimeout(id: number): void {
    this.dueAt.delete(id);
    super.clearTimeout(id);
  }

  /** Number of timers scheduled and not yet fired or cleared. */
  get pending(): number {
    return this.dueAt.size;
  }

  /** Moves time forward by `ms`, firing every timer in due order (including ones armed on the way). */
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
