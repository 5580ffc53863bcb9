/**
 * Validation of `client.subscribe()` options: every bad option named at once in one
 * `InvalidOptionsError`, defaults filled in, and the machine's input (data only) derived.
 */
import type { SubscriptionInput } from '../../machines/subscription.types.js';
import { InvalidOptionsError } from '../core/errors.js';
import { MAX_TIMER_MS } from '../core/options.js';
import { Checker } from '../core/options/checker.js';
import type { SubscriptionOptions } from './subscription-types.js';

/** Defaults of `retry` (when it is given). */
export const SUBSCRIPTION_RETRY_DEFAULTS = {
  baseDelayMs: 1_000,
  factor: 2,
  maxDelayMs: 30_000,
  maxAttempts: Number.POSITIVE_INFINITY,
} as const;

const KNOWN = ['name', 'subscribe', 'unsubscribe', 'match', 'key', 'retry', 'timeoutMs'] as const;
const KNOWN_RETRY = ['baseDelayMs', 'factor', 'maxDelayMs', 'maxAttempts'] as const;

/** The options, checked, and the machine's input. */
export interface ResolvedSubscription {
  options: SubscriptionOptions;
  input: SubscriptionInput;
}

/**
 * Checks `client.subscribe()`'s argument.
 *
 * @throws {InvalidOptionsError} naming each bad option.
 */
export function resolveSubscription(value: unknown): ResolvedSubscription {
  const c = new Checker();
  const o = c.section('subscribe(options)', value, false);
  if (o === undefined || o === false) {
    if (o === undefined && c.problems.length === 0) c.add('subscribe(options)', value, 'an object');
    throw new InvalidOptionsError(c.problems);
  }
  c.known('subscribe', o, KNOWN);
  const name = o.name;
  if (typeof name !== 'string' || name.length === 0) c.add('subscribe.name', name, 'a non-empty string');
  if (typeof o.subscribe !== 'function') c.add('subscribe.subscribe', o.subscribe, 'a function');
  c.fn('subscribe.unsubscribe', o.unsubscribe);
  c.fn('subscribe.match', o.match);
  c.fn('subscribe.key', o.key);
  const timeoutMs = c.int('subscribe.timeoutMs', o.timeoutMs, 0, 0, MAX_TIMER_MS);
  const r = c.section('subscribe.retry', o.retry, false);
  let retry: SubscriptionInput['retry'] = null;
  if (r !== undefined && r !== false) {
    c.known('subscribe.retry', r, KNOWN_RETRY);
    const d = SUBSCRIPTION_RETRY_DEFAULTS;
    const maxAttempts = c.int(
      'subscribe.retry.maxAttempts',
      r.maxAttempts,
      d.maxAttempts,
      1,
      undefined,
      true,
    );
    retry = {
      baseDelayMs: c.int('subscribe.retry.baseDelayMs', r.baseDelayMs, d.baseDelayMs, 0, MAX_TIMER_MS),
      factor: c.num('subscribe.retry.factor', r.factor, d.factor, 1),
      maxDelayMs: c.int('subscribe.retry.maxDelayMs', r.maxDelayMs, d.maxDelayMs, 0, MAX_TIMER_MS),
      // JSON has no Infinity: the machine's context stays serializable.
      maxAttempts: Number.isFinite(maxAttempts) ? maxAttempts : null,
    };
  }
  if (c.problems.length > 0) throw new InvalidOptionsError(c.problems);
  // A copy: the router finds a subscription's group by its key function, so a later change to the
  // user's object must not strand it there.
  const options = { ...o } as unknown as SubscriptionOptions;
  return { options, input: { name: options.name, timeoutMs, retry } };
}
