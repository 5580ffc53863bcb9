/**
 * Errors of the engine itself. Client failures keep wsmachine's own `WSM_ERR_*` codes (they reach the
 * report as `errors.<code>`); these are the few failures that only a scenario can cause.
 */

/**
 * Codes of the failures that the engine adds to wsmachine's. A virtual user that fails is counted by
 * Artillery as `errors.<code>`.
 *
 * @example
 * ```ts
 * const { EngineErrorCodes } = require('artillery-engine-wsmachine'); // static members of the engine class
 * report.aggregate.counters[`errors.${EngineErrorCodes.WAIT_TIMEOUT}`]; // waitFor steps that timed out
 * ```
 */
export const EngineErrorCodes = {
  /** The script is wrong (an unknown step, a bad option): the run stops before any virtual user. */
  SCRIPT: 'WSM_ERR_SCRIPT',
  /** A `match` of a `request` or `waitFor` step did not hold. */
  MATCH_FAILED: 'WSM_ERR_MATCH_FAILED',
  /** A `capture` of a `request` or `waitFor` step found no value. */
  CAPTURE_FAILED: 'WSM_ERR_CAPTURE_FAILED',
  /** No message matched a `waitFor` step within its `timeoutMs`. */
  WAIT_TIMEOUT: 'WSM_ERR_WAIT_TIMEOUT',
  /** A step needs the client, but a `close` step stopped it (or the client stopped for good). */
  NO_CLIENT: 'WSM_ERR_NO_CLIENT',
  /** A `function` step threw or rejected with an error that has no string `code`. */
  FUNCTION: 'WSM_ERR_FUNCTION',
} as const;

/**
 * One of {@link EngineErrorCodes}.
 *
 * @example
 * ```ts
 * const code: EngineErrorCode = 'WSM_ERR_WAIT_TIMEOUT'; // inside this package
 * ```
 */
export type EngineErrorCode = (typeof EngineErrorCodes)[keyof typeof EngineErrorCodes];

/**
 * A failure of one step, named the way the script names it (`scenario "echo", flow[2].loop[0]
 * (request)`), with the code Artillery counts.
 *
 * @example
 * ```ts
 * const { StepError } = require('artillery-engine-wsmachine');
 * runVirtualUser(context, (e) => { if (e instanceof StepError) console.log(e.step, e.code); });
 * ```
 */
export class StepError extends Error {
  /** The stable code: a wsmachine `WSM_ERR_*` code or one of {@link EngineErrorCodes}. */
  readonly code: string;
  /** Where the step is: `scenario "name", flow[2].loop[0] (request)`. */
  readonly step: string;
  constructor(step: string, code: string, message: string, options?: { cause?: unknown }) {
    super(`artillery-engine-wsmachine: ${step}: ${message}`, options);
    this.name = 'StepError';
    this.code = code;
    this.step = step;
  }
}

/**
 * The script cannot run (a bad step or a bad option). Thrown when Artillery compiles the scenario, so
 * the run stops with this message instead of failing every virtual user the same way.
 *
 * @example
 * ```ts
 * const { ScriptError } = require('artillery-engine-wsmachine');
 * expect(() => engine.createScenario({ flow: [{ sned: 'x' }] }, ee)).toThrow(ScriptError);
 * ```
 */
export class ScriptError extends StepError {
  constructor(step: string, message: string, options?: { cause?: unknown }) {
    super(step, EngineErrorCodes.SCRIPT, message, options);
    this.name = 'ScriptError';
  }
}

/** The code Artillery should count for an error: its string `code`, else `fallback`. */
export function codeOf(error: unknown, fallback: string): string {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.length > 0 ? code : fallback;
}

/** The message of any thrown value. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
