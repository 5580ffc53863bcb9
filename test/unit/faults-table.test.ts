/**
 * The fault table (test/faults/scenarios.ts) is the single source of truth for FAULTS.md rows -> tests
 * -> peers. This checks that it covers every row, that every test it names exists (the title is found
 * in the file), and that docs/reliability.md is what `npm run reliability:doc` would write (the
 * recorded-run and soak sections are kept as they are: they come from a run, not from the table).
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { extractSection, renderFor, titlePattern } from '../faults/reliability-doc.js';
import { PEERS, SCENARIOS, SOAKS } from '../faults/scenarios.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const read = (file: string) => readFileSync(`${root}${file}`, 'utf8');

describe('the fault table (test/faults/scenarios.ts)', () => {
  it('has the 39 rows of FAULTS.md, then the rows later issues added, in order, each with at least one test', () => {
    expect(SCENARIOS.length).toBeGreaterThanOrEqual(39);
    expect(SCENARIOS.map((s) => s.row)).toEqual(Array.from({ length: SCENARIOS.length }, (_, i) => i + 1));
    for (const s of SCENARIOS) {
      expect(s.tests.length, `row ${s.row}`).toBeGreaterThan(0);
      expect(s.scenario && s.expected && s.asserted, `row ${s.row}`).toBeTruthy();
      for (const t of s.tests) expect(Object.keys(PEERS)).toContain(t.peer);
    }
  });

  it('names only tests that exist: each title is found in its file', () => {
    const missing: string[] = [];
    const tests = [
      ...SCENARIOS.flatMap((s) => s.tests.map((t) => ({ ...t, row: s.row }))),
      ...SOAKS.map((s) => ({ ...s.test, row: 0 })),
    ];
    for (const t of tests) {
      if (!existsSync(`${root}${t.file}`)) {
        missing.push(`row ${t.row}: no file ${t.file}`);
        continue;
      }
      if (!read(t.file).includes(t.name)) missing.push(`row ${t.row}: "${t.name}" not in ${t.file}`);
    }
    expect(missing).toEqual([]);
  });

  it('maps the rows the system suites own to tests under test/system or test/browser', () => {
    const system = (row: number) =>
      SCENARIOS.find((s) => s.row === row)!.tests.some((t) => /^test\/(system|browser)\//.test(t.file));
    for (const row of [18, 19, 20, 21, 22, 23, 24, 32, 33, 34, 36, 38])
      expect(system(row), `row ${row}`).toBe(true);
  });

  it('reads it.each titles as patterns', () => {
    expect(titlePattern('row %i: %s -> %i').test('row 18: /badclosecode/1005 -> 1002')).toBe(true);
    expect(titlePattern('no window holds over 25%%').test('no window holds over 25%')).toBe(true);
    expect(titlePattern('a (b) c').test('a (b) c')).toBe(true);
  });
});

describe('docs/reliability.md', () => {
  it('is up to date with the table (else run `npm run reliability:doc`)', () => {
    const current = read('docs/reliability.md');
    expect(extractSection(current, 'table')).toBeDefined();
    expect(extractSection(current, 'run')).toBeDefined();
    expect(extractSection(current, 'soak')).toBeDefined();
    const expected = renderFor(current, undefined);
    expect(current === expected, 'docs/reliability.md is stale: run `npm run reliability:doc`').toBe(true);
  });

  it('lists every row and every soak figure heading', () => {
    const table = extractSection(read('docs/reliability.md'), 'table')!;
    for (const s of SCENARIOS) expect(table).toContain(`| ${s.row} | `);
  });
});
