/**
 * Stately's editor (stately.ai) imports a machine from code written as a `createMachine({...})` call
 * (its "Import from code" docs). `machine.toJSON()` is XState's resolved definition (transition
 * arrays, `xstate.after.*` event names, ids), not a config the importer reads, so this writes the
 * machine's own config instead: names of actions, guards, delays and actors as they are in the source;
 * inline functions (context factories, input mappers) are left out, built-in actions by their type
 * (`xstate.assign`). Pure and browser-safe.
 */

/** `createMachine({...})` source for Stately's "Import from code", from a machine's config. */
export function toStatelyImport(machine: { id: string; config: unknown }, sourcePath: string): string {
  const json = JSON.stringify(
    machine.config,
    (key, value: unknown) => {
      if (typeof value !== 'function') return value;
      const type = (value as { type?: unknown }).type;
      if (typeof type === 'string') return type;
      // Inline guards keep a name so the transition still shows it has one.
      if (key === 'guard') return value.name || 'inlineGuard';
      return undefined;
    },
    2,
  );
  return (
    `// The \`${machine.id}\` machine for Stately's editor: Import (Code panel, or Machine > Import) and paste\n` +
    `// this file. Generated from ${sourcePath} by \`npm run visualize\`; do not edit.\n` +
    `createMachine(${json});\n`
  );
}
