/**
 * The small JSON path of `requests.key`: `reqId`, `meta.id`, `$.meta.id`, `items[0].id`. Full JSONPath
 * (filters, wildcards) would make a key ambiguous; `capture` and `match` use Artillery's JSONPath.
 */

/** Property names and array indexes, outermost first. */
export type Path = readonly (string | number)[];

const SEGMENT = /^([^.[\]]+)|^\[(\d+)\]|^\.([^.[\]]+)/;

/**
 * @throws {Error} when the text is not such a path.
 */
export function parsePath(text: string): Path {
  let rest = text.trim();
  if (rest.startsWith('$')) rest = rest.slice(1);
  if (rest.startsWith('.')) rest = rest.slice(1);
  const out: (string | number)[] = [];
  while (rest.length > 0) {
    const m = SEGMENT.exec(rest);
    if (!m) break;
    if (m[2] !== undefined) out.push(Number(m[2]));
    else out.push((m[1] ?? m[3]) as string);
    rest = rest.slice(m[0].length);
  }
  if (rest.length > 0 || out.length === 0) {
    throw new Error(`"${text}" is not a key path: use field names and [index], e.g. "reqId" or "$.meta.id"`);
  }
  return out;
}

/** `$.meta.id` */
export function formatPath(path: Path): string {
  return `$${path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${p}`)).join('')}`;
}

/** The value at `path`, or undefined when any step is missing. */
export function readPath(value: unknown, path: Path): unknown {
  let at = value;
  for (const p of path) {
    if (typeof at !== 'object' || at === null) return undefined;
    at = (at as Record<string | number, unknown>)[p];
  }
  return at;
}

/**
 * Sets the value at `path`, creating objects on the way.
 * @returns false when a step on the way is not an object (nothing is changed then).
 */
export function writePath(target: unknown, path: Path, value: unknown): boolean {
  let at = target;
  for (let i = 0; i < path.length - 1; i++) {
    if (typeof at !== 'object' || at === null) return false;
    const record = at as Record<string | number, unknown>;
    const p = path[i] as string | number;
    if (record[p] === undefined) record[p] = typeof path[i + 1] === 'number' ? [] : {};
    at = record[p];
  }
  if (typeof at !== 'object' || at === null) return false;
  (at as Record<string | number, unknown>)[path[path.length - 1] as string | number] = value;
  return true;
}
