/**
 * Sizes in bytes, one meaning everywhere (stats, the send buffer, the inbound and iterator bounds):
 * UTF-8 for text, byte length for binary. Counted without encoding (no allocation per message).
 */
import type { Data } from './types.js';

/** UTF-8 length of a string, without encoding it. */
export function utf8Length(text: string): number {
  const n = text.length;
  let bytes = n;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) bytes += 1;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < n) {
      const d = text.charCodeAt(i + 1);
      // A surrogate pair is 2 UTF-16 units and 4 UTF-8 bytes; a lone surrogate encodes as U+FFFD (3).
      if (d >= 0xdc00 && d <= 0xdfff) {
        bytes += 2;
        i++;
      } else bytes += 2;
    } else bytes += 2;
  }
  return bytes;
}

/** Size of a message in bytes (UTF-8 for text). */
export function byteLength(data: Data): number {
  return typeof data === 'string' ? utf8Length(data) : data.byteLength;
}
