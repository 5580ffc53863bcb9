/**
 * visualizations/connection.stately.js is what a user pastes into Stately's "Import from code": a
 * `createMachine({...})` call. Evaluated with XState's own createMachine, it must describe the same
 * statechart as the real machine: every state, every event a state handles, every delay and invoke.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { type AnyStateNode, createMachine } from 'xstate';
import { connectionMachine } from '../../machines/connection.machine.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');

/** Every state node's id with the events, delays and invokes it handles. */
function shape(node: AnyStateNode, out: string[] = []): string[] {
  const events = [...node.ownEvents].sort().join(',');
  const invokes = node.invoke.map((i) => i.src).join(',');
  out.push(
    `${node.id} ${node.type} initial=${String(node.initial?.target.map((t) => t.id) ?? '')} [${events}] {${invokes}}`,
  );
  for (const child of Object.values(node.states)) shape(child as AnyStateNode, out);
  return out;
}

describe("Stately's import file", () => {
  it('is one createMachine({...}) call that builds the same statechart as machines/connection.machine.ts', () => {
    const code = readFileSync(join(root, 'visualizations/connection.stately.js'), 'utf8');
    expect(code.match(/createMachine\(/g)).toHaveLength(1);
    const imported = new Function('createMachine', `return ${code.replace(/^\/\/.*$/gm, '').trim()}`)(
      createMachine,
    );
    expect(shape(imported.root)).toEqual(shape(connectionMachine.root));
    expect(shape(connectionMachine.root).length).toBeGreaterThan(10);
  });
});
