/**
 * The client's reconnect policy: the pure decision (src/core/reconnect-policy.ts) with the user's
 * `shouldReconnect` override and jitter source. User code never throws into the machine: a throwing or
 * out-of-range function is reported (in the decision the machine receives) and its default is used.
 */
import { policyFacts } from '../../machines/connection.machine.js';
import type { ConnectionContext, PolicyDecision } from '../../machines/connection.types.js';
import { HookError } from '../core/errors.js';
import { type OverrideInfo, decideReconnect } from '../core/reconnect-policy.js';
import { observeIfThenable, returnedPromise, thenOf } from '../core/safe.js';

/** The policy of one client. */
export class ReconnectPolicy {
  private readonly override: ((info: OverrideInfo) => unknown) | undefined;
  private readonly random: () => number;
  /** Reports what user code's promise rejects with later (after the decision was made). */
  private readonly report: (error: HookError) => void;

  constructor(
    override: ((info: OverrideInfo) => unknown) | undefined,
    random: () => number,
    report: (error: HookError) => void = () => {},
  ) {
    this.override = override;
    this.random = random;
    this.report = report;
  }

  /** The decision for a session that just ended, as the `policy.decided` event. */
  decide(context: ConnectionContext): PolicyDecision {
    const errors: HookError[] = [];
    let randomFailed = false;
    const override = this.override;
    const random = () => {
      try {
        const r: unknown = this.random();
        if (typeof r === 'number' && r >= 0 && r < 1) return r;
        if (thenOf(r) !== undefined) {
          observeIfThenable(r, (e) => this.report(new HookError('reconnect.random', e)));
          if (!randomFailed) errors.push(returnedPromise('reconnect.random'));
        } else if (!randomFailed) {
          errors.push(
            new HookError(
              'reconnect.random',
              new RangeError(`returned ${String(r)}, expected a number in [0, 1)`),
            ),
          );
        }
      } catch (e) {
        if (!randomFailed) errors.push(new HookError('reconnect.random', e));
      }
      randomFailed = true;
      return Math.random();
    };
    const decision = decideReconnect(
      context.config.reconnect,
      policyFacts(context),
      random,
      override === undefined
        ? undefined
        : (info) => {
            try {
              const answer = override(info);
              if (answer !== true && answer !== false && thenOf(answer) !== undefined) {
                // An async shouldReconnect cannot be awaited here: the default decides, and it is said.
                errors.push(returnedPromise('reconnect.shouldReconnect'));
                observeIfThenable(answer, (e) => this.report(new HookError('reconnect.shouldReconnect', e)));
                return info.defaultDecision;
              }
              return answer === true;
            } catch (e) {
              errors.push(new HookError('reconnect.shouldReconnect', e));
              return info.defaultDecision;
            }
          },
    );
    return { type: 'policy.decided', ...decision, ...(errors.length === 0 ? {} : { errors }) };
  }
}
