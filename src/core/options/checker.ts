/**
 * The small checker every option group uses: each method reads one value, returns it (or the
 * default) and records a problem when the value is not allowed, so one `InvalidOptionsError` can name
 * every bad option at once.
 */
import type { OptionProblem } from '../errors.js';

/** A user function, typed loosely: `src/core` may not import the public types; the client narrows it. */
export type Fn = (...args: any[]) => any;

/** A nested option object after {@link Checker.section}: its fields by name. */
export type Section = Record<string, unknown>;

/** What the runtime tells the resolver about the chosen adapter. */
export interface AdapterFacts {
  protocolPing: boolean;
  headers: boolean;
}

/** Collects the problems of one `resolveOptions` call. */
export class Checker {
  readonly problems: OptionProblem[] = [];

  add(option: string, value: unknown, expected: string): void {
    this.problems.push({ option, value, expected });
  }

  /** An integer (or Infinity when allowed) within [min, max]. */
  int(
    option: string,
    value: unknown,
    fallback: number,
    min: number,
    max = Number.MAX_SAFE_INTEGER,
    infinity = false,
  ): number {
    if (value === undefined) return fallback;
    const ok =
      typeof value === 'number' &&
      ((infinity && value === Number.POSITIVE_INFINITY) ||
        (Number.isInteger(value) && value >= min && value <= max));
    if (!ok) {
      const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `from ${min} to ${max}`;
      this.add(option, value, `an integer ${range}${infinity ? ' (or Infinity)' : ''}`);
      return fallback;
    }
    return value;
  }

  num(option: string, value: unknown, fallback: number, min: number): number {
    if (value === undefined) return fallback;
    if (typeof value !== 'number' || !Number.isFinite(value) || value < min) {
      this.add(option, value, `a finite number >= ${min}`);
      return fallback;
    }
    return value;
  }

  bool(option: string, value: unknown, fallback: boolean): boolean {
    if (value === undefined) return fallback;
    if (typeof value !== 'boolean') {
      this.add(option, value, 'true or false');
      return fallback;
    }
    return value;
  }

  fn(option: string, value: unknown): Fn | undefined {
    if (value === undefined) return undefined;
    if (typeof value !== 'function') {
      this.add(option, value, 'a function');
      return undefined;
    }
    return value as Fn;
  }

  /** `false`, `undefined` or a plain object; returns the object or undefined. */
  section(option: string, value: unknown, allowFalse: boolean): Section | false | undefined {
    if (value === undefined) return undefined;
    if (value === false && allowFalse) return false;
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      this.add(option, value, allowFalse ? 'false or an object' : 'an object');
      return undefined;
    }
    return value as Section;
  }

  /** Unknown names inside an option object (a typo such as `reconnect.maxAttempt` must not be ignored). */
  known(section: string, value: Section, names: readonly string[]): void {
    for (const key of Object.keys(value)) {
      if (!names.includes(key))
        this.add(`${section}.${key}`, value[key], `a known option (${names.join(', ')}); check the spelling`);
    }
  }

  codes(option: string, value: unknown, fallback: readonly number[]): readonly number[] {
    if (value === undefined) return fallback;
    if (!Array.isArray(value) || value.some((c) => !Number.isInteger(c) || c < 3000 || c > 4999)) {
      this.add(option, value, 'an array of application close codes from 3000 to 4999');
      return fallback;
    }
    return value as number[];
  }
}
