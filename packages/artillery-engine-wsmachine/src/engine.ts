/**
 * The engine Artillery instantiates for `config.engines.wsmachine`: `new Engine(script, ee, helpers)`,
 * then `createScenario(spec, ee)` once per scenario, whose result runs one virtual user per call.
 */
import type {
  ArtilleryContext,
  ArtilleryHelpers,
  ArtilleryScript,
  ScenarioSpec,
  StepFunction,
} from './artillery.js';
import { ScriptError, type StepError, messageOf } from './errors.js';
import type { MetricEvents } from './metrics.js';
import {
  type EngineSettings,
  clientOptions,
  hasTemplate,
  keyPathsOf,
  mergeOptions,
  splitConfig,
} from './options.js';
import { type StepEnvironment, VU, compileStep, toStepError } from './steps.js';
import { type StepSpec, allSteps, readFlow } from './validate.js';
import { VirtualUser, type WsmachineModule } from './virtual-user.js';

/** A URL that only stands in when the real one is templated: options are checked, nothing is dialled. */
const PLACEHOLDER_URL = 'ws://127.0.0.1/';

/** Step failures already printed: the first of each (step, code) is printed, the rest only counted. */
const printed = new Set<string>();

function printOnce(error: StepError): void {
  const id = `${error.step}\u0000${error.code}`;
  if (printed.has(id) || printed.size > 1_000) return;
  printed.add(id);
  console.error(`${error.message} [${error.code}] (printed once; the report counts every occurrence)`);
}

/**
 * An Artillery engine whose virtual users are wsmachine clients.
 *
 * @example
 * ```ts
 * // Artillery does this for `config.engines: { wsmachine: {} }` and `engine: wsmachine`:
 * const Engine = require('artillery-engine-wsmachine');
 * const engine = new Engine(script, ee, helpers);
 * const runVirtualUser = engine.createScenario(script.scenarios[0], scenarioEvents);
 * runVirtualUser(context, (error) => console.log(error ? error.message : 'done'));
 * ```
 */
export class WsmachineEngine {
  private readonly settings: EngineSettings | undefined;
  private readonly baseOptions: Record<string, unknown>;
  private readonly configProblem: unknown;

  /**
   * Called by Artillery; nothing is validated here, so that a mistake in the script is reported by
   * `createScenario` with the step's name rather than as "engine could not be loaded".
   */
  constructor(
    private readonly script: ArtilleryScript,
    _ee: unknown,
    private readonly helpers: ArtilleryHelpers,
    private readonly wsm: WsmachineModule,
  ) {
    let settings: EngineSettings | undefined;
    let baseOptions: Record<string, unknown> = {};
    let problem: unknown;
    try {
      ({ settings, client: baseOptions } = splitConfig(script.config.wsmachine));
    } catch (error) {
      problem = error;
    }
    this.settings = settings;
    this.baseOptions = baseOptions;
    this.configProblem = problem;
  }

  /**
   * Checks and compiles a scenario. Returns the function Artillery calls once per virtual user.
   *
   * @throws {ScriptError} for a bad step or option, naming it; Artillery stops the run with it.
   */
  createScenario(spec: ScenarioSpec, ee: MetricEvents): StepFunction {
    const scenario = spec.name ? `scenario "${spec.name}"` : 'scenario (unnamed)';
    if (this.configProblem !== undefined || !this.settings) {
      throw new ScriptError('config.wsmachine', messageOf(this.configProblem));
    }
    const settings = this.settings;
    const steps = readFlow({ scenario, processor: this.script.config.processor }, spec.flow);
    const connects = [...allSteps(steps)].filter((s) => s.kind === 'connect');
    const implicit: StepSpec | undefined =
      connects.length === 0
        ? {
            kind: 'connect',
            where: `${scenario}, the connect before flow[0] (config.wsmachine)`,
            url: undefined,
            options: {},
          }
        : undefined;
    this.checkOptions(steps, implicit ? [implicit] : connects);

    const env: StepEnvironment = {
      helpers: this.helpers,
      ee,
      script: this.script,
      baseOptions: this.baseOptions,
    };
    const compiled = (implicit ? [implicit, ...steps] : steps).map((s) => compileStep(env, s));
    const wsm = this.wsm;

    return (context: ArtilleryContext, callback) => {
      ee.emit('started');
      const vu = new VirtualUser(wsm, ee, settings);
      context[VU] = vu;
      const run = async () => {
        for (const step of compiled) {
          await new Promise<void>((resolve, reject) => {
            try {
              step(context, (error) => (error ? reject(error) : resolve()));
            } catch (error) {
              reject(error);
            }
          });
        }
      };
      run()
        .then(
          () => undefined,
          (error: unknown) => {
            const failure = toStepError(scenario, error, 'WSM_ERR_ENGINE');
            ee.emit('error', failure.code);
            printOnce(failure);
            return failure;
          },
        )
        .then(async (failure) => {
          // Whatever happened, the client stops before the virtual user ends (bounded by stopTimeoutMs).
          await vu.stop().catch(() => undefined);
          context[VU] = undefined;
          callback(failure ?? null, context);
        });
    };
  }

  /**
   * Checks `config.wsmachine`, then each `connect` step's merged options, with wsmachine's own
   * validation (a client is created, never started). Templated options are checked per virtual user.
   */
  private checkOptions(steps: readonly StepSpec[], connects: readonly StepSpec[]): void {
    const target = this.script.config.target;
    const check = (where: string, url: unknown, options: Record<string, unknown>) => {
      if (hasTemplate(options)) return;
      const dialled = url === undefined || hasTemplate(url) ? PLACEHOLDER_URL : url;
      try {
        keyPathsOf(options);
        this.wsm.createClient(clientOptions(dialled, options, {}));
      } catch (error) {
        throw new ScriptError(where, messageOf(error), { cause: error });
      }
    };
    check('config.wsmachine', target, this.baseOptions);
    let keyed = keyPathsOf(this.baseOptions) !== undefined;
    for (const step of connects) {
      if (step.kind !== 'connect') continue;
      const url = step.url ?? target;
      if (url === undefined || url === null || url === '') {
        throw new ScriptError(
          step.where,
          'no URL to connect to: set `config.target`, or `connect: ws://host:port/path`',
        );
      }
      const merged = mergeOptions(this.baseOptions, step.options);
      check(step.where, url, merged);
      keyed ||= hasTemplate(merged) || keyPathsOf(merged) !== undefined;
    }
    const request = [...allSteps(steps)].find((s) => s.kind === 'request');
    if (request && !keyed) {
      throw new ScriptError(
        request.where,
        'a request needs `requests.key` in config.wsmachine (or in the connect step): the JSON field that ' +
          'carries the request id in the request and in its reply, e.g. `requests: { key: reqId }`',
      );
    }
  }
}
