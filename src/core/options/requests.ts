/** `requests`: timeouts, correlation (a key pair or a match predicate) and the fate on disconnect. */
import type { Checker, Fn } from './checker.js';
import { DEFAULTS, MAX_TIMER_MS } from './defaults.js';

/** Request settings after defaults. */
export interface ResolvedRequests {
  timeoutMs: number;
  onDisconnect: 'reject' | 'resend';
  key: { request: Fn; response: Fn } | undefined;
  match: Fn | undefined;
}

/** Checks `requests` (an object) and fills in its defaults. */
export function resolveRequests(c: Checker, value: unknown): ResolvedRequests {
  const rq = c.section('requests', value, false) || {};
  c.known('requests', rq, ['timeoutMs', 'key', 'match', 'onDisconnect']);
  const onDisconnect = rq.onDisconnect ?? DEFAULTS.requests.onDisconnect;
  if (onDisconnect !== 'reject' && onDisconnect !== 'resend') {
    c.add('requests.onDisconnect', rq.onDisconnect, "'reject' or 'resend'");
  }
  let key: ResolvedRequests['key'];
  if (rq.key !== undefined) {
    const k = rq.key as Record<string, unknown> | null;
    if (
      typeof k !== 'object' ||
      k === null ||
      typeof k.request !== 'function' ||
      typeof k.response !== 'function'
    ) {
      c.add('requests.key', rq.key, 'an object with request(data, params) and response(message) functions');
    } else key = { request: k.request as Fn, response: k.response as Fn };
  }
  return {
    timeoutMs: c.int('requests.timeoutMs', rq.timeoutMs, DEFAULTS.requests.timeoutMs, 0, MAX_TIMER_MS),
    onDisconnect: onDisconnect === 'resend' ? 'resend' : 'reject',
    key,
    match: c.fn('requests.match', rq.match),
  };
}
