/**
 * The reconnect decision and its delay, as one pure function: the close-class table, the attempt
 * limit, a restart's "at once while stable" rule, Retry-After and 1013 floors, and backoff with jitter.
 * The random source and the user's override are passed in, so the machine stays deterministic and
 * the client decides which functions to trust.
 */
import { backoffDelay } from './backoff.js';
import type { CloseClass } from './close-codes.js';
import type { CloseInfo } from './types.js';

/** The largest delay a timer can take (about 24.8 days); a longer setTimeout fires after 1 ms. */
const MAX_TIMER_MS = 2_147_483_647;

/** The policy's data (the machine's `config.reconnect`). */
export interface ReconnectPolicyData {
  enabled: boolean;
  baseDelayMs: number;
  factor: number;
  maxDelayMs: number;
  jitter: 'full' | 'none';
  maxAttempts: number | null;
  credentialsRefreshable: boolean;
}

/** What the decision is about. */
export interface ReconnectFacts {
  /** The session's close (after it ended). */
  close: CloseInfo | undefined;
  closeClass: CloseClass;
  /** Attempts made since the last stable session (0: none). */
  attempt: number;
  /** The user asked for it with restart(). */
  restartRequested: boolean;
}

/**
 * What the override sees (the public `ReconnectInfo`; `wsmachine/machines` names it
 * `ReconnectDecisionInfo`).
 */
export interface OverrideInfo {
  class: CloseClass;
  code: number;
  reason: string;
  status: number | undefined;
  error: unknown;
  /** The reconnect attempt that would follow (1 for the first reconnect). */
  attempt: number;
  defaultDecision: boolean;
}

/** The decision. */
export interface ReconnectDecision {
  reconnect: boolean;
  delayMs: number;
}

/**
 * Decides whether to reconnect and after how long.
 *
 * @param random a source of numbers in [0, 1) for jitter.
 * @param override the user's `shouldReconnect`, consulted only for ends nobody asked for.
 */
export function decideReconnect(
  policy: ReconnectPolicyData,
  facts: ReconnectFacts,
  random: () => number,
  override: ((info: OverrideInfo) => boolean) | undefined,
): ReconnectDecision {
  const next = facts.attempt + 1;
  if (facts.restartRequested) {
    // A restart the user asked for after a stable session goes at once; in a loop it backs off.
    if (facts.attempt === 0) return { reconnect: true, delayMs: 0 };
    return { reconnect: true, delayMs: delayFor(policy, next, facts.close, random) };
  }
  const cls = facts.closeClass;
  const limited = policy.maxAttempts !== null && facts.attempt >= policy.maxAttempts;
  const defaultDecision =
    policy.enabled && !limited && (cls === 'transient' || (cls === 'auth' && policy.credentialsRefreshable));
  let reconnect = defaultDecision;
  // The override may widen or narrow the class table, never past `reconnect: false` or the limit.
  if (override !== undefined && policy.enabled && !limited) {
    const close = facts.close;
    reconnect = override({
      class: cls,
      code: close?.code ?? 1006,
      reason: close?.reason ?? '',
      status: close?.status,
      error: close?.error,
      attempt: next,
      defaultDecision,
    });
  }
  return { reconnect, delayMs: reconnect ? delayFor(policy, next, facts.close, random) : 0 };
}

/** Backoff for `attempt`, above the server's Retry-After (capped) and 1013's floor. */
function delayFor(
  policy: ReconnectPolicyData,
  attempt: number,
  close: CloseInfo | undefined,
  random: () => number,
): number {
  // Retry-After is honoured, but capped: a far-future date must not park the client forever.
  let floor = Math.min(close?.retryAfterMs ?? 0, Math.max(policy.maxDelayMs * 10, 300_000));
  // 1013 Try Again Later: the server asked for a longer pause than a network blip needs.
  if (close?.code === 1013 && floor === 0) floor = Math.min(policy.maxDelayMs, policy.baseDelayMs * 5);
  return Math.min(MAX_TIMER_MS, backoffDelay(policy, attempt, random, floor));
}
