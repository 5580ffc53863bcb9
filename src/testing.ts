/**
 * `wsmachine/testing`: test your app on the real client and the real machine, not on mocks.
 * - A scriptable in-memory adapter (`createMemoryAdapter`): your test plays the server.
 * - A simulated clock (`createTestClock`): every delay and deadline collapses to a method call.
 * - Model-based testing on the connection's own model: `lifecyclePaths()` gives one path of named
 *   steps per transition of the connection machine, `replayPath()` drives your app's client along
 *   one and checks it took exactly those transitions, `createLifecycleControl()` steers the app's side
 *   (hooks, environment) for it.
 */
export { createMemoryAdapter, MemoryAdapter, type MemoryAdapterOptions } from './testing/memory-adapter.js';
export { MemoryConnection } from './testing/memory-connection.js';
export { createTestClock, TestClock } from './testing/test-clock.js';
export {
  describeStep,
  type LifecyclePath,
  type LifecycleStep,
  type LifecycleTimer,
  type StepExpectation,
} from './testing/lifecycle-steps.js';
export { connectionTransitions, transitionName, UNREACHABLE_TRANSITIONS } from './testing/transitions.js';
export { lifecyclePaths, type LifecyclePathsOptions } from './testing/lifecycle-paths.js';
export {
  createLifecycleControl,
  LifecycleControl,
  type ControlEnvironment,
  type LifecycleControlOptions,
} from './testing/lifecycle-control.js';
export { replayPath } from './testing/replay.js';
export type { ObservedEvent, ReplayOptions, StepObservation } from './testing/replay-options.js';
export type { ReplayServer, ServerStepType } from './testing/replay-server.js';
export { PathDivergedError, ReplaySetupError, type ObservedStep } from './testing/errors.js';
