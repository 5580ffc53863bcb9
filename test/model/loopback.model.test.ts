/**
 * Lifecycle paths replayed against a real `ws` server on 127.0.0.1, in real time, with real faults
 * (./loopback-server.ts): the same `lifecyclePaths` and `replayPath` as the in-memory replays, with
 * a `ReplayServer` over the network instead of the in-memory adapter and no simulated clock.
 *
 * Time is real here, so the configuration has small delays, heartbeat off (a `ws` server answers
 * pings itself; the heartbeat is the in-memory replays' job), and the sample is chosen greedily to
 * reach every client state, every server step and as many transitions as fit a small wait budget.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { type ClientOptions, createClient } from '../../src/node.js';
import {
  type LifecycleControl,
  type LifecyclePath,
  createLifecycleControl,
  lifecyclePaths,
  replayPath,
} from '../../src/testing.js';
import { LoopbackServer } from './loopback-server.js';

const OPTIONS = {
  openTimeoutMs: 1_500,
  closeTimeoutMs: 200,
  stopTimeoutMs: 900,
  heartbeat: false,
  reconnect: {
    baseDelayMs: 150,
    maxDelayMs: 150,
    jitter: 'none',
    maxAttempts: 2,
    resetAfterMs: 60_000,
    retryOnStart: true,
  },
} satisfies Partial<ClientOptions>;

/** Real time the sample may spend waiting for timers, in total. */
const WAIT_BUDGET_MS = 1_500;
const MAX_PATHS = 24;

function makeClient(url: string, control: LifecycleControl) {
  return createClient({ url, ...OPTIONS, hooks: control.hooks(), environment: control.environment });
}

const SERVER_STEPS = new Set([
  'server.accept',
  'server.reject',
  'server.refuse',
  'server.close',
  'server.drop',
]);

/** Real time a step takes at most, so that a timer due sooner races the next step. */
const STEP_MARGIN_MS = 50;

/**
 * A path a real ws server can replay in real time: only its server steps, a close frame always
 * answered at once (ws does), and no timer due so soon after a step that it would race the next one.
 */
function realizable(path: LifecyclePath): boolean {
  return path.steps.every((step, i) => {
    const next = path.steps[i + 1];
    const soonest = path.expected[i]!.timers[0];
    if (next !== undefined && soonest !== undefined && soonest.ms < STEP_MARGIN_MS) {
      return false;
    }
    if (
      step.type.startsWith('server.') &&
      step.type !== 'server.answerClose' &&
      !SERVER_STEPS.has(step.type)
    ) {
      return false;
    }
    if (step.type === 'adapter.breaks') return false;
    // ws's own handshake timeout is openTimeoutMs too: which one fires first is not the model's business.
    if (step.type === 'time.advance' && (step.timer === 'openTimeout' || step.timer === 'stableAfter'))
      return false;
    if (path.expected[i]!.closeFrameOut) return path.steps[i + 1]?.type === 'server.answerClose';
    return true;
  });
}

const waitOf = (path: LifecyclePath) =>
  path.steps.reduce((ms, s) => ms + (s.type === 'time.advance' ? s.ms : 0), 0);

function features(path: LifecyclePath): Set<string> {
  const f = new Set(path.transitions);
  for (const e of path.expected) f.add(`state:${e.state}`);
  for (const s of path.steps) if (s.type.startsWith('server.')) f.add(`step:${s.type}`);
  return f;
}

function chooseSample(paths: LifecyclePath[]): LifecyclePath[] {
  const candidates = paths.filter(realizable);
  const chosen: LifecyclePath[] = [];
  const have = new Set<string>();
  let budget = WAIT_BUDGET_MS;
  while (chosen.length < MAX_PATHS) {
    let best: LifecyclePath | undefined;
    let bestScore = 0;
    for (const p of candidates) {
      if (chosen.includes(p) || waitOf(p) > budget) continue;
      const gain = [...features(p)].filter((f) => !have.has(f));
      const weighted = gain.reduce(
        (n, f) => n + (f.startsWith('state:') || f.startsWith('step:') ? 10 : 1),
        0,
      );
      const score = weighted / (p.steps.length + waitOf(p) / 50);
      if (score > bestScore) {
        best = p;
        bestScore = score;
      }
    }
    if (best === undefined) break;
    chosen.push(best);
    budget -= waitOf(best);
    for (const f of features(best)) have.add(f);
  }
  return chosen;
}

const paths = lifecyclePaths({
  client: makeClient('ws://127.0.0.1:9/', createLifecycleControl()),
  everyOutcome: true,
});
const sample = chooseSample(paths);

let server: LoopbackServer | undefined;
afterEach(async () => {
  await server?.shutdown();
  server = undefined;
});

describe('lifecycle paths against a real ws server on 127.0.0.1', () => {
  it('the sample reaches every client state and every step a ws server can take', () => {
    const all = new Set<string>();
    for (const p of sample) for (const f of features(p)) all.add(f);
    for (const state of ['connecting', 'opening', 'open', 'closing', 'reconnecting', 'stopped']) {
      expect(all, `the sample never reaches "${state}"`).toContain(`state:${state}`);
    }
    for (const step of [...SERVER_STEPS, 'server.answerClose']) {
      expect(all, `the sample never takes "${step}"`).toContain(`step:${step}`);
    }
  });

  for (const path of sample) {
    it(path.name, async () => {
      server = new LoopbackServer();
      await server.start();
      const control = createLifecycleControl();
      const client = makeClient(server.url, control);
      const observations = await replayPath(path, { client, server, control });
      // (A close frame and the server's answer are observed as one step: ws answers at once.)
      expect(observations.map((o) => o.step)).toEqual(path.steps);
      expect(observations.at(-1)?.state).toBe(path.expected.at(-1)?.state);
    });
  }
});
