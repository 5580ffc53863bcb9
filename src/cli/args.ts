/**
 * Argument helpers for the CLI (over `node:util` `parseArgs`), with errors that say what to type.
 */
import type { Io } from './terminal.js';

/** A usage mistake: printed as one line with a pointer to the command's help, exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** The flag named in a `parseArgs` message: `--exec` from `'-x, --exec <value>'`, else its first quoted word. */
function flagOf(message: string): string {
  const quoted = /'([^']+)'/.exec(message)?.[1] ?? '';
  return /--[\w-]+/.exec(quoted)?.[0] ?? quoted.split(/[ ,]/)[0] ?? quoted;
}

/**
 * One line for a `parseArgs` error. Node's own texts span lines, and one of them ends with an
 * unclosed quote (`as in '-- "--foo"`).
 */
export function usageMessage(error: unknown): string {
  const { code, message } = error as { code?: string; message: string };
  const flag = flagOf(message);
  switch (code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return `unknown option ${flag}`;
    case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL':
      return `unexpected argument ${JSON.stringify(/'(.*)'/.exec(message)?.[1] ?? '')}`;
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      if (/does not take an argument/.test(message)) return `${flag} takes no value`;
      if (/ambiguous/.test(message)) {
        const long = /use '(--[\w-]+)=/.exec(message)?.[1] ?? flag;
        return `${flag} needs a value (for a value that starts with "-", write ${long}=-value)`;
      }
      return `${flag} needs a value`;
    default:
      return message.split('\n')[0] ?? message;
  }
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
    throw new UsageError(usageMessage(error));
  }
}

/** The `--no-color` flag every command takes (`parseArgs` options). */
export const COLOR_OPTION = { 'no-color': { type: 'boolean' } } as const;

/** `io` with colour turned off when `--no-color` was given (the same as `NO_COLOR=1`). */
export function withColorFlag(io: Io, noColor: boolean | undefined): Io {
  return noColor ? { ...io, env: { ...io.env, NO_COLOR: '1' } } : io;
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
  if (value.trim() === '' || !Number.isInteger(n) || n < min || n > max) {
    throw new UsageError(`--${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(value)}`);
  }
  return n;
}

/** A duration flag given in seconds (fractions allowed), returned in milliseconds. */
export function secondsFlag(name: string, value: string | undefined, maxSeconds: number): number | undefined {
  if (value === undefined) return undefined;
  const seconds = Number(value);
  if (value.trim() === '' || !Number.isFinite(seconds) || seconds <= 0 || seconds > maxSeconds) {
    throw new UsageError(
      `--${name} is in seconds, more than 0 and at most ${maxSeconds}, got ${JSON.stringify(value)}`,
    );
  }
  return Math.round(seconds * 1000);
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
