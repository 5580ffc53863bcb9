/**
 * Model-based tests of the connection lifecycle, on the public `wsmachine/testing` helpers only.
 *
 * For each configuration of ./configs.ts, `lifecyclePaths({ client })` gives one path per transition
 * the client can take, found by `getShortestPaths` over the machine and what the outside world does.
 * Every path is replayed with `replayPath` on a real client (`createClient`) over the in-memory
 * adapter with a test clock: after every step the client must have taken exactly the path's
 * transitions (read from its own actor) and be in the path's state, and its `state` must be the one
 * its machine snapshot maps to. Then the transitions the real clients took, over all replays, must be
 * every transition of the machine but the listed unreachable ones.
 */
import { afterAll, describe, expect, it } from 'vitest';
import {
  type LifecyclePath,
  PathDivergedError,
  ReplaySetupError,
  UNREACHABLE_TRANSITIONS,
  connectionTransitions,
  createMemoryAdapter,
  lifecyclePaths,
  replayPath,
} from '../../src/testing.js';
import { CONFIGS, type ConfigName, rig } from './configs.js';

/** Transitions the real clients took, over every replay of this file. */
const taken = new Set<string>();
let replayed = 0;

const plans = (Object.keys(CONFIGS) as ConfigName[]).map((name) => ({
  name,
  paths: lifecyclePaths({ client: rig(name).client }),
}));
/** Every step in every way it plays out, for the two configurations with the most ways. */
const outcomes = (['heartbeat', 'refreshable'] as const).map((name) => ({
  name,
  paths: lifecyclePaths({ client: rig(name).client, everyOutcome: true }),
}));
const total = plans.reduce((n, p) => n + p.paths.length, 0);

async function replay(name: ConfigName, path: LifecyclePath): Promise<void> {
  const observations = await replayPath(path, {
    ...rig(name),
    onStep: (o, i) => {
      // The client's state and its machine's state are the path's after every step.
      expect(o.state).toBe(path.expected[i]!.state);
      expect(o.machine).toEqual(path.expected[i]!.machine);
      expect([...o.transitions].sort()).toEqual([...path.expected[i]!.transitions].sort());
    },
  });
  expect(observations.map((o) => o.step)).toEqual(path.steps);
  for (const o of observations) for (const t of o.transitions) taken.add(t);
}

for (const plan of plans) {
  describe(`lifecycle paths, config "${plan.name}"`, () => {
    for (const path of plan.paths) {
      it(path.name, async () => {
        await replay(plan.name, path);
        replayed++;
      });
    }
  });
}

for (const plan of outcomes) {
  describe(`every outcome of every step, config "${plan.name}"`, () => {
    for (const path of plan.paths) it(path.name, () => replay(plan.name, path));
  });
}

describe('model coverage', () => {
  afterAll(() => {
    const takeable = connectionTransitions().filter((t) => !(t in UNREACHABLE_TRANSITIONS));
    const n = takeable.filter((t) => taken.has(t)).length;
    console.log(
      `model coverage: ${n}/${takeable.length} transitions (the machine has ${connectionTransitions().length}; UNREACHABLE_TRANSITIONS lists the ${Object.keys(UNREACHABLE_TRANSITIONS).length} no client can take)`,
    );
  });

  it('every transition of the machine is taken by a replayed path, except the listed unreachable ones', () => {
    expect(replayed, 'every path replays').toBe(total);
    const all = connectionTransitions();
    expect(new Set(all).size, 'transition names are unique').toBe(all.length);
    const unreachable = Object.keys(UNREACHABLE_TRANSITIONS);
    expect(all.filter((t) => !taken.has(t))).toEqual(unreachable);
    expect(
      [...taken].filter((t) => !all.includes(t)),
      'taken transitions the machine does not have',
    ).toEqual([]);
  });

  it('no step of any path uses an XState event name', () => {
    for (const plan of plans) {
      for (const path of plan.paths) {
        for (const step of path.steps)
          expect(JSON.stringify(step)).not.toMatch(/xstate|after\.|done\.|error\./);
      }
    }
  });
});

describe('replayPath says when the client leaves the path, and how to set it up', () => {
  const heartbeat = plans.find((p) => p.name === 'heartbeat')!.paths;
  const opened = heartbeat.find((p) => p.steps.some((s) => s.type === 'app.openDone'))!;

  it('a client that does not take the path’s transitions fails the replay with PathDivergedError', async () => {
    // The same steps, but the model said the client would still be opening after onOpen finished.
    const at = opened.steps.findIndex((s) => s.type === 'app.openDone');
    const wrong: LifecyclePath = {
      ...opened,
      expected: opened.expected.map((e, i) =>
        i === at ? { ...opened.expected[at - 1]!, transitions: [] } : e,
      ),
    };
    const error = await replayPath(wrong, rig('heartbeat')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PathDivergedError);
    expect((error as PathDivergedError).stepIndex).toBe(at);
    expect((error as PathDivergedError).observed.state).toBe('open');
    expect((error as Error).message).toContain('left the lifecycle path');
  });

  it('an in-memory server that answers by itself is refused with the line that creates the right one', async () => {
    const r = rig('heartbeat');
    const error = await replayPath(opened, { ...r, server: createMemoryAdapter() }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ReplaySetupError);
    expect((error as Error).message).toContain(
      'createMemoryAdapter({ autoOpen: false, autoPong: false, autoCloseReply: false })',
    );
  });

  it('a path found for another configuration is refused', async () => {
    const error = await replayPath(opened, rig('quiet')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ReplaySetupError);
    expect((error as Error).message).toContain('lifecyclePaths({ client })');
  });
});
