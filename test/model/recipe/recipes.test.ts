/**
 * The README's "Model-based testing your app" recipes are these files, and both run: the vitest one
 * is ./price-board.test.ts (collected by vitest like any test), the node:test one runs here under
 * `node --test`, as a user runs it.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createLifecycleControl, createMemoryAdapter, lifecyclePaths } from '../../../src/testing.js';
import { createPriceBoard } from './price-board.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const FILES = [
  'test/model/recipe/price-board.ts',
  'test/model/recipe/price-board.test.ts',
  'test/model/recipe/price-board.node-test.ts',
];

/** A file as the README shows it: the package's names instead of the source tree's paths. */
function asPublished(file: string): string {
  return readFileSync(join(root, file), 'utf8')
    .replace(/'(?:\.\.\/)+src\/[a-z]+\.js'; \/\/ '([^']+)'/g, "'$1';")
    .trimEnd();
}

describe('the README recipes', () => {
  it('are the files that run in npm test', () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    for (const file of FILES) {
      const marker = `<!-- recipe: ${file} -->\n\`\`\`ts\n`;
      const at = readme.indexOf(marker);
      expect(at, `README has no block for ${file}`).toBeGreaterThan(0);
      const start = at + marker.length;
      const block = readme.slice(start, readme.indexOf('\n```', start));
      expect(block, `the README block of ${file} differs from the file`).toBe(asPublished(file));
    }
  });

  it('the node:test recipe passes under node --test', async () => {
    const { code, stdout } = await new Promise<{ code: number | null; stdout: string }>((done) => {
      const child = execFile(
        process.execPath,
        ['--import', 'tsx', '--test', 'test/model/recipe/price-board.node-test.ts'],
        { cwd: root },
        (error, out) => done({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout: out }),
      );
      child.stdin?.end();
    });
    expect(stdout).toMatch(/# fail 0/);
    const { client } = createPriceBoard({
      adapter: createMemoryAdapter(),
      environment: createLifecycleControl().environment,
    });
    expect(Number(/# pass (\d+)/.exec(stdout)?.[1]), 'one passing test per path').toBe(
      lifecyclePaths({ client }).length,
    );
    expect(code).toBe(0);
  });
});
