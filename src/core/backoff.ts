/**
 * Reconnect delay policy: `(attempt, random) -> ms`. Pure: the random source is passed in, so the
 * machine stays deterministic under test.
 */

/**
 * The numeric part of the reconnect policy that decides delays.
 *
 * @example
 * ```ts
 * import { backoffDelay, type BackoffPolicy } from 'wsmachine';
 * const policy: BackoffPolicy = { baseDelayMs: 500, factor: 2, maxDelayMs: 8_000, jitter: 'none' };
 * [1, 2, 3, 4, 5, 6].map((attempt) => backoffDelay(policy, attempt, Math.random));
 * // [500, 1000, 2000, 4000, 8000, 8000]
 * ```
 */
export interface BackoffPolicy {
  /** Delay cap of the first reconnect. */
  baseDelayMs: number;
  /** Growth per attempt. */
  factor: number;
  /** Upper bound of any delay. */
  maxDelayMs: number;
  /** `full`: uniform in [0, cap] (AWS "full jitter"); `none`: exactly the cap. */
  jitter: 'full' | 'none';
}

/**
 * The delay before reconnect attempt `attempt` (1 for the first reconnect).
 *
 * With full jitter the delay is uniform in `[0, min(maxDelayMs, baseDelayMs * factor^(attempt-1))]`,
 * which spreads a crowd of clients dropped at once (RFC 6455 section 7.2.3) instead of
 * having them all return in the same instant.
 *
 * @param attempt 1-based reconnect attempt.
 * @param random a source of numbers in [0, 1).
 * @param floorMs a lower bound (e.g. a server's `Retry-After`); jitter is added on top of it so that
 *   clients told "retry after 2 s" do not all come back at exactly 2 s.
 *
 * @example
 * ```ts
 * backoffDelay({ baseDelayMs: 1000, factor: 2, maxDelayMs: 30_000, jitter: 'none' }, 3, Math.random); // 4000
 * ```
 */
export function backoffDelay(
  policy: BackoffPolicy,
  attempt: number,
  random: () => number,
  floorMs = 0,
): number {
  const exponent = Math.max(0, attempt - 1);
  // A zero base stays zero: 0 * factor^1024 would be 0 * Infinity = NaN, then the cap (a 30 s stall).
  const grown = policy.baseDelayMs === 0 ? 0 : policy.baseDelayMs * policy.factor ** exponent;
  const cap = Math.min(policy.maxDelayMs, grown);
  const safeCap = Number.isFinite(cap) ? cap : policy.maxDelayMs;
  if (floorMs > 0) {
    const spread = policy.jitter === 'full' ? clampUnit(random()) * Math.min(safeCap, floorMs * 0.5 + 1) : 0;
    return Math.round(floorMs + spread);
  }
  if (policy.jitter === 'none') return Math.round(safeCap);
  return Math.round(clampUnit(random()) * safeCap);
}

function clampUnit(n: number): number {
  if (!(n >= 0)) return 0;
  return n >= 1 ? 0.999999 : n;
}
