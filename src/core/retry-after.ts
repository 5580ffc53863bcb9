/**
 * Parses an HTTP `Retry-After` header: delta-seconds or an HTTP date. Pure (the current time is
 * passed in).
 *
 * @returns milliseconds to wait, or `undefined` when absent or unparseable.
 *
 * @example
 * ```ts
 * parseRetryAfter('2', Date.now()); // 2000
 * ```
 */
export function parseRetryAfter(value: string | undefined, nowMs: number): number | undefined {
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  if (trimmed === '') return undefined;
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  // An HTTP date starts with the day name; without this, Date.parse reads '-1' or '1.5' as dates.
  if (!/^[A-Za-z]/.test(trimmed)) return undefined;
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - nowMs);
}
