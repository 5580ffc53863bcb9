/**
 * `npm run reliability:doc`: writes docs/reliability.md from test/faults/scenarios.ts and what the last
 * runs recorded under test-output/reliability/ (kept from the current doc when nothing was recorded).
 *
 * `npm run reliability:run` (`--run`): first runs `npm test` and `npm run test:system` with vitest's JSON
 * reporter into test-output/reliability/, so that every mapped test has a pass/fail; exits non-zero
 * when a suite failed (after writing the doc, which then shows the failures).
 * `--check`: compares instead of writing (recorded sections kept as they are); fails when stale.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadRunData, renderFor } from '../test/faults/reliability-doc.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const docPath = join(root, 'docs', 'reliability.md');
const outDir = join(root, 'test-output', 'reliability');

let failed = false;
if (process.argv.includes('--run')) {
  mkdirSync(outDir, { recursive: true });
  const vitest = join(root, 'node_modules', '.bin', 'vitest');
  const runs: Array<{ out: string; args: string[] }> = [
    { out: 'vitest-node.json', args: [] },
    { out: 'vitest-system.json', args: ['--config', 'vitest.system.config.ts'] },
  ];
  for (const run of runs) {
    const out = join(outDir, run.out);
    rmSync(out, { force: true });
    const r = spawnSync(
      vitest,
      ['run', ...run.args, '--reporter=default', '--reporter=json', `--outputFile.json=${out}`],
      { cwd: root, stdio: 'inherit' },
    );
    if (r.status !== 0) failed = true;
  }
}

const current = existsSync(docPath) ? readFileSync(docPath, 'utf8') : undefined;
const check = process.argv.includes('--check');
// The check ignores run data: the recorded sections are kept, everything else must be fresh.
const next = renderFor(current, check ? undefined : loadRunData(root));
if (check) {
  if (current !== next) {
    console.error('docs/reliability.md is stale: run `npm run reliability:doc`');
    process.exitCode = 1;
  }
} else {
  writeFileSync(docPath, next);
  console.log('wrote docs/reliability.md');
}
if (failed) {
  console.error('a suite failed: see the doc and the output above');
  process.exitCode = 1;
}
