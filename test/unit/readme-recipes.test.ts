/**
 * README blocks that are files run by the tests: a block after
 * `<!-- embed-recipe: <path> ... -->` must be that file, verbatim, so the recipe users copy is the
 * one Debian chromium runs (test/browser/embed.test.ts).
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
const readme = readFileSync(join(root, 'README.md'), 'utf8');

describe('README recipes', () => {
  const blocks = [...readme.matchAll(/<!-- embed-recipe: (\S+)[^\n]*-->\n```\w*\n([\s\S]*?)```\n/g)];

  it('has the React embed recipe', () => {
    expect(blocks.map((b) => b[1])).toContain('test/browser/embed/app.tsx');
  });

  for (const [, path, code] of blocks) {
    it(`the block for ${path} is that file, verbatim`, () => {
      expect(code).toBe(readFileSync(join(root, path!), 'utf8'));
    });
  }
});
