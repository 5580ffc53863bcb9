/**
 * Step specs to Artillery step functions `(context, callback)`, so Artillery's own `think` and `loop`
 * helpers run them unchanged. Each step reads its virtual user from the context and reports a failure
 * as a {@link StepError} that names it.
 */
import type { Message, WsClient } from 'wsmachine';
import type {
  ArtilleryContext,
  ArtilleryHelpers,
  ArtilleryScript,
  CaptureResult,
  StepFunction,
} from './artillery.js';
import { EngineErrorCodes, StepError, codeOf, messageOf } from './errors.js';
import { Counters, Histograms, type MetricEvents } from './metrics.js';
import { OptionsProblem, clientOptions, hasTemplate, keyPathsOf, mergeOptions } from './options.js';
import { formatPath, readPath, writePath } from './path.js';
import type { Checks, StepSpec } from './validate.js';
import { type VirtualUser, WaitEnded } from './virtual-user.js';

/** Where a step finds its virtual user: a symbol, so it never collides with script variables. */
export const VU = Symbol.for('artillery-engine-wsmachine.virtual-user');

/** Default bound of a `waitFor` step. */
export const WAIT_TIMEOUT_MS = 10_000;
/** Default bound of a `restart` step's wait for the new session. */
export const RESTART_TIMEOUT_MS = 30_000;

/** What every step needs besides its spec. */
export interface StepEnvironment {
  readonly helpers: ArtilleryHelpers;
  readonly ee: MetricEvents;
  readonly script: ArtilleryScript;
  /** `config.wsmachine` without the engine's own settings. */
  readonly baseOptions: Record<string, unknown>;
}

const vuOf = (context: ArtilleryContext): VirtualUser => context[VU] as VirtualUser;

/** Any failure as a StepError naming `where`, keeping a code the report can count. */
export function toStepError(where: string, error: unknown, fallbackCode: string): StepError {
  if (error instanceof StepError) return error;
  let code = codeOf(error, fallbackCode);
  // A failed first start says why in its cause (refused, 503, timeout): count that.
  if (code === 'WSM_ERR_START') code = codeOf((error as { cause?: unknown }).cause, code);
  return new StepError(where, code, messageOf(error), { cause: error });
}

/** The client, or a StepError saying why there is none. */
function clientOf(vu: VirtualUser, where: string): WsClient {
  if (vu.client && !vu.stopped) return vu.client;
  if (!vu.client) {
    throw new StepError(where, EngineErrorCodes.NO_CLIENT, 'no client: add a `connect` step before this one');
  }
  const cause = vu.stoppedBecause;
  if (cause) throw toStepError(where, cause, EngineErrorCodes.NO_CLIENT);
  throw new StepError(
    where,
    EngineErrorCodes.NO_CLIENT,
    'the client was closed: add a `connect` step after `close`',
  );
}

/** A rendered payload as WebSocket data: strings as they are, everything else as JSON. */
function serialize(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** A number from a (possibly templated) option, or `fallback` when absent. */
function milliseconds(
  env: StepEnvironment,
  where: string,
  value: unknown,
  context: ArtilleryContext,
  fallback: number,
) {
  if (value === undefined) return fallback;
  const rendered = Number(env.helpers.template(value, context));
  if (!Number.isFinite(rendered) || rendered < 0) {
    throw new StepError(
      where,
      'WSM_ERR_INVALID_OPTIONS',
      `timeoutMs: ${JSON.stringify(value)} is not a number >= 0`,
    );
  }
  return rendered;
}

/** The message body as Artillery's capture/match see an HTTP body: parsed JSON when it is JSON. */
function bodyOf(message: Message): unknown {
  if (message.binary) return message.data;
  try {
    return message.json();
  } catch {
    return message.data;
  }
}

function runChecks(env: StepEnvironment, checks: Checks, message: Message, context: ArtilleryContext) {
  return new Promise<CaptureResult | null>((resolve, reject) => {
    env.helpers.captureOrMatch(
      { capture: checks.capture, match: checks.match },
      { body: bodyOf(message), headers: {} },
      context,
      (error, result) => (error ? reject(error) : resolve(result)),
    );
  });
}

/** `match` specs all hold (strict by default, as in Artillery). */
const failedMatches = (result: CaptureResult | null) =>
  Object.entries(result?.matches ?? {}).filter(
    ([, m]) => m.success !== true && (m as { strict?: unknown }).strict !== false,
  );

/** Applies `capture` and `match` of a step to a message; captures land in `context.vars`. */
async function applyChecks(
  env: StepEnvironment,
  where: string,
  checks: Checks,
  message: Message,
  context: ArtilleryContext,
) {
  if (checks.capture === undefined && checks.match === undefined) return;
  const result = await runChecks(env, checks, message, context);
  const failed = failedMatches(result);
  if (failed.length > 0) {
    const said = failed.map(
      ([expr, m]) => `${expr}: expected ${JSON.stringify(m.expected)}, got ${JSON.stringify(m.got)}`,
    );
    throw new StepError(where, EngineErrorCodes.MATCH_FAILED, `match failed: ${said.join('; ')}`);
  }
  for (const [name, capture] of Object.entries(result?.captures ?? {})) {
    if (capture.failed) {
      throw new StepError(
        where,
        EngineErrorCodes.CAPTURE_FAILED,
        `capture \`${name}\` found no value in the message`,
      );
    }
    if (capture.value !== undefined) context.vars[name] = capture.value;
  }
}

/** Wraps an async step body into Artillery's step shape; counters are flushed after every step. */
function stepFunction(
  spec: StepSpec,
  fallbackCode: string,
  body: (context: ArtilleryContext, vu: VirtualUser) => Promise<void>,
): StepFunction {
  return (context, callback) => {
    const vu = vuOf(context);
    const done = (error: unknown) => {
      vu.flush();
      callback(error === undefined ? null : toStepError(spec.where, error, fallbackCode), context);
    };
    let running: Promise<void>;
    try {
      running = body(context, vu);
    } catch (error) {
      done(error);
      return;
    }
    running.then(() => done(undefined), done);
  };
}

/** Connects the virtual user's client with `config.wsmachine` merged with the step's overrides. */
function connectStep(env: StepEnvironment, spec: Extract<StepSpec, { kind: 'connect' }>): StepFunction {
  const merged = mergeOptions(env.baseOptions, spec.options);
  const templated = hasTemplate(merged);
  return stepFunction(spec, 'WSM_ERR_CONNECT', async (context, vu) => {
    if (vu.client && !vu.stopped) {
      throw new StepError(
        spec.where,
        'WSM_ERR_INVALID_STATE',
        'already connected: add a `close` step before connecting again',
      );
    }
    const url = env.helpers.template(spec.url ?? env.script.config.target, context);
    const options = templated ? (env.helpers.template(merged, context) as Record<string, unknown>) : merged;
    let clientOpts: ReturnType<typeof clientOptions>;
    try {
      vu.keyPaths = keyPathsOf(options);
      clientOpts = clientOptions(url, options, vu.hooks);
    } catch (error) {
      if (error instanceof OptionsProblem)
        throw new StepError(spec.where, 'WSM_ERR_INVALID_OPTIONS', error.message);
      throw error;
    }
    await vu.connect(clientOpts);
  });
}

function requestStep(env: StepEnvironment, spec: Extract<StepSpec, { kind: 'request' }>): StepFunction {
  return stepFunction(spec, 'WSM_ERR_REQUEST', async (context, vu) => {
    const client = clientOf(vu, spec.where);
    const paths = vu.keyPaths;
    if (!paths) {
      throw new StepError(
        spec.where,
        'WSM_ERR_INVALID_OPTIONS',
        'request steps need `requests.key` in the client options',
      );
    }
    const payload = env.helpers.template(spec.payload, context);
    let key = spec.key === undefined ? undefined : env.helpers.template(spec.key, context);
    if (typeof payload === 'object' && payload !== null) {
      const inPayload = readPath(payload, paths.request);
      key ??= inPayload ?? vu.nextKey();
      if (inPayload === undefined && !writePath(payload, paths.request, key)) {
        throw new StepError(
          spec.where,
          'WSM_ERR_INVALID_OPTIONS',
          `cannot set the key at ${formatPath(paths.request)} in the payload`,
        );
      }
    } else if (key === undefined) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(String(payload));
      } catch {}
      key = readPath(parsed, paths.request);
      if (key === undefined) {
        throw new StepError(
          spec.where,
          'WSM_ERR_INVALID_OPTIONS',
          `the payload has no key at ${formatPath(paths.request)}: give an object payload (the key is added) or \`key:\``,
        );
      }
    }
    const timeoutMs =
      spec.timeoutMs === undefined ? undefined : milliseconds(env, spec.where, spec.timeoutMs, context, 0);
    env.ee.emit('counter', Counters.REQUESTS_SENT, 1);
    const startedAt = performance.now();
    let reply: Message;
    try {
      const id = String(key);
      reply = await client.request(
        serialize(payload),
        timeoutMs === undefined ? { key: id, params: id } : { key: id, params: id, timeoutMs },
      );
    } catch (error) {
      const code = codeOf(error, 'WSM_ERR_REQUEST');
      env.ee.emit('counter', Counters.REQUESTS_FAILED, 1);
      env.ee.emit('counter', `${Counters.REQUESTS_FAILED}.${code}`, 1);
      throw error;
    }
    env.ee.emit('counter', Counters.REQUESTS_OK, 1);
    env.ee.emit('histogram', Histograms.REQUEST_LATENCY, performance.now() - startedAt);
    await applyChecks(env, spec.where, spec.check, reply, context);
  });
}

function waitForStep(env: StepEnvironment, spec: Extract<StepSpec, { kind: 'waitFor' }>): StepFunction {
  return stepFunction(spec, EngineErrorCodes.FUNCTION, async (context, vu) => {
    clientOf(vu, spec.where);
    const timeoutMs = milliseconds(env, spec.where, spec.timeoutMs, context, WAIT_TIMEOUT_MS);
    const matches = async (message: Message): Promise<boolean> => {
      if (spec.predicate) return Boolean(await spec.predicate(message, context));
      if (spec.check.match === undefined) return true;
      return failedMatches(await runChecks(env, { match: spec.check.match }, message, context)).length === 0;
    };
    let message: Message;
    try {
      message = await vu.takeMessage(matches, timeoutMs);
    } catch (error) {
      if (!(error instanceof WaitEnded)) throw error;
      if (error.reason === 'timeout') {
        throw new StepError(
          spec.where,
          EngineErrorCodes.WAIT_TIMEOUT,
          `no matching message within ${timeoutMs} ms`,
        );
      }
      throw toStepError(spec.where, error.cause ?? clientOf(vu, spec.where), EngineErrorCodes.NO_CLIENT);
    }
    if (spec.check.capture !== undefined)
      await applyChecks(env, spec.where, { capture: spec.check.capture }, message, context);
  });
}

function restartStep(env: StepEnvironment, spec: Extract<StepSpec, { kind: 'restart' }>): StepFunction {
  return stepFunction(spec, 'WSM_ERR_INVALID_STATE', async (context, vu) => {
    const client = clientOf(vu, spec.where);
    const reason = spec.reason === undefined ? undefined : String(env.helpers.template(spec.reason, context));
    const timeoutMs = milliseconds(env, spec.where, spec.timeoutMs, context, RESTART_TIMEOUT_MS);
    client.restart(reason);
    if (!spec.wait) return;
    try {
      await vu.nextOpen(timeoutMs);
    } catch (error) {
      if (!(error instanceof WaitEnded)) throw error;
      if (error.reason === 'timeout') {
        throw new StepError(
          spec.where,
          'WSM_ERR_OPEN_TIMEOUT',
          `no new session within ${timeoutMs} ms of the restart`,
        );
      }
      throw toStepError(
        spec.where,
        error.cause ?? new Error('the client stopped'),
        EngineErrorCodes.NO_CLIENT,
      );
    }
  });
}

/**
 * Compiles one step.
 */
export function compileStep(env: StepEnvironment, spec: StepSpec): StepFunction {
  switch (spec.kind) {
    case 'connect':
      return connectStep(env, spec);
    case 'send':
      return stepFunction(spec, 'WSM_ERR_NOT_OPEN', async (context, vu) => {
        clientOf(vu, spec.where).send(serialize(env.helpers.template(spec.payload, context)));
      });
    case 'request':
      return requestStep(env, spec);
    case 'waitFor':
      return waitForStep(env, spec);
    case 'restart':
      return restartStep(env, spec);
    case 'function':
      return stepFunction(spec, EngineErrorCodes.FUNCTION, async (context, vu) => {
        await spec.fn(vu.stopped ? undefined : vu.client, context, env.ee);
      });
    case 'close':
      return stepFunction(spec, 'WSM_ERR_INVALID_CLOSE', async (context, vu) => {
        clientOf(vu, spec.where);
        const code = spec.code === undefined ? undefined : Number(env.helpers.template(spec.code, context));
        const reason =
          spec.reason === undefined ? undefined : String(env.helpers.template(spec.reason, context));
        await vu.stop({
          ...(code === undefined ? {} : { code }),
          ...(reason === undefined ? {} : { reason }),
        });
      });
    case 'log':
      return stepFunction(spec, EngineErrorCodes.FUNCTION, async (context) => {
        console.log(serialize(env.helpers.template(spec.message, context)));
      });
    case 'think':
      return env.helpers.createThink(spec.raw, env.script.config.defaults?.think ?? {});
    case 'loop':
      return env.helpers.createLoopWithCount(
        spec.raw.count ?? -1,
        spec.steps.map((s) => compileStep(env, s)),
        {
          loopValue: spec.raw.loopValue ?? '$loopCount',
          loopElement: spec.raw.loopElement,
          overValues: spec.raw.over,
          whileTrue: spec.whileTrue,
        },
      );
  }
}
