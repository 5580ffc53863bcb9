/**
 * The machine's TypeScript source ships in the package, and the types users resolve for
 * `wsmachine/machines` carry declaration maps that lead "go to definition" (and from there the XState
 * VS Code extension) to it: `npm pack` lists machines/*.ts, and the declarations `npm run build` emits
 * with tsconfig.machines.json map back to those files.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const machinesConfig = JSON.parse(readFileSync(join(root, 'tsconfig.machines.json'), 'utf8'));
const out = mkdtempSync(join(tmpdir(), 'wsmachine-dts-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe('the machine source in the package', () => {
  it('npm pack includes machines/*.ts', async () => {
    const { stdout } = await run('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root });
    const files: string[] = JSON.parse(stdout)[0].files.map((f: { path: string }) => f.path);
    expect(files).toEqual(
      expect.arrayContaining([
        'machines/connection.machine.ts',
        'machines/connection.types.ts',
        'machines/index.ts',
      ]),
    );
    // Of the sources, only src/core (what the machines import); test/unit/package-files.test.ts checks
    // that every import in the shipped source resolves.
    expect(files).toContain('src/core/errors.ts');
    expect(files.filter((f) => f.startsWith('src/') && !f.startsWith('src/core/'))).toEqual([]);
  });

  it('the exported types of wsmachine/machines map back to machines/*.ts', async () => {
    expect(pkg.exports['./machines'].types).toBe(
      `./${machinesConfig.compilerOptions.outDir}/machines/index.d.ts`,
    );
    expect(pkg.scripts.build).toContain('tsc -p tsconfig.machines.json');
    await run(
      process.execPath,
      [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.machines.json', '--outDir', out],
      {
        cwd: root,
      },
    );
    for (const file of ['index', 'connection.machine', 'connection.types']) {
      const mapPath = join(out, 'machines', `${file}.d.ts.map`);
      const map = JSON.parse(readFileSync(mapPath, 'utf8')) as { sources: string[]; sourceRoot?: string };
      const sources = map.sources.map((s) => resolve(dirname(mapPath), map.sourceRoot ?? '', s));
      expect(sources).toEqual([join(root, 'machines', `${file}.ts`)]);
    }
    expect(readFileSync(join(out, 'machines/index.d.ts'), 'utf8')).toMatch(/connectionMachine/);
  }, 60_000);
});
