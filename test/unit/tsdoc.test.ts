/**
 * The TSDoc house rule, enforced (ARCHITECTURE.md §7: "TSDoc on every export: summary, `@default` on
 * every option, `@throws`, a runnable `@example`").
 *
 * The TypeScript compiler API loads the public entry points, resolves every exported name (through
 * `export { … } from`, `export *` and `export type *`) to its declarations in this repository, and
 * checks four rules:
 *
 * 1. every exported declaration (function, class, interface, type alias, const, enum) has a summary;
 * 2. every exported declaration has an `@example` (all of them are public API: they are reachable from
 *    an entry point);
 * 3. every property of an exported interface whose name ends in `Options` (inherited ones included)
 *    has an `@default`;
 * 4. every public method of an exported class has a summary (constructors and accessors are not
 *    methods; private, protected and `#private` members are not public).
 *
 * Anything tagged `@internal` is exempt: a member, and also a whole exported declaration (a few
 * internals are exported for the other entry points). Declarations outside the repository (node_modules) are not
 * checked: we cannot document them.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** The public entry points (the package `exports` map, in source form). */
const ENTRY_POINTS = [
  'src/index.ts',
  'src/node.ts',
  'src/testing.ts',
  'src/server.ts',
  'src/inspector.ts',
  'src/otel.ts', // optional: skipped when absent
  'src/compat.ts',
  'src/compat-node.ts',
  'machines/index.ts',
  'packages/artillery-engine-wsmachine/src/index.ts', // the Artillery engine package
]
  .map((file) => path.join(ROOT, file))
  .filter((file) => existsSync(file));

type Rule = 'summary' | 'example' | 'default' | 'method-summary' | 'unresolved';

const HOW_TO_FIX: Record<Rule, string> = {
  summary: 'add a /** … */ comment whose first line says what it is or does',
  example:
    'add an `@example` with a short ```ts block that runs against the public API (import from "wsmachine…")',
  default:
    'add `@default <value>` stating the real default (read DEFAULTS in src/core/options.ts and the code), ' +
    'e.g. `@default 30_000`, or `@default (required)` / `@default undefined` with what that means',
  'method-summary': 'add a /** … */ summary line above the method (each overload signature, if overloaded)',
  unresolved: 'the export resolves to nothing the compiler can see: fix the re-export',
};

interface Gap {
  rule: Rule;
  where: string;
  name: string;
}

/**
 * A program over the entry points and the repository files they reach through relative imports. The
 * checks read declarations and their JSDoc only, never types from dependencies, so neither the lib
 * files nor node_modules are loaded: that keeps the test well under a second.
 */
function projectProgram(): ts.Program {
  const configPath = path.join(ROOT, 'tsconfig.json');
  const { config, error } = ts.readConfigFile(configPath, ts.sys.readFile);
  if (error) throw new Error(ts.flattenDiagnosticMessageText(error.messageText, '\n'));
  const { options: fromConfig } = ts.convertCompilerOptionsFromJson(
    config.compilerOptions ?? {},
    ROOT,
    configPath,
  );
  const options: ts.CompilerOptions = { ...fromConfig, noEmit: true, noLib: true, types: [] };
  const host = ts.createCompilerHost(options);
  host.resolveModuleNameLiterals = (literals, containingFile, redirect, opts) =>
    literals.map((literal) =>
      literal.text.startsWith('.')
        ? ts.resolveModuleName(literal.text, containingFile, opts, host, undefined, redirect)
        : { resolvedModule: undefined },
    );
  return ts.createProgram(ENTRY_POINTS, options, host);
}

function isOurs(node: ts.Node): boolean {
  const file = node.getSourceFile();
  return !file.isDeclarationFile && !file.fileName.includes('/node_modules/');
}

/** The JSDoc comment that applies to a declaration (for a `const`, the one on its statement). */
function jsDocOf(node: ts.Node): ts.JSDoc | undefined {
  let host: ts.Node = node;
  if (ts.isVariableDeclaration(node) && ts.isVariableDeclarationList(node.parent)) {
    host = node.parent.declarations.length === 1 ? node.parent.parent : node;
  }
  // getJSDocCommentsAndTags returns only the last /** */ block before the node (the one TS shows).
  return ts.getJSDocCommentsAndTags(host).filter(ts.isJSDoc).at(-1);
}

function hasSummary(doc: ts.JSDoc | undefined): boolean {
  return (ts.getTextOfJSDocComment(doc?.comment) ?? '').trim().length > 0;
}

function hasTag(doc: ts.JSDoc | undefined, tag: string): boolean {
  return (doc?.tags ?? []).some((t) => t.tagName.text === tag);
}

function where(node: ts.Node, root: string): string {
  const file = node.getSourceFile();
  const { line } = file.getLineAndCharacterOfPosition(node.getStart());
  return `${path.relative(root, file.fileName)}:${line + 1}`;
}

function declarationName(node: ts.Declaration): string {
  const name = ts.getNameOfDeclaration(node);
  return name ? name.getText() : '(anonymous)';
}

function isExportedKind(node: ts.Node): boolean {
  return (
    ts.isFunctionDeclaration(node) ||
    ts.isClassDeclaration(node) ||
    ts.isInterfaceDeclaration(node) ||
    ts.isTypeAliasDeclaration(node) ||
    ts.isVariableDeclaration(node) ||
    ts.isEnumDeclaration(node) ||
    ts.isModuleDeclaration(node)
  );
}

/** The body of an overloaded function or method: its overload signatures carry the docs. */
function isOverloadImplementation(node: ts.Node, siblings: readonly ts.Node[]): boolean {
  if (!(ts.isFunctionDeclaration(node) || ts.isMethodDeclaration(node)) || node.body === undefined)
    return false;
  return siblings.some(
    (s) => s !== node && (ts.isFunctionDeclaration(s) || ts.isMethodDeclaration(s)) && !s.body,
  );
}

function isPublicMember(member: ts.ClassElement): boolean {
  if (member.name !== undefined && ts.isPrivateIdentifier(member.name)) return false;
  const flags = ts.getCombinedModifierFlags(member as ts.Declaration);
  return (flags & (ts.ModifierFlags.Private | ts.ModifierFlags.Protected)) === 0;
}

/** True for `export { x } from 'some-package'`: a dependency's declaration, which we cannot document. */
function isReExportOfPackage(exported: ts.Symbol): boolean {
  return (exported.declarations ?? []).some((d) => {
    const from = ts.isExportSpecifier(d) ? d.parent.parent.moduleSpecifier : undefined;
    return from !== undefined && ts.isStringLiteral(from) && !from.text.startsWith('.');
  });
}

/** Checks the exports of `entries` (only the entries and what they import are loaded: fast). */
function findGaps(program: ts.Program, entries: readonly string[], root: string): Gap[] {
  const checker = program.getTypeChecker();
  const gaps: Gap[] = [];
  const seen = new Set<string>();
  const report = (rule: Rule, node: ts.Node, name: string) => {
    const at = where(node, root);
    const key = `${rule}|${at}|${name}`;
    if (seen.has(key)) return;
    seen.add(key);
    gaps.push({ rule, where: at, name });
  };

  const checkOptions = (decl: ts.InterfaceDeclaration, symbol: ts.Symbol) => {
    const type = checker.getDeclaredTypeOfSymbol(symbol);
    for (const property of checker.getPropertiesOfType(type)) {
      for (const pd of property.declarations ?? []) {
        if (!isOurs(pd)) continue;
        const doc = jsDocOf(pd);
        if (hasTag(doc, 'internal')) continue;
        if (!hasTag(doc, 'default')) report('default', pd, `${decl.name.text}.${property.name}`);
      }
    }
  };

  const checkClass = (decl: ts.ClassDeclaration, className: string) => {
    for (const member of decl.members) {
      if (!ts.isMethodDeclaration(member) || !isPublicMember(member)) continue;
      const siblings = decl.members.filter((m) => m.name?.getText() === member.name.getText());
      if (isOverloadImplementation(member, siblings)) continue;
      const doc = jsDocOf(member);
      if (hasTag(doc, 'internal')) continue;
      if (!hasSummary(doc)) report('method-summary', member, `${className}.${member.name.getText()}`);
    }
  };

  const checkDeclaration = (decl: ts.Declaration, symbol: ts.Symbol) => {
    const doc = jsDocOf(decl);
    if (hasTag(doc, 'internal')) return;
    const name = declarationName(decl);
    if (!hasSummary(doc)) report('summary', decl, name);
    if (!hasTag(doc, 'example')) report('example', decl, name);
    if (ts.isInterfaceDeclaration(decl) && decl.name.text.endsWith('Options')) checkOptions(decl, symbol);
    if (ts.isClassDeclaration(decl)) checkClass(decl, name);
  };

  for (const entry of entries) {
    const source = program.getSourceFile(entry);
    const moduleSymbol = source && checker.getSymbolAtLocation(source);
    if (!moduleSymbol) throw new Error(`Cannot load the module ${entry}`);
    for (const exported of checker.getExportsOfModule(moduleSymbol)) {
      const symbol = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
      const declarations = (symbol.declarations ?? []).filter(isExportedKind);
      if (declarations.length === 0 && (symbol.declarations ?? []).length === 0) {
        if (isReExportOfPackage(exported)) continue; // not ours to document (and not loaded)
        gaps.push({ rule: 'unresolved', where: path.relative(root, entry), name: exported.name });
        continue;
      }
      for (const decl of declarations) {
        if (!isOurs(decl) || isOverloadImplementation(decl, declarations)) continue;
        checkDeclaration(decl, symbol);
      }
    }
  }
  return gaps;
}

function format(gaps: Gap[]): string {
  const rules = [...new Set(gaps.map((g) => g.rule))];
  return rules
    .map((rule) => {
      const lines = gaps
        .filter((g) => g.rule === rule)
        .sort((a, b) => a.where.localeCompare(b.where, 'en', { numeric: true }))
        .map((g) => `  ${g.where}  ${g.name}`);
      return `${lines.length} × ${rule}: ${HOW_TO_FIX[rule]}\n${lines.join('\n')}`;
    })
    .join('\n\n');
}

/**
 * A tiny in-memory package with one gap per rule (and exempt or complete declarations that must pass),
 * to prove the checker still finds what it claims to: a lint test that cannot fail protects nothing.
 */
const FIXTURE: Record<string, string> = {
  'index.ts': `
export * from './impl.js';
export type * from './types.js';
export { renamed as alias } from './impl.js';
export { fromPackage } from 'some-package';
`,
  'impl.ts': `
/**
 * Documented.
 * @example
 * \`\`\`ts
 * good();
 * \`\`\`
 */
export function good(): void {}
export function noDocs(): void {}
/** A summary but no example. */
export const noExample = 1;
/** @internal */
export function hidden(): void {}
/** Renamed on export, still checked. */
export function renamed(): void {}
/**
 * A class.
 * @example
 * \`\`\`ts
 * new Widget().run();
 * \`\`\`
 */
export class Widget {
  /** Runs. */
  run(): void {}
  undocumented(): void {}
  /** @internal */
  secret(): void {}
  private hiddenHelper(): void {}
  get size(): number { return 1; }
  constructor() {}
}
`,
  'types.ts': `
/**
 * Options.
 * @example
 * \`\`\`ts
 * const o: WidgetOptions = {};
 * \`\`\`
 */
export interface WidgetOptions extends BaseShape {
  /** Has one. @default 1 */
  a?: number;
  /** Has none. */
  b?: number;
  /** @internal */
  c?: number;
}
/** Not exported itself, but its properties are options of WidgetOptions. */
interface BaseShape {
  /** Inherited, no default. */
  inherited?: boolean;
}
export type Plain = string;
`,
};

function fixtureGaps(): Gap[] {
  const root = '/fixture';
  const files = new Map(Object.entries(FIXTURE).map(([name, text]) => [path.posix.join(root, name), text]));
  const options: ts.CompilerOptions = {
    noLib: true,
    noEmit: true,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
  };
  const resolve = (name: string) => files.get(name) ?? files.get(name.replace(/\.js$/, '.ts'));
  const host: ts.CompilerHost = {
    ...ts.createCompilerHost(options),
    fileExists: (name) => resolve(name) !== undefined,
    readFile: (name) => resolve(name),
    getSourceFile: (name, version) => {
      const text = resolve(name);
      return text === undefined ? undefined : ts.createSourceFile(name, text, version, true);
    },
    getCurrentDirectory: () => root,
    directoryExists: (dir) => dir === root,
    getDirectories: () => [],
  };
  const entry = path.posix.join(root, 'index.ts');
  return findGaps(ts.createProgram([entry], options, host), [entry], root);
}

describe('the TSDoc checker', () => {
  it('reports each rule on a fixture, and nothing exempt (@internal, private, accessors, packages)', () => {
    const found = fixtureGaps()
      .map((g) => `${g.rule} ${g.name}`)
      .sort();
    expect(found).toEqual(
      [
        'default WidgetOptions.b',
        'default WidgetOptions.inherited',
        'example noDocs',
        'example noExample',
        'example Plain',
        'example renamed',
        'method-summary Widget.undocumented',
        'summary noDocs',
        'summary Plain',
      ].sort(),
    );
  });
});

describe('TSDoc on the public API', () => {
  it('loads every public entry point', () => {
    expect(ENTRY_POINTS.length).toBeGreaterThanOrEqual(6);
  });

  it('documents every export: summary and @example; @default on options; a summary on public methods', () => {
    const program = projectProgram();
    const gaps = findGaps(program, ENTRY_POINTS, ROOT);
    if (gaps.length > 0) {
      expect.fail(
        `${gaps.length} TSDoc gap(s) in the public API (mark a member @internal to exempt it):\n\n${format(gaps)}\n`,
      );
    }
  });
});
