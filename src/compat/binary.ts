/**
 * Binary data in and out of the facade: incoming bytes converted per `binaryType`, outgoing data
 * normalized to what the client sends (text, `Uint8Array`, `ArrayBuffer`).
 */
import type { BinaryType } from './types.js';

/**
 * The bytes as an `ArrayBuffer`: the message's own buffer when the view covers all of it (the native
 * adapter's case, no copy), else a copy of just these bytes (`ws` may hand over a view into a larger
 * read buffer, which must not leak to the listener).
 * @internal
 */
export function toArrayBuffer(bytes: Uint8Array): ArrayBuffer {
  const buffer = bytes.buffer as ArrayBuffer;
  if (bytes.byteOffset === 0 && bytes.byteLength === buffer.byteLength) return buffer;
  return buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
}

/**
 * Converts received bytes for `MessageEvent.data`.
 * @internal
 */
export function convertIncoming(
  bytes: Uint8Array,
  binaryType: BinaryType,
  toNodeBuffer: ((bytes: Uint8Array) => unknown) | undefined,
): unknown {
  if (binaryType === 'arraybuffer') return toArrayBuffer(bytes);
  if (binaryType === 'nodebuffer' && toNodeBuffer !== undefined) return toNodeBuffer(bytes);
  return new Blob([bytes as Uint8Array<ArrayBuffer>]);
}

/**
 * True for a `Blob` (also one from another realm or a polyfill), whose bytes must be read first.
 * @internal
 */
export function isBlob(data: unknown): data is Blob {
  return (
    typeof Blob !== 'undefined' &&
    (data instanceof Blob ||
      (typeof data === 'object' &&
        data !== null &&
        typeof (data as Blob).arrayBuffer === 'function' &&
        typeof (data as Blob).size === 'number'))
  );
}

/**
 * What the client sends for `data`: text and `ArrayBuffer` as they are, any other `ArrayBufferView` as
 * a `Uint8Array` over the same bytes, anything else as `String(data)` (the WHATWG conversion).
 * `copy` takes a snapshot of binary data (for a message that will wait in the queue: the browser
 * copies at `send()`, so a caller may reuse its buffer at once).
 * @internal
 */
export function normalizeOutgoing(data: unknown, copy: boolean): string | Uint8Array | ArrayBuffer {
  if (typeof data === 'string') return data;
  if (data instanceof ArrayBuffer) return copy ? data.slice(0) : data;
  if (ArrayBuffer.isView(data)) {
    const bytes =
      data instanceof Uint8Array ? data : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    // `new Uint8Array(view)` copies; a Buffer's slice() would not.
    return copy ? new Uint8Array(bytes) : bytes;
  }
  return String(data);
}

/**
 * Bytes `data` will take on the wire (UTF-16 code units for text, as reconnecting-websocket counted:
 * the exact UTF-8 size would cost an encode per send).
 * @internal
 */
export function sizeOf(data: string | Uint8Array | ArrayBuffer | Blob): number {
  if (typeof data === 'string') return data.length;
  if (isBlob(data)) return data.size;
  return data.byteLength;
}
