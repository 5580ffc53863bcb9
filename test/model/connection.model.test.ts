/**
 * Model-based tests of the connection lifecycle (issue 7, section 3).
 *
 * `getShortestPaths` (xstate/graph) over the connection machine gives, for every transition and for
 * every way each action can play out, the shortest sequence of real actions that takes it
 * (test/model/model.ts), in three configurations (test/model/harness.ts). Each path is replayed on a
 * real client (`createClient` from src/node.ts) over the in-memory adapter with a simulated clock
 * (test/model/harness.ts); after every step the client's `state`, its actor's state value and
 * context, and the transitions the actor took must equal the model's. Then the transitions the real
 * client took, over all replays, are compared with every transition of the machine.
 */
import { describe, expect, it } from 'vitest';
import { connectionMachine } from '../../machines/connection.machine.js';
import { stateOf } from '../../src/client.js';
import { describeMachine } from '../../src/visualize/export.js';
import { type ConfigName, MODEL_OPTIONS, MemoryReplay, modelConfig } from './harness.js';
import {
  type PathStep,
  describeEvent,
  describePath,
  machineTransitions,
  machineView,
  traverse,
  withoutPrefixes,
} from './model.js';

/**
 * Transitions no real action can take, each with the reason. Listing one here is a claim about the
 * code, to be re-checked when the code changes.
 */
const UNREACHABLE: Record<string, string> = {
  'connection.session.closing.hook xstate.error.actor.closeHook -> connection.session.closing.handshake':
    "The closeHook actor runs WsClient.runCloseHook, which catches a throwing or rejecting onClose and an invalid close frame it returns (both reported as HookError) and then resolves undefined. It could reject only if wsmachine's own instrumentation threw (an OpenTelemetry tracer, whose API contract is never to throw): no app, hook, server or network action gets there. The onError is the defensive one ARCHITECTURE.md section 3 requires of every invoke.",
};

/** Transitions the real client took, over every replay of this file. */
const covered = new Set<string>();
let replays = 0;

const names = Object.keys(MODEL_OPTIONS) as ConfigName[];
const plans = names.map((name) => {
  const model = modelConfig(name);
  const traversal = traverse(model);
  // One path per transition, and one per way each action plays out; a path that is the prefix of
  // another is replayed as part of it.
  const paths = withoutPrefixes([...traversal.perTransition.values(), ...traversal.perOutcome.values()]);
  return { name, model, traversal, paths };
});

async function replay(name: ConfigName, steps: PathStep[]): Promise<void> {
  const plan = plans.find((p) => p.name === name)!;
  const config = plan.model.config;
  const run = new MemoryReplay(name);
  try {
    expect(run.client.state).toBe('idle');
    let before = plan.traversal.initial;
    for (let i = 0; i < steps.length; i++) {
      const step = steps[i]!;
      const where = () =>
        `step ${i + 1} (${describeEvent(step.event)}) of config "${name}":\n${describePath(steps)}\nmodel applied: ${step.state.applied.join(', ')}`;
      await run.perform(step.event, before);
      const observed = run.takeObserved();
      for (const key of observed) covered.add(key);
      expect(run.client.state, where()).toBe(stateOf(step.state.m));
      expect(machineView(run.client.actor.getSnapshot(), config), where()).toEqual(
        machineView(step.state.m, config),
      );
      expect([...observed].sort(), where()).toEqual([...step.state.taken].sort());
      before = step.state;
    }
    replays++;
  } finally {
    await run.dispose();
  }
}

for (const plan of plans) {
  describe(`model paths, config "${plan.name}"`, () => {
    for (const steps of plan.paths) {
      const title = steps.map((s) => describeEvent(s.event)).join(' → ');
      it(title, () => replay(plan.name, steps));
    }
  });
}

describe('model coverage', () => {
  it('every transition of the machine is taken by a replayed path, or listed as unreachable', () => {
    const all = machineTransitions();
    expect(new Set(all).size, 'transition keys must be unique').toBe(all.length);
    // The catalogue holds every edge of the generated diagram (plus the targetless ones it does not draw).
    const edges = describeMachine(connectionMachine).edges.map((e) => {
      const event =
        e.kind === 'always'
          ? 'always'
          : e.kind === 'after'
            ? `xstate.after.${e.trigger}.${e.source}`
            : e.kind === 'done' && e.trigger === 'final state'
              ? `xstate.done.state.${e.source}`
              : e.kind === 'done' || e.kind === 'error'
                ? `xstate.${e.kind}.actor.${e.trigger}`
                : e.trigger;
      return `${e.source} ${event}${e.guard ? ` [${e.guard}]` : ''} -> ${e.target ?? '(internal)'}`;
    });
    expect(
      edges.filter((e) => !all.includes(e)),
      'diagram edges missing from the catalogue',
    ).toEqual([]);
    const n = all.filter((k) => covered.has(k)).length;
    console.log(`model coverage: ${n}/${all.length} transitions`);
    const missing = all.filter((k) => !covered.has(k) && UNREACHABLE[k] === undefined);
    expect(
      missing,
      'transitions neither covered nor listed in UNREACHABLE (a new event for candidateEvents() in test/model/model.ts, a configuration in harness.ts, or a higher MAX_DEPTH may be what they need)',
    ).toEqual([]);
    const stale = Object.keys(UNREACHABLE).filter((k) => covered.has(k) || !all.includes(k));
    expect(stale, 'UNREACHABLE entries that are covered or no longer exist').toEqual([]);
    expect(replays).toBe(plans.reduce((n, p) => n + p.paths.length, 0));
  });
});
