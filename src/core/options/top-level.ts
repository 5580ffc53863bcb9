/**
 * The top level of the options object: its known names, the scalar limits and timeouts, and the
 * runtime objects the client is handed (`adapter`, `clock`, `inspect`, `environment`, `unref`).
 */
import type { Checker } from './checker.js';
import { DEFAULTS, MAX_TIMER_MS } from './defaults.js';

const KNOWN_TOP = new Set([
  'url',
  'protocols',
  'headers',
  'adapter',
  'maxPayloadBytes',
  'openTimeoutMs',
  'closeTimeoutMs',
  'stopTimeoutMs',
  'reconnect',
  'heartbeat',
  'requests',
  'prepare',
  'sendBuffer',
  'concurrency',
  'inbound',
  'hooks',
  'inspect',
  'clock',
  'unref',
  'environment',
]);

/** The scalar top-level options after defaults. */
export interface ResolvedLimits {
  maxPayloadBytes: number;
  openTimeoutMs: number;
  closeTimeoutMs: number;
  stopTimeoutMs: number;
  concurrency: number;
}

/** Reports every top-level name that is not an option (a typo must not be ignored). */
export function checkTopLevelNames(c: Checker, o: Record<string, unknown>): void {
  for (const key of Object.keys(o)) {
    if (!KNOWN_TOP.has(key))
      c.add(key, o[key], `a known option (${[...KNOWN_TOP].join(', ')}); check the spelling`);
  }
}

/** Checks the size limit, the three bounds on waiting, and `concurrency`. */
export function resolveLimits(c: Checker, o: Record<string, unknown>): ResolvedLimits {
  return {
    maxPayloadBytes: c.int('maxPayloadBytes', o.maxPayloadBytes, DEFAULTS.maxPayloadBytes, 1),
    openTimeoutMs: c.int('openTimeoutMs', o.openTimeoutMs, DEFAULTS.openTimeoutMs, 0, MAX_TIMER_MS),
    closeTimeoutMs: c.int('closeTimeoutMs', o.closeTimeoutMs, DEFAULTS.closeTimeoutMs, 0, MAX_TIMER_MS),
    stopTimeoutMs: c.int('stopTimeoutMs', o.stopTimeoutMs, DEFAULTS.stopTimeoutMs, 0, MAX_TIMER_MS),
    concurrency: c.int('concurrency', o.concurrency, DEFAULTS.concurrency, 1, 10_000),
  };
}

/**
 * Checks the shapes of the runtime objects; the client reads them itself, so nothing is returned.
 * Duck-typed: an adapter or clock from another copy of the package must pass.
 */
export function checkRuntime(c: Checker, o: Record<string, unknown>): void {
  c.bool('unref', o.unref, false);
  if (
    o.environment !== undefined &&
    o.environment !== false &&
    (typeof o.environment !== 'object' || o.environment === null)
  ) {
    c.add('environment', o.environment, 'false or an object { online?, visibility?, window?, document? }');
  }
  c.fn('inspect', o.inspect);
  if (o.adapter !== undefined) {
    const a = o.adapter as Record<string, unknown> | null;
    if (
      typeof a !== 'object' ||
      a === null ||
      typeof a.connect !== 'function' ||
      typeof a.capabilities !== 'object'
    ) {
      c.add('adapter', o.adapter, 'a SocketAdapter (an object with connect() and capabilities)');
    }
  }
  if (o.clock !== undefined) {
    const k = o.clock as Record<string, unknown> | null;
    if (
      typeof k !== 'object' ||
      k === null ||
      typeof k.now !== 'function' ||
      typeof k.setTimeout !== 'function' ||
      typeof k.clearTimeout !== 'function'
    ) {
      c.add('clock', o.clock, 'an object with now(), setTimeout(fn, ms) and clearTimeout(id)');
    }
  }
}
