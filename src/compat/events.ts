/**
 * Lightweight event classes with the DOM shapes (`Event`, `MessageEvent`, `CloseEvent`,
 * `ErrorEvent`), for runtimes whose own classes are missing or too slow for the receive path.
 *
 * Why they exist: Node 20 has no `CloseEvent` or `ErrorEvent`, and its `MessageEvent` costs ~90 ns to
 * construct (its `Event` ~55 ns, measured on this project's machine), about a fifth of the whole
 * receive path per message. These cost a few ns: a message event is five field writes, and every
 * other DOM field is a constant on the prototype. `ws` ships the same kind of classes for its own
 * WHATWG interface. Only what a listener can observe is kept: `type`, `target`, `currentTarget`,
 * `timeStamp`, the constants, `stopImmediatePropagation()` (honoured by the facade's dispatch), and
 * each kind's own fields.
 */
import type { EventKit } from './runtime.js';

/**
 * Set on an event by `stopImmediatePropagation()`; the facade's dispatch stops when it sees it.
 * @internal
 */
export const STOP: unique symbol = Symbol('wsmachine.compat.stopImmediatePropagation');

/** The time of one socket read, shared by the events made during it. */
interface ReadTime {
  readonly at: number;
}
let read: ReadTime | undefined;
const endRead = (): void => {
  read = undefined;
};

/**
 * `performance.now()` read once per microtask: every message of one socket read shares the time it
 * arrived, so a read of thousands of frames costs one clock read (~70 ns each here), not thousands.
 * An object, not the number: a number field holding a fraction is boxed per event by V8, which
 * measured as most of the facade's garbage per message.
 * @internal
 */
export function readTime(): ReadTime {
  if (read === undefined) {
    read = { at: performance.now() };
    queueMicrotask(endRead);
  }
  return read;
}

/** The lightweight `Event`. */
class LiteEvent {
  // `declare`: assigned in the constructor only. A class field would also be defined first (ES2022
  // [[Define]] semantics), which measured ~10 ns more per event on the receive path.
  declare readonly type: string;
  declare readonly target: unknown;
  declare readonly timeStamp: number;
  declare readonly bubbles: boolean;
  declare readonly cancelable: boolean;
  declare readonly composed: boolean;
  declare readonly defaultPrevented: boolean;
  declare readonly isTrusted: boolean;
  declare readonly eventPhase: number;
  declare cancelBubble: boolean;
  declare [STOP]?: boolean;

  constructor(type: string, target: unknown, timeStamp: number) {
    this.type = type;
    this.target = target;
    this.timeStamp = timeStamp;
  }

  /** The facade: nothing bubbles, so the current target is always the target. */
  get currentTarget(): unknown {
    return this.target;
  }

  /** The legacy alias of `target`. */
  get srcElement(): unknown {
    return this.target;
  }

  /** The legacy inverse of `defaultPrevented`. */
  get returnValue(): boolean {
    return true;
  }

  /** The path the event travels: only its target. */
  composedPath(): unknown[] {
    return [this.target];
  }

  /** Stops the listeners not yet called in this dispatch. */
  stopImmediatePropagation(): void {
    this.cancelBubble = true;
    this[STOP] = true;
  }

  /** Nothing bubbles: only sets `cancelBubble`, as the DOM does. */
  stopPropagation(): void {
    this.cancelBubble = true;
  }

  /** No WebSocket event is cancelable: a no-op, as in the DOM. */
  preventDefault(): void {}
}

const PHASES = { NONE: 0, CAPTURING_PHASE: 1, AT_TARGET: 2, BUBBLING_PHASE: 3 } as const;
for (const [name, value] of Object.entries(PHASES)) {
  Object.defineProperty(LiteEvent, name, { value, enumerable: true });
  Object.defineProperty(LiteEvent.prototype, name, { value, enumerable: true });
}
for (const [name, value] of Object.entries({
  bubbles: false,
  cancelable: false,
  composed: false,
  defaultPrevented: false,
  isTrusted: false,
  eventPhase: PHASES.AT_TARGET,
  cancelBubble: false,
})) {
  Object.defineProperty(LiteEvent.prototype, name, { value, writable: true, configurable: true });
}

const NO_PORTS: readonly unknown[] = Object.freeze([]);

/**
 * The lightweight `MessageEvent`: one per received message, so it is built flat (no `super()` call,
 * five assignments); its prototype chain still goes through `LiteEvent.prototype`.
 */
class LiteMessageEvent {
  declare type: 'message';
  declare target: unknown;
  declare read: ReadTime;
  declare data: unknown;
  declare origin: string;

  constructor(target: unknown, data: unknown, origin: string) {
    this.target = target;
    this.read = readTime();
    this.data = data;
    this.origin = origin;
  }

  /** When the socket read that carried it happened (`performance.now()`). */
  get timeStamp(): number {
    return this.read.at;
  }

  /** Always `''` on a WebSocket. */
  get lastEventId(): string {
    return '';
  }

  /** Always `null` on a WebSocket. */
  get source(): null {
    return null;
  }

  /** Always empty on a WebSocket. */
  get ports(): readonly unknown[] {
    return NO_PORTS;
  }
}

Object.setPrototypeOf(LiteMessageEvent.prototype, LiteEvent.prototype);
// Always 'message': on the prototype, one field less to write per message.
Object.defineProperty(LiteMessageEvent.prototype, 'type', { value: 'message', enumerable: true });

/** The lightweight `CloseEvent`. */
class LiteCloseEvent extends LiteEvent {
  readonly code: number;
  readonly reason: string;
  readonly wasClean: boolean;

  constructor(target: unknown, code: number, reason: string, wasClean: boolean) {
    super('close', target, performance.now());
    this.code = code;
    this.reason = reason;
    this.wasClean = wasClean;
  }
}

/** The lightweight `ErrorEvent` (reconnecting-websocket's shape: `message` and `error`). */
class LiteErrorEvent extends LiteEvent {
  readonly message: string;
  readonly error: unknown;

  constructor(target: unknown, message: string, error: unknown) {
    super('error', target, performance.now());
    this.message = message;
    this.error = error;
  }

  /** Always `''`: the error did not come from a script. */
  get filename(): string {
    return '';
  }

  /** Always 0. */
  get lineno(): number {
    return 0;
  }

  /** Always 0. */
  get colno(): number {
    return 0;
  }
}

export { LiteCloseEvent, LiteErrorEvent, LiteEvent, LiteMessageEvent };

/**
 * The event kit over the lightweight classes.
 * @internal
 */
export const liteEventKit: EventKit = {
  open: (target) => new LiteEvent('open', target, performance.now()) as never,
  message: (target, data, origin) => new LiteMessageEvent(target, data, origin) as never,
  close: (target, code, reason, wasClean) => new LiteCloseEvent(target, code, reason, wasClean) as never,
  error: (target, message, error) => new LiteErrorEvent(target, message, error) as never,
};
