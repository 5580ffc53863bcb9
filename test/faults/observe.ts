/**
 * What the fault tests observed, written under test-output/reliability/ for docs/reliability.md.
 *
 * A test calls `const note = observe(18)` and then `note('client 1002, python saw 1002, no reconnect')`
 * with the facts it measured. When the test finishes, one JSON file per (row, test) records the last
 * note and the test's result (`pass` / `fail`). `npm run reliability:doc` folds these files into the
 * "Last recorded run" section of the doc. Soak tests record their figures with {@link recordSoak}.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, onTestFinished } from 'vitest';

/** test-output/reliability (gitignored). */
export const OUTPUT_DIR = fileURLToPath(new URL('../../test-output/reliability', import.meta.url));
export const ROWS_DIR = join(OUTPUT_DIR, 'rows');
export const SOAK_DIR = join(OUTPUT_DIR, 'soak');

/** One observation file. */
export interface RowObservation {
  row: number;
  test: string;
  file: string;
  observed: string;
  result: 'pass' | 'fail' | 'skip' | 'unknown';
  at: string;
}

function slug(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '')
    .slice(0, 80);
}

/**
 * Starts recording an observation for FAULTS.md row `row` in the current test. Returns a function that
 * sets (replaces) the observed text; the file is written when the test finishes, with its result.
 */
export function observe(row: number): (observed: string) => void {
  const state = expect.getState();
  const test = state.currentTestName ?? 'unknown test';
  const root = fileURLToPath(new URL('../..', import.meta.url));
  const file = (state.testPath ?? '').replace(root, '');
  let observed = '(the test ended before recording an observation)';
  onTestFinished((context) => {
    const s = context.task.result?.state;
    const result: RowObservation['result'] =
      s === 'pass' ? 'pass' : s === 'fail' ? 'fail' : s === 'skip' ? 'skip' : 'unknown';
    const record: RowObservation = { row, test, file, observed, result, at: new Date().toISOString() };
    mkdirSync(ROWS_DIR, { recursive: true });
    writeFileSync(
      join(ROWS_DIR, `row-${String(row).padStart(2, '0')}--${slug(test)}.json`),
      `${JSON.stringify(record, null, 2)}\n`,
    );
  });
  return (text) => {
    observed = text;
  };
}

/** Writes the figures of a soak run (name: `loss`, `reconnect`, ...). */
export function recordSoak(name: string, figures: Record<string, unknown>): void {
  mkdirSync(SOAK_DIR, { recursive: true });
  writeFileSync(
    join(SOAK_DIR, `${name}.json`),
    `${JSON.stringify({ name, at: new Date().toISOString(), ...figures }, null, 2)}\n`,
  );
}
