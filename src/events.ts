/**
 * A typed event emitter over mitt, with two things mitt lacks: `on()` returns an unsubscribe, and a
 * throwing listener does not stop the others (mitt calls listeners in a plain loop).
 *
 * mitt 3.0.1's own types break under `module: NodeNext` (mitt issue 191), so it is imported through
 * this one typed wrapper.
 */
import mittImport from 'mitt';

type Handler = (payload: any) => void;
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
  private readonly snapshots = new Map<string, Handler[]>();

  private add(event: string, listener: Handler): () => void {
    this.bus.on(event, listener);
    this.snapshots.delete(event);
    return () => this.remove(event, listener);
  }

  private remove(event: string, listener?: Handler): void {
    this.bus.off(event, listener);
    this.snapshots.delete(event);
  }

  /** Adds a listener; returns a function that removes it. */
  on<K extends keyof Events & string>(event: K, listener: (payload: Events[K]) => void): () => void {
    return this.add(event, listener);
  }

  /** Removes a listener (or every listener of `event` when none is given). */
  off<K extends keyof Events & string>(event: K, listener?: (payload: Events[K]) => void): void {
    this.remove(event, listener);
  }

  /** Adds a listener that runs once; returns a function that removes it. */
  once<K extends keyof Events & string>(event: K, listener: (payload: Events[K]) => void): () => void {
    const wrapper = (payload: Events[K]) => {
      this.remove(event, wrapper);
      listener(payload);
    };
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
      try {
        list[0]!(payload);
      } catch (error) {
        this.onListenerError(error, event);
      }
      return;
    }
    let snapshot = this.snapshots.get(event);
    if (snapshot === undefined) {
      snapshot = list.slice();
      this.snapshots.set(event, snapshot);
    }
    for (const listener of snapshot) {
      try {
        listener(payload);
      } catch (error) {
        this.onListenerError(error, event);
      }
    }
  }

  /** Removes every listener. */
  clear(): void {
    this.bus.all.clear();
    this.snapshots.clear();
  }
}
