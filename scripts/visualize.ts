/**
 * `npm run visualize`: writes the statechart diagrams in visualizations/ from the machine
 * definitions (Mermaid source, Graphviz DOT, and SVG rendered by Graphviz compiled to WebAssembly:
 * no browser, no system package). `--check` compares instead of writing and fails when stale.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderDiagrams } from '../src/visualize/render.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const check = process.argv.includes('--check');
const files = await renderDiagrams();
let stale = 0;
for (const [name, content] of Object.entries(files)) {
  const path = join(root, 'visualizations', name);
  if (check) {
    let current = '';
    try {
      current = readFileSync(path, 'utf8');
    } catch {}
    if (current !== content) {
      console.error(`stale: visualizations/${name}`);
      stale++;
    }
  } else {
    writeFileSync(path, content);
    console.log(`wrote visualizations/${name}`);
  }
}
if (stale > 0) {
  console.error('The diagrams are stale: run `npm run visualize` and commit visualizations/.');
  process.exit(1);
}
