/**
 * Formatting helpers shared by the CLI commands: message data, durations, errors and close codes, and
 * the JSON Lines encoding of client events.
 */
import { type ClientState, CloseCodes, isWsmError } from '../node.js';
import type { Colors } from './terminal.js';

/** Text as is (newlines shown as ⏎); binary as a short hex preview with its size. */
export function formatData(data: string | Uint8Array, binary: boolean): string {
  if (!binary && typeof data === 'string') return data.replace(/\r?\n/g, '⏎');
  const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
  const preview = Array.from(bytes.subarray(0, 16), (b) => b.toString(16).padStart(2, '0')).join(' ');
  return `<binary ${bytes.byteLength} bytes: ${preview}${bytes.byteLength > 16 ? ' …' : ''}>`;
}

/** `12 ms`, `1.4 s`. */
export function formatMs(ms: number): string {
  if (ms < 10) return `${ms.toFixed(1)} ms`;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  return `${(ms / 1000).toFixed(1)} s`;
}

const CLOSE_NAMES = new Map<number, string>(
  Object.entries(CloseCodes).map(([name, code]) => [code as number, name.toLowerCase().replace(/_/g, ' ')]),
);

/** `1006 abnormal closure`, `4001 "bye"`. */
export function formatClose(code: number, reason: string): string {
  const name = CLOSE_NAMES.get(code);
  return `${code}${name === undefined ? '' : ` ${name}`}${reason ? ` "${reason}"` : ''}`;
}

/** `WSM_ERR_CONNECT: Could not connect: ...`, or the message of a plain error. */
export function formatError(error: unknown): string {
  if (isWsmError(error)) {
    const cause = (error as { cause?: unknown }).cause;
    const causeText = isWsmError(cause) && error.code === 'WSM_ERR_START' ? ` (${formatError(cause)})` : '';
    return `${error.code}: ${error.message}${causeText}`;
  }
  return error instanceof Error ? error.message : String(error);
}

/** The error's stable code, or undefined. */
export function errorCode(error: unknown): string | undefined {
  return isWsmError(error) ? error.code : undefined;
}

/** A state name coloured by what it means. */
export function paintState(c: Colors, state: ClientState): string {
  switch (state) {
    case 'open':
      return c.green(state);
    case 'connecting':
    case 'opening':
    case 'reconnecting':
    case 'closing':
      return c.yellow(state);
    case 'stopped':
      return c.red(state);
    default:
      return c.dim(state);
  }
}

/** A JSON-safe view of an event payload: errors become `{ code, message }`, bytes become base64. */
export function toJsonValue(value: unknown, depth = 0): unknown {
  if (value === null || value === undefined) return value;
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return value;
  if (value instanceof Uint8Array) return { base64: Buffer.from(value).toString('base64') };
  if (value instanceof Error) {
    const out: Record<string, unknown> = { message: value.message };
    if (isWsmError(value)) out.code = value.code;
    const extra = value as unknown as Record<string, unknown>;
    for (const key of ['closeCode', 'status', 'retryAfterMs', 'hook'] as const)
      if (extra[key] !== undefined) out[key] = extra[key];
    if (extra.cause !== undefined && depth < 3) out.cause = toJsonValue(extra.cause, depth + 1);
    return out;
  }
  if (Array.isArray(value)) return value.map((v) => toJsonValue(v, depth + 1));
  if (typeof value === 'object' && depth < 4) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value))
      if (typeof v !== 'function') out[k] = toJsonValue(v, depth + 1);
    return out;
  }
  return String(value);
}
