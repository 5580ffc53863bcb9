/**
 * The parts of Artillery the engine meets: the script, a virtual user's context, the step function
 * shape its `async.waterfall`-style runner uses, and the helpers (`engineUtil`) it hands every engine
 * as the third constructor argument. Typed structurally: the engine does not depend on Artillery.
 */

/** A virtual user's context: `vars` are the script variables (`{{ name }}`), captures land there. */
export interface ArtilleryContext {
  vars: Record<string, unknown>;
  funcs?: Record<string, unknown>;
  [key: string | symbol]: unknown;
}

/** Artillery's step shape: run, then call back with the (same) context. */
export type StepFunction = (
  context: ArtilleryContext,
  callback: (error: unknown, context?: ArtilleryContext) => void,
) => void;

/** What Artillery passes as `helpers` (its `engine_util`); the engine uses these four. */
export interface ArtilleryHelpers {
  /** Renders `{{ var }}` and `{{ $func() }}` templates in a string, or deeply in an object (a copy). */
  template(value: unknown, context: ArtilleryContext): any;
  /** Runs `capture` and `match` specs (JSONPath, regexp ...) against `{ body, headers }`. */
  captureOrMatch(
    params: { capture?: unknown; match?: unknown },
    response: { body: unknown; headers: Record<string, string> },
    context: ArtilleryContext,
    done: (error: unknown, result: CaptureResult | null) => void,
  ): void;
  createThink(spec: Record<string, unknown>, defaults: Record<string, unknown>): StepFunction;
  createLoopWithCount(count: unknown, steps: StepFunction[], options: Record<string, unknown>): StepFunction;
}

/** Result of `captureOrMatch`. */
export interface CaptureResult {
  captures: Record<string, { value?: unknown; failed?: boolean; error?: unknown }>;
  matches: Record<string, { success?: boolean; expected?: unknown; got?: unknown; error?: unknown }>;
}

/** The parts of an Artillery script the engine reads. */
export interface ArtilleryScript {
  config: {
    target?: unknown;
    wsmachine?: unknown;
    processor?: Record<string, unknown>;
    defaults?: { think?: Record<string, unknown> };
    [key: string]: unknown;
  };
  [key: string]: unknown;
}

/** A scenario as Artillery passes it to `createScenario`. */
export interface ScenarioSpec {
  name?: string;
  flow?: unknown;
  [key: string]: unknown;
}
