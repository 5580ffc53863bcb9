/**
 * `artillery-engine-wsmachine`: what Artillery `require()`s for `config.engines.wsmachine`. The module
 * itself is the engine class (CommonJS `module.exports`), as Artillery's loader expects; the metric
 * names and error codes hang off it for processors and report readers.
 */
import { EngineErrorCodes, ScriptError, StepError } from './errors.js';
import { WsmachineEngine } from './engine.js';
import { Counters, Histograms } from './metrics.js';
import type { ArtilleryHelpers, ArtilleryScript } from './artillery.js';
import type { WsmachineModule } from './virtual-user.js';

let loaded: WsmachineModule | undefined;

/**
 * wsmachine is ESM-only and Artillery loads engines with `require()`: the engine is CommonJS and
 * requires wsmachine synchronously (Node 20.19+ / 22.12+ load ES modules with `require()`), so that a
 * bad option is found when the scenario is compiled, before any virtual user runs.
 */
function loadWsmachine(): WsmachineModule {
  if (loaded) return loaded;
  try {
    loaded = require('wsmachine') as WsmachineModule;
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === 'ERR_REQUIRE_ESM') {
      throw new Error(
        `artillery-engine-wsmachine needs Node.js 20.19+ or 22.12+, which can require() the ES module ` +
          `wsmachine; this is Node.js ${process.versions.node}. Upgrade Node.js.`,
        { cause: error },
      );
    }
    if (code === 'MODULE_NOT_FOUND' || code === 'ERR_MODULE_NOT_FOUND') {
      throw new Error(
        'artillery-engine-wsmachine cannot find `wsmachine`: install both where Artillery runs ' +
          '(`npm install wsmachine artillery-engine-wsmachine`)',
        { cause: error },
      );
    }
    throw error;
  }
  return loaded;
}

/**
 * The Artillery engine for `engine: wsmachine`: each virtual user runs a wsmachine client.
 *
 * @example
 * ```ts
 * // Artillery does this for `config.engines: { wsmachine: {} }`:
 * const Engine = require('artillery-engine-wsmachine');
 * const engine = new Engine(script, ee, helpers);
 * Engine.Counters.REQUESTS_OK; // 'wsmachine.requests.ok'
 * ```
 */
class ArtilleryEngineWsmachine extends WsmachineEngine {
  /** Counter names the engine emits. */
  static readonly Counters = Counters;
  /** Histogram names the engine emits. */
  static readonly Histograms = Histograms;
  /** The engine's own error codes (next to wsmachine's `WSM_ERR_*`). */
  static readonly EngineErrorCodes = EngineErrorCodes;
  /** Thrown by `createScenario` for a bad step or option. */
  static readonly ScriptError = ScriptError;
  /** What a failed step reports. */
  static readonly StepError = StepError;

  /**
   * @throws {Error} when wsmachine cannot be loaded (not installed, or Node.js older than 20.19).
   */
  constructor(script: ArtilleryScript, ee: unknown, helpers: ArtilleryHelpers) {
    super(script, ee, helpers, loadWsmachine());
  }
}

export default ArtilleryEngineWsmachine;
