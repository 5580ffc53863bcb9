/** `sendBuffer`: the bounded queue of sends made while not open. */
import type { Checker } from './checker.js';
import { DEFAULTS, MAX_TIMER_MS } from './defaults.js';

/** Send buffer after defaults. */
export interface ResolvedSendBuffer {
  enabled: boolean;
  maxMessages: number;
  maxBytes: number;
  maxAgeMs: number | undefined;
}

/** Checks `sendBuffer` (`false` or an object) and fills in its defaults. */
export function resolveSendBuffer(c: Checker, value: unknown): ResolvedSendBuffer {
  const sb = c.section('sendBuffer', value, true);
  const sbs = sb || {};
  c.known('sendBuffer', sbs, ['maxMessages', 'maxBytes', 'maxAgeMs']);
  return {
    enabled: sb !== false,
    maxMessages: c.int('sendBuffer.maxMessages', sbs.maxMessages, DEFAULTS.sendBuffer.maxMessages, 1),
    maxBytes: c.int('sendBuffer.maxBytes', sbs.maxBytes, DEFAULTS.sendBuffer.maxBytes, 1),
    maxAgeMs:
      sbs.maxAgeMs === undefined ? undefined : c.int('sendBuffer.maxAgeMs', sbs.maxAgeMs, 0, 0, MAX_TIMER_MS),
  };
}
