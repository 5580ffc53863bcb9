/**
 * Helpers for tests of `wsmachine/compat`: open a facade that {@link cleanup} closes after the test,
 * record its events, and wait for them (no sleeps: every wait resolves on an event, with a timeout
 * only as a guard that turns a hang into a readable failure).
 */
import ReconnectingWebSocket, { type Options, type UrlProvider } from '../../src/compat-node.js';
import { track } from './servers.js';

const DEFAULT_WAIT_MS = 5_000;

type EventName = 'open' | 'message' | 'close' | 'error';

/** A facade stopped by `cleanup()` after the test. */
export function openSocket(
  url: UrlProvider,
  protocols?: string | string[] | null,
  options?: Options,
): ReconnectingWebSocket {
  const ws = new ReconnectingWebSocket(url, protocols, options);
  track({ stop: () => ws.client.stop() });
  return ws;
}

/** Every event a facade dispatched, in order, as `{ type, event }`. */
export interface SocketRecorder {
  readonly log: Array<{ type: EventName; event: any }>;
  of(type: EventName): any[];
  /** The event types in order, e.g. `['open', 'message', 'close']`. */
  readonly types: EventName[];
}

/** Records the facade's four event types through `addEventListener`. */
export function record(ws: ReconnectingWebSocket): SocketRecorder {
  const log: Array<{ type: EventName; event: any }> = [];
  for (const type of ['open', 'message', 'close', 'error'] as const) {
    ws.addEventListener(type, (event: unknown) => log.push({ type, event }));
  }
  return {
    log,
    of: (type) => log.filter((e) => e.type === type).map((e) => e.event),
    get types() {
      return log.map((e) => e.type);
    },
  };
}

/** Resolves with the next `type` event satisfying `predicate`. */
export function nextEvent(
  ws: ReconnectingWebSocket,
  type: EventName,
  predicate: (event: any) => boolean = () => true,
  timeoutMs = DEFAULT_WAIT_MS,
): Promise<any> {
  return new Promise((resolve, reject) => {
    const listener = (event: any) => {
      if (!predicate(event)) return;
      clearTimeout(timer);
      ws.removeEventListener(type, listener);
      resolve(event);
    };
    const timer = setTimeout(() => {
      ws.removeEventListener(type, listener);
      reject(
        new Error(
          `Timed out after ${timeoutMs} ms waiting for a '${type}' event (readyState ${ws.readyState}, client ${ws.client.state})`,
        ),
      );
    }, timeoutMs);
    ws.addEventListener(type, listener);
  });
}

/**
 * Resolves once `rec` (made by {@link record} on `ws`, so its listener runs before this one) holds
 * `count` events of `type`.
 */
export function eventCount(
  rec: SocketRecorder,
  ws: ReconnectingWebSocket,
  type: EventName,
  count: number,
): Promise<void> {
  if (rec.of(type).length >= count) return Promise.resolve();
  return nextEvent(ws, type, () => rec.of(type).length >= count).then(() => {});
}
