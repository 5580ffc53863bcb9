/**
 * The errors of lifecycle replays: a replay that was set up so that it cannot drive the client
 * (which says how to set it up), and a client that left the path (the model test's failure).
 */
import { ErrorCodes, WsmError } from '../core/errors.js';
import type { ClientState } from '../core/types.js';
import type { LifecycleStep, StepExpectation } from './lifecycle-steps.js';

/**
 * `replayPath` (or the lifecycle control) cannot drive this client the way the path needs: the
 * message says what to pass to `createClient`, `createMemoryAdapter` or `replayPath`. Code
 * `WSM_ERR_INVALID_OPTIONS`: it is a test set up wrong, not a client that misbehaved.
 *
 * @example
 * ```ts
 * import { ReplaySetupError, replayPath } from 'wsmachine/testing';
 * try {
 *   await replayPath(path, { client, server, clock, control });
 * } catch (e) {
 *   if (e instanceof ReplaySetupError) console.error('fix the test:', e.message);
 * }
 * ```
 */
export class ReplaySetupError extends WsmError {
  constructor(message: string) {
    super(ErrorCodes.INVALID_OPTIONS, message);
  }
}

/**
 * What the client did after a step, when it is not what the path says.
 *
 * @example
 * ```ts
 * import type { ObservedStep } from 'wsmachine/testing';
 * const seen: ObservedStep = { state: 'closing', machine: { session: { closing: 'hook' } }, transitions: [] };
 * ```
 */
export interface ObservedStep {
  state: ClientState;
  machine: unknown;
  transitions: string[];
}

/**
 * The client did not take the transitions a lifecycle path says (or did not end in the state it
 * says): the model-based test's failure. The message names the path, the step, what was expected and
 * what the client did; the same facts are on the error as data. Code `WSM_ERR_INVALID_STATE`.
 *
 * @example
 * ```ts
 * import { PathDivergedError, replayPath } from 'wsmachine/testing';
 * await replayPath(path, options).catch((e) => {
 *   if (e instanceof PathDivergedError) console.error(e.stepIndex, e.step, e.expected, e.observed);
 *   throw e;
 * });
 * ```
 */
export class PathDivergedError extends WsmError {
  /** The name of the path. */
  readonly path: string;
  /** Index of the step after which the client differed. */
  readonly stepIndex: number;
  readonly step: LifecycleStep;
  readonly expected: StepExpectation;
  readonly observed: ObservedStep;

  constructor(
    path: string,
    stepIndex: number,
    step: LifecycleStep,
    expected: StepExpectation,
    observed: ObservedStep,
    hint?: string,
  ) {
    const missing = expected.transitions.filter((t) => !observed.transitions.includes(t));
    const extra = observed.transitions.filter((t) => !expected.transitions.includes(t));
    super(
      ErrorCodes.INVALID_STATE,
      [
        `The client left the lifecycle path after step ${stepIndex + 1} (${JSON.stringify(step)}).`,
        `  path: ${path}`,
        `  expected: state "${expected.state}", machine ${JSON.stringify(expected.machine)}`,
        `  observed: state "${observed.state}", machine ${JSON.stringify(observed.machine)}`,
        ...(missing.length > 0 ? [`  transitions not taken:\n    ${missing.join('\n    ')}`] : []),
        ...(extra.length > 0
          ? [`  transitions taken that the path does not take:\n    ${extra.join('\n    ')}`]
          : []),
        ...(hint === undefined ? [] : [`  hint: ${hint}`]),
      ].join('\n'),
    );
    this.path = path;
    this.stepIndex = stepIndex;
    this.step = step;
    this.expected = expected;
    this.observed = observed;
  }
}
