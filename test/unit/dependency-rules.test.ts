/**
 * The dependency rules of ARCHITECTURE.md §2, checked by reading the import statements of every
 * source file, so a stray import fails the suite instead of silently bloating the browser bundle.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

function listTs(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) out.push(...listTs(full));
    else if (name.endsWith('.ts')) out.push(full);
  }
  return out;
}

/**
 * The code of a file without its comments: an `import ... from 'wsmachine'` inside a TSDoc
 * `@example` is not an import (and, unstripped, lets the lazy `[^'"]*?` below run from an
 * `export type X = {` into the next doc comment).
 */
function codeOf(file: string): string {
  return readFileSync(file, 'utf8')
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
}

/** Module specifiers imported or re-exported by a file (type-only and side-effect imports included). */
function importsOf(file: string): string[] {
  const text = codeOf(file);
  const specs: string[] = [];
  const re =
    /(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|(?:^|\n)\s*import\s+['"]([^'"]+)['"]/g;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) specs.push((m[1] ?? m[2] ?? m[3])!);
  return specs;
}

/** Resolves a relative specifier to a project file. */
function resolveLocal(from: string, spec: string): string | undefined {
  if (!spec.startsWith('.')) return undefined;
  return resolve(dirname(from), spec.replace(/\.js$/, '.ts'));
}

const rel = (f: string) => relative(root, f);

describe('dependency rules (ARCHITECTURE.md §2)', () => {
  it('src/core imports nothing but src/core', () => {
    const offenders: string[] = [];
    for (const file of listTs(join(root, 'src/core'))) {
      for (const spec of importsOf(file)) {
        const target = resolveLocal(file, spec);
        if (target === undefined || !rel(target).startsWith('src/core/'))
          offenders.push(`${rel(file)} -> ${spec}`);
      }
    }
    expect(offenders).toEqual([]);
  });

  it('machines/ imports only xstate and src/core', () => {
    const offenders: string[] = [];
    for (const file of listTs(join(root, 'machines'))) {
      for (const spec of importsOf(file)) {
        if (spec === 'xstate') continue;
        const target = resolveLocal(file, spec);
        const r = target === undefined ? '' : rel(target);
        if (!(r.startsWith('src/core/') || r.startsWith('machines/')))
          offenders.push(`${rel(file)} -> ${spec}`);
      }
    }
    expect(offenders).toEqual([]);
  });

  it('adapters never import xstate, the machines or the client; only transport/ws.ts imports ws', () => {
    const offenders: string[] = [];
    for (const file of listTs(join(root, 'src/transport'))) {
      for (const spec of importsOf(file)) {
        const target = resolveLocal(file, spec);
        const r = target === undefined ? spec : rel(target);
        if (spec === 'xstate' || r.startsWith('machines/') || r === 'src/client.ts')
          offenders.push(`${rel(file)} -> ${spec}`);
        if (spec === 'ws' && !rel(file).endsWith('transport/ws.ts')) offenders.push(`${rel(file)} -> ws`);
      }
    }
    for (const file of listTs(join(root, 'src')).filter((f) => !rel(f).startsWith('src/transport/'))) {
      for (const spec of importsOf(file)) {
        if (spec === 'ws' && !rel(file).startsWith('src/server/')) offenders.push(`${rel(file)} -> ws`);
      }
    }
    expect(offenders).toEqual([]);
  });

  it('the graphs under src/index.ts and src/compat.ts never reach ws, node:* or OpenTelemetry', () => {
    const seen = new Set<string>();
    const bad: string[] = [];
    const visit = (file: string, via: string[]) => {
      if (seen.has(file)) return;
      seen.add(file);
      for (const spec of importsOf(file)) {
        if (spec === 'ws' || spec.startsWith('node:') || spec.startsWith('@opentelemetry/')) {
          bad.push([...via, rel(file), spec].join(' -> '));
          continue;
        }
        const target = resolveLocal(file, spec);
        if (target !== undefined) visit(target, [...via, rel(file)]);
      }
    };
    visit(join(root, 'src/index.ts'), []);
    visit(join(root, 'src/compat.ts'), []);
    visit(join(root, 'src/testing.ts'), []);
    visit(join(root, 'machines/index.ts'), []);
    expect(seen.size).toBeGreaterThan(10);
    expect(bad).toEqual([]);
  });

  it('compat/ is built on the public API only (src/public.ts) and never imports ws or node:*', () => {
    const offenders: string[] = [];
    const files = listTs(join(root, 'src/compat'));
    expect(files.length).toBeGreaterThan(5);
    for (const file of files) {
      for (const spec of importsOf(file)) {
        const target = resolveLocal(file, spec);
        const r = target === undefined ? spec : rel(target);
        if (!(r === 'src/public.ts' || r.startsWith('src/compat/')))
          offenders.push(`${rel(file)} -> ${spec}`);
      }
    }
    expect(offenders).toEqual([]);
  });

  it('cli/ uses the public entry points only (wsmachine, wsmachine/server, wsmachine/inspector)', () => {
    const offenders: string[] = [];
    const publicEntries = new Set(['src/node.ts', 'src/server.ts', 'src/inspector.ts']);
    for (const file of listTs(join(root, 'src/cli'))) {
      for (const spec of importsOf(file)) {
        if (spec.startsWith('node:') || spec === 'picocolors') continue;
        const target = resolveLocal(file, spec);
        const r = target === undefined ? spec : rel(target);
        if (!(publicEntries.has(r) || r.startsWith('src/cli/'))) offenders.push(`${rel(file)} -> ${spec}`);
      }
    }
    expect(offenders).toEqual([]);
  });
  it('only src/telemetry/ and src/otel.ts import OpenTelemetry; they reach the client through public types only', () => {
    const isTelemetry = (f: string) => rel(f).startsWith('src/telemetry/') || rel(f) === 'src/otel.ts';
    const offenders: string[] = [];
    for (const file of [...listTs(join(root, 'src')), ...listTs(join(root, 'machines'))]) {
      for (const spec of importsOf(file)) {
        if (spec.startsWith('@opentelemetry/') && !isTelemetry(file))
          offenders.push(`${rel(file)} -> ${spec}`);
      }
    }
    const telemetry = [join(root, 'src/otel.ts'), ...listTs(join(root, 'src/telemetry'))];
    expect(telemetry.length).toBeGreaterThan(1);
    for (const file of telemetry) {
      const text = codeOf(file);
      const re = /(?:^|\n)\s*(?:import|export)\s+(type\s+)?[^'"]*?from\s+['"]([^'"]+)['"]/g;
      for (let m = re.exec(text); m !== null; m = re.exec(text)) {
        const typeOnly = m[1] !== undefined;
        const spec = m[2]!;
        // The API only: an SDK is the application's choice.
        if (spec.startsWith('@opentelemetry/')) {
          if (spec !== '@opentelemetry/api') offenders.push(`${rel(file)} -> ${spec}`);
          continue;
        }
        const target = resolveLocal(file, spec);
        const r = target === undefined ? spec : rel(target);
        if (target !== undefined && isTelemetry(target)) continue;
        // The client is reached through its public types and the Symbol.for key, never its values.
        if (!(typeOnly && r === 'src/public.ts')) offenders.push(`${rel(file)} -> ${spec}`);
      }
    }
    expect(offenders).toEqual([]);
  });
});
