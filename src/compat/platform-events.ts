/**
 * The event kit over the runtime's own classes (browsers, Deno, Bun): `event instanceof MessageEvent`
 * (or `CloseEvent`, `ErrorEvent`, `Event`) holds, as with a native `WebSocket`.
 *
 * Each class is a thin subclass of the runtime's, for two reasons: `target` must be the facade (a
 * runtime event dispatched by our own loop would say `null`), and `stopImmediatePropagation()` must be
 * visible to that loop (the runtime keeps its flag internal). A class the runtime lacks falls back to
 * a subclass of its `Event` carrying the same fields, or to the lightweight classes when there is no
 * `Event` at all.
 */
import { STOP, liteEventKit } from './events.js';
import type { EventKit } from './runtime.js';

type EventCtor = new (type: string, init?: Record<string, unknown>) => Event;

interface RuntimeEvents {
  Event?: unknown;
  MessageEvent?: unknown;
  CloseEvent?: unknown;
  ErrorEvent?: unknown;
}

const TARGET: unique symbol = Symbol('wsmachine.compat.target');

/** Subclasses `Base` so that instances report `target` and honour stopImmediatePropagation(). */
function targeted(
  Base: EventCtor,
): new (
  target: object,
  type: string,
  init: Record<string, unknown>,
) => Event {
  class Targeted extends Base {
    [TARGET]: object;
    constructor(target: object, type: string, init: Record<string, unknown>) {
      super(type, init);
      this[TARGET] = target;
    }
    override stopImmediatePropagation(): void {
      super.stopImmediatePropagation();
      (this as { [STOP]?: boolean })[STOP] = true;
    }
  }
  // Accessors, not fields: `target` is a getter on Event.prototype, and the DOM lib types it as a
  // property, which a subclass may not redeclare as an accessor.
  const get = function (this: Targeted) {
    return this[TARGET];
  };
  for (const name of ['target', 'currentTarget', 'srcElement']) {
    Object.defineProperty(Targeted.prototype, name, { get, configurable: true });
  }
  return Targeted;
}

/**
 * Builds the kit from `runtime` (default `globalThis`).
 * @internal
 */
export function platformEventKit(runtime: RuntimeEvents = globalThis as RuntimeEvents): EventKit {
  if (typeof runtime.Event !== 'function') return liteEventKit;
  const BaseEvent = runtime.Event as EventCtor;
  const own = (Ctor: unknown): EventCtor | undefined =>
    typeof Ctor === 'function' ? (Ctor as EventCtor) : undefined;
  const Open = targeted(BaseEvent);
  const Message = targeted(own(runtime.MessageEvent) ?? BaseEvent);
  const Close = targeted(own(runtime.CloseEvent) ?? BaseEvent);
  const Failure = targeted(own(runtime.ErrorEvent) ?? BaseEvent);
  // Fields the base class does not carry (a CloseEvent or ErrorEvent made from a plain Event) are
  // set on the instance.
  const messageNative = own(runtime.MessageEvent) !== undefined;
  const closeNative = own(runtime.CloseEvent) !== undefined;
  const errorNative = own(runtime.ErrorEvent) !== undefined;
  const assign = <T extends object>(event: T, fields: Record<string, unknown>): T => {
    for (const [key, value] of Object.entries(fields)) {
      Object.defineProperty(event, key, { value, enumerable: true });
    }
    return event;
  };
  return {
    open: (target) => new Open(target, 'open', {}) as never,
    message: (target, data, origin) => {
      const event = new Message(target, 'message', { data, origin });
      return (messageNative ? event : assign(event, { data, origin, lastEventId: '' })) as never;
    },
    close: (target, code, reason, wasClean) => {
      const event = new Close(target, 'close', { code, reason, wasClean });
      return (closeNative ? event : assign(event, { code, reason, wasClean })) as never;
    },
    error: (target, message, error) => {
      const event = new Failure(target, 'error', { message, error });
      return (errorNative ? event : assign(event, { message, error })) as never;
    },
  };
}
