/**
 * How `replayPath` compares what the client did after a step with what the path says, and what it
 * can say about a difference beyond the transitions.
 */
import type { ObservedStep } from './errors.js';
import type { LifecycleStep, StepExpectation } from './lifecycle-steps.js';

function sameMultiset(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  const x = [...a].sort();
  const y = [...b].sort();
  return x.every((v, i) => v === y[i]);
}

/** Deep equality of two state values (key order aside). */
export function sameValue(a: unknown, b: unknown): boolean {
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return a === b;
  const ka = Object.keys(a).sort();
  const kb = Object.keys(b).sort();
  return (
    ka.length === kb.length &&
    ka.every(
      (k, i) =>
        k === kb[i] && sameValue((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]),
    )
  );
}

/** The client did what the path says: same state, same machine state, the same transitions. */
export function matches(expected: StepExpectation, observed: ObservedStep): boolean {
  return (
    observed.state === expected.state &&
    sameValue(observed.machine, expected.machine) &&
    sameMultiset(observed.transitions, expected.transitions)
  );
}

/** Why a client may have left the path, when the observation says more than the transitions. */
export function hintOf(
  step: LifecycleStep,
  expected: StepExpectation,
  observed: ObservedStep,
): string | undefined {
  if (expected.state === 'opening' && observed.state === 'open') {
    return 'onOpen finished by itself: create the client with `hooks: control.hooks(yourHooks)`.';
  }
  if (step.type === 'app.openDone' && observed.state === 'opening') {
    return 'your onOpen did not finish: does it wait for a reply the test server never sends?';
  }
  if (step.type === 'app.closeDone' && observed.state === 'closing' && expected.state !== 'closing') {
    return 'your onClose did not finish: does it wait for something the test never does?';
  }
  return undefined;
}

/** The two steps' expectations as one (a server that answers the close frame by itself). */
export function fused(a: StepExpectation, b: StepExpectation): StepExpectation {
  return { ...b, transitions: [...a.transitions, ...b.transitions] };
}
