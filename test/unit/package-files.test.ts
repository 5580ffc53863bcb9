/**
 * What the npm tarball holds, as `npm pack` computes it from `files` (the same list a publish uploads):
 * every relative link in a shipped Markdown file must point to a file that is shipped too, so the
 * README read from the package (npm's file view, a CDN, an editor opening node_modules/wsmachine)
 * has no dead links. The package page itself resolves relative links only through a `repository`
 * field (docs/decisions.md, "Packaging").
 *
 * `--ignore-scripts`: only the file list is needed, so no build runs (dist/ may be absent here).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, posix, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** The paths `npm pack` would put in the tarball (relative, `/`-separated). */
function packedFiles(): string[] {
  const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
    cwd: root,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const [pack] = JSON.parse(out) as Array<{ files: Array<{ path: string }> }>;
  return pack!.files.map((f) => f.path);
}

/**
 * Relative link targets of a Markdown text: `[text](target)` and `![alt](target)` outside fenced
 * code blocks and inline code, without absolute URLs and in-page anchors.
 */
function relativeLinks(markdown: string): string[] {
  const prose = markdown.replace(/^```[\s\S]*?^```/gm, '').replace(/`[^`\n]*`/g, '');
  const links: string[] = [];
  for (const m of prose.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) {
    const target = m[1]!;
    if (/^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith('#')) continue;
    links.push(target.split('#')[0]!);
  }
  return links;
}

describe('the npm tarball', () => {
  const files = packedFiles();

  it('ships the README, the docs, the CLI entry and the diagrams', () => {
    for (const f of ['README.md', 'package.json', 'bin/wsmachine.mjs', 'docs/decisions.md'])
      expect(files).toContain(f);
    expect(files.some((f) => f.startsWith('visualizations/'))).toBe(true);
    // Never the test suite, the sources or the benchmarks as a whole: only the files the docs link to.
    expect(files.filter((f) => f.startsWith('test/')).sort()).toEqual([
      'test/model/recipe/price-board.node-test.ts',
      'test/model/recipe/price-board.test.ts',
      'test/model/recipe/price-board.ts',
    ]);
    expect(files.filter((f) => f.startsWith('bench/'))).toEqual(['bench/results/latest.md']);
    // Of the sources, only src/core: the machine's source ships (go to definition, the XState editor
    // extension) and src/core is what it imports.
    expect(files.filter((f) => f.startsWith('src/') && !f.startsWith('src/core/'))).toEqual([]);
  });

  it('every relative import in a shipped TypeScript file resolves to a shipped file', () => {
    // The machine's source and what it imports. The shipped recipes (test/model/recipe/) import the
    // source tree with the package name in a comment; the README shows them with the package names.
    const sources = files.filter((f) => /^(machines|src)\/.*\.ts$/.test(f));
    expect(sources).toContain('machines/connection.machine.ts');
    const missing: string[] = [];
    for (const file of sources) {
      const text = readFileSync(resolve(root, file), 'utf8');
      for (const m of text.matchAll(/\bfrom\s+'(\.{1,2}\/[^']+)'/g)) {
        const target = posix.normalize(posix.join(posix.dirname(file), m[1]!)).replace(/\.js$/, '.ts');
        if (!files.includes(target)) missing.push(`${file}: ${m[1]}`);
      }
    }
    expect(missing).toEqual([]);
  });

  it('every relative link in a shipped Markdown file points to a shipped file', () => {
    const markdown = files.filter((f) => f.endsWith('.md'));
    expect(markdown.length).toBeGreaterThan(3);
    const dead: string[] = [];
    let checked = 0;
    for (const file of markdown) {
      for (const link of relativeLinks(readFileSync(resolve(root, file), 'utf8'))) {
        checked++;
        const target = posix.normalize(posix.join(posix.dirname(file), link));
        if (!files.includes(target)) dead.push(`${file}: ${link}`);
      }
    }
    expect(checked).toBeGreaterThan(5);
    expect(dead).toEqual([]);
  });

  it('the link finder sees links in prose and skips code', () => {
    const md = [
      'See [a](docs/a.md#x), ![d](img/d.svg) and [web](https://example.test/) or [top](#top).',
      '`[not](a/link.md)`',
      '```ts',
      'actions[event.type](w, before);',
      '```',
    ].join('\n');
    expect(relativeLinks(md)).toEqual(['docs/a.md', 'img/d.svg']);
  });
});
