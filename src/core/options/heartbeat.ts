/** `heartbeat`: protocol pings where the adapter can send them, an application ping otherwise. */
import type { AdapterFacts, Checker, Fn } from './checker.js';
import { DEFAULTS, MAX_TIMER_MS } from './defaults.js';

/** Heartbeat settings after defaults. */
export interface ResolvedHeartbeat {
  enabled: boolean;
  intervalMs: number;
  timeoutMs: number;
  maxMissed: number;
  message: unknown;
  isPong: Fn | undefined;
}

/** Checks `heartbeat` (`false` or an object) against what the adapter can do, and fills in defaults. */
export function resolveHeartbeat(c: Checker, value: unknown, adapter: AdapterFacts): ResolvedHeartbeat {
  const hb = c.section('heartbeat', value, true);
  const hbs = hb || {};
  c.known('heartbeat', hbs, ['intervalMs', 'timeoutMs', 'maxMissed', 'message', 'isPong']);
  const hd = DEFAULTS.heartbeat;
  const hasMessage = hbs.message !== undefined;
  if (hasMessage) {
    const m = hbs.message;
    if (
      !(
        typeof m === 'string' ||
        typeof m === 'function' ||
        m instanceof Uint8Array ||
        m instanceof ArrayBuffer
      )
    ) {
      c.add('heartbeat.message', m, 'a string, Uint8Array, ArrayBuffer, or a function returning one');
    }
  }
  // Browsers cannot send protocol pings: an explicit heartbeat there needs an app message.
  if (hb && !hasMessage && !adapter.protocolPing) {
    c.add(
      'heartbeat',
      hb,
      'an object with `message` (and usually `isPong`): this adapter cannot send protocol pings, so the heartbeat needs an application-level ping',
    );
  }
  return {
    enabled: hb !== false && (hasMessage || adapter.protocolPing),
    intervalMs: c.int('heartbeat.intervalMs', hbs.intervalMs, hd.intervalMs, 1, MAX_TIMER_MS),
    timeoutMs: c.int('heartbeat.timeoutMs', hbs.timeoutMs, hd.timeoutMs, 1, MAX_TIMER_MS),
    maxMissed: c.int('heartbeat.maxMissed', hbs.maxMissed, hd.maxMissed, 1, 1000),
    message: hbs.message,
    isPong: c.fn('heartbeat.isPong', hbs.isPong),
  };
}
