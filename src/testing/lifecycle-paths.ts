/**
 * `lifecyclePaths()`: one path per transition of the connection machine, found by a shortest-path
 * traversal (`getShortestPaths` of `xstate/graph`) of the model. A node of the graph is the abstract
 * state plus the transitions taken by the step that led there, so the shortest paths reach every
 * transition, not only every state (ARCHITECTURE.md §6).
 */
import { fromTransition } from 'xstate';
import { getShortestPaths } from 'xstate/graph';
import type { MachineConfig } from '../../machines/connection.types.js';
import { machineConfigOf } from '../api/machine-config.js';
import { stateOf } from '../api/state-of.js';
import { resolveOptions } from '../core/options.js';
import type { LifecyclePath, LifecycleStep } from './lifecycle-steps.js';
import { describeStep } from './lifecycle-steps.js';
import { type ModelState, initialModelState } from './model-machine.js';
import { abstractKey, applyStep, candidateSteps } from './model-steps.js';

/**
 * Options of {@link lifecyclePaths}.
 *
 * @example
 * ```ts
 * import { createClient } from 'wsmachine';
 * import { createMemoryAdapter, lifecyclePaths } from 'wsmachine/testing';
 * const client = createClient({ url: 'ws://app.test/', adapter: createMemoryAdapter(), heartbeat: false });
 * const paths = lifecyclePaths({ client, maxSteps: 10 });
 * ```
 */
export interface LifecyclePathsOptions {
  /**
   * A client made with your app's options: its machine configuration (`client.actor.getSnapshot()
   * .context.config`) sets every delay of the `time.advance` steps and which guards can go which way
   * (heartbeat on or off, `retryOnStart`, `maxAttempts`, a url function). Only its configuration is
   * read; it is not started.
   * @default undefined: the configuration of a client made with the default options and an
   * environment to watch (`createClient({ url, environment: control.environment })`: heartbeat
   * 30 s / 10 s, one missed pong ends a session, backoff from 1 s with full jitter, no attempt limit,
   * `retryOnStart` off, a static URL)
   */
  client?: { actor: { getSnapshot(): { context: { config: MachineConfig } } } };
  /**
   * Also give, for every kind of step (with its parameters: `server.close(1002)` apart from
   * `server.close(1012)`) and every way it plays out (the transitions it takes), the shortest path
   * that ends with it: every step of the vocabulary is then taken where it can be, not only where a
   * transition needs it (paths for transitions alone use, of two steps that lead to the same place,
   * the first one found). About three times as many paths.
   * @default false
   */
  everyOutcome?: boolean;
  /**
   * The longest path searched, in steps. The longest path a transition needs today is 8 steps
   * (a held stream released while a ping is out); the search grows with it, so raise it only if a
   * transition you expect is missing.
   * @default 9
   */
  maxSteps?: number;
}

let defaultConfig: MachineConfig | undefined;

/** The machine configuration of `createClient({ url, environment })` with every other default. */
function defaultMachineConfig(): MachineConfig {
  defaultConfig ??= machineConfigOf(
    resolveOptions({ url: 'ws://lifecycle.invalid/' }, { protocolPing: true, headers: true }),
    false,
    true,
  );
  return defaultConfig;
}

/** What identifies a step, whatever the session it is taken in. */
function stepKey(step: LifecycleStep): string {
  const s = step as {
    type: string;
    ms?: number;
    timeoutMs?: number;
    code?: number;
    status?: number;
    via?: string;
  };
  return `${s.type}|${s.ms ?? s.timeoutMs ?? s.code ?? s.status ?? s.via ?? ''}`;
}

interface Found {
  steps: LifecycleStep[];
  states: ModelState[];
}

/**
 * For every transition the model can take within `maxSteps` steps (and, with `everyOutcome`, every
 * step and the transitions it takes): the shortest path whose last step takes it.
 * `getShortestPaths` gives the shortest path to every abstract state within `maxSteps - 1` steps;
 * every step out of those states is then tried once more. A path to a
 * transition is a shortest path to a state from which one step takes it, so this is the same as
 * traversing a graph whose nodes are (abstract state, transitions taken to get there), with far
 * fewer nodes.
 */
function traverse(config: MachineConfig, maxSteps: number, everyOutcome: boolean): Map<string, Found> {
  // Successors depend only on the abstract state: compute each (abstract state, step) once.
  const next = new Map<string, ModelState>();
  // Abstract states are long strings: each gets a short id, and the maps are keyed by it.
  const ids = new Map<string, string>();
  const keys = new WeakMap<ModelState, string>();
  const depth = new Map<string, number>();
  const key = (s: ModelState) => {
    let k = keys.get(s);
    if (k === undefined) {
      const full = abstractKey(s, config);
      k = ids.get(full);
      if (k === undefined) {
        k = String(ids.size);
        ids.set(full, k);
      }
      keys.set(s, k);
    }
    return k;
  };
  const stepCached = (s: ModelState, step: LifecycleStep): ModelState => {
    const k = `${key(s)} ${stepKey(step)}`;
    let to = next.get(k);
    if (to === undefined) {
      to = applyStep(s, step);
      next.set(k, to);
    }
    return to;
  };
  // A step that changes nothing (no transition, nothing in the world) is no step.
  const changes = (s: ModelState, step: LifecycleStep) => {
    const to = stepCached(s, step);
    return to.taken.length > 0 || key(to) !== key(s);
  };
  const initial = initialModelState(config);
  depth.set(key(initial), 0);
  type StepEvent = LifecycleStep & { readonly __step?: never };
  const logic = fromTransition(
    (s: ModelState, e: StepEvent) => {
      const to = stepCached(s, e);
      // The traversal is breadth-first: the depth of `s` is final when its steps are tried.
      const d = depth.get(key(s))! + 1;
      if ((depth.get(key(to)) ?? Number.POSITIVE_INFINITY) > d) depth.set(key(to), d);
      return to;
    },
    () => initial,
  );
  const paths = getShortestPaths(logic, {
    events: (snapshot) => candidateSteps(snapshot.context, config) as StepEvent[],
    filterEvents: (snapshot, e) => changes(snapshot.context, e),
    stopWhen: (snapshot) => depth.get(key(snapshot.context))! >= maxSteps - 1,
    serializeState: (snapshot) => key(snapshot.context),
  });
  const perTransition = new Map<string, Found>();
  const sorted = [...paths].sort((a, b) => a.weight - b.weight);
  for (const p of sorted) {
    const steps = p.steps.slice(1).map((s) => s.event as LifecycleStep);
    // The graph keeps one state object per node, the last one computed: its `taken` may belong to
    // another edge into the node. Walking the steps again (cached) gives each step its own.
    const states: ModelState[] = [];
    let from = initial;
    for (const step of steps) {
      from = stepCached(from, step);
      states.push(from);
    }
    for (const step of candidateSteps(from, config)) {
      if (!changes(from, step)) continue;
      const to = stepCached(from, step);
      const targets = everyOutcome ? [...to.taken, `${stepKey(step)} :: ${to.taken.join(' ; ')}`] : to.taken;
      for (const t of targets) {
        const known = perTransition.get(t);
        if (known === undefined || known.steps.length > steps.length + 1) {
          perTransition.set(t, { steps: [...steps, step], states: [...states, to] });
        }
      }
    }
  }
  return perTransition;
}

/** Drops paths that are a prefix of another (replaying the longer one replays both). */
function withoutPrefixes(paths: Found[]): Found[] {
  const sorted = [...paths].sort((a, b) => b.steps.length - a.steps.length);
  const kept: Found[] = [];
  const signatures: string[][] = [];
  for (const p of sorted) {
    const sig = p.steps.map(stepKey);
    if (signatures.some((k) => sig.every((e, i) => e === k[i]))) continue;
    kept.push(p);
    signatures.push(sig);
  }
  return kept;
}

function toPath(found: Found, config: MachineConfig): LifecyclePath {
  const transitions: string[] = [];
  const expected = found.states.map((s) => {
    for (const t of s.taken) if (!transitions.includes(t)) transitions.push(t);
    return {
      state: stateOf(s.m),
      machine: s.m.value,
      transitions: [...s.taken],
      closeFrameOut: s.world.closeFrame !== undefined,
      timers: [...s.timers]
        .sort((a, b) => a.due - b.due || a.seq - b.seq)
        .map((t) => ({ timer: t.name, ms: t.due - s.now })),
    };
  });
  return {
    name: found.steps.map(describeStep).join(' → '),
    steps: found.steps,
    transitions,
    expected,
    config,
  };
}

/**
 * One lifecycle path per transition of the connection machine: for every transition a client with
 * this configuration can take, the shortest sequence of real steps (the app, the server, the network,
 * time) that takes it, with what the model says after each step. A path whose steps begin another
 * path's is left out (replaying the longer one takes both), so there are fewer paths than
 * transitions. Replay them on your app with {@link replayPath}.
 *
 * Which transitions a configuration can take depends on it: a static URL never resolves a target
 * per attempt, a disabled heartbeat never pings, `retryOnStart` decides whether a failed first start
 * retries, `heartbeat.maxMissed` above 1 is needed for a missed pong that does not end the session.
 * Together, a few configurations take every transition except the {@link UNREACHABLE_TRANSITIONS}.
 *
 * The model follows the machine's default reconnect policy: a `reconnect.shouldReconnect` that
 * decides otherwise, or an `onClose` that picks a close code of another class, can make the client
 * leave a path (and `replayPath` says where). Jittered backoff is fine: `replayPath` waits the delay
 * the client chose.
 *
 * @example
 * ```ts
 * import { createClient } from 'wsmachine';
 * import { createMemoryAdapter, lifecyclePaths } from 'wsmachine/testing';
 * const client = createClient({ url: 'ws://app.test/', adapter: createMemoryAdapter(), heartbeat: false });
 * for (const path of lifecyclePaths({ client })) {
 *   console.log(path.name); // client.start → server.accept → app.openDone → server.drop → …
 * }
 * ```
 */
export function lifecyclePaths(options: LifecyclePathsOptions = {}): LifecyclePath[] {
  const config = options.client?.actor.getSnapshot().context.config ?? defaultMachineConfig();
  const perTransition = traverse(config, options.maxSteps ?? 9, options.everyOutcome === true);
  const unique = [...new Set(perTransition.values())];
  return withoutPrefixes(unique)
    .sort((a, b) => a.steps.length - b.steps.length)
    .map((found) => toPath(found, config));
}
