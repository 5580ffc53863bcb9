/**
 * What may be sent, checked at the call: text or bytes, and bytes that still exist (a transferred,
 * i.e. detached, ArrayBuffer has none left). A bad value is refused with a typed error that says what
 * to do, never queued to fail later.
 */
import { InvalidOptionsError } from './errors.js';
import type { Data } from './types.js';

/** True for the types `send()` accepts. Never throws (a revoked Proxy is not data). */
export function isData(value: unknown): value is Data {
  if (typeof value === 'string') return true;
  try {
    return value instanceof Uint8Array || value instanceof ArrayBuffer;
  } catch {
    return false;
  }
}

/** True when the bytes' buffer was detached (transferred to a worker, `structuredClone` with transfer...). */
export function isDetached(data: ArrayBuffer | Uint8Array): boolean {
  const buffer = data instanceof ArrayBuffer ? data : data.buffer;
  // A detached buffer reads as empty; only empty ones need the real check.
  if (buffer.byteLength !== 0) return false;
  const flag = (buffer as { detached?: unknown }).detached;
  if (typeof flag === 'boolean') return flag;
  try {
    new Uint8Array(buffer as ArrayBuffer);
    return false;
  } catch {
    return true;
  }
}

/**
 * The error for data `send()`/`request()` cannot take, or undefined when it can.
 */
export function dataProblem(data: unknown): InvalidOptionsError | undefined {
  if (typeof data === 'string') return undefined;
  if (!isData(data)) {
    return new InvalidOptionsError([
      {
        option: 'data',
        value: data,
        expected: 'a string, Uint8Array or ArrayBuffer (serialize objects with JSON.stringify)',
      },
    ]);
  }
  let detached: boolean;
  try {
    detached = isDetached(data as ArrayBuffer | Uint8Array);
  } catch {
    // Passes `instanceof` but its bytes cannot be read (a Proxy posing as a Uint8Array).
    return new InvalidOptionsError([
      {
        option: 'data',
        value: data,
        expected: 'a real string, Uint8Array or ArrayBuffer (this one cannot be read as bytes)',
      },
    ]);
  }
  if (detached) {
    return new InvalidOptionsError([
      {
        option: 'data',
        value: data,
        expected:
          'bytes that still exist: this ArrayBuffer was detached (transferred with postMessage or structuredClone); send a copy made before transferring it',
      },
    ]);
  }
  return undefined;
}
