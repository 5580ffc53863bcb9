/** `reconnect`: the backoff and the close-code policy. */
import type { Checker, Fn } from './checker.js';
import { DEFAULTS, MAX_TIMER_MS } from './defaults.js';

/** Reconnect policy after defaults. */
export interface ResolvedReconnect {
  enabled: boolean;
  baseDelayMs: number;
  factor: number;
  maxDelayMs: number;
  jitter: 'full' | 'none';
  maxAttempts: number;
  resetAfterMs: number;
  retryOnStart: boolean;
  shouldReconnect: Fn | undefined;
  random: () => number;
  authCloseCodes: readonly number[];
  fatalCloseCodes: readonly number[];
}

const NAMES = [
  'baseDelayMs',
  'factor',
  'maxDelayMs',
  'jitter',
  'maxAttempts',
  'resetAfterMs',
  'retryOnStart',
  'shouldReconnect',
  'random',
  'authCloseCodes',
  'fatalCloseCodes',
];

/** Checks `reconnect` (`false` or an object) and fills in its defaults. */
export function resolveReconnect(c: Checker, value: unknown): ResolvedReconnect {
  const r = c.section('reconnect', value, true);
  const rd = DEFAULTS.reconnect;
  const rs = r || {};
  c.known('reconnect', rs, NAMES);
  const jitter = rs.jitter === undefined ? rd.jitter : rs.jitter;
  if (jitter !== 'full' && jitter !== 'none') c.add('reconnect.jitter', rs.jitter, "'full' or 'none'");
  const reconnect: ResolvedReconnect = {
    enabled: r !== false,
    baseDelayMs: c.int('reconnect.baseDelayMs', rs.baseDelayMs, rd.baseDelayMs, 0, MAX_TIMER_MS),
    factor: c.num('reconnect.factor', rs.factor, rd.factor, 1),
    maxDelayMs: c.int('reconnect.maxDelayMs', rs.maxDelayMs, rd.maxDelayMs, 0, MAX_TIMER_MS),
    jitter: jitter === 'none' ? 'none' : 'full',
    maxAttempts: c.int(
      'reconnect.maxAttempts',
      rs.maxAttempts,
      rd.maxAttempts,
      0,
      Number.MAX_SAFE_INTEGER,
      true,
    ),
    resetAfterMs: c.int('reconnect.resetAfterMs', rs.resetAfterMs, rd.resetAfterMs, 0, MAX_TIMER_MS),
    retryOnStart: c.bool('reconnect.retryOnStart', rs.retryOnStart, rd.retryOnStart),
    shouldReconnect: c.fn('reconnect.shouldReconnect', rs.shouldReconnect),
    random: c.fn('reconnect.random', rs.random) ?? Math.random,
    authCloseCodes: c.codes('reconnect.authCloseCodes', rs.authCloseCodes, rd.authCloseCodes),
    fatalCloseCodes: c.codes('reconnect.fatalCloseCodes', rs.fatalCloseCodes, rd.fatalCloseCodes),
  };
  if (reconnect.maxDelayMs < reconnect.baseDelayMs) {
    c.add(
      'reconnect.maxDelayMs',
      reconnect.maxDelayMs,
      `an integer >= reconnect.baseDelayMs (${reconnect.baseDelayMs})`,
    );
  }
  return reconnect;
}
