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

  /** Adds a listener; returns a function that removes it. */
  on<K extends keyof Events & string>(event: K, listener: (payload: Events[K]) => void): () => void {
    this.bus.on(event, listener);
    return () => this.bus.off(event, listener);
  }

  /** Removes a listener (or every listener of `event` when none is given). */
  off<K extends keyof Events & string>(event: K, listener?: (payload: Events[K]) => void): void {
    this.bus.off(event, listener);
  }

  /** Adds a listener that runs once; returns a function that removes it. */
  once<K extends keyof Events & string>(event: K, listener: (payload: Events[K]) => void): () => void {
    const wrapper = (payload: Events[K]) => {
      this.bus.off(event, wrapper);
      listener(payload);
    };
    this.bus.on(event, wrapper);
    return () => this.bus.off(event, wrapper);
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
    for (const listener of list.slice()) {
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
  }
}
