/**
 * A typed event emitter over mitt, with two things mitt lacks: `on()` returns an unsubscribe, and a
 * throwing listener does not stop the others (mitt calls listeners in a plain loop).
 *
 * mitt 3.0.1's own types break under `module: NodeNext` (mitt issue 191), so it is imported through
 * this one typed wrapper.
 */
import mittImport from 'mitt';
import { whenSettled } from './core/safe.js';

const noop = (): void => {};

type Handler = (payload: any) => void;
/** A `once` wrapper keeps the listener it wraps, so `off(event, listener)` can find it. */
type OnceWrapper = Handler & { readonly listener: Handler };
interface MittLike {
  all: Map<string, Handler[]>;
  on(type: string, handler: Handler): void;
  off(type: string, handler?: Handler): void;
}
const mitt = mittImport as unknown as () => MittLike;

/** Typed `on/off/once/emit` over a map of event names to payload types. */
export class Emitter<Events extends Record<string, unknown>> {
  private readonly bus: MittLike = mitt();
  /** Called when a listener throws; the other listeners still run. */
  private readonly onListenerError: (error: unknown, event: string) => void;

  constructor(onListenerError: (error: unknown, event: string) => void) {
    this.onListenerError = onListenerError;
  }

  /**
   * Copies of the listener lists, made when a list changes rather than on every emit: a listener that
   * removes itself (once) must not make the loop skip the next one, and emitting must not allocate.
   */
  private snapshots: Map<string, Handler[]> | undefined;

  private add(event: string, listener: Handler): () => void {
    this.bus.on(event, listener);
    this.snapshots?.delete(event);
    return () => this.remove(event, listener, true);
  }

  /**
   * Removes the first listener (in registration order) that is `listener` or, unless `exact`, a
   * `once` wrapper of it; every listener of `event` when none is given. The unsubscribe functions pass
   * `exact`: each removes the very registration that returned it.
   */
  private remove(event: string, listener?: Handler, exact = false): void {
    if (listener === undefined) {
      this.bus.off(event);
      this.snapshots?.delete(event);
      return;
    }
    const list = this.bus.all.get(event);
    if (list === undefined) return;
    for (let i = 0; i < list.length; i++) {
      const h = list[i]!;
      if (h === listener || (!exact && (h as Partial<OnceWrapper>).listener === listener)) {
        list.splice(i, 1);
        this.snapshots?.delete(event);
        return;
      }
    }
  }

  /** Adds a listener; returns a function that removes it. */
  on<K extends keyof Events & string>(event: K, listener: (payload: Events[K]) => void): () => void {
    return this.add(event, listener);
  }

  /**
   * Removes a listener added with `on` or `once` (the first one added, if it was added more than
   * once), or every listener of `event` when none is given.
   */
  off<K extends keyof Events & string>(event: K, listener?: (payload: Events[K]) => void): void {
    this.remove(event, listener);
  }

  /** Adds a listener that runs once; returns a function that removes it. */
  once<K extends keyof Events & string>(event: K, listener: (payload: Events[K]) => void): () => void {
    // `fired`: an emit already under way (a nested emit of the same event, from a listener) still
    // holds the wrapper in its snapshot and must not call the listener a second time.
    let fired = false;
    const wrapper = Object.assign(
      (payload: Events[K]) => {
        if (fired) return;
        fired = true;
        this.remove(event, wrapper, true);
        listener(payload);
      },
      { listener: listener as Handler },
    );
    return this.add(event, wrapper);
  }

  /** True when `event` has at least one listener (lets hot paths skip work). */
  has(event: keyof Events & string): boolean {
    const list = this.bus.all.get(event);
    return list !== undefined && list.length > 0;
  }

  /** Calls every listener of `event`; a throwing listener is reported and the rest still run. */
  emit<K extends keyof Events & string>(event: K, payload: Events[K]): void {
    const list = this.bus.all.get(event);
    if (list === undefined || list.length === 0) return;
    if (list.length === 1) {
      this.call(list[0]!, payload, event);
      return;
    }
    let snapshot = this.snapshots?.get(event);
    if (snapshot === undefined) {
      snapshot = list.slice();
      this.snapshots ??= new Map();
      this.snapshots.set(event, snapshot);
    }
    for (const listener of snapshot) this.call(listener, payload, event);
  }

  /** One listener: a throw, or the rejection of a promise it returned (an async listener), is reported. */
  private call(listener: Handler, payload: unknown, event: string): void {
    let result: unknown;
    try {
      result = listener(payload);
    } catch (error) {
      this.onListenerError(error, event);
      return;
    }
    // Most listeners return nothing: one comparison on the hot path.
    if (result !== undefined) whenSettled(result, noop, (error) => this.onListenerError(error, event));
  }

  /** Removes every listener. */
  clear(): void {
    this.bus.all.clear();
    this.snapshots?.clear();
  }
}
