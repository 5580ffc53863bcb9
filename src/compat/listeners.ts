/**
 * The facade's listener lists and its dispatch, with the DOM's rules for what a listener sees:
 *
 * - a listener is a function or an object with `handleEvent` (looked up at each call, as the DOM
 *   does); adding the same one twice for a type is a no-op; `once` and `signal` are honoured;
 * - the `onX` handler runs first, then the listeners in the order they were added (what
 *   reconnecting-websocket and partysocket do for their own events);
 * - listeners added during a dispatch are not called for that event; removed ones are not called if
 *   they had not run yet (the lists are copied on write, so dispatch reads them without copying);
 * - `stopImmediatePropagation()` skips the rest;
 * - a listener that throws does not stop the others, and its error is reported the way the platform
 *   reports an error thrown by a listener (`reportError`, else `console.error` in Node, where the
 *   platform's own EventTarget would crash the process instead).
 *
 * Only the four WebSocket event types are kept; listeners for other types are ignored, as
 * reconnecting-websocket ignores them.
 */
import { STOP } from './events.js';
import type { ListenerOptions, WebSocketListener } from './types.js';

/**
 * The event types a WebSocket dispatches.
 * @internal
 */
export const EVENT_TYPES = ['open', 'message', 'close', 'error'] as const;
/** @internal */
export type EventType = (typeof EVENT_TYPES)[number];

interface Entry {
  readonly callback: WebSocketListener<never>;
  readonly capture: boolean;
  readonly once: boolean;
  removed: boolean;
  detach: (() => void) | undefined;
}

const isEventType = (type: unknown): type is EventType => EVENT_TYPES.includes(type as EventType);

/**
 * Reports an error thrown by a listener or handler without letting it reach the socket's code.
 * @internal
 */
export function reportListenerError(error: unknown): void {
  const report = (globalThis as { reportError?: (e: unknown) => void }).reportError;
  if (typeof report === 'function') {
    report(error);
    return;
  }
  console.error('wsmachine/compat: an event listener threw (the others still ran):', error);
}

function call(callback: unknown, target: object, event: object): void {
  try {
    if (typeof callback === 'function') callback.call(target, event);
    else (callback as { handleEvent(e: object): unknown }).handleEvent(event);
  } catch (error) {
    reportListenerError(error);
  }
}

/**
 * Listener lists per event type.
 * @internal
 */
export class Listeners {
  private lists: Record<EventType, readonly Entry[]> = { open: [], message: [], close: [], error: [] };

  /** True when `type` has at least one listener (the `onX` handler not included). */
  has(type: EventType): boolean {
    return this.lists[type].length > 0;
  }

  /** Adds a listener (see the module comment for the rules). */
  add(type: string, callback: unknown, options: boolean | ListenerOptions | undefined): void {
    if (!isEventType(type) || callback === null || callback === undefined) return;
    if (typeof callback !== 'function' && typeof callback !== 'object') return;
    const capture = typeof options === 'boolean' ? options : options?.capture === true;
    const list = this.lists[type];
    if (list.some((e) => e.callback === callback && e.capture === capture)) return;
    const signal = typeof options === 'object' ? options.signal : undefined;
    if (signal?.aborted) return;
    const entry: Entry = {
      callback: callback as WebSocketListener<never>,
      capture,
      once: typeof options === 'object' && options.once === true,
      removed: false,
      detach: undefined,
    };
    if (signal !== undefined) {
      const onAbort = () => this.drop(type, entry);
      signal.addEventListener('abort', onAbort, { once: true });
      entry.detach = () => signal.removeEventListener('abort', onAbort);
    }
    this.lists[type] = [...list, entry];
  }

  /** Removes a listener added with the same callback and `capture`. */
  remove(type: string, callback: unknown, options: boolean | ListenerOptions | undefined): void {
    if (!isEventType(type)) return;
    const capture = typeof options === 'boolean' ? options : options?.capture === true;
    const entry = this.lists[type].find((e) => e.callback === callback && e.capture === capture);
    if (entry !== undefined) this.drop(type, entry);
  }

  private drop(type: EventType, entry: Entry): void {
    if (entry.removed) return;
    entry.removed = true;
    entry.detach?.();
    this.lists[type] = this.lists[type].filter((e) => e !== entry);
  }

  /** Dispatches `event`: `handler` (the `onX` property) first, then the listeners of `type`. */
  dispatch(target: object, type: EventType, handler: unknown, event: object): void {
    if (typeof handler === 'function') {
      try {
        handler.call(target, event);
      } catch (error) {
        reportListenerError(error);
      }
    }
    const list = this.lists[type];
    if (list.length === 0) return;
    for (let i = 0; i < list.length; i++) {
      if ((event as { [STOP]?: boolean })[STOP] === true) return;
      const entry = list[i]!;
      if (entry.removed) continue;
      if (entry.once) this.drop(type, entry);
      call(entry.callback, target, event);
    }
  }

  /** Whether `type` is one of the four WebSocket event types. */
  static knows(type: unknown): type is EventType {
    return isEventType(type);
  }
}
