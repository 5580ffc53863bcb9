/**
 * Reads a scenario's `flow` into checked step specs, so that a wrong script stops the run before the
 * first virtual user, with a message that names the step (`scenario "echo", flow[2].loop[0] (request)`).
 * Pure: no client, no I/O.
 */
import { ScriptError } from './errors.js';
import { isPlainObject } from './options.js';

/** A processor function, as Artillery loaded it from `config.processor`. */
export type ProcessorFunction = (...args: any[]) => unknown;

interface Base {
  /** The step's name in messages: `scenario "echo", flow[2] (request)`. */
  readonly where: string;
}

/** A checked step of a `flow`. */
export type StepSpec =
  | (Base & { kind: 'connect'; url: unknown; options: Record<string, unknown> })
  | (Base & { kind: 'send'; payload: unknown })
  | (Base & { kind: 'request'; payload: unknown; key: unknown; timeoutMs: unknown; check: Checks })
  | (Base & { kind: 'waitFor'; timeoutMs: unknown; check: Checks; predicate: ProcessorFunction | undefined })
  | (Base & { kind: 'think'; raw: Record<string, unknown> })
  | (Base & { kind: 'loop'; steps: StepSpec[]; raw: Record<string, unknown>; whileTrue?: ProcessorFunction })
  | (Base & { kind: 'restart'; reason: unknown; timeoutMs: unknown; wait: boolean })
  | (Base & { kind: 'function'; name: string; fn: ProcessorFunction })
  | (Base & { kind: 'close'; code: unknown; reason: unknown })
  | (Base & { kind: 'log'; message: unknown });

/** Artillery `capture` / `match` specs of a step, as written. */
export interface Checks {
  capture?: unknown;
  match?: unknown;
}

/** Each step name and the other keys it may carry. */
const STEPS: Record<StepSpec['kind'], readonly string[]> = {
  connect: [],
  send: [],
  request: [],
  waitFor: [],
  think: ['jitter'],
  loop: ['count', 'over', 'whileTrue', 'loopValue', 'loopElement'],
  restart: [],
  function: [],
  close: [],
  log: [],
};
const STEP_NAMES = Object.keys(STEPS) as StepSpec['kind'][];

const REQUEST_KEYS = ['payload', 'key', 'timeoutMs', 'capture', 'match'];
const WAIT_KEYS = ['match', 'capture', 'function', 'timeoutMs'];
const RESTART_KEYS = ['reason', 'timeoutMs', 'wait'];
const CLOSE_KEYS = ['code', 'reason'];

/** Levenshtein distance, for "did you mean". Short names only. */
function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0] as number;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j] as number;
      const cost = a[i - 1]?.toLowerCase() === b[j - 1]?.toLowerCase() ? 0 : 1;
      row[j] = Math.min(above + 1, (row[j - 1] as number) + 1, diagonal + cost);
      diagonal = above;
    }
  }
  return row[b.length] as number;
}

function suggest(word: string, candidates: readonly string[]): string {
  const best = candidates.map((c) => [c, distance(word, c)] as const).sort((x, y) => x[1] - y[1])[0];
  return best && best[1] <= 2 ? ` Did you mean \`${best[0]}\`?` : '';
}

/** Throws unless `value` is a plain object whose keys are all in `allowed`. */
function checkKeys(
  where: string,
  what: string,
  value: Record<string, unknown>,
  allowed: readonly string[],
): void {
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) {
      throw new ScriptError(
        where,
        `unknown key \`${key}\` in ${what}; allowed: ${allowed.join(', ')}.${suggest(key, allowed)}`,
      );
    }
  }
}

/** `timeoutMs`: a number of milliseconds >= 0, or a template rendered per virtual user. */
function checkTimeout(where: string, value: unknown): void {
  if (value === undefined || (typeof value === 'string' && value.includes('{{'))) return;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new ScriptError(
      where,
      `timeoutMs: expected milliseconds (a number >= 0), got ${JSON.stringify(value)}`,
    );
  }
}

/** Context for reading one scenario. */
export interface ReadContext {
  readonly scenario: string;
  readonly processor: Record<string, unknown> | undefined;
}

function processorFunction(ctx: ReadContext, where: string, what: string, name: unknown): ProcessorFunction {
  if (typeof name !== 'string' || name.length === 0) {
    throw new ScriptError(where, `${what}: expected the name of a function exported by config.processor`);
  }
  const fn = ctx.processor?.[name];
  if (typeof fn !== 'function') {
    const exported = ctx.processor
      ? Object.keys(ctx.processor).filter((k) => typeof ctx.processor?.[k] === 'function')
      : [];
    throw new ScriptError(
      where,
      ctx.processor
        ? `${what}: config.processor has no function \`${name}\` (it exports: ${exported.join(', ') || 'none'})`
        : `${what}: \`${name}\` needs config.processor (a .js/.mjs file exporting it)`,
    );
  }
  return fn as ProcessorFunction;
}

function readStep(ctx: ReadContext, step: unknown, path: string): StepSpec {
  const at = `${ctx.scenario}, ${path}`;
  if (!isPlainObject(step)) {
    throw new ScriptError(at, `a step is an object such as \`- send: hello\`, got ${JSON.stringify(step)}`);
  }
  const kinds = Object.keys(step).filter((k): k is StepSpec['kind'] => k in STEPS);
  if (kinds.length !== 1) {
    const unknown = Object.keys(step).filter(
      (k) => !(k in STEPS) && !Object.values(STEPS).flat().includes(k),
    );
    const hint = unknown[0] ? `unknown step \`${unknown[0]}\`.${suggest(unknown[0], STEP_NAMES)} ` : '';
    throw new ScriptError(
      at,
      kinds.length === 0
        ? `${hint}A step is one of: ${STEP_NAMES.join(', ')}.`
        : `one step per list item, found ${kinds.join(' and ')}`,
    );
  }
  const kind = kinds[0] as StepSpec['kind'];
  const where = `${at} (${kind})`;
  checkKeys(where, 'the step', step, [kind, ...STEPS[kind]]);
  const value = step[kind];

  switch (kind) {
    case 'connect': {
      if (value === null || value === undefined) return { kind, where, url: undefined, options: {} };
      if (typeof value === 'string') return { kind, where, url: value, options: {} };
      if (!isPlainObject(value)) {
        throw new ScriptError(
          where,
          'expected a URL (`connect: ws://…`) or client options (`connect: { url, … }`)',
        );
      }
      const { url, ...options } = value;
      return { kind, where, url, options };
    }
    case 'send':
      if (value === undefined || value === null) {
        throw new ScriptError(where, 'expected a payload: a string, or an object sent as JSON');
      }
      return { kind, where, payload: value };
    case 'request': {
      if (!isPlainObject(value) || value.payload === undefined || value.payload === null) {
        throw new ScriptError(where, 'expected `request: { payload, capture?, match?, key?, timeoutMs? }`');
      }
      checkKeys(where, 'request', value, REQUEST_KEYS);
      checkTimeout(where, value.timeoutMs);
      return {
        kind,
        where,
        payload: value.payload,
        key: value.key,
        timeoutMs: value.timeoutMs,
        check: { capture: value.capture, match: value.match },
      };
    }
    case 'waitFor': {
      const spec = value ?? {};
      if (!isPlainObject(spec)) {
        throw new ScriptError(where, 'expected `waitFor: { match?, function?, capture?, timeoutMs? }`');
      }
      checkKeys(where, 'waitFor', spec, WAIT_KEYS);
      checkTimeout(where, spec.timeoutMs);
      const predicate =
        spec.function === undefined ? undefined : processorFunction(ctx, where, 'function', spec.function);
      return {
        kind,
        where,
        timeoutMs: spec.timeoutMs,
        check: { capture: spec.capture, match: spec.match },
        predicate,
      };
    }
    case 'think':
      if (typeof value !== 'number' && typeof value !== 'string') {
        throw new ScriptError(where, 'expected seconds (`think: 1`) or a duration (`think: 500ms`)');
      }
      return { kind, where, raw: step };
    case 'loop': {
      if (!Array.isArray(value) || value.length === 0) {
        throw new ScriptError(where, 'expected a list of steps (`loop: [ … ]` with `count` or `over`)');
      }
      const steps = value
        .flat(Number.POSITIVE_INFINITY)
        .map((s, i) => readStep(ctx, s, `${path}.loop[${i}]`));
      const whileTrue =
        step.whileTrue === undefined ? undefined : processorFunction(ctx, where, 'whileTrue', step.whileTrue);
      return whileTrue ? { kind, where, steps, raw: step, whileTrue } : { kind, where, steps, raw: step };
    }
    case 'restart': {
      if (value === null || value === undefined || typeof value === 'string') {
        return { kind, where, reason: value ?? undefined, timeoutMs: undefined, wait: true };
      }
      if (!isPlainObject(value))
        throw new ScriptError(where, 'expected `restart: { reason?, timeoutMs?, wait? }`');
      checkKeys(where, 'restart', value, RESTART_KEYS);
      checkTimeout(where, value.timeoutMs);
      return { kind, where, reason: value.reason, timeoutMs: value.timeoutMs, wait: value.wait !== false };
    }
    case 'function':
      return { kind, where, name: String(value), fn: processorFunction(ctx, where, 'function', value) };
    case 'close': {
      if (value === null || value === undefined) return { kind, where, code: undefined, reason: undefined };
      if (!isPlainObject(value))
        throw new ScriptError(where, 'expected `close: { code?, reason? }` or `close: {}`');
      checkKeys(where, 'close', value, CLOSE_KEYS);
      return { kind, where, code: value.code, reason: value.reason };
    }
    case 'log':
      return { kind, where, message: value };
  }
}

/**
 * Reads a scenario's flow.
 * @throws {ScriptError} naming the first bad step.
 */
export function readFlow(ctx: ReadContext, flow: unknown): StepSpec[] {
  if (!Array.isArray(flow) || flow.length === 0) {
    throw new ScriptError(ctx.scenario, '`flow` must be a non-empty list of steps');
  }
  return flow.flat(Number.POSITIVE_INFINITY).map((step, i) => readStep(ctx, step, `flow[${i}]`));
}

/** Every step of a flow, loops included, depth first. */
export function* allSteps(steps: readonly StepSpec[]): Generator<StepSpec> {
  for (const step of steps) {
    yield step;
    if (step.kind === 'loop') yield* allSteps(step.steps);
  }
}
