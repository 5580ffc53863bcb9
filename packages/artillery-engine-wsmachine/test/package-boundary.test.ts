/**
 * The engine is a separate package: it reaches wsmachine only through its published name and public
 * API (`import type … from 'wsmachine'`, one `require('wsmachine')`), never through a relative path into
 * the repository's sources, which a user who installs both packages would not have.
 */
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const here = path.dirname(fileURLToPath(import.meta.url));
const src = path.join(here, '../src');
const files = readdirSync(src).filter((f) => f.endsWith('.ts'));

describe('package boundary', () => {
  it('imports only its own files, node: built-ins and wsmachine (types only)', () => {
    const offenders: string[] = [];
    for (const file of files) {
      const code = readFileSync(path.join(src, file), 'utf8');
      for (const m of code.matchAll(/^import\s+(type\s+)?[^'"]*from\s+'([^']+)'/gm)) {
        const [, typeOnly, spec] = m as unknown as [string, string | undefined, string];
        const ok =
          (spec.startsWith('./') && !spec.includes('..')) ||
          spec.startsWith('node:') ||
          (spec === 'wsmachine' && typeOnly);
        if (!ok) offenders.push(`${file}: ${m[0]}`);
      }
    }
    expect(offenders).toEqual([]);
  });

  it('loads wsmachine at run time in one place, by name', () => {
    // Code lines only: the TSDoc examples show users require()-ing the engine.
    const code = (file: string) =>
      readFileSync(path.join(src, file), 'utf8')
        .split('\n')
        .filter((line) => !/^\s*(\*|\/\/|\/\*)/.test(line))
        .join('\n');
    const requires = files.flatMap((file) =>
      [...code(file).matchAll(/require\('([^']+)'\)/g)].map((m) => `${file}: ${m[1]}`),
    );
    expect(requires).toEqual(['index.ts: wsmachine']);
  });

  it('declares wsmachine as its dependency and Artillery as none (npm would install 460 MB with it)', () => {
    const pkg = JSON.parse(readFileSync(path.join(here, '../package.json'), 'utf8'));
    expect(pkg.name).toBe('artillery-engine-wsmachine');
    expect(Object.keys(pkg.dependencies)).toEqual(['wsmachine']);
    expect(pkg.peerDependencies).toBeUndefined();
    expect(pkg.main).toBe('./dist/index.cjs');
  });
});
