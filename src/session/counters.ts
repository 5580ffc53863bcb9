/**
 * The client's counters, in one object the service parts share (no getters on the hot path).
 * Sizes are UTF-8 bytes for text, as everywhere in wsmachine.
 */
export class Counters {
  messagesIn = 0;
  messagesOut = 0;
  bytesIn = 0;
  bytesOut = 0;
  /** Sessions that opened. */
  sessions = 0;
  /** Dials made (every attempt, opened or not). */
  dials = 0;
  /** Reconnect dials made. */
  reconnects = 0;
  /** Sent messages reported `undelivered`. */
  undelivered = 0;
  /** Received messages reported `unhandled`. */
  unhandled = 0;
  /** Round trip of the last answered heartbeat ping (ms, sub-millisecond resolution). */
  lastRttMs: number | undefined = undefined;
}
