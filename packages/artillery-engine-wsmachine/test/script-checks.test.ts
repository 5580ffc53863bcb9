/**
 * What a script author sees before any virtual user runs: `createScenario` refuses a bad step or a bad
 * option with a ScriptError that names the step. The real wsmachine `createClient` validates options.
 * (The same errors through a real `artillery run`: test/system/artillery.test.ts.)
 */
import { describe, expect, it } from 'vitest';
import { createClient } from '../../../src/node.js';
import type { ArtilleryHelpers, ArtilleryScript } from '../src/artillery.js';
import { WsmachineEngine } from '../src/engine.js';
import { ScriptError } from '../src/errors.js';

// Only think/loop compile through Artillery's helpers; these tests stop before or avoid them.
const noHelpers = {} as ArtilleryHelpers;
const ee = { emit: () => true };

function engine(config: ArtilleryScript['config']): WsmachineEngine {
  return new WsmachineEngine({ config: { target: 'ws://127.0.0.1:9', ...config } }, ee, noHelpers, {
    createClient,
  });
}

function scriptError(run: () => unknown): ScriptError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ScriptError);
    return error as ScriptError;
  }
  throw new Error('expected a ScriptError');
}

const keyed = { requests: { key: 'reqId' } };

describe('createScenario refuses a bad step, naming it', () => {
  it('an unknown step, with the nearest name', () => {
    const e = scriptError(() =>
      engine({}).createScenario({ name: 'chat', flow: [{ connect: null }, { sned: 'hi' }] }, ee),
    );
    expect(e.step).toBe('scenario "chat", flow[1]');
    expect(e.message).toContain('unknown step `sned`. Did you mean `send`?');
    expect(e.code).toBe('WSM_ERR_SCRIPT');
  });

  it('a step inside a loop, by its path', () => {
    const flow = [{ loop: [{ send: 'a' }, { request: { payload: { a: 1 }, tiemout: 5 } }], count: 2 }];
    const e = scriptError(() => engine(keyed).createScenario({ name: 'x', flow }, ee));
    expect(e.step).toBe('scenario "x", flow[0].loop[1] (request)');
    expect(e.message).toContain('unknown key `tiemout` in request');
  });

  it('two steps in one list item', () => {
    const e = scriptError(() => engine({}).createScenario({ flow: [{ send: 'a', close: {} }] }, ee));
    expect(e.message).toContain('one step per list item, found send and close');
  });

  it('a request without payload, and a request without a key configured', () => {
    expect(
      scriptError(() => engine(keyed).createScenario({ flow: [{ request: { data: 1 } }] }, ee)).message,
    ).toContain('expected `request: { payload');
    const e = scriptError(() =>
      engine({}).createScenario({ flow: [{ request: { payload: { a: 1 } } }] }, ee),
    );
    expect(e.step).toBe('scenario (unnamed), flow[0] (request)');
    expect(e.message).toContain('`requests: { key: reqId }`');
  });

  it('a function step naming no processor export', () => {
    const withProcessor = engine({ processor: { probe: () => undefined, other: 1 } });
    const e = scriptError(() => withProcessor.createScenario({ flow: [{ function: 'prbe' }] }, ee));
    expect(e.message).toBe(
      'artillery-engine-wsmachine: scenario (unnamed), flow[0] (function): function: config.processor has no function `prbe` (it exports: probe)',
    );
    expect(
      scriptError(() => engine({}).createScenario({ flow: [{ waitFor: { function: 'f' } }] }, ee)).message,
    ).toContain('needs config.processor');
  });

  it('a bad timeout', () => {
    const e = scriptError(() => engine({}).createScenario({ flow: [{ waitFor: { timeoutMs: -1 } }] }, ee));
    expect(e.message).toContain('timeoutMs: expected milliseconds');
  });

  it('an empty flow', () => {
    expect(scriptError(() => engine({}).createScenario({ name: 'e', flow: [] }, ee)).message).toContain(
      '`flow` must be a non-empty list',
    );
  });
});

describe('createScenario refuses a bad option, naming where it is', () => {
  it('in config.wsmachine, with wsmachine’s own message', () => {
    const e = scriptError(() =>
      engine({ wsmachine: { reconnect: { baseDelayMs: -5 } } }).createScenario({ flow: [{ send: 'x' }] }, ee),
    );
    expect(e.step).toBe('config.wsmachine');
    expect(e.message).toContain('reconnect.baseDelayMs: got -5');
  });

  it('a misspelt option', () => {
    const e = scriptError(() =>
      engine({ wsmachine: { heartbaet: false } }).createScenario({ flow: [{ send: 'x' }] }, ee),
    );
    expect(e.message).toContain('heartbaet');
    expect(e.message).toContain('check the spelling');
  });

  it('in a connect step’s overrides: the connect step is named', () => {
    const flow = [{ send: 'x' }, { connect: { heartbeat: { intervalMs: 'often' } } }];
    const e = scriptError(() => engine({}).createScenario({ name: 'hb', flow }, ee));
    expect(e.step).toBe('scenario "hb", flow[1] (connect)');
    expect(e.message).toContain('heartbeat.intervalMs');
  });

  it('options the engine owns, and a key that is not a path', () => {
    expect(
      scriptError(() => engine({ wsmachine: { hooks: {} } }).createScenario({ flow: [{ send: 'x' }] }, ee))
        .message,
    ).toContain('hooks: not allowed here');
    const bad = engine({ wsmachine: { requests: { key: { request: 'id' } } } });
    expect(scriptError(() => bad.createScenario({ flow: [{ send: 'x' }] }, ee)).message).toContain(
      'requests.key: expected a JSON path',
    );
    expect(
      scriptError(() => engine({ wsmachine: { inboxSize: 0 } }).createScenario({ flow: [{ send: 'x' }] }, ee))
        .step,
    ).toBe('config.wsmachine');
  });

  it('no URL at all', () => {
    const noTarget = new WsmachineEngine({ config: {} }, ee, noHelpers, { createClient });
    expect(scriptError(() => noTarget.createScenario({ flow: [{ connect: {} }] }, ee)).message).toContain(
      'set `config.target`',
    );
  });

  it('templated options are left for each virtual user to render', () => {
    const templated = engine({ wsmachine: { openTimeoutMs: '{{ openTimeout }}', ...keyed } });
    expect(() => templated.createScenario({ flow: [{ send: 'x' }] }, ee)).not.toThrow();
  });
});
