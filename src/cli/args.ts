/**
 * Argument helpers for the CLI (over `node:util` `parseArgs`), with errors that say what to type.
 */
/** A usage mistake: printed with the command's help, exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/**
 * Runs a `parseArgs` call, turning its errors (unknown flags, missing values) into {@link UsageError}.
 *
 * @example
 * ```ts
 * const { values } = usage(() => parseArgs({ args: argv, options: { help: { type: 'boolean' } } }));
 * ```
 */
export function usage<T>(parseCall: () => T): T {
  try {
    return parseCall();
  } catch (error) {
    throw new UsageError((error as Error).message.replace(/^TypeError \[[A-Z_]+\]: /, ''));
  }
}

/** An integer flag value within bounds. */
export function intFlag(
  name: string,
  value: string | undefined,
  min: number,
  max: number,
): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new UsageError(`--${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(value)}`);
  }
  return n;
}

/** `"Name: value"` header flags to an object. */
export function headerFlags(values: string[] | undefined): Record<string, string> | undefined {
  if (values === undefined || values.length === 0) return undefined;
  const headers: Record<string, string> = {};
  for (const raw of values) {
    const colon = raw.indexOf(':');
    if (colon <= 0) throw new UsageError(`--header must look like "Name: value", got ${JSON.stringify(raw)}`);
    headers[raw.slice(0, colon).trim()] = raw.slice(colon + 1).trim();
  }
  return headers;
}
