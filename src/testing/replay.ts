/**
 * `replayPath()`: drives a real client along a lifecycle path, step by step, and checks after each
 * step that it took exactly the transitions the path says. Transitions are read from the client's own
 * actor (`client.actor.system.inspect`), the state from `client.state` and the snapshot: the public
 * API only.
 */
import type { WsClient } from '../client.js';
import type { ClientState } from '../core/types.js';
import { PathDivergedError, ReplaySetupError } from './errors.js';
import type { LifecyclePath, LifecycleStep } from './lifecycle-steps.js';
import { fused, hintOf, matches, sameValue } from './replay-compare.js';
import { EVENTS, type ObservedEvent, type ReplayOptions, type StepObservation } from './replay-options.js';
import { checkSetup } from './replay-setup.js';
import { macrotask, perform, settle, stopAfter } from './replay-steps.js';
import { transitionName } from './transitions.js';

/** Real time: resolves when the client shows what is expected, or when the guard runs out. */
function until(
  client: WsClient,
  check: () => boolean,
  guardMs: number,
  wake: { fn?: (() => void) | undefined },
): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(timer);
      wake.fn = undefined;
      sub.unsubscribe();
      resolve();
    };
    const timer = setTimeout(done, guardMs);
    const sub = client.actor.subscribe(() => {
      if (check()) done();
    });
    wake.fn = () => queueMicrotask(() => check() && wake.fn !== undefined && done());
    if (check()) done();
  });
}

/**
 * Replays a lifecycle path on a real client: performs each step (on the server, the control, the
 * client, the clock), lets what it set off happen, and checks that the client took exactly the
 * machine transitions the path says and is in the state it says. Resolves with what it observed at
 * each step; rejects with {@link PathDivergedError} where the client left the path, and with
 * {@link ReplaySetupError} when the client, server, clock or control cannot replay it (the message
 * says how to set them up).
 *
 * Over `createMemoryAdapter({ autoOpen: false, autoPong: false, autoCloseReply: false })` with a
 * `createTestClock()` (the client's `clock`), a path replays in a few milliseconds. Over a real
 * server (a {@link ReplayServer}, no clock) it runs in real time. Steps are settled by the macrotask
 * after each one, when the heartbeat's deadline verdict (given after the input already waiting) is in.
 *
 * @throws {PathDivergedError} (as a rejection) when the client did not follow the path.
 * @throws {ReplaySetupError} (as a rejection) when the replay is set up so that it cannot drive the client.
 * @example
 * ```ts
 * import { createClient } from 'wsmachine';
 * import { createLifecycleControl, createMemoryAdapter, createTestClock, lifecyclePaths, replayPath } from 'wsmachine/testing';
 *
 * function makeApp() {
 *   const control = createLifecycleControl();
 *   const server = createMemoryAdapter({ autoOpen: false, autoPong: false, autoCloseReply: false });
 *   const clock = createTestClock();
 *   const client = createClient({ url: 'ws://app.test/', adapter: server, clock, hooks: control.hooks(), environment: control.environment });
 *   return { client, server, clock, control };
 * }
 * for (const path of lifecyclePaths({ client: makeApp().client })) {
 *   const app = makeApp();
 *   await replayPath(path, { ...app, onStep: (o) => console.log(o.step.type, o.state) });
 * }
 * ```
 */
export async function replayPath(path: LifecyclePath, options: ReplayOptions): Promise<StepObservation[]> {
  const server = checkSetup(path, options);
  const { client, control, clock } = options;
  const realTime = clock === undefined;
  const transitions: string[] = [];
  const events: ObservedEvent[] = [];
  const wake: { fn?: (() => void) | undefined } = {};
  const inspection = client.actor.system.inspect((event) => {
    if (event.type !== '@xstate.microstep' || event.actorRef !== client.actor) return;
    for (const t of (event as { _transitions?: unknown[] })._transitions ?? []) {
      transitions.push(transitionName(t as never));
    }
    wake.fn?.();
  });
  const offs = EVENTS.map((type) => client.on(type, (payload: unknown) => events.push({ type, payload })));
  const observations: StepObservation[] = [];
  const observe = (step: LifecycleStep): StepObservation => {
    const snapshot = client.actor.getSnapshot();
    return {
      step,
      state: client.state as ClientState,
      machine: snapshot.value,
      transitions: transitions.splice(0),
      events: events.splice(0),
    };
  };
  try {
    for (let i = 0; i < path.steps.length; i++) {
      const step = path.steps[i]!;
      let expected = path.expected[i]!;
      const next = path.steps[i + 1];
      const answered = server.answersCloseItself && expected.closeFrameOut;
      if (answered) {
        if (next?.type !== 'server.answerClose') {
          throw new ReplaySetupError(
            `This server answers close frames by itself, and step ${i + 2} of this path is not server.answerClose: replay it over the in-memory adapter.`,
          );
        }
        expected = fused(expected, path.expected[i + 1]!);
      }
      // (Nothing is cleared here: whatever happened since the last step belongs to this one.)
      await perform(step, options, server);
      if (realTime) {
        const guard = (options.stepTimeoutMs ?? 2_000) + (step.type === 'time.advance' ? step.ms : 0);
        const reached = () =>
          client.state === expected.state &&
          sameValue(client.actor.getSnapshot().value, expected.machine) &&
          transitions.length >= expected.transitions.length;
        await until(client, reached, guard, wake);
        await macrotask();
      } else {
        await settle();
      }
      const observation = observe(step);
      const started = client.state !== 'idle' && client.state !== 'stopped';
      if (step.type === 'client.start' && started && path.config.watchEnvironment && !control.isWatched) {
        throw new ReplaySetupError(
          "The client does not watch the control's environment: create it with `environment: control.environment`.",
        );
      }
      if (!matches(expected, observation)) {
        throw new PathDivergedError(
          path.name,
          i,
          step,
          expected,
          observation,
          hintOf(step, expected, observation),
        );
      }
      observations.push(observation);
      await options.onStep?.(observation, i);
      if (answered) {
        i++;
        const answer = { ...observation, step: next!, transitions: [], events: [] };
        observations.push(answer);
        await options.onStep?.(answer, i);
      }
    }
  } finally {
    inspection.unsubscribe();
    // Still listening while it stops: what the stop reports (unhandled flood messages) is recorded, not printed.
    if (options.stopWhenDone !== false) await stopAfter(options);
    for (const off of offs) off();
  }
  return observations;
}
