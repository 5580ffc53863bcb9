/**
 * A min-heap of pending entries by deadline, so one shared timer serves every request (not one
 * `setTimeout` per request: at 100k pending that is 100k timer objects). Entries that settle early
 * stay until popped or compacted: removal is lazy.
 */

/** What the heap orders. */
export interface HasDeadline {
  readonly deadline: number;
  readonly settled: boolean;
}

/** A min-heap of entries by deadline; entries that settled early are skipped lazily. */
export class DeadlineHeap<E extends HasDeadline = HasDeadline> {
  private readonly items: E[] = [];

  get size(): number {
    return this.items.length;
  }

  peek(): E | undefined {
    return this.items[0];
  }

  push(entry: E): void {
    const a = this.items;
    a.push(entry);
    let i = a.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (a[parent]!.deadline <= entry.deadline) break;
      a[i] = a[parent]!;
      i = parent;
    }
    a[i] = entry;
  }

  pop(): E | undefined {
    const a = this.items;
    const top = a[0];
    const last = a.pop();
    if (a.length === 0 || last === undefined) return top;
    let i = 0;
    const n = a.length;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && a[r]!.deadline < a[l]!.deadline ? r : l;
      if (a[c]!.deadline >= last.deadline) break;
      a[i] = a[c]!;
      i = c;
    }
    a[i] = last;
    return top;
  }

  clear(): void {
    this.items.length = 0;
  }

  /** Drops entries that settled early, so memory stays proportional to what is pending. */
  compact(): void {
    const a = this.items;
    let n = 0;
    for (let i = 0; i < a.length; i++) if (!a[i]!.settled) a[n++] = a[i]!;
    a.length = n;
    // A sorted array is a valid min-heap; deadlines arrive nearly sorted, so this is cheap.
    a.sort((x, y) => x.deadline - y.deadline);
  }
}
