/**
 * Renders every machine's diagrams in memory: used by `npm run visualize` to write visualizations/
 * and by the test that fails when the committed files are stale. Node only (Graphviz in WASM).
 */
import { instance } from '@viz-js/viz';
import { connectionMachine } from '../../machines/connection.machine.js';
import { subscriptionMachine } from '../../machines/subscription.machine.js';
import { describeMachine, toDot, toMermaid } from './export.js';
import { toStatelyImport } from './stately.js';

/** The machines that get diagrams, by file stem: the connection, and the child it spawns per subscription. */
export const MACHINES = { connection: connectionMachine, subscription: subscriptionMachine } as const;

/** File name -> content, for every machine: `.mmd`, `.md` (Mermaid for code hosts), `.dot`, `.svg`,
 * `.stately.js` (for Stately's "Import from code"). */
export async function renderDiagrams(): Promise<Record<string, string>> {
  const viz = await instance();
  const out: Record<string, string> = {};
  for (const [stem, machine] of Object.entries(MACHINES)) {
    const chart = describeMachine(machine);
    const mermaid = toMermaid(chart);
    const dot = toDot(chart);
    out[`${stem}.mmd`] = mermaid;
    out[`${stem}.md`] =
      `# The \`${stem}\` machine\n\nGenerated from \`machines/${stem}.machine.ts\` by \`npm run visualize\`; do not edit.\n\n` +
      `![${stem} statechart](./${stem}.svg)\n\n\`\`\`mermaid\n${mermaid}\`\`\`\n`;
    out[`${stem}.dot`] = dot;
    out[`${stem}.svg`] = viz.renderString(dot, { format: 'svg', engine: 'dot' });
    out[`${stem}.stately.js`] = toStatelyImport(machine, `machines/${stem}.machine.ts`);
  }
  return out;
}
