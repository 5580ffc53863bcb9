/**
 * The typed emitter behind `client.on/off/once` (src/events.ts): `off(event, fn)` removes a listener
 * added with `once(event, fn)` (issue 21.9), unsubscribe functions remove exactly their own
 * registration, and a `once` listener runs once even when its event is emitted again from a listener.
 * Then the same through a real client on the in-memory adapter.
 */
import { describe, expect, it } from 'vitest';
import { createClient } from '../../src/index.js';
import { Emitter } from '../../src/events.js';
import { createMemoryAdapter } from '../../src/testing.js';

type Events = { tick: number; other: string };

function emitter() {
  const errors: unknown[] = [];
  return { bus: new Emitter<Events>((e) => errors.push(e)), errors };
}

describe('Emitter', () => {
  it('off(event, fn) removes a listener added with once(event, fn)', () => {
    const { bus } = emitter();
    const seen: number[] = [];
    const fn = (n: number) => seen.push(n);
    bus.once('tick', fn);
    bus.off('tick', fn);
    bus.emit('tick', 1);
    expect(seen).toEqual([]);
    expect(bus.has('tick')).toBe(false);
  });

  it('off(event, fn) removes only the first registration of fn, and leaves other listeners', () => {
    const { bus } = emitter();
    const seen: string[] = [];
    const fn = (n: number) => seen.push(`fn ${n}`);
    bus.once('tick', fn);
    bus.on('tick', fn);
    bus.on('tick', (n) => seen.push(`other ${n}`));
    bus.off('tick', fn); // the once registration, added first
    bus.emit('tick', 1);
    bus.emit('tick', 2);
    expect(seen).toEqual(['fn 1', 'other 1', 'fn 2', 'other 2']);
  });

  it('an unsubscribe function removes exactly its own registration, not another one of the same fn', () => {
    const { bus } = emitter();
    const seen: number[] = [];
    const fn = (n: number) => seen.push(n);
    bus.once('tick', fn);
    const unsubscribe = bus.on('tick', fn);
    unsubscribe();
    bus.emit('tick', 1); // the once registration is still there
    bus.emit('tick', 2);
    expect(seen).toEqual([1]);
  });

  it('a once listener runs once when a listener before it emits the same event again', () => {
    const { bus } = emitter();
    const seen: string[] = [];
    let nested = false;
    bus.on('tick', (n) => {
      seen.push(`first ${n}`);
      if (!nested) {
        nested = true;
        bus.emit('tick', n + 1);
      }
    });
    bus.once('tick', (n) => seen.push(`once ${n}`));
    bus.emit('tick', 1);
    expect(seen).toEqual(['first 1', 'first 2', 'once 2']);
  });

  it('off(event) with no listener removes every listener of that event only', () => {
    const { bus } = emitter();
    const seen: string[] = [];
    bus.on('tick', () => seen.push('on'));
    bus.once('tick', () => seen.push('once'));
    bus.on('other', (s) => seen.push(s));
    bus.off('tick');
    bus.emit('tick', 1);
    bus.emit('other', 'other');
    expect(seen).toEqual(['other']);
  });
});

describe('client.off after client.once (in-memory adapter)', () => {
  it("once('open', fn) then off('open', fn): fn is not called when the client opens", async () => {
    const client = createClient({ url: 'ws://server.test/feed', adapter: createMemoryAdapter() });
    const removed: unknown[] = [];
    const kept: unknown[] = [];
    const fn = (e: unknown) => removed.push(e);
    client.once('open', fn);
    client.once('open', (e) => kept.push(e));
    client.off('open', fn);
    await client.start();
    expect(client.state).toBe('open');
    expect(kept).toHaveLength(1);
    expect(removed).toEqual([]);
    await client.stop();
  });
});
